import pytest
from selenium.webdriver.support.ui import WebDriverWait

from . import imagefiles
from .browser import console_errors
from .factories import add_figure, with_image
from .factories import article as new_article

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_phone_loads_a_small_webp_rendition_into_a_box_kept_for_it(
    browser, live_server, settings
):
    settings.ROOT_URLCONF = "tests.media_urls"
    article = new_article(figures=0, number=1, body="{{< figure 1 >}}\n\n內文。")
    with_image(add_figure(article), imagefiles.jpeg((2400, 1600)))
    browser.get(live_server.url + article.get_absolute_url())
    image = browser.find_element("css selector", "figure img")
    # The box has the picture's proportions before a byte of it arrives.
    box = image.rect
    assert box["width"] > 300 and abs(box["height"] - box["width"] * 2 / 3) < 2
    WebDriverWait(browser, 10).until(
        lambda driver: driver.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth > 0", image
        )
    )
    # 390 pixels wide at 1x: the 480-pixel WebP, not the 2400-pixel original.
    assert browser.execute_script("return arguments[0].currentSrc", image).endswith("-480w.webp")
    assert console_errors(browser, live_server.url) == []
