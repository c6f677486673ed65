import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import search
from articles.admin_list import CappedPaginator
from articles.importer import import_seeds
from articles.models import Article, Figure, Tag, TagAlias

from .admin_factories import make_article, make_section

pytestmark = pytest.mark.django_db

LIST = "/admin/articles/article/"


def listed(client, query: str = "") -> list[int]:
    """Article numbers on the list page, in order."""
    response = client.get(LIST + query)
    assert response.status_code == 200, response
    return [article.number for article in response.context["cl"].result_list]


def test_list_shows_title_number_section_byline_date_status_figures_and_tags(admin_client):
    make_article(
        number=48691,
        title="拜登、普京第二次峰會",
        section=make_section("眾聞"),
        authors=["眾新聞記者"],
        tags=["普京", "拜登"],
        figures=3,
    )
    html = admin_client.get(LIST).content.decode()
    row = html[html.index("拜登、普京第二次峰會") - 600 :]
    for text in ("48691", "眾聞", "眾新聞記者", "2021年12月7日", "已發佈", ">3<", "普京", "拜登"):
        assert text in row
    assert "?tag=%E6%99%AE%E4%BA%AC" in row  # a tag links to the list of its articles


@pytest.mark.parametrize("articles", [1, 50])
def test_list_query_count_does_not_grow_with_the_page(
    admin_client, articles, django_assert_num_queries
):
    section = make_section()
    for _ in range(articles):
        make_article(
            section=section, authors=["何君健", "林振東"], tags=["普京", "香港"], figures=2
        )
    # session, user, sections for the filter, the date span (2) for the year
    # filter and again for the date drill-down (2), the capped count, the
    # page's ids, its articles, their bylines, their tags.
    with django_assert_num_queries(12):
        response = admin_client.get(LIST)
    assert len(response.context["cl"].result_list) == articles


def test_list_sorts_ids_and_loads_only_the_pages_articles(admin_client, monkeypatch):
    monkeypatch.setattr("articles.admin.ArticleAdmin.list_per_page", 2)
    for number in range(1, 6):
        make_article(number=number, title=f"北約 {number}", section=make_section())
    with CaptureQueriesContext(connection) as queries:
        assert listed(admin_client, "?q=北約&p=2") == [3, 2]
    statements = [query["sql"] for query in queries]
    # The matches are sorted without their sections joined; the page's rows, not sorted again.
    assert not [
        sql for sql in statements if "articles_searchdocument" in sql and "articles_section" in sql
    ]
    page = "IN ({}, {})".format(*(Article.objects.get(number=n).pk for n in (3, 2)))
    assert [sql for sql in statements if page in sql and "ORDER BY" not in sql]
    html = admin_client.get(LIST + "?q=北約&p=2").content.decode()
    assert "北約 3" in html and "眾聞" in html and "北約 5" not in html


