import pytest

from articles.importer import import_seeds

from .browser import console_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sample_article_opens_in_chromium(browser, live_server, sample):
    import_seeds([sample])
    browser.get(f"{live_server.url}/article/48691/")
    assert browser.title.startswith("拜登、普京第二次峰會")
    assert len(browser.find_elements("css selector", "figure")) == 4
    assert console_errors(browser, live_server.url) == []
