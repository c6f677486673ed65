import re

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext

from articles import images

from . import imagefiles
from .factories import add_figure, with_image
from .factories import article as new_article

pytestmark = pytest.mark.django_db

SIZES = "(min-width: 42rem) 40rem, calc(100vw - 2rem)"


def render(figure, arguments: str = "") -> str:
    template = Template("{% load figures %}{% figure_image figure " + arguments + " %}")
    return template.render(Context({"figure": figure})).strip()


def srcset_of(html: str, tag: str) -> list[tuple[str, str]]:
    srcset = re.search(rf'<{tag}[^>]* srcset="([^"]*)"', html)[1]
    return [tuple(candidate.split(" ")) for candidate in srcset.split(", ")]


def media_files(settings) -> set:
    return {path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()}


def test_a_local_image_offers_webp_and_jpeg_renditions_at_every_width():
    figure = with_image(
        add_figure(new_article(figures=0), alt="普京"), imagefiles.jpeg((2400, 1600))
    )
    html = render(figure, f'sizes="{SIZES}"')
    stem = "/media/" + figure.image.name.removesuffix(".jpg")
    assert html.startswith('<picture><source type="image/webp" srcset="')
    assert srcset_of(html, "source") == [(f"{stem}-{w}w.webp", f"{w}w") for w in (480, 960, 1600)]
    assert srcset_of(html, "img") == [(f"{stem}-{w}w.jpg", f"{w}w") for w in (480, 960, 1600)]
    assert html.count(f'sizes="{SIZES}"') == 2
    img = re.search(r"<img [^>]*>", html)[0]
    assert f'src="{stem}-960w.jpg"' in img
    assert 'width="2400" height="1600"' in img
    assert 'alt="普京"' in img and 'loading="lazy"' in img
    assert html.endswith("</picture>")


def test_a_narrow_image_falls_back_to_its_own_width():
    figure = with_image(add_figure(new_article(figures=0)), imagefiles.jpeg((400, 300)))
    html = render(figure)
    assert [w for _, w in srcset_of(html, "img")] == ["400w"]
    assert 'width="400" height="300"' in html


def test_without_a_local_image_the_archived_address_is_shown():
    figure = add_figure(new_article(figures=0))
    html = render(figure)
    assert html == (f'<img src="{figure.image_url}" alt="" loading="lazy" decoding="async">')


def test_alt_can_be_emptied_for_a_decorative_picture_and_is_escaped():
    figure = with_image(
        add_figure(new_article(figures=0), alt='"><script>'), imagefiles.jpeg((400, 300))
    )
    assert 'alt="&quot;&gt;&lt;script&gt;"' in render(figure)
    assert 'alt=""' in render(figure, 'alt=""')


def test_article_page_uses_the_renditions_without_a_query_per_figure(
    client, settings, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    article = new_article(figures=0, number=1, body="內文。\n\n{{< figure 1 >}}")
    with_image(add_figure(article), imagefiles.jpeg((1000, 700)))
    with CaptureQueriesContext(connection) as one:
        html = client.get(article.get_absolute_url()).content.decode()
    assert "-960w.webp 960w" in html and "<picture>" in html

    # Committed, the new figures retire the cached page.
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            with_image(add_figure(article), imagefiles.jpeg((1000, 700)))
    files = media_files(settings)
    # No more queries for three figures than for one (fewer: the navigation and
    # the links around the article are still cached).
    with django_assert_max_num_queries(len(one)):
        html = client.get(article.get_absolute_url()).content.decode()
    assert html.count("<picture>") == 3
    # Renditions are made when an image is stored, never while a page is shown.
    assert media_files(settings) == files


def test_cards_use_the_lead_figure_renditions_without_a_query_per_card(
    client, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with_image(
        add_figure(new_article(figures=0, number=1), alt="普京"), imagefiles.jpeg((600, 400))
    )
    with CaptureQueriesContext(connection) as one:
        client.get("/")
    with django_capture_on_commit_callbacks(execute=True):
        with_image(
            add_figure(new_article(figures=0, number=2), alt="普京"), imagefiles.jpeg((600, 400))
        )
        add_figure(new_article(figures=0, number=3))
    with django_assert_max_num_queries(len(one)):
        html = client.get("/").content.decode()
    cards = html.split('<article class="card">')[1:]
    assert len(cards) == 3
    assert sum("<picture>" in card for card in cards) == 2
    assert all('alt=""' in card and 'alt="普京"' not in card for card in cards)
    assert "https://web.archive.org/web/" in html  # the card without a local image


def test_thumbnail_for_the_admin_is_the_smallest_jpeg():
    from articles.forms import figure_thumbnail

    figure = with_image(add_figure(new_article(figures=0)), imagefiles.jpeg((1200, 800)))
    html = figure_thumbnail(figure)
    smallest = next(r for r in figure.renditions if r["width"] == 480 and r["format"] == "jpeg")
    assert (
        html
        == f'<img src="/media/{smallest["name"]}" width="160" height="107" alt="" loading="lazy">'
    )
    figure = add_figure(new_article(figures=0, number=2), fetch_error="HTTP 404 Not Found")
    assert figure_thumbnail(figure) == "未能下載存檔圖片：HTTP 404 Not Found"
    assert images.file_names(figure) == []
