import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from articles.importer import import_seeds

from .browser import console_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reader_searches_from_the_header_in_simplified_chinese(browser, live_server, sample):
    import_seeds([sample])
    browser.get(f"{live_server.url}/")
    field = browser.find_element(By.ID, "site-search")
    field.send_keys("乌克兰危机")
    field.submit()
    WebDriverWait(browser, 10).until(expected_conditions.title_contains("搜尋："))
    assert browser.title.startswith("搜尋：乌克兰危机")
    marks = browser.find_elements(By.CSS_SELECTOR, ".excerpt mark")
    assert [mark.text for mark in marks] == ["烏克蘭危機"]
    assert console_errors(browser, live_server.url) == []