def test_list_never_counts_the_whole_table(admin_client):
    make_article()
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(LIST)
    counts = [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(")]
    assert counts and all("LIMIT" in sql for sql in counts), counts


def test_count_stops_a_few_pages_past_the_one_shown():
    for _ in range(12):
        make_article()
    articles = Article.objects.order_by("number")
    enough = CappedPaginator(articles, 2, page_number=1)  # counts up to (1 + 10) * 2
    assert (enough.count, enough.capped) == (12, False)
    short = CappedPaginator(articles, 1, page_number=1)  # up to 11
    assert (short.count, short.capped) == (12, True)
    later = CappedPaginator(articles, 1, page_number=3)  # further along, further ahead
    assert (later.count, later.capped) == (12, False)


@pytest.mark.parametrize("page", ["461168601842738790", "9" * 30])
def test_a_page_past_any_count_goes_back_to_the_list(admin_client, monkeypatch, page):
    """As Django's admin does with a page past the last: back to the list,
    flagged, rather than a count whose limit the database refuses."""
    monkeypatch.setattr("articles.admin.ArticleAdmin.list_per_page", 2)
    for _ in range(3):
        make_article()
    response = admin_client.get(f"{LIST}?p={page}")
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_long_list_says_more_than(admin_client, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "lookahead", 1)
    monkeypatch.setattr("articles.admin.ArticleAdmin.list_per_page", 2)
    for _ in range(5):
        make_article()
    html = admin_client.get(LIST).content.decode()
    assert "超過 4 篇文章" in html
    assert "選擇所有符合條件的文章" in html
    assert len(admin_client.get(LIST + "?p=3").context["cl"].result_list) == 1


def test_filter_by_status_with_scheduled_apart(admin_client):
    make_article(number=1, status=Article.Status.DRAFT)
    make_article(number=2)
    make_article(number=3, published_at=timezone.now() + dt.timedelta(days=1))
    make_article(number=4, status=Article.Status.HIDDEN)
    assert listed(admin_client, "?status=draft") == [1]
    assert listed(admin_client, "?status=published") == [2]
    assert listed(admin_client, "?status=scheduled") == [3]
    assert listed(admin_client, "?status=hidden") == [4]
    assert "已排程" in admin_client.get(LIST + "?status=scheduled").content.decode()


def test_filter_by_section(admin_client):
    news, views = make_section("眾聞"), make_section("眾說")
    make_article(number=1, section=news)
    make_article(number=2, section=views)
    assert listed(admin_client, f"?section__id__exact={views.pk}") == [2]


def test_filter_by_author_name(admin_client):
    make_article(number=1, authors=["何君健"])
    make_article(number=2, authors=["林振東", "何君健"])
    make_article(number=3, authors=["林振東"])
    assert listed(admin_client, "?author=何君健") == [2, 1]
    assert listed(admin_client, "?author=林振") == [3, 2]


def test_filter_by_year_in_hong_kong_time_and_undated(admin_client):
    hk = dt.timezone(dt.timedelta(hours=8))
    make_article(number=1, published_at=dt.datetime(2021, 1, 1, 0, 30, tzinfo=hk))
    make_article(number=2, published_at=dt.datetime(2020, 12, 31, 23, 30, tzinfo=hk))
    make_article(number=3, published_at=None)
    html = admin_client.get(LIST).content.decode()
    assert "?year=2020" in html and "?year=2021" in html and "未有日期" in html
    assert listed(admin_client, "?year=2021") == [1]
    assert listed(admin_client, "?year=2020") == [2]
    assert listed(admin_client, "?year=none") == [3]
    assert listed(admin_client, "?year=99999") == []
    # Years Python's dates cannot hold, or whose edges fall outside them.
    for year in ["0", "1", "9999", "9" * 30, "abc"]:
        assert listed(admin_client, f"?year={year}") == [], year


def test_filter_by_tag_in_any_case_or_by_an_old_name(admin_client):
    make_article(number=1, tags=["Putin"])
    make_article(number=2, tags=["香港"])
    assert listed(admin_client, "?tag=putin") == [1]
    TagAlias.objects.create(target=Tag.objects.get(name="Putin"), name="普京", slug="普京")
    assert listed(admin_client, "?tag=普京") == [1]
    assert listed(admin_client, "?tag=nothing") == []


@pytest.mark.parametrize("name", ["tag", "author"])
def test_a_name_with_nul_finds_nothing(admin_client, name):
    """No name holds NUL, and PostgreSQL's text cannot: asked for one, it
    would fail the query."""
    make_article(number=1, tags=["普京"], authors=["何君健"])
    assert listed(admin_client, f"?{name}=%00") == []
    assert listed(admin_client, f"?{name}=普%00") == []


def test_filters_keep_each_other(admin_client):
    make_article(number=1, tags=["普京"], status=Article.Status.DRAFT)
    make_article(number=2, tags=["普京"])
    html = admin_client.get(LIST + "?status=draft").content.decode()
    assert '<input type="hidden" name="status" value="draft">' in html
    assert listed(admin_client, "?status=draft&tag=普京") == [1]


def test_date_drill_down_from_years_to_days(admin_client):
    make_article(number=1, published_at=dt.datetime(2019, 3, 5, 4, tzinfo=dt.UTC))
    make_article(number=2, published_at=dt.datetime(2021, 12, 7, 4, tzinfo=dt.UTC))
    html = admin_client.get(LIST).content.decode()
    assert "published_at__year=2019" in html and "published_at__year=2020" in html
    html = admin_client.get(LIST + "?published_at__year=2021").content.decode()
    assert "published_at__month=12" in html and "2021年12月" in html
    response = admin_client.get(LIST + "?published_at__year=2021&published_at__month=12")
    assert "published_at__day=7" in response.content.decode()
    assert listed(admin_client, "?published_at__year=2019") == [1]


@pytest.mark.parametrize(
    "period",
    [
        "published_at__year=1",
        "published_at__year=9999&published_at__month=12",
        "published_at__year=" + "9" * 30,
        "published_at__year=2021&published_at__month=" + "9" * 30,
        "published_at__year=2021&published_at__month=12&published_at__day=" + "9" * 30,
        "published_at__year=abc",
    ],
)
def test_a_period_no_date_can_hold_goes_back_to_the_list(admin_client, period):
    """As Django's admin answers an impossible date (30 February): back to
    the list, flagged, rather than an error where the period's edges fall
    past Python's dates."""
    make_article(number=1)
    response = admin_client.get(f"{LIST}?{period}")
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("48691", [48691]),  # the number, exactly
        ("4869", []),
        ("第二次峰會", [48691]),  # title
        ("視像會議", [48691]),  # body
        ("vladimir", [48691]),  # a tag, in any case
        ("普京", [48691]),  # two characters, Chinese
        ("拜登 峰會", [48691]),  # every word
        ("颱風", []),
    ],
)
def test_search_by_number_title_body_and_tags(admin_client, sample, query, found):
    import_seeds([sample])
    make_article(number=1, title="香港天氣", body="今日天晴。", tags=["天氣"])
    assert listed(admin_client, "?" + f"q={query}") == found


