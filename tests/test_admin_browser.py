from urllib.parse import unquote

import pytest
from django.contrib.auth.models import User
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from articles.importer import import_seeds
from articles.models import Tag

from .browser import console_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = (1280, 900)


@pytest.fixture
def editor_browser(browser, live_server):
    """The browser, desktop-sized, logged in to the admin through its login page."""
    User.objects.create_superuser("editor", password="secret-password-1")
    browser.set_window_size(*DESKTOP)
    browser.get(f"{live_server.url}/admin/")
    browser.find_element(By.NAME, "username").send_keys("editor")
    browser.find_element(By.NAME, "password").send_keys("secret-password-1", Keys.ENTER)
    # The login page has the site's name too: wait until it has sent us on.
    WebDriverWait(browser, 10).until(expected_conditions.url_to_be(f"{live_server.url}/admin/"))
    wait_for(browser, By.ID, "user-tools")
    assert "眾新聞檔案・編輯台" in browser.page_source
    return browser


def wait_for(browser, by, value):
    return WebDriverWait(browser, 10).until(
        expected_conditions.presence_of_element_located((by, value))
    )


def test_find_the_sample_by_searching_change_a_credit_and_see_it_published(
    editor_browser, live_server, sample
):
    browser = editor_browser
    import_seeds([sample])
    browser.get(f"{live_server.url}/admin/articles/article/")
    browser.find_element(By.ID, "searchbar").send_keys("普京", Keys.ENTER)
    # The list before the search shows the article too: wait for the results.
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("q="))
    wait_for(browser, By.LINK_TEXT, "拜登、普京第二次峰會　謀化解烏克蘭危機").click()
    credit = wait_for(browser, By.NAME, "figures-1-credit")
    assert credit.get_attribute("value") == "資料圖片"
    credit.clear()
    credit.send_keys("何君健攝")
    browser.find_element(By.NAME, "_save").click()
    wait_for(browser, By.CSS_SELECTOR, ".messagelist .success")
    assert console_errors(browser, live_server.url) == []

    browser.get(f"{live_server.url}/article/48691/")
    credits = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "figure .credit")]
    assert credits == ["美聯社", "何君健攝", "資料圖片", "美聯社"]


def test_merge_two_tags_and_follow_the_old_address(editor_browser, live_server, sample):
    browser = editor_browser
    import_seeds([sample])
    old_slug = Tag.objects.get(name="putin").slug
    browser.get(f"{live_server.url}/admin/articles/tag/")
    for name in ("putin", "普京"):
        pk = Tag.objects.get(name=name).pk
        browser.find_element(By.CSS_SELECTOR, f'input.action-select[value="{pk}"]').click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("merge")
    browser.find_element(By.CSS_SELECTOR, 'button[name="index"]').click()
    keep = Tag.objects.get(name="普京").pk
    wait_for(browser, By.CSS_SELECTOR, f'input[name="keep"][value="{keep}"]').click()
    browser.find_element(By.CSS_SELECTOR, 'input[type="submit"][value="合併"]').click()
    wait_for(browser, By.CSS_SELECTOR, ".messagelist .success")
    assert list(Tag.objects.filter(name__in=["putin", "普京"]).values_list("name", flat=True)) == [
        "普京"
    ]

    browser.get(f"{live_server.url}/tag/{old_slug}/")
    assert unquote(browser.current_url) == f"{live_server.url}/tag/普京/"
    assert "拜登、普京第二次峰會" in browser.page_source
    assert console_errors(browser, live_server.url) == []


def test_new_article_slug_is_filled_in_from_the_chinese_title(editor_browser, live_server):
    browser = editor_browser
    browser.get(f"{live_server.url}/admin/articles/article/add/")
    browser.find_element(By.NAME, "title").send_keys("拜登、普京第二次峰會　謀化解烏克蘭危機")
    slug = browser.find_element(By.NAME, "slug").get_attribute("value")
    assert slug == "拜登普京第二次峰會-謀化解烏克蘭危機"


def test_tag_field_suggests_existing_tags_and_takes_new_ones(editor_browser, live_server, sample):
    browser = editor_browser
    import_seeds([sample])
    browser.get(f"{live_server.url}/admin/articles/article/add/")
    browser.find_element(By.NAME, "title").send_keys("新文章")
    search = ".field-tag_names .select2-search__field"
    browser.find_element(By.CSS_SELECTOR, search).send_keys("烏")
    suggestion = WebDriverWait(browser, 10).until(lambda _: option(browser, "烏克蘭"))
    suggestion.click()
    browser.find_element(By.CSS_SELECTOR, search).send_keys("全新標籤,")
    browser.find_element(By.NAME, "_save").click()
    wait_for(browser, By.CSS_SELECTOR, ".messagelist .success")
    names = Tag.objects.filter(tagged_articles__content_object__title="新文章")
    assert sorted(names.values_list("name", flat=True)) == ["全新標籤", "烏克蘭"]
    assert console_errors(browser, live_server.url) == []


def option(browser, text: str):
    """The Select2 suggestion with this text, once it has come."""
    options = browser.find_elements(By.CSS_SELECTOR, ".select2-results__option")
    return next((element for element in options if element.text == text), None)
