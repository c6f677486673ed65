"""A real Chromium for tests, driven by Selenium (Debian's chromium and chromium-driver).

Use the `browser` fixture together with pytest-django's `live_server`:

    @pytest.mark.browser
    def test_something(browser, live_server): browser.get(live_server.url + "/")
"""

import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

PHONE = (390, 844)
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


def start_chromium(width: int = PHONE[0], height: int = PHONE[1]) -> webdriver.Chrome:
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not chromedriver:
        raise RuntimeError(
            "browser tests need Debian's chromium and chromium-driver "
            "(apt-get install chromium chromium-driver; .ci/run installs them)"
        )
    options = Options()
    options.binary_location = chromium
    for flag in (*FLAGS, f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(chromedriver), options=options)


def console_errors(driver: webdriver.Chrome, origin: str) -> list[dict]:
    """Console messages at error level (CSP violations included) since the last call.

    Failures to load from other hosts are left out: this machine has no internet,
    so archived images on web.archive.org cannot load here. Anything failing on
    `origin` (the site under test) counts.
    """
    return [
        entry
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE"
        and not (entry["source"] == "network" and not entry["message"].startswith(origin))
    ]


@pytest.fixture(scope="session")
def _chromium():
    driver = start_chromium()
    yield driver
    driver.quit()


@pytest.fixture
def browser(_chromium):
    """A phone-sized Chromium with a clean slate: no cookies, no cached pages
    (public pages may be kept for minutes), empty console log."""
    _chromium.delete_all_cookies()
    _chromium.execute_cdp_cmd("Network.clearBrowserCache", {})
    _chromium.set_window_size(*PHONE)
    _chromium.get_log("browser")
    yield _chromium
    # Leave the site, so that no request of the browser's is still being served
    # by the live server when the test's database goes away.
    _chromium.get("about:blank")
