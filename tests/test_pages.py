import datetime as dt
import json
import re
from xml.etree import ElementTree

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles.admin import mark_edited
from articles.importer import import_seeds
from articles.models import Article

from . import factories
from .services import prepared_statements

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def sample_article(sample):
    import_seeds([sample])
    return Article.objects.get()


def test_home_lists_latest_articles_with_lead_figure_and_byline(client):
    older = factories.article(title="較舊的文章", day=dt.date(2020, 1, 1))
    newer = factories.article(title="較新的文章", day=dt.date(2021, 1, 1), authors=["何君健"])
    html = html_of(client.get("/"))
    assert html.index(newer.title) < html.index(older.title)
    assert 'href="/author/%E4%BD%95%E5%90%9B%E5%81%A5/"' in html
    assert f"{newer.number}-1.jpg" in html
    assert "2021年1月1日" in html
    assert '<html lang="zh-Hant-HK">' in html


def test_drafts_hidden_and_future_articles_do_not_show(client):
    factories.article(title="草稿", status=Article.Status.DRAFT)
    factories.article(title="已隱藏", status=Article.Status.HIDDEN)
    factories.article(title="明天才發佈", published_at=timezone.now() + dt.timedelta(days=1))
    factories.article(title="已發佈")
    html = html_of(client.get("/"))
    assert "已發佈" in html
    assert "草稿" not in html and "已隱藏" not in html and "明天才發佈" not in html


def test_scheduled_article_appears_when_its_time_arrives(client):
    scheduled = factories.article(published_at=timezone.now() + dt.timedelta(hours=1))
    assert client.get(scheduled.get_absolute_url()).status_code == 404
    Article.objects.filter(pk=scheduled.pk).update(
        published_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert client.get(scheduled.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("count", [1, 20])
def test_list_pages_query_count_does_not_grow(client, count, django_assert_num_queries):
    for _ in range(count):
        factories.article(tags=["普京", "拜登"], authors=["何君健"], figures=3)
    pages = ["/", "/section/眾聞/", "/tag/普京/", "/author/何君健/", "/archive/2021/"]
    # sections for navigation, articles, bylines, figures; the section, tag
    # and author pages look up their subject first.
    for path, queries in zip(pages, [4, 5, 5, 5, 4], strict=True):
        cache.clear()  # every card rendered
        with django_assert_num_queries(queries):
            html_of(client.get(path))


@pytest.mark.parametrize("count", [1, 20])
def test_list_pages_rebuilt_from_kept_cards_read_only_the_articles(
    client, count, monkeypatch, django_assert_num_queries, django_capture_on_commit_callbacks
):
    for _ in range(count):
        factories.article(tags=["普京"], authors=["何君健"], figures=2)
    draft = factories.article(title="草稿", status=Article.Status.DRAFT)
    first = html_of(client.get("/"))
    with django_capture_on_commit_callbacks(execute=True):
        draft.save()  # retires every page
    card_reads = []
    get = cache.get
    monkeypatch.setattr(
        cache, "get", lambda key, *a, **k: card_reads.append(key) or get(key, *a, **k)
    )
    with django_assert_num_queries(1):  # the articles; their cards are kept
        again = html_of(client.get("/"))
    assert again == first
    assert again.count('class="card"') == count and again.count("何君健</a>") == count
    # Each kept card was read once, by the view, and handed to the template.
    cards = [key for key in card_reads if key.startswith("template.cache.card.")]
    assert len(cards) == len(set(cards)) == count


def test_list_pages_do_not_load_bodies(client, django_assert_num_queries):
    factories.article()
    with django_assert_num_queries(4) as captured:
        client.get("/")
    article_query = next(
        q["sql"] for q in captured.captured_queries if "articles_article" in q["sql"]
    )
    assert '"body"' not in article_query and '"body_html"' not in article_query


def test_pagination_without_counting(client, django_assert_num_queries):
    for _ in range(25):
        factories.article()
    with django_assert_num_queries(4) as captured:
        first = html_of(client.get("/"))
    assert not any("COUNT(" in q["sql"].upper() for q in captured.captured_queries)
    assert 'rel="next" href="?page=2"' in first and 'rel="prev"' not in first
    second = html_of(client.get("/?page=2"))
    assert second.count('class="card"') == 5
    assert 'rel="prev" href="?page=1"' in second and 'rel="next"' not in second
    assert client.get("/?page=3").status_code == 404
    assert client.get("/?page=abc").status_code == 404


@pytest.mark.parametrize("path", ["/", "/search/?q=烏克蘭", "/tag/烏克蘭/", "/archive/undated/"])
@pytest.mark.parametrize("page", ["461168601842738790", "461168601842738791", "1" + "0" * 25])
def test_pages_past_what_any_database_holds_are_not_found(client, path, page):
    """Up to a page starting at the 2**63 - 1st row the databases are asked
    (and have nothing there); past it they would refuse the offset."""
    factories.article(title="烏克蘭", tags=["烏克蘭"])
    separator = "&" if "?" in path else "?"
    assert client.get(f"{path}{separator}page={page}").status_code == 404


def test_section_tag_author_and_date_pages(client):
    match = factories.article(
        title="烏克蘭危機", tags=["烏克蘭"], authors=["何君健"], section=factories.section("眾說"),
        day=dt.date(2021, 12, 7),
    )  # fmt: skip
    other = factories.article(title="別的文章", day=dt.date(2020, 3, 4))
    for path in [
        "/section/眾說/",
        "/tag/烏克蘭/",
        "/author/何君健/",
        "/archive/2021/",
        "/archive/2021/12/",
        "/archive/2021/12/7/",
    ]:
        html = html_of(client.get(path))
        assert match.title in html, path
        assert other.title not in html, path
    assert other.title in html_of(client.get("/archive/2020/3/4/"))
    assert client.get("/archive/2021/2/30/").status_code == 404
    assert client.get("/section/沒有/").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/archive/1/",
        "/archive/1/1/1/",
        "/archive/9999/",
        "/archive/9999/12/31/",
        "/archive/2021/13/",
        "/archive/2021/12/32/",
        "/archive/" + "9" * 30 + "/",
        "/archive/2021/" + "9" * 30 + "/",
        "/archive/2021/12/" + "9" * 30 + "/",
    ],
)
def test_dates_no_archive_can_hold_are_not_found(client, path):
    factories.article(day=dt.date(2021, 12, 7))
    assert client.get(path).status_code == 404


