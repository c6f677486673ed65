"""Every kind of page under the enforced Content Security Policy, in Chromium."""

import datetime as dt

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from articles.importer import import_seeds
from articles.models import Article

from . import factories
from .browser import console_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLIC_PAGES = [
    "/",
    "/?page=1",
    "/article/48691/",
    "/section/%E7%9C%BE%E8%81%9E/",
    "/tag/%E6%99%AE%E4%BA%AC/",
    "/author/%E7%9C%BE%E6%96%B0%E8%81%9E%E8%A8%98%E8%80%85/",
    "/archive/2021/",
    "/archive/2021/12/",
    "/archive/2021/12/7/",
    "/archive/undated/",
    "/no-such-page/",
]


@pytest.fixture
def site(sample):
    import_seeds([sample])
    factories.article(
        title="影片文章",
        tags=["普京"],
        day=dt.date(2021, 12, 1),
        videos=[
            "https://www.youtube.com/embed/aBcDeFgHiJk",
            "https://www.facebook.com/plugins/video.php?href=https%3A%2F%2Fwww.facebook.com%2Fx%2Fvideos%2F1%2F",
        ],
    )
    factories.article(title="沒有日期", published_at=None)


def test_public_pages_raise_no_csp_violation_or_console_error(browser, live_server, site):
    for path in PUBLIC_PAGES:
        browser.get(live_server.url + path)
        assert browser.find_elements(By.TAG_NAME, "h1"), path
        errors = console_errors(browser, live_server.url)
        if path == "/no-such-page/":  # the page's own 404 status is the one expected entry
            assert [e["message"].split(" - ")[0] for e in errors] == [live_server.url + path]
        else:
            assert errors == [], path


def test_playing_videos_is_allowed_by_the_policy(browser, live_server, site):
    article = Article.objects.get(title="影片文章")
    browser.get(live_server.url + article.get_absolute_url())
    for button in browser.find_elements(By.CSS_SELECTOR, ".video-play"):
        button.click()
    frames = browser.find_elements(By.CSS_SELECTOR, ".video-frame iframe")
    assert [f.get_attribute("src").split("/")[2] for f in frames] == [
        "www.youtube-nocookie.com",
        "www.facebook.com",
    ]
    assert console_errors(browser, live_server.url) == []


def test_admin_pages_raise_no_csp_violation_or_console_error(
    browser, live_server, site, admin_user
):
    article = Article.objects.get(number=48691)
    browser.get(live_server.url + "/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys("password")
    browser.find_element(By.CSS_SELECTOR, "[type=submit]").click()
    # Logged in once the form has sent the browser on to the admin's index.
    WebDriverWait(browser, 10).until(expected_conditions.url_to_be(live_server.url + "/admin/"))
    for path in [
        "/admin/",
        "/admin/articles/article/",
        f"/admin/articles/article/{article.pk}/change/",
        "/admin/articles/article/add/",
        "/admin/articles/tag/",
        "/admin/articles/section/",
        "/admin/articles/author/",
    ]:
        browser.get(live_server.url + path)
        assert "login" not in browser.current_url, path
        assert console_errors(browser, live_server.url) == [], path