def test_search_finds_an_article_once_whatever_matches(admin_client):
    make_article(number=1, title="普京", body="普京", tags=["普京", "普京訪華"])
    assert listed(admin_client, "?q=普京") == [1]


def test_search_for_a_huge_number_finds_nothing(admin_client):
    make_article(number=1)
    assert listed(admin_client, "?q=99999999999999999999") == []


def test_search_with_simplified_characters_finds_traditional_text(admin_client):
    make_article(number=1, body="拜登謀化解烏克蘭危機。")
    make_article(number=2, body="今日天晴。")
    assert listed(admin_client, "?q=乌克兰") == [1]


def test_search_finds_an_article_by_a_caption_alone(admin_client):
    make_article(number=1, body="內文沒有。", figures=1)
    Figure.objects.filter(article__number=1).update(caption="北約峰會。")
    search.index_articles(Article.objects.filter(number=1).values_list("pk", flat=True))
    make_article(number=2, body="內文沒有。", figures=1)
    assert listed(admin_client, "?q=北約峰會") == [1]


def test_search_goes_through_the_index_not_through_the_bodies(admin_client):
    make_article(number=1, body="拜登謀化解烏克蘭危機。")
    with CaptureQueriesContext(connection) as queries:
        assert listed(admin_client, "?q=烏克蘭") == [1]
    statements = [query["sql"] for query in queries]
    assert any("articles_searchdocument" in sql for sql in statements), statements
    assert not any("LIKE" in sql.upper() for sql in statements), statements


def test_search_results_keep_the_lists_order_filters_and_pages(admin_client, monkeypatch):
    day = dt.datetime(2021, 12, 7, tzinfo=dt.UTC)
    # A title match counts most in the readers' search; the list still goes by date.
    make_article(number=1, title="北約東擴", published_at=day - dt.timedelta(days=3))
    make_article(number=2, body="談到北約。", published_at=day - dt.timedelta(days=1))
    make_article(number=3, body="談到北約。", published_at=day, status=Article.Status.DRAFT)
    make_article(number=4, body="無關。", published_at=day)
    assert listed(admin_client, "?q=北約") == [3, 2, 1]
    assert listed(admin_client, "?q=北約&o=2") == [1, 2, 3]  # by number, ascending
    assert listed(admin_client, "?q=北約&status=published") == [2, 1]
    monkeypatch.setattr("articles.admin.ArticleAdmin.list_per_page", 2)
    assert listed(admin_client, "?q=北約&p=2") == [1]


def test_search_without_words_finds_nothing(admin_client):
    make_article(number=1, body="文字 *** 文字")
    assert listed(admin_client, "?q=***") == []


def test_admin_speaks_traditional_chinese_and_names_the_site(client, admin_client):
    html = client.get("/admin/login/").content.decode()
    assert '<html lang="zh-hant"' in html
    assert "眾新聞檔案・編輯台" in html and "登入" in html
    make_article()
    html = admin_client.get(LIST).content.decode()
    # Strings Django 6.1's own catalogue leaves in English (locale/zh_Hant).
    assert "Filter by" not in html and "按發佈時間篩選" in html
    assert "Select an option" not in html