def test_the_first_and_last_archive_dates_are_pages_of_their_own(client):
    early = factories.article(
        title="最早", published_at=dt.datetime(2, 1, 1, 0, 30, tzinfo=factories.HONG_KONG)
    )
    for path in ["/archive/2/", "/archive/2/1/", "/archive/2/1/1/"]:
        assert early.title in html_of(client.get(path)), path
    for path in ["/archive/9998/", "/archive/9998/12/", "/archive/9998/12/31/"]:
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize(
    "path",
    [
        "/tag/%00/",
        "/section/%00/",
        "/author/a%00b/",
        "/tag/%00/feed/rss/",
        "/section/%00/feed/atom/",
        "/author/%00/feed/rss/",
    ],
)
def test_a_nul_in_an_address_finds_nothing(client, path):
    """No slug holds NUL, and PostgreSQL's text cannot: asked for one, it
    would fail the query, and the reader would be told the database is down."""
    factories.article(tags=["普京"], authors=["何君健"], section=factories.section("眾說"))
    assert client.get(path).status_code == 404


def test_an_article_address_with_a_nul_leads_to_the_article(client):
    article = factories.article()
    response = client.get(f"/article/{article.number}/%00/")
    assert response.status_code == 301
    assert response["Location"] == article.get_absolute_url()


def test_day_archive_uses_hong_kong_days(client):
    late = factories.article(
        title="深夜", published_at=dt.datetime(2021, 12, 7, 23, 30, tzinfo=factories.HONG_KONG)
    )
    assert late.title in html_of(client.get("/archive/2021/12/7/"))
    assert late.title not in html_of(client.get("/archive/2021/12/8/"))


def test_undated_articles_have_their_own_page(client):
    undated = factories.article(title="沒有日期", published_at=None)
    html = html_of(client.get("/archive/undated/"))
    assert undated.title in html
    assert "日期不詳" in html_of(client.get(undated.get_absolute_url()))


def test_article_page_shows_everything_a_reader_needs(client, sample_article):
    Article.objects.filter(pk=sample_article.pk).update(
        last_updated=dt.datetime(2021, 12, 8, 9, 30, tzinfo=factories.HONG_KONG)
    )
    html = html_of(client.get(sample_article.get_absolute_url()))
    assert "<h1>拜登、普京第二次峰會　謀化解烏克蘭危機</h1>" in html
    assert 'href="/author/%E7%9C%BE%E6%96%B0%E8%81%9E%E8%A8%98%E8%80%85/"' in html
    assert "2021年12月7日" in html and "更新於" in html and "2021年12月8日 09:30" in html
    assert 'href="/section/%E7%9C%BE%E8%81%9E/"' in html
    assert 'href="/tag/%E6%99%AE%E4%BA%AC/" rel="tag"' in html
    assert html.count('<figure class="figure">') == 4
    assert '<span class="caption">烏軍誓言會粉碎俄軍入侵的野心。</span>' in html
    assert '<span class="credit">美聯社</span>' in html
    assert 'loading="lazy"' in html
    assert "原文刊於眾新聞" in html
    assert f'href="{sample_article.original_url}"' in html
    assert f'href="{sample_article.url}"' in html


def test_article_figures_carry_width_and_height_when_known(client):
    article = factories.article()
    article.figures.update(width=1200, height=800)
    html = html_of(client.get(article.get_absolute_url()))
    assert 'width="1200" height="800"' in html


