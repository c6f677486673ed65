import datetime as dt

import pytest
from axe_selenium_python import Axe
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from articles.importer import import_seeds

from . import factories
from .browser import console_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(sample):
    import_seeds([sample])
    factories.article(
        title="影片文章",
        tags=["普京"],
        day=dt.date(2021, 12, 1),
        videos=["https://www.youtube.com/embed/aBcDeFgHiJk?start=133"],
    )


def no_horizontal_scroll(browser) -> bool:
    return browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )


def test_reader_goes_from_home_to_an_article_and_sees_its_figures(browser, live_server, site):
    browser.get(live_server.url + "/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hant-HK"
    browser.find_element(By.LINK_TEXT, "拜登、普京第二次峰會　謀化解烏克蘭危機").click()
    WebDriverWait(browser, 5).until(expected_conditions.title_contains("拜登"))
    assert "/article/48691/" in browser.current_url
    figures = browser.find_elements(By.CSS_SELECTOR, "figure.figure")
    assert len(figures) == 4
    captions = [f.find_element(By.CSS_SELECTOR, ".caption").text for f in figures]
    credits = [f.find_element(By.CSS_SELECTOR, ".credit").text for f in figures]
    assert captions[3] == "烏軍誓言會粉碎俄軍入侵的野心。"
    assert credits == ["美聯社", "資料圖片", "資料圖片", "美聯社"]
    assert console_errors(browser, live_server.url) == []


@pytest.mark.parametrize("width", [320, 390, 768, 1280])
def test_layout_fits_from_phones_to_desktops(browser, live_server, site, width):
    browser.set_window_size(width, 900)
    for path in ["/", "/article/48691/", "/tag/%E6%99%AE%E4%BA%AC/"]:
        browser.get(live_server.url + path)
        assert no_horizontal_scroll(browser), (path, width)
    assert console_errors(browser, live_server.url) == []


def test_video_plays_only_when_asked(browser, live_server, site):
    browser.get(live_server.url + "/")
    browser.find_element(By.LINK_TEXT, "影片文章").click()
    WebDriverWait(browser, 5).until(expected_conditions.title_contains("影片文章"))
    assert browser.find_elements(By.TAG_NAME, "iframe") == []
    link = browser.find_element(By.CSS_SELECTOR, ".video figcaption a")
    assert link.get_attribute("href") == "https://www.youtube.com/watch?v=aBcDeFgHiJk&t=133s"
    browser.find_element(By.CSS_SELECTOR, ".video-play").click()
    frame = browser.find_element(By.CSS_SELECTOR, ".video-frame iframe")
    assert frame.get_attribute("src").startswith(
        "https://www.youtube-nocookie.com/embed/aBcDeFgHiJk?autoplay=1&start=133"
    )
    assert console_errors(browser, live_server.url) == []


def test_keyboard_users_can_skip_to_the_content(browser, live_server, site):
    browser.get(live_server.url + "/article/48691/")
    skip = browser.find_element(By.CSS_SELECTOR, ".skip-link")
    browser.switch_to.active_element.send_keys("\ue004")  # Tab
    assert browser.switch_to.active_element == skip
    assert skip.is_displayed()


@pytest.mark.parametrize(
    "path", ["/", "/article/48691/", "/tag/%E6%99%AE%E4%BA%AC/", "/archive/2021/12/", "/nowhere/"]
)
def test_pages_pass_an_accessibility_check(browser, live_server, site, path):
    browser.get(live_server.url + path)
    axe = Axe(browser)
    axe.inject()
    results = axe.run()
    serious = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], axe.report(serious)