def test_videos_are_click_to_play_with_a_plain_link(client):
    article = factories.article(
        videos=[
            "https://www.youtube.com/embed/aBcDeFgHiJk?start=133",
            "https://www.facebook.com/plugins/video.php?href=https%3A%2F%2Fwww.facebook.com%2Fx%2Fvideos%2F1%2F",
        ]
    )
    html = html_of(client.get(article.get_absolute_url()))
    assert "<iframe" not in html
    assert (
        'data-player="https://www.youtube-nocookie.com/embed/aBcDeFgHiJk?autoplay=1&amp;start=133"'
        in html
    )
    assert 'href="https://www.youtube.com/watch?v=aBcDeFgHiJk&amp;t=133s"' in html
    assert 'href="https://www.facebook.com/x/videos/1/"' in html
    assert re.search(r'<script src="/static/js/video\.js"', html)
    assert "{{&lt;" not in html


def test_article_without_videos_loads_no_script(client):
    html = html_of(client.get(factories.article().get_absolute_url()))
    assert "video.js" not in html


def test_related_articles_by_shared_tags_then_recency(client):
    article = factories.article(tags=["普京", "拜登", "烏克蘭"])
    one_tag_new = factories.article(
        title="一個共同標籤較新", tags=["普京"], day=dt.date(2021, 12, 9)
    )
    two_tags = factories.article(
        title="兩個共同標籤", tags=["普京", "拜登"], day=dt.date(2019, 1, 1)
    )
    one_tag_old = factories.article(
        title="一個共同標籤較舊", tags=["拜登"], day=dt.date(2018, 1, 1)
    )
    factories.article(title="沒有共同標籤", tags=["香港"])
    html = html_of(client.get(article.get_absolute_url()))
    related = html[html.index("相關文章") : html.index("前後文章")]
    positions = [related.find(a.title) for a in (two_tags, one_tag_new, one_tag_old)]
    assert -1 not in positions and positions == sorted(positions)
    assert "沒有共同標籤" not in related


def test_related_articles_are_only_those_readers_may_see(client):
    article = factories.article(tags=["普京"])
    later = timezone.now() + dt.timedelta(days=1)
    for title, status, published_at in [
        ("草稿", Article.Status.DRAFT, None),
        ("隱藏", Article.Status.HIDDEN, None),
        ("未到時間", Article.Status.PUBLISHED, later),
    ]:
        factories.article(title=title, tags=["普京"], status=status, published_at=published_at)
    undated = factories.article(title="沒有日期", tags=["普京"], published_at=None)
    assert article.related() == [undated]


def test_is_published_says_what_published_selects():
    now = timezone.now()
    for status in Article.Status.values:
        for published_at in [None, now - dt.timedelta(days=1), now + dt.timedelta(days=1)]:
            factories.article(status=status, published_at=published_at)
    published = set(Article.objects.published().values_list("pk", flat=True))
    assert {a.pk for a in Article.objects.all() if a.is_published} == published
    assert 0 < len(published) < Article.objects.count()


def test_lists_and_neighbours_are_read_in_the_list_index_order():
    # A table of a reasonable size: the planner prefers reading a table of a
    # few pages to using any index. Every 50th article is undated.
    start = dt.datetime(2017, 1, 1, tzinfo=dt.UTC)
    Article.objects.bulk_create(
        Article(
            number=n,
            title=f"文章{n}",
            slug=f"a{n}",
            status=Article.Status.PUBLISHED,
            published_at=None if n % 50 == 0 else start + dt.timedelta(hours=n),
        )
        for n in range(1, 3001)
    )
    newest = Article.objects.published().for_list()[:21]
    assert [a.number for a in newest[:2]] == [2999, 2998]
    assert [a.number for a in Article.objects.published().for_list()[2939:2942]] == [1, 3000, 2950]
    middle = Article.objects.get(number=1501)
    with CaptureQueriesContext(connection) as queries:
        assert middle.neighbour(newer=True).number == 1502
        assert middle.neighbour(newer=False).number == 1499  # 1500 is undated
    for sql, params in [newest.query.sql_with_params(), *[(q["sql"], ()) for q in queries]]:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("ANALYZE articles_article")
                cursor.execute(f"EXPLAIN {sql}", params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                assert "articles_ar_status_80c4c5_idx" in plan and "Sort" not in plan, plan
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
                plan = " ".join(str(row) for row in cursor.fetchall())
                assert "articles_ar_status_80c4c5_idx" in plan, plan
                assert "TEMP B-TREE" not in plan, plan


def test_previous_and_next_in_time(client):
    first = factories.article(title="最早", day=dt.date(2021, 1, 1))
    middle = factories.article(title="中間", day=dt.date(2021, 1, 2))
    last = factories.article(title="最後", day=dt.date(2021, 1, 3))
    html = html_of(client.get(middle.get_absolute_url()))
    assert f'rel="prev" href="{first.get_absolute_url()}"' in html
    assert f'rel="next" href="{last.get_absolute_url()}"' in html
    assert 'rel="prev"' not in html_of(client.get(first.get_absolute_url())).split("前後文章")[1]


def test_article_page_query_count_is_fixed(client, django_assert_num_queries):
    small = factories.article(tags=["普京"], figures=1)
    large = factories.article(
        tags=[f"標籤{n}" for n in range(10)], figures=12, authors=["甲", "乙"]
    )
    others = [factories.article(tags=["普京", f"標籤{n}"]) for n in range(5)]
    client.get("/")  # the navigation's sections are built once and cached
    # So is when the next scheduled article goes live, once per links version.
    with django_assert_num_queries(11):
        html_of(client.get(others[0].get_absolute_url()))
    for article in (small, large):
        # the kept page's check (articles.caching.ArticlePages), article,
        # bylines, tags, figures, videos, related (candidates, then their
        # articles), previous, next
        with django_assert_num_queries(10):
            html_of(client.get(article.get_absolute_url()))


def test_meta_tags_canonical_and_open_graph(client, sample_article):
    html = html_of(client.get("/article/48691/" + sample_article.slug + "/"))
    canonical = f"http://testserver{sample_article.get_absolute_url()}"
    assert f'<link rel="canonical" href="{canonical}">' in html
    assert '<meta property="og:type" content="article">' in html
    assert '<meta property="og:title" content="拜登、普京第二次峰會　謀化解烏克蘭危機">' in html
    assert (
        '<meta property="og:image" content="https://web.archive.org/web/20220118160222im_/' in html
    )
    assert re.search(r'<meta name="description" content="美國總統拜登和俄羅斯總統普京', html)
    for path in ["/", "/tag/普京/", "/archive/2021/"]:
        page = html_of(client.get(path))
        assert "<title>" in page and 'rel="canonical"' in page and 'name="description"' in page


def test_news_article_json_ld(client, sample_article):
    html = html_of(client.get(sample_article.get_absolute_url()))
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    data = json.loads(raw)
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == sample_article.title
    assert data["datePublished"].startswith("2021-12-07T00:00:00+08:00")
    assert data["author"][0]["name"] == "眾新聞記者"
    assert data["articleSection"] == "眾聞"
    assert set(data["keywords"]) == {"普京", "Vladimir Putin", "putin", "烏克蘭", "拜登"}
    assert data["image"][0]["creditText"] == "美聯社"
    assert data["isBasedOn"] == sample_article.original_url


def test_json_ld_cannot_close_its_script_element(client):
    article = factories.article(title="</script><script>alert(1)</script>")
    html = html_of(client.get(article.get_absolute_url()))
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert "<" not in raw
    assert json.loads(raw)["headline"] == article.title


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_site_feeds_parse_with_full_links_and_figure_enclosures(client, sample_article, kind):
    response = client.get(f"/feed/{kind}/")
    assert response.status_code == 200
    root = ElementTree.fromstring(response.content)
    if kind == "rss":
        item = root.find("channel/item")
        assert item.findtext("title") == sample_article.title
        assert item.findtext("link") == f"http://testserver{sample_article.get_absolute_url()}"
        enclosures = [e.get("url") for e in item.findall("enclosure")]
    else:
        item = root.find(f"{ATOM}entry")
        assert item.findtext(f"{ATOM}title") == sample_article.title
        links = item.findall(f"{ATOM}link")
        assert links[0].get("href") == f"http://testserver{sample_article.get_absolute_url()}"
        enclosures = [e.get("href") for e in links if e.get("rel") == "enclosure"]
    # RSS allows one enclosure (the lead figure); Atom carries every figure.
    assert len(enclosures) == (1 if kind == "rss" else 4)
    assert all(url.startswith("https://web.archive.org/") for url in enclosures)


@pytest.mark.parametrize(
    "path", ["/section/眾聞/feed/{}/", "/tag/普京/feed/{}/", "/author/眾新聞記者/feed/{}/"]
)
@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_section_tag_and_author_feeds(client, sample_article, path, kind):
    factories.article(
        title="不相關", tags=["香港"], section=factories.section("眾說"), authors=["甲"]
    )
    response = client.get(path.format(kind))
    assert response.status_code == 200
    text = response.content.decode()
    ElementTree.fromstring(response.content)
    assert sample_article.title in text and "不相關" not in text


@pytest.mark.parametrize("path", ["/feed/rss/", "/feed/atom/", "/tag/普京/feed/rss/"])
def test_a_feed_is_sent_as_one_piece(client, sample_article, path):
    # The server writes each piece of a response to the socket separately.
    response = client.get(path)
    assert response.status_code == 200
    assert len(list(response)) == 1


def test_feed_query_count_does_not_grow(client, django_assert_num_queries):
    factories.article(tags=["普京"])
    with django_assert_num_queries(4):
        client.get("/feed/rss/")
    for _ in range(10):
        factories.article(tags=["普京", "拜登"], figures=3)
    with django_assert_num_queries(4):
        client.get("/feed/atom/")


def test_sitemap_index_covers_articles_sections_tags_and_authors(client, sample_article):
    index = ElementTree.fromstring(client.get("/sitemap.xml").content)
    locations = [loc.text for loc in index.iter(f"{SITEMAP}loc")]
    assert {loc.rsplit("/", 1)[1].split("?")[0] for loc in locations} == {
        "sitemap-articles.xml", "sitemap-sections.xml", "sitemap-tags.xml", "sitemap-authors.xml"
    }  # fmt: skip
    urls = []
    for location in locations:
        page = ElementTree.fromstring(
            client.get(location.removeprefix("http://testserver")).content
        )
        urls += [loc.text for loc in page.iter(f"{SITEMAP}loc")]
    assert f"http://testserver{sample_article.get_absolute_url()}" in urls
    assert "http://testserver/section/%E7%9C%BE%E8%81%9E/" in urls
    assert "http://testserver/tag/%E6%99%AE%E4%BA%AC/" in urls
    assert len([u for u in urls if "/tag/" in u]) == 5


def test_article_sitemap_is_paginated(client, settings, monkeypatch):
    from articles.sitemaps import ArticleSitemap

    monkeypatch.setattr(ArticleSitemap, "limit", 2)
    for _ in range(5):
        factories.article()
    index = client.get("/sitemap.xml").content.decode()
    assert "sitemap-articles.xml?p=3" in index
    page = client.get("/sitemap-articles.xml?p=3").content.decode()
    assert page.count("<loc>") == 1


def test_robots_txt_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in text
    assert "Disallow: /admin/" in text


def test_404_page_is_in_chinese_and_in_the_site_style(client, settings):
    settings.DEBUG = False
    response = client.get("/article/1/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "找不到這一頁" in html and "/static/css/newsroom.css" in html


def test_500_page_is_static(client, settings):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "暫時未能顯示這一頁" in html and "{%" not in html


def test_conditional_get_answers_304(client, sample_article):
    url = sample_article.get_absolute_url()
    first = client.get(url)
    assert first.status_code == 200
    assert first["Last-Modified"] and first["ETag"].startswith('W/"48691-')
    assert client.get(url, headers={"if-none-match": first["ETag"]}).status_code == 304
    assert client.get(url, headers={"if-modified-since": first["Last-Modified"]}).status_code == 304
    assert client.get(url, headers={"if-none-match": 'W/"other"'}).status_code == 200


def test_conditional_get_skips_rendering(client, sample_article, django_assert_num_queries):
    url = sample_article.get_absolute_url()
    last_modified = client.get(url)["Last-Modified"]
    from django.core.cache import cache

    cache.clear()  # not served from a cache: the date check itself answers
    # The article's row, read once for the kept page's check and the date check.
    with django_assert_num_queries(1):
        response = client.get(url, headers={"if-modified-since": last_modified})
    assert response.status_code == 304
    etag = client.get(url)["ETag"]  # cached again
    with django_assert_num_queries(0):
        assert client.get(url, headers={"if-none-match": etag}).status_code == 304


def test_public_pages_may_be_cached_by_browsers(client, sample_article):
    for path in ["/", sample_article.get_absolute_url(), "/feed/rss/", "/sitemap.xml"]:
        response = client.get(path)
        assert "public" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"]


def test_page_cache_serves_without_queries_and_forgets_on_change(
    client, sample_article, django_assert_num_queries, django_capture_on_commit_callbacks
):
    url = sample_article.get_absolute_url()
    html_of(client.get(url))
    with django_assert_num_queries(0):
        assert "拜登、普京第二次峰會" in html_of(client.get(url))
    sample_article.title = "改過的標題"
    with django_capture_on_commit_callbacks(execute=True):
        sample_article.save()
    assert "改過的標題" in html_of(client.get(url))


def test_reimport_retires_cached_pages(client, seeds_dir, django_capture_on_commit_callbacks):
    from .seedfiles import write_seed

    path = write_seed(seeds_dir, "a.txt", title="第一版")
    import_seeds([path])
    assert "第一版" in html_of(client.get("/"))
    write_seed(seeds_dir, "a.txt", title="第二版")
    with django_capture_on_commit_callbacks(execute=True):
        import_seeds([path])
    assert "第二版" in html_of(client.get("/"))


def test_logged_in_editors_are_not_served_cached_pages(client, admin_user, sample_article):
    url = sample_article.get_absolute_url()
    html_of(client.get(url))
    Article.objects.filter(pk=sample_article.pk).update(title="悄悄改過")
    assert "悄悄改過" not in html_of(client.get(url))
    client.force_login(admin_user)
    assert "悄悄改過" in html_of(client.get(url))


def test_logged_in_editors_are_not_served_kept_article_pages(
    client, admin_user, sample_article, django_capture_on_commit_callbacks
):
    url = sample_article.get_absolute_url()
    html_of(client.get(url))
    Article.objects.filter(pk=sample_article.pk).update(title="悄悄改過")
    _edit_elsewhere(django_capture_on_commit_callbacks)
    assert "悄悄改過" not in html_of(client.get(url))  # the kept page
    client.force_login(admin_user)
    assert "悄悄改過" in html_of(client.get(url))


def test_persistent_database_connections(settings):
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0


def test_urls_keep_unicode_slugs():
    assert reverse("tag", kwargs={"slug": "普京"}) == "/tag/%E6%99%AE%E4%BA%AC/"


def test_after_an_edit_elsewhere_an_article_page_is_rebuilt_with_one_query(
    client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    article = factories.article(tags=["普京"], figures=3)
    factories.article(tags=["普京"])
    other = factories.article(title="別處的修改", figures=1)
    html_of(client.get(article.get_absolute_url()))
    other.body += "\n\n更正：日期有誤。"
    with django_capture_on_commit_callbacks(execute=True):
        other.save()  # retires every cached page, but no article's links
    with django_assert_num_queries(1):
        html = html_of(client.get(article.get_absolute_url()))
    assert html.count('<figure class="figure">') == 3 and "相關文章" in html
    caption = other.figures.get()
    caption.caption = "更正的圖片說明"
    with django_capture_on_commit_callbacks(execute=True):
        caption.save()
    with django_assert_num_queries(1):
        assert html_of(client.get(article.get_absolute_url())) == html


def test_without_kept_pages_an_article_page_is_put_together_with_one_query(
    client, settings, django_assert_num_queries
):
    """With whole pages kept nowhere, the article's kept page and its links
    are put together: the row decides, nothing is rendered."""
    settings.PAGE_CACHE_SECONDS = 0
    settings.ARTICLE_PAGE_CACHE_SECONDS = 0
    article = factories.article(tags=["普京"], figures=2, videos=["https://youtu.be/abcdefghijk"])
    factories.article(title="相關的一篇", tags=["普京"], day=dt.date(2021, 12, 6))
    first = client.get(article.get_absolute_url())
    with django_assert_num_queries(1):
        again = client.get(article.get_absolute_url())
    assert again.content == first.content and again["ETag"] == first["ETag"]
    html = html_of(again)
    assert "newsroom:links" not in html
    main = html.split("<main")[1].split("</main>")[0]
    # The links stand after the article, inside the page's main part.
    assert main.index("</article>") < main.index("相關的一篇") < main.index('rel="prev"')
    assert html.count('<figure class="figure">') == 2 and "js/video" in html.split("</main>")[1]


def test_when_links_change_only_the_links_are_rendered_again(
    client, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE_SECONDS = 0
    settings.ARTICLE_PAGE_CACHE_SECONDS = 0
    article = factories.article(tags=["普京"], figures=2, authors=["甲", "乙"])
    html = html_of(client.get(article.get_absolute_url()))
    assert "後一天" not in html
    with django_capture_on_commit_callbacks(execute=True):
        # Its author, section and tag exist already: the taxonomy stays.
        factories.article(title="後一天", tags=["普京"], authors=["甲"], day=dt.date(2021, 12, 8))
    with CaptureQueriesContext(connection) as queries:
        html = html_of(client.get(article.get_absolute_url()))
    assert html.count("後一天") == 2  # related, and next
    read = " ".join(query["sql"] for query in queries.captured_queries)
    # The row, the article, the next scheduled article, and the links' own
    # queries; not the figures, bylines or videos the article's page shows.
    for table in ("articles_figure", "articles_byline", "articles_video"):
        assert table not in read


def test_the_article_row_follows_the_published_rule(rf):
    """`published_article` writes the rule of `ArticleQuerySet.published` out
    as SQL; the article view and the kept pages both rely on it."""
    from articles.caching import published_article

    now = timezone.now()
    articles = [
        factories.article(status=status, published_at=when)
        for status in Article.Status.values
        for when in (None, now - dt.timedelta(days=1), now + dt.timedelta(hours=1))
    ]
    for article in articles:
        article.refresh_from_db()  # its figures and bylines moved its change time
        row = published_article(rf.get("/"), article.number)
        assert (row is not None) == Article.objects.published().filter(pk=article.pk).exists()
        if row is not None:
            assert row == (article.pk, article.slug, article.modified_at)


def test_the_article_row_is_read_with_a_prepared_statement_on_postgresql(rf):
    """Asked on nearly every request, the row's query is prepared once per
    connection on PostgreSQL (newsroom/postgresql), and counted like any."""
    from articles.caching import published_article

    article = factories.article()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(6):
            assert published_article(rf.get("/"), article.number).id == article.pk
    assert len(queries) == 6
    if connection.vendor == "postgresql":
        prepared = prepared_statements(connection)
        assert any('FROM "articles_article" WHERE "number" = $1' in s for s in prepared)


@pytest.mark.parametrize("number", ["9" * 12, "9" * 19, "1" + "0" * 30])
def test_article_numbers_too_large_for_any_row_are_not_found(client, number):
    assert client.get(f"/article/{number}/").status_code == 404
    assert client.get(f"/article/{number}/x/").status_code == 404


def _edit_elsewhere(django_capture_on_commit_callbacks):
    """Correct another article's body: every page kept under the content
    version retires; no article's links change (it is a draft, and a body is
    not shown in links), so kept article pages stay."""
    other = factories.article(title="別處的修改", status=Article.Status.DRAFT)
    other.body = "更正後的內文。"
    with django_capture_on_commit_callbacks(execute=True):
        other.save()


def _render(client, article) -> str:
    return html_of(client.get(article.get_absolute_url()))


def test_links_show_a_change_elsewhere_at_once(client, django_capture_on_commit_callbacks):
    from articles.models import TaggedArticle

    article = factories.article(tags=["普京"], day=dt.date(2021, 12, 7))
    older = factories.article(title="前一天", day=dt.date(2021, 12, 6))
    untagged = factories.article(title="後來加上標籤", day=dt.date(2021, 1, 1))
    assert "前一天" in _render(client, article)
    with django_capture_on_commit_callbacks(execute=True):
        newer = factories.article(title="後一天", tags=["普京"], day=dt.date(2021, 12, 8))
    html = _render(client, article)
    assert 'rel="next"' in html and "後一天" in html  # a neighbour and related
    older.title = "前一天（改題）"
    with django_capture_on_commit_callbacks(execute=True):
        older.save()
    assert "前一天（改題）" in _render(client, article)
    with django_capture_on_commit_callbacks(execute=True):
        TaggedArticle.objects.create(
            content_object=untagged, tag=newer.tagged_items.get().tag, position=1
        )
    assert "後來加上標籤" in _render(client, article)
    with django_capture_on_commit_callbacks(execute=True):
        mark_edited(Article.objects.filter(pk=newer.pk), status=Article.Status.HIDDEN)
    assert "後一天" not in _render(client, article)


def test_what_changes_links(django_assert_num_queries):
    article = factories.article()
    loaded = Article.objects.get(pk=article.pk)
    assert not loaded.changes_links
    loaded.body = "改寫的內文。"
    loaded.original_url = "https://example.com/"
    assert not loaded.changes_links
    for name, value in [
        ("title", "新標題"),
        ("slug", "new"),
        ("number", 99_999),
        ("published_at", timezone.now()),
        ("status", Article.Status.HIDDEN),
    ]:
        changed = Article.objects.get(pk=article.pk)
        setattr(changed, name, value)
        assert changed.changes_links, name
    draft = Article(title="草稿", body="。", status=Article.Status.DRAFT)
    assert not draft.changes_links  # never shown, and still not
    draft.status = Article.Status.PUBLISHED
    assert draft.changes_links
    hidden = Article.objects.get(pk=article.pk)
    hidden.status = Article.Status.HIDDEN
    hidden.save()
    hidden.title = "隱藏時改題"
    assert not hidden.changes_links  # hidden before and after: in no links
    # Lists load articles without these columns, and are not made to read them.
    with django_assert_num_queries(1):
        partial = Article.objects.only("body").get(pk=article.pk)
    assert partial.changes_links  # not known, so it counts


def test_links_are_kept_no_longer_than_until_the_next_scheduled_article(
    settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from articles.caching import ArticlePages, links_seconds

    settings.LINKS_CACHE_SECONDS = 3600
    settings.ARTICLE_PAGE_CACHE_SECONDS = 1800
    factories.article()
    assert links_seconds() == 3600 and ArticlePages.seconds() == 1800
    soon = timezone.now() + dt.timedelta(seconds=500)
    with django_capture_on_commit_callbacks(execute=True):
        factories.article(published_at=soon)
        factories.article(published_at=soon + dt.timedelta(seconds=500))
        draft = factories.article(status=Article.Status.DRAFT, published_at=soon)
    assert 490 <= links_seconds() <= 500
    with django_assert_num_queries(0):  # the moment is kept with the links
        assert 490 <= ArticlePages.seconds() <= 500
    draft.status = Article.Status.PUBLISHED
    draft.published_at = timezone.now() + dt.timedelta(seconds=100)
    with django_capture_on_commit_callbacks(execute=True):
        draft.save()  # scheduled sooner
    assert 90 <= links_seconds() <= 100


def test_after_an_edit_elsewhere_a_kept_article_page_is_served_as_it_was(
    client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    article = factories.article(tags=["普京"], figures=2)
    first = client.get(article.get_absolute_url())
    _edit_elsewhere(django_capture_on_commit_callbacks)
    with django_assert_num_queries(3):  # the article's row each time, nothing rendered
        again = client.get(article.get_absolute_url())
        head = client.head(article.get_absolute_url())
        not_modified = client.get(
            article.get_absolute_url(), headers={"if-none-match": first["ETag"]}
        )
    assert again.content == first.content and again["ETag"] == first["ETag"]
    for header in ("Content-Security-Policy", "X-Frame-Options", "Cache-Control"):
        assert again[header] == first[header]
    assert head.status_code == 200 and head.content == b""
    assert not_modified.status_code == 304


def test_a_kept_article_page_is_not_served_once_readers_may_not_see_the_article(
    client, django_capture_on_commit_callbacks
):
    hidden = factories.article()
    scheduled = factories.article()
    for article in (hidden, scheduled):
        html_of(client.get(article.get_absolute_url()))
    # Changed without model signals or a new change time: only the row says so.
    Article.objects.filter(pk=hidden.pk).update(status=Article.Status.HIDDEN)
    Article.objects.filter(pk=scheduled.pk).update(
        published_at=timezone.now() + dt.timedelta(days=1)
    )
    _edit_elsewhere(django_capture_on_commit_callbacks)
    for article in (hidden, scheduled):
        assert client.get(article.get_absolute_url()).status_code == 404


def test_a_kept_article_page_retires_with_its_article_and_its_taxonomy(
    client, django_capture_on_commit_callbacks
):
    article = factories.article(title="原來的標題", tags=["普京"])
    html_of(client.get(article.get_absolute_url()))
    _edit_elsewhere(django_capture_on_commit_callbacks)
    Article.objects.filter(pk=article.pk).update(
        title="改過的標題", modified_at=timezone.now() + dt.timedelta(seconds=1)
    )
    assert "改過的標題" in html_of(client.get(article.get_absolute_url()))
    tag = article.tagged_items.get().tag
    tag.name = "普亭"
    with django_capture_on_commit_callbacks(execute=True):
        tag.save()
    assert ">普亭</a>" in html_of(client.get(article.get_absolute_url()))


def test_other_addresses_of_a_kept_article_page_still_redirect(
    client, django_capture_on_commit_callbacks
):
    article = factories.article()
    html_of(client.get(article.get_absolute_url()))
    _edit_elsewhere(django_capture_on_commit_callbacks)
    for path in (
        f"/article/{article.number}/",
        f"/article/{article.number}/舊的/",
        f"/article/0{article.number}/{article.slug}/",
    ):
        response = client.get(path)
        assert response.status_code == 301 and response["Location"] == article.get_absolute_url()


@pytest.mark.parametrize("setting", ["ARTICLE_PAGE_CACHE_SECONDS", "LINKS_CACHE_SECONDS"])
def test_article_pages_are_kept_no_longer_than_set_nor_than_their_links(
    client, settings, setting, django_capture_on_commit_callbacks
):
    article = factories.article(tags=["普京"])
    factories.article(tags=["普京"])
    first = client.get(article.get_absolute_url())
    _edit_elsewhere(django_capture_on_commit_callbacks)
    # Kept, the page comes back as it was stored, with the ETag it had.
    assert client.get(article.get_absolute_url())["ETag"] == first["ETag"]
    setattr(settings, setting, 0)
    _edit_elsewhere(django_capture_on_commit_callbacks)
    again = client.get(article.get_absolute_url())
    assert "相關文章" in html_of(again)
    assert again["ETag"] != first["ETag"]  # rendered again by the view


def test_pages_cached_by_one_release_are_not_served_by_the_next(
    client, monkeypatch, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from articles import caching

    article = factories.article()
    monkeypatch.setattr(caching, "static_release", lambda: "release-1")
    html_of(client.get("/"))
    first = client.get(article.get_absolute_url())
    with django_assert_num_queries(0):
        html_of(client.get("/"))
    monkeypatch.setattr(caching, "static_release", lambda: "release-2")
    with CaptureQueriesContext(connection) as queries:
        html_of(client.get("/"))
    assert len(queries) > 0  # rendered again
    _edit_elsewhere(django_capture_on_commit_callbacks)
    assert client.get(article.get_absolute_url())["ETag"] != first["ETag"]  # not the kept page


def test_renaming_a_tag_shows_on_the_articles_that_carry_it(
    client, django_capture_on_commit_callbacks
):
    article = factories.article(tags=["普京"])
    assert ">普京</a>" in html_of(client.get(article.get_absolute_url()))
    tag = article.tagged_items.get().tag
    tag.name = "普亭"
    with django_capture_on_commit_callbacks(execute=True):
        tag.save()
    html = html_of(client.get(article.get_absolute_url()))
    assert ">普亭</a>" in html and ">普京</a>" not in html


def test_cached_pages_carry_the_security_headers_and_answer_head_and_conditional_requests(
    client, sample_article, django_assert_num_queries
):
    url = sample_article.get_absolute_url()
    first = client.get(url)
    with django_assert_num_queries(0):
        cached = client.get(url)
        head = client.head(url)
        not_modified = client.get(url, headers={"if-none-match": first["ETag"]})
    assert cached.content == first.content
    for header in ("Content-Security-Policy", "X-Frame-Options", "ETag", "Cache-Control"):
        assert cached[header] == first[header]
    assert head.status_code == 200 and head.content == b""
    assert not_modified.status_code == 304


def test_each_host_gets_its_own_cached_page(client, sample_article, settings):
    settings.ALLOWED_HOSTS = ["archive.example.org", "mirror.example.org"]
    url = sample_article.get_absolute_url()
    first = html_of(client.get(url, headers={"host": "archive.example.org"}))
    second = html_of(client.get(url, headers={"host": "mirror.example.org"}))
    assert 'href="http://archive.example.org/article/48691/' in first
    assert 'href="http://mirror.example.org/article/48691/' in second
