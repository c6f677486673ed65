import datetime as dt
import importlib
import random
import re
from unittest import mock

import pytest
from django.apps import apps as django_apps
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from articles import pieces as pieces_module
from articles import search
from articles.importer import import_seeds
from articles.models import Article, Figure, SearchDocument, Tag, TitlePiece
from articles.pieces import BOUNDARY, fold, pieces
from articles.search import highlight, parse_query

from .seedfiles import CHARACTERS, figure_html, write_archive, write_seed
from .services import plans_of_prepared_statements

pytestmark = pytest.mark.django_db

# -- Pieces, folding and queries (no database) ----------------------------------


def test_chinese_is_cut_into_overlapping_pairs_then_each_character_once():
    assert pieces("普京與拜登") == " 普京 京与 与拜 拜登 与 京 拜 普 登 "


def test_a_single_character_run_is_listed_but_makes_no_pair():
    assert pieces("京。") == " 京 "


@given(
    st.text(alphabet=CHARACTERS[:40] + "。、 ab1", max_size=60), st.sampled_from(CHARACTERS[:40])
)
def test_a_piece_beginning_with_a_character_is_there_exactly_where_the_character_is(text, char):
    """What the ranking looks for in stored pieces to find one character
    (`search._needle`): a piece beginning with it, found where the
    character itself is listed, and only there."""
    stored = pieces(text)
    needle = search._needle((fold(char),))
    assert needle == f" {fold(char)}"
    assert (needle in stored) == (f" {fold(char)} " in stored) == (char in text)


def test_other_terms_are_looked_for_whole_in_stored_pieces():
    # Not putinism, nor a longer piece: only a CJK character is a prefix.
    assert search._needle(("putin",)) == " putin "
    assert search._needle(("19",)) == " 19 "
    assert search._needle(("普京",)) == " 普京 "
    assert search._needle(("乌克", "克兰")) == " 乌克 克兰 "


def test_latin_words_are_lower_cased_and_numbers_kept_apart():
    assert pieces("Vladimir PUTIN, COVID-19 2021年") == " vladimir putin covid 19 2021 年 "


def test_full_width_latin_is_folded_to_ascii():
    assert pieces("ＣＯＶＩＤ－１９") == pieces("covid-19") == " covid 19 "


def test_traditional_hk_and_simplified_spellings_fold_together():
    assert fold("烏克蘭") == fold("乌克兰") == "乌克兰"
    assert fold("衞生") == fold("衛生") == fold("卫生")
    assert fold("頭髮") == fold("头发")


def test_folding_is_one_character_for_one():
    text = "拜登、普京第二次峰會　謀化解烏克蘭危機 ＣＯＶＩＤ Putin"
    assert len(fold(text)) == len(text)


def test_runs_meeting_at_the_same_character_are_kept_apart():
    # Without the boundary, 香港 and 港人 would look adjacent: a match for 香港人.
    assert f"香港 {BOUNDARY} 港人" in pieces("香港。港人")
    assert BOUNDARY not in pieces("香港。市民")


def test_a_chinese_run_in_a_query_is_one_term_of_adjacent_pairs():
    assert parse_query("烏克蘭危機").terms == (("乌克", "克兰", "兰危", "危机"),)
    assert parse_query("普京").terms == (("普京",),)
    assert parse_query("京").terms == (("京",),)


def test_query_words_are_anded_and_latin_parts_of_a_word_stay_together():
    assert parse_query("普京  PUTIN covid-19疫苗").terms == (
        ("普京",),
        ("putin",),
        ("covid", "19"),
        ("疫苗",),
    )


@pytest.mark.parametrize("text", ["", "   ", "***", '"" -- ()', "。，！"])
def test_a_query_without_words_is_empty(text):
    assert not parse_query(text)


def test_query_syntax_characters_are_only_punctuation():
    query = parse_query('"普京" OR * NEAR(拜登, 2) -putin {title}: ^x')
    assert query.terms == (("普京",), ("or",), ("near",), ("拜登",), ("2",), ("putin",), ("title",), ("x",))  # fmt: skip
    assert all(piece.isalnum() for term in query.terms for piece in term)


def test_very_long_queries_are_cut_short():
    query = parse_query(" ".join(f"詞{n:03d}" for n in range(500)))
    assert len(query.terms) == search.MAX_TERMS
    assert len(parse_query("普" * 10_000).terms[0]) == search.MAX_QUERY - 1


def test_highlight_marks_every_match_around_the_first():
    excerpt = highlight(
        "前言。美國總統拜登和俄羅斯總統普京周二晚會面，普京說。", parse_query("普京")
    )
    assert (
        excerpt
        == "前言。美國總統拜登和俄羅斯總統<mark>普京</mark>周二晚會面，<mark>普京</mark>說。"
    )


def test_highlight_marks_traditional_text_for_a_simplified_query():
    assert highlight("化解烏克蘭危機", parse_query("乌克兰")) == "化解<mark>烏克蘭</mark>危機"


def test_highlight_marks_whole_english_words_in_any_case():
    excerpt = highlight("Putin and Putinism; PUTIN.", parse_query("putin"))
    assert excerpt == "<mark>Putin</mark> and Putinism; <mark>PUTIN</mark>."


def test_highlight_escapes_the_text_around_and_inside_marks():
    excerpt = highlight('<script>alert("普京")</script> & 普京', parse_query("普京"))
    assert excerpt == (
        "&lt;script&gt;alert(&quot;<mark>普京</mark>&quot;)&lt;/script&gt; &amp; <mark>普京</mark>"
    )


def test_highlight_cuts_a_window_around_the_first_match():
    text = "甲" * 300 + "普京" + "乙" * 300
    excerpt = highlight(text, parse_query("普京"), length=40)
    assert excerpt.startswith("…甲") and excerpt.endswith("乙…")
    assert "<mark>普京</mark>" in excerpt
    assert len(excerpt.replace("<mark>", "").replace("</mark>", "")) == 42


def _spans_in_folded_text(text, query):
    """Where the query's words stand, found the slow way: fold the text one
    character for one, then look for the folded words."""
    folded = "".join(f if len(f := fold(c)) == 1 else c for c in text)
    alternatives = []
    for word in sorted(query.words, key=len, reverse=True):
        if pieces_module.CJK_CHARACTER.match(word):
            alternatives.append(re.escape(word))
        else:
            edge = r"\d" if word.isdigit() else rf"[^\W\d_{pieces_module.CJK}]"
            alternatives.append(rf"(?<!{edge}){re.escape(word)}(?!{edge})")
    return [m.span() for m in re.finditer("|".join(alternatives), folded)]


@pytest.mark.parametrize("text", ["普京", "乌克兰 危机", "putin 19", "後髮", "Ｃovid-１９ 香港"])
def test_highlight_finds_the_words_wherever_folding_the_text_would(text):
    # The excerpt is cut from text as written: each character of a query word
    # stands for every character that folds to it, and finds what folding
    # the whole text would find.
    pool = list("普京烏乌克剋蘭兰危機机後后髮发香港 。，PpＰｕuUtTｔiInN19１９covidCOVID-ß")
    randomly = random.Random(text)
    query = parse_query(text)
    for _ in range(300):
        sample = "".join(randomly.choice(pool) for _ in range(randomly.randint(1, 40)))
        assert [m.span() for m in query.pattern.finditer(sample)] == _spans_in_folded_text(
            sample, query
        ), sample


def test_every_spelling_of_a_character_is_found():
    assert highlight("頭髮和以後", parse_query("发 后")) == "頭<mark>髮</mark>和以<mark>後</mark>"
    assert highlight("ＰＵＴＩＮ說", parse_query("putin")) == "<mark>ＰＵＴＩＮ</mark>說"


def test_highlight_of_text_without_the_words_is_none():
    assert highlight("美國總統拜登", parse_query("普京")) is None


# -- The database: a tiny factory ------------------------------------------------


def make_article(
    title="標題", body="內文。", *, captions=(), tags=(), status="published", days_ago=10
):
    """An article written by an editor, then its figures and tags, then reindexed."""
    article = Article(
        title=title,
        body=body,
        status=status,
        published_at=timezone.now() - dt.timedelta(days=days_ago),
    )
    article.save()
    for position, caption in enumerate(captions, start=1):
        Figure.objects.create(article=article, position=position, caption=caption)
    if tags:
        article.tags.add(*tags)
    if captions or tags:
        search.index_articles([article.pk])
    return article


def found(query, queryset=None):
    queryset = Article.objects.published() if queryset is None else queryset
    return list(queryset.search(query).values_list("title", flat=True))


def test_two_character_word_finds_exactly_the_articles_containing_it():
    make_article("有普京", "美國總統拜登和俄羅斯總統普京周二晚舉行視像會議。")
    make_article("普京在標題")
    make_article("分開", "普通話。京劇。")  # both characters, never together
    make_article("倒轉", "京普兩字。")
    make_article("尾巴", "會見普")
    assert sorted(found("普京")) == ["普京在標題", "有普京"]


def test_one_character_finds_it_anywhere_even_at_the_end_of_a_run():
    make_article("中間", "北京大學。")
    make_article("結尾", "我在北京。")
    make_article("單獨", "京。")
    make_article("沒有", "上海。")
    assert sorted(found("京")) == ["中間", "單獨", "結尾"]


def test_a_long_query_matches_only_as_a_whole():
    make_article("整句", "拜登謀化解烏克蘭危機。")
    make_article("拆開", "烏克蘭的危機。")
    make_article("倒序", "危機在烏克蘭。")
    make_article("跨句", "烏克蘭。蘭危機")
    assert found("烏克蘭危機") == ["整句"]


def test_runs_that_meet_at_a_character_do_not_make_a_phrase():
    make_article("兩句", "他住在香港。港人很多。")
    make_article("一句", "香港人很多。")
    assert found("香港人") == ["一句"]


def test_simplified_query_finds_traditional_text():
    make_article("傳統", "化解烏克蘭危機。")
    make_article("香港寫法", "衞生署公佈。")
    assert found("乌克兰") == ["傳統"]
    assert found("卫生署") == ["香港寫法"]
    assert found("衛生署") == ["香港寫法"]


@pytest.mark.parametrize("query", ["putin", "PUTIN", "Putin", "ＰＵＴＩＮ"])
def test_english_words_match_whatever_their_case(query):
    make_article("英文", "Vladimir Putin met Biden.")
    make_article("部分", "Putinism is a word.")
    assert found(query) == ["英文"]


def test_every_word_of_a_query_must_match():
    make_article("兩者", "普京與拜登會面。")
    make_article("一個", "普京會面。")
    assert found("普京 拜登") == ["兩者"]
    assert found("拜登 普京") == ["兩者"]


def test_caption_only_and_tag_only_matches_are_found():
    make_article("說明", "內文沒有。", captions=["北約峰會。美聯社"])
    make_article("標籤", "內文沒有。", tags=["北約"])
    make_article("都沒有", "內文沒有。")
    assert sorted(found("北約")) == ["標籤", "說明"]
    assert found("美聯社") == ["說明"]


def test_title_matches_come_first_then_tags_captions_and_body():
    # Newest first would give the opposite order.
    make_article("內文", "談到北約。", days_ago=1)
    make_article("說明", "無關。", captions=["北約峰會"], days_ago=2)
    make_article("標籤", "無關。", tags=["北約"], days_ago=3)
    make_article("北約東擴", "無關。", days_ago=4)
    assert found("北約") == ["北約東擴", "標籤", "說明", "內文"]
    scores = Article.objects.search("北約").values_list("search_score", flat=True)
    assert list(scores) == [4, 2, 1, 0]


def test_equal_matches_come_newest_first():
    make_article("舊", "北約。", days_ago=30)
    make_article("新", "北約。", days_ago=1)
    make_article("中", "北約。", days_ago=10)
    assert found("北約") == ["新", "中", "舊"]


def test_matches_in_more_places_and_for_more_words_rank_higher():
    make_article("只在內文", "普京與拜登。", days_ago=1)
    make_article("普京會面", "普京與拜登。", days_ago=2)
    make_article("普京與拜登", "無關。", tags=["拜登"], days_ago=3)
    assert found("普京 拜登") == ["普京與拜登", "普京會面", "只在內文"]


def test_more_terms_in_the_title_come_first_then_in_the_tags_then_in_captions():
    """Several terms: the number of them in the title decides, then in the
    tags, then in captions, then the date; no number of terms further down
    makes up for one term fewer in a field above."""
    make_article("普京拜登", "無關。", days_ago=5)
    make_article("普京", "拜登。", tags=["普京", "拜登"], captions=["普京與拜登"], days_ago=1)
    make_article("拜登", "普京。", tags=["普京"], days_ago=2)
    make_article("拜登會面", "普京。", captions=["普京與拜登"], days_ago=3)
    make_article("無題", "普京。", tags=["普京", "拜登"], days_ago=4)
    make_article("另一篇", "普京與拜登。", captions=["普京與拜登"], days_ago=6)
    assert found("普京 拜登") == ["普京拜登", "普京", "拜登", "拜登會面", "無題", "另一篇"]
    scores = Article.objects.published().search("普京 拜登").values_list("search_score", flat=True)
    # A term is worth 9 in the title, 3 in the tags, 1 in a caption.
    assert list(scores) == [18, 9 + 6 + 2, 9 + 3, 9 + 2, 6, 2]


def test_ranked_ids_are_the_ranked_search_a_page_at_a_time():
    for days in range(7):
        make_article(f"內文{days}", "北約。", days_ago=days)
    make_article("北約標題", "北約。", days_ago=9)
    make_article("標籤", "北約。", tags=["北約"], days_ago=8)
    make_article("草稿", "北約。", status="draft")
    published = Article.objects.published()
    ranked = list(published.search("北約").values_list("pk", flat=True))
    assert len(ranked) == 9
    pages = [search.ranked_ids(published, "北約", start, start + 4) for start in (0, 4, 8)]
    assert pages[0] + pages[1] + pages[2] == ranked
    assert search.ranked_ids(published, "", 0, 4) == []
    assert search.ranked_ids(published.none(), "北約", 0, 4) == []


def test_a_ranking_planned_once_for_any_query_is_the_same_ranking():
    """On PostgreSQL the ranking's statement is prepared once it repeats on a
    connection, then planned once for every query of its shape
    (newsroom/postgresql): page after page, query after query, it is still
    the ranking `search()` orders."""
    words = ["北約", "普京", "拜登"]
    for n, word in enumerate(words * 4):
        make_article(
            f"{word}{n}" if n % 2 else f"標題{n}",
            f"{word}。",
            tags=[word] if n % 3 == 0 else (),
            captions=[word] if n % 4 == 0 else (),
            days_ago=n % 5,
        )
    published = Article.objects.published()
    rankings = {word: list(published.search(word).values_list("pk", flat=True)) for word in words}
    assert all(len(ranking) == 4 for ranking in rankings.values())
    for _ in range(6):
        for word in words:
            for start in (0, 2):
                page = search.ranked_ids(published, word, start, start + 2)
                assert page == rankings[word][start : start + 2], (word, start)
    if connection.vendor == "postgresql":
        plans = [
            plans
            for statement, plans in plans_of_prepared_statements(connection).items()
            if " UNION ALL " in statement
        ]
        assert plans, "the ranking's statement is prepared"
        assert all(custom == 0 for _, custom in plans)
        assert sum(generic for generic, _ in plans) >= 6


def assert_every_page_is_the_ranking(published, text, ranking, sizes):
    """`ranked_ids` gives, page after page, the ranking `search()` orders in one go."""
    ranked = list(ranking.values_list("pk", flat=True))
    for size in sizes:
        for start in range(0, len(ranked) + size, size):
            page = search.ranked_ids(published, text, start, start + size)
            assert page == ranked[start : start + size], (text, start, size)


# PostgreSQL reads a ranking of several terms whole or split, as many matches
# as the planner expects: both ways are held to the one ranking.
score_all_or_split = pytest.mark.parametrize("score_all_up_to", [10**9, 0], ids=["whole", "split"])


def walk_every_part(monkeypatch, newest):
    """Have PostgreSQL look for every part of a one-piece ranking among the
    `newest` articles first, whatever the planner expects of it."""
    monkeypatch.setattr(search, "WALK_NEWEST", newest)
    monkeypatch.setattr(
        search,
        "_dense_parts",
        lambda connection, query, parts, stop: {n for n, part in enumerate(parts) if part.test},
    )


@score_all_or_split
@pytest.mark.parametrize("walk", [None, 5, 1000], ids=["read", "walked-5", "walked-all"])
def test_ranked_ids_are_the_ranked_search_for_any_page_and_query(
    monkeypatch, score_all_up_to, walk
):
    """The ranking is read in parts (`search._parts`): wherever a page falls,
    it is the one ranking, for a term of one piece or several, and for several
    terms; on PostgreSQL also when a one-piece term's parts are looked for
    among the newest articles first (5: some of a part there, the rest after;
    1,000: all of it there)."""
    monkeypatch.setattr(search, "SCORE_ALL_UP_TO", score_all_up_to)
    if walk:
        walk_every_part(monkeypatch, walk)
    rng = random.Random(7)
    words = ["北約", "普京", "拜登", "香"]

    def some(most):
        return "、".join(rng.sample(words, rng.randint(0, most)))

    # 北約 in every combination of title, tags and captions, twice; a word of
    # several pieces (北約峰會: 北約 約峰 峰會) in every combination once.
    for n, word in enumerate(["北約"] * 16 + ["北約峰會"] * 8):
        mask = n % 8
        make_article(
            f"{word}{n}" if mask & 4 else f"標題{n}",
            f"{word}。",
            tags=[word] if mask & 2 else ["其他"],
            captions=[word] if mask & 1 else (),
            days_ago=rng.choice([1, 2, 3]),
        )
    for n in range(40):
        article = make_article(
            f"第{n}篇{some(1) if rng.random() < 0.3 else ''}",
            f"無關。{some(4)}。",
            captions=[some(1)] if rng.random() < 0.5 else (),
            tags=[word for word in [some(1)] if word],
            status="draft" if rng.random() < 0.1 else "published",
            days_ago=rng.choice([1, 2, 3, 5, 8]),  # ties, broken by number
        )
        if rng.random() < 0.1:
            Article.objects.filter(pk=article.pk).update(published_at=None)
    published = Article.objects.published()
    for text in [
        "北約",
        "北約峰會",
        "香",
        "普京 拜登",
        "香 北約",
        "拜登 普京 香",
        "香 拜登 北約 普京",
    ]:
        ranking = published.search(text)
        scores = set(ranking.values_list("search_score", flat=True))
        assert 0 in scores and len(scores) > 1, text  # scored and body-only matches both
        if text.startswith("北約"):  # every part of a one-term ranking, every score in each
            assert scores == set(range(8))
        assert_every_page_is_the_ranking(published, text, ranking, (3, 7, 21))


# Words for archives and queries made up by Hypothesis: two-character words,
# a character of one of them, a word of several pieces holding another, and
# a character on its own.
WORDS = ["北約", "普京", "拜登", "北約峰會", "香", "約"]


@st.composite
def small_archives(draw):
    """A few articles, each with words drawn for its title, tags, captions
    and body, a date among three (ties) and a status."""
    words = st.lists(st.sampled_from(WORDS), max_size=3)
    return draw(
        st.lists(
            st.tuples(words, words, words, words, st.integers(1, 3), st.booleans()),
            min_size=1,
            max_size=9,
        )
    )


@given(
    archive=small_archives(),
    text=st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join),
)
@hypothesis_settings(max_examples=40)
def test_any_query_over_any_articles_is_read_page_by_page_as_ranked(archive, text):
    """Whatever the articles hold where, and whatever the query's words, each
    way of reading the ranking (its parts, on PostgreSQL also scored whole)
    gives, page after page, the ranking `search()` orders in one go."""
    Article.objects.all().delete()
    for title, tags, captions, body, days_ago, published in archive:
        make_article(
            "、".join(title) or "標題",
            "。".join(body) + "。",
            tags=list(dict.fromkeys(tags)),
            captions=["、".join(captions)] if captions else (),
            status="published" if published else "draft",
            days_ago=days_ago,
        )
    published = Article.objects.published()
    ranking = published.search(text)
    for score_all_up_to in (10**9, 0):
        with mock.patch.object(search, "SCORE_ALL_UP_TO", score_all_up_to):
            assert_every_page_is_the_ranking(published, text, ranking, (2, 5))


@score_all_or_split
def test_ranked_ids_are_the_ranked_search_for_two_terms_in_every_combination_of_fields(
    monkeypatch, score_all_up_to
):
    """Two terms, each in every combination of title, tags and captions, so
    that every number of terms in each field is there (scores 0 to 26: 9 a
    term in the title, 3 in the tags, 1 in a caption): each part of the
    ranking, found through the index, is read in its place, page after page."""
    monkeypatch.setattr(search, "SCORE_ALL_UP_TO", score_all_up_to)
    rng = random.Random(11)
    for first in range(8):
        for second in range(8):
            make_article(
                "".join(word for word, mask in (("北約", first), ("普京", second)) if mask & 4)
                or "標題",
                "北約與普京。" if rng.random() < 0.8 else "北約。普京。",
                tags=[word for word, mask in (("北約", first), ("普京", second)) if mask & 2],
                captions=[word for word, mask in (("北約", first), ("普京", second)) if mask & 1],
                days_ago=rng.choice([1, 2, 3]),  # ties, broken by number
            )
    make_article("北約普京", "只有標題。")  # the terms in its title only
    make_article("北約", "北約。", tags=["北約"], captions=["北約"])  # one term, 7 points
    published = Article.objects.published()
    for text in ["北約 普京", "普京 北約"]:
        ranking = published.search(text)
        assert set(ranking.values_list("search_score", flat=True)) == set(range(27)), text
        assert_every_page_is_the_ranking(published, text, ranking, (5, 21, 40))


def test_a_ranking_is_read_by_terms_in_the_title_where_their_combinations_are_few(monkeypatch):
    """A query of several terms is read a part per number of them in the
    title, then the rest: on SQLite for two terms (the rest as those with a
    term in the tags or captions, then the body alone), on PostgreSQL for up
    to six (each part found through at most MOST_COMBINATIONS combinations of
    terms). Other queries read first the articles with as many terms in the
    title as the page's last one, then the others with a term there (on
    PostgreSQL, or score every match at once; on SQLite, all of those with a
    term in the title as one part where the page's last holds one term
    there). On SQLite, only where the
    articles with a term in the title fill the page; where they do not, every
    match with a term in a short field is scored at once. Either way, the one
    ranking."""
    monkeypatch.setattr(search, "SCORE_ALL_UP_TO", 0)  # however few match
    words = ["北約", "普京", "拜登", "香", "峰會", "烏克蘭", "危機"]
    rng = random.Random(5)
    for n in range(40):

        def some(most):
            return rng.sample(words, rng.randint(0, most))

        make_article(
            "".join(some(4)) or f"第{n}篇",
            "。".join(words) + "。",
            tags=some(3),
            captions=["、".join(some(5))],
            days_ago=rng.choice([1, 2, 3]),  # ties, broken by number
        )
    # The pieces of 烏克蘭 in the title, apart: no term there.
    make_article("克蘭烏克", "。".join(words) + "。", days_ago=2)
    published = Article.objects.published()
    sqlite = connection.vendor == "sqlite"
    monkeypatch.setattr(search, "TITLED_PER_MATCH", 0)
    for count, expected in [(2, 4 if sqlite else 3), (3, 3 if sqlite else 4), (6, 3 if sqlite else 7), (7, 3 if sqlite else 1)]:  # fmt: skip
        query = parse_query(" ".join(words[:count]))
        if sqlite:
            # Read so where the articles with a term in the title fill the
            # page; a page that goes on below them scores every article with
            # a term in a short field together.
            titles = published.values_list("title", flat=True)
            with_title = sum(any(word in title for word in words[:count]) for title in titles)
            assert 0 < with_title < 41
            assert len(search._parts(connection, query, "id", with_title)) == expected, count
            assert len(search._parts(connection, query, "id", with_title + 1)) == 2, count
        else:
            assert len(search._parts(connection, query, "id", 21)) == expected, count
        ranking = published.search(" ".join(words[:count]))
        assert ranking.count() == 41
        assert_every_page_is_the_ranking(published, " ".join(words[:count]), ranking, (4, 21))
        if not sqlite and count == 7:
            # Too many combinations: those with as many terms in the title
            # as the page's last or more, then the others with a term there,
            # then the rest, where the planner expects the articles with a
            # term in the title to be few enough against the matches
            # (TITLED_PER_MATCH). Where the page's last holds one term in
            # the title, the articles with a term there, then the rest,
            # where the planner expects them to be no more than the
            # matches; else every match together.
            monkeypatch.setattr(search, "TITLED_PER_MATCH", 10**9)
            for titled, parts in [(10, 2), (10**6, 1)]:
                expected = {"vector": 1000, "fields_vector": titled}
                monkeypatch.setattr(
                    search, "_expected_rows", lambda _, column, __, rows=expected: rows[column]
                )
                cache.clear()  # the estimates kept
                assert len(search._parts(connection, query, "id", 4)) == 3
                assert len(search._parts(connection, query, "id", 40)) == parts, titled
                assert_every_page_is_the_ranking(
                    published, " ".join(words[:count]), ranking, (4, 21, 40)
                )
            monkeypatch.setattr(search, "TITLED_PER_MATCH", 0)


@pytest.mark.parametrize("most_combinations", [search.MOST_COMBINATIONS, 0])
def test_every_part_matches_a_term_of_several_pieces_only_where_they_stand_together(
    monkeypatch, most_combinations
):
    """Each part of a ranking of several terms checks every term in the
    document, a term of several pieces where its pieces stand together: an
    article with 普京 in the title and 烏克蘭's pieces apart in the body is no
    match, whether its part is a number of terms in the title or those
    holding as many as the page's last one (most_combinations 0)."""
    monkeypatch.setattr(search, "SCORE_ALL_UP_TO", 0)
    monkeypatch.setattr(search, "MOST_COMBINATIONS", most_combinations)
    monkeypatch.setattr(search, "TITLED_PER_MATCH", 10**9)
    make_article("普京", "克蘭與烏克。", days_ago=1)  # no match
    make_article("普京與拜登", "烏克蘭。", days_ago=2)
    make_article("烏克蘭", "普京。", days_ago=3)
    make_article("拜登", "普京與烏克蘭。", days_ago=4)
    make_article("普京、拜登", "克蘭與烏克。", days_ago=1)  # no match
    published = Article.objects.published()
    for text in ["普京 烏克蘭", "普京 拜登 烏克蘭"]:
        ranking = published.search(text)
        assert "克蘭與烏克。" not in ranking.values_list("body", flat=True), text
        assert ranking.count() == (3 if text == "普京 烏克蘭" else 2), text
        assert_every_page_is_the_ranking(published, text, ranking, (1, 2, 4))


def test_the_articles_with_the_most_terms_in_the_title_are_read_first_then_the_others(
    monkeypatch,
):
    """Where the articles with a term in the title fill the page and their
    combinations are too many to find each number of terms through the
    index (on SQLite three terms or more, on PostgreSQL seven: here three),
    those holding as many terms in the title as the page's last one or more
    are counted from the terms' lists in the title (`_level`), then each
    checked in its document and scored; the others with a term in the title
    after them. The first may be drafts or miss a term elsewhere, and the
    others then fill the page. The one ranking."""
    monkeypatch.setattr(search, "SCORE_ALL_UP_TO", 0)
    monkeypatch.setattr(search, "MOST_COMBINATIONS", 0)
    monkeypatch.setattr(search, "TITLED_PER_MATCH", 10**9)
    # PostgreSQL: the planner expects fewer articles with a term in the title
    # than matches, whatever statistics the tests before left.
    expected = {"vector": 1000, "fields_vector": 10}
    monkeypatch.setattr(search, "_expected_rows", lambda _, column, __: expected[column])
    make_article("北約普京拜登", "無關。", days_ago=5)  # three in the title
    make_article("北約普京", "無關。", days_ago=1)  # two, and 拜登 nowhere: no match
    make_article("北約拜登", "普京。", status="draft", days_ago=1)  # two, a draft
    make_article("普京拜登", "北約。", tags=["北約"], days_ago=3)  # two, a match
    for n in range(4):  # one in the title, or in the tags or captions, or the body alone
        make_article(f"北約{n}", "普京與拜登。", tags=["拜登"] if n % 2 else (), days_ago=n)
        make_article(
            f"標題{n}", "北約、普京與拜登。", captions=["普京"] if n % 2 else (), days_ago=n
        )
    published = Article.objects.published()
    text = "北約 普京 拜登"
    ranking = published.search(text)
    assert ranking.count() == 10
    query = parse_query(text)
    tally, titles = search._title_tally(connection, query)
    # The documents matching the query in order of how many terms their
    # title holds: 3, 2, 2 (one a draft), then 1 (北約普京 does not match).
    matching = search._matches(connection, query)
    levels = [
        search._level(connection, tally, titles, stop, (matching.sql, tuple(matching.params)))
        for stop in (1, 2, 3, 4, 7, 8)
    ]
    assert levels == [3, 2, 2, 1, 1, 0]
    # As many as the page's last or more, then the others with a term in
    # the title; then on SQLite those in the tags or captions, the body
    # alone, on PostgreSQL the rest.
    (first, others, *_) = parts = search._parts(connection, query, "id", 3)
    assert len(parts) == (4 if connection.vendor == "sqlite" else 3)
    assert first.source == search._at_level(tally, 2) and first.reads_document
    assert search._at_level(tally, 2) not in others.source
    # Where the page's last holds one term in the title, all of those together.
    assert len(search._parts(connection, query, "id", 5)) == len(parts) - 1
    # The first part of a page of 3 holds two matches: the others fill it.
    assert list(ranking.values_list("title", flat=True)[:3]) == [
        "北約普京拜登",
        "普京拜登",
        "北約1",
    ]
    assert_every_page_is_the_ranking(published, text, ranking, (1, 2, 3, 4))


def test_a_term_whose_pieces_stand_apart_in_a_title_is_no_term_of_that_title(monkeypatch):
    """The table of title pieces counts a term of several pieces wherever
    they are, so 克蘭…烏克 counts for 烏克蘭. Such articles are read with
    those holding as many terms, then checked in their documents: they hold
    two in the title, and rank among the articles holding two, by their
    points there, on pages whose last article the count says holds three.
    The one ranking on every page."""
    monkeypatch.setattr(search, "SCORE_ALL_UP_TO", 0)
    monkeypatch.setattr(search, "MOST_COMBINATIONS", 0)
    monkeypatch.setattr(search, "TITLED_PER_MATCH", 10**9)
    make_article("普京拜登烏克蘭", "無關。", days_ago=5)  # three in the title
    make_article(
        "普京拜登", "烏克蘭。", tags=["烏克蘭"], captions=["烏克蘭"], days_ago=4
    )  # two, the third in the tags and captions
    make_article("克蘭普京拜登烏克", "烏克蘭。", tags=["烏克蘭"], days_ago=1)  # two, and tags
    make_article("克蘭拜登普京烏克", "烏克蘭。", days_ago=2)  # two
    make_article("拜登普京", "烏克蘭。", days_ago=3)  # two
    make_article("普京", "拜登與烏克蘭。", days_ago=0)  # one
    published = Article.objects.published()
    text = "普京 拜登 烏克蘭"
    query = parse_query(text)
    tally, params = search._title_tally(connection, query)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({tally}) AS tally", params)
        assert cursor.fetchone() == (3 + 2 + 3 + 3 + 2 + 1,)
    matching = search._matches(connection, query)
    among = (matching.sql, tuple(matching.params))
    assert [search._level(connection, tally, params, stop, among) for stop in (3, 4)] == [3, 2]
    ranking = published.search(text)
    assert list(ranking.values_list("title", flat=True)) == [
        "普京拜登烏克蘭",
        "普京拜登",
        "克蘭普京拜登烏克",
        "克蘭拜登普京烏克",
        "拜登普京",
        "普京",
    ]
    assert_every_page_is_the_ranking(published, text, ranking, (1, 2, 3))


@score_all_or_split
def test_a_ranked_search_reads_matches_through_their_own_indexes(monkeypatch, score_all_up_to):
    monkeypatch.setattr(search, "SCORE_ALL_UP_TO", score_all_up_to)
    split = score_all_up_to == 0
    make_article("普京", "普京與拜登。")
    make_article("拜登", "普京與拜登。")
    # SQLite, one term: title, tags, captions alone, body alone; two: both
    # in the title, one, then tags or captions (scored), body alone, where
    # the articles with a term in the title fill the page (two of three
    # fill a page of two), else a term in a short field (scored), body alone.
    # PostgreSQL, one term of one piece: a part for each score from 7 to 1,
    # then the body alone; of several pieces: title, tags, captions alone,
    # body alone (a part per score when one is dense); more terms: scored
    # whole, or both in the title, one, then the rest (scored).
    make_article("普京峰會", "普京峰會。")
    for text, stop, parts, postgresql_parts in [
        ("普京", 21, 4, 7),
        ("普京峰會", 21, 4, 3),
        ("普京 拜登", 2, 4, 2 if split else 0),
        ("普京 拜登", 21, 2, 2 if split else 0),
    ]:
        with CaptureQueriesContext(connection) as queries:
            assert len(search.ranked_ids(Article.objects.published(), text, 0, stop)) >= 1
        *asked, query = queries.captured_queries
        # PostgreSQL asks its planner how many match a query of several
        # terms, and how dense each part of a one-term ranking is; SQLite
        # counts the articles with a term of several in the title, up to
        # where the page ends (each answer kept: asked once a query).
        if connection.vendor == "postgresql":
            expected = [] if (text, stop) == ("普京 拜登", 21) else ["EXPLAIN (FORMAT"]
        else:
            expected = ["SELECT COUNT(*)"] if " " in text else []
        assert [" ".join(q["sql"].split()[:2]) for q in asked] == expected, text
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN QUERY PLAN {query['sql']}")
                plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            # Each part starts from its matches, each looked up in the index,
            # rather than walking every article.
            assert plan.count(f"COVERING INDEX {search.SEARCH_ROWS_INDEX} (id=?") == parts, plan
        else:
            assert "INDEXED BY" not in query["sql"]
            # All but the last part found through migration 0012's index of
            # the short fields, the last through migration 0005's.
            assert query["sql"].count(search.FIELDS_FUNCTION) == postgresql_parts
            assert query["sql"].count(search.MATCHES_FUNCTION) == 1
            # A part that needs no more than its source reads no document.
            joins = query["sql"].count(f'JOIN "{SearchDocument._meta.db_table}"')
            assert joins == (1 if text == "普京" else postgresql_parts + 1), text
            # Without statistics, no part is taken for dense.
            assert "AS newest" not in query["sql"]


def test_a_dense_part_is_looked_for_among_the_newest_articles_first_on_postgresql():
    """普京 in the tags alone of 12 articles of 20: on PostgreSQL, once
    ANALYZE has counted its pieces, the first page of 普京 is looked for among
    the newest articles, each tested, before the rest of that part is read
    through the index; a deep page is read through the index alone."""
    for n in range(12):
        make_article(f"第{n}篇", "普京。", tags=["普京", "烏克蘭"], days_ago=n)
    for n in range(8):
        make_article(f"另{n}篇", "無關。", captions=["拜登"] if n % 2 else (), days_ago=n)
    published = Article.objects.published()
    if connection.vendor != "postgresql":
        # SQLite's parts are found by FTS5 column filters: nothing to ask first.
        with CaptureQueriesContext(connection) as queries:
            assert len(search.ranked_ids(published, "普京", 0, 21)) == 12
        assert len(queries.captured_queries) == 1
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {SearchDocument._meta.db_table}")
    documents, shares = search._field_shares(connection, ("普京",))
    assert documents == 20
    assert 0.5 <= shares["tags"] <= 0.7
    assert shares["title"] == shares["captions"] == 0  # nowhere, as far as the planner knows
    parts = search._parts(connection, parse_query("普京"), "id", 21)
    (tags_alone,) = [n for n, part in enumerate(parts) if part.in_short_fields == (("tags",),)]
    assert search._dense_parts(connection, parse_query("普京"), parts, 21) == {tags_alone}
    # 60% of the newest 400 is 240: fewer than twice a page that ends at 200.
    assert search._dense_parts(connection, parse_query("普京"), parts, 200) == set()
    ranking = list(published.search("普京").values_list("pk", flat=True))
    for start, stop, walked in [(0, 5, True), (0, 21, True), (5, 200, False)]:
        with CaptureQueriesContext(connection) as queries:
            assert search.ranked_ids(published, "普京", start, stop) == ranking[start:stop]
        assert ("AS newest" in queries.captured_queries[-1]["sql"]) is walked
    # The walk stops with the page: a page of 5 tests about 5 / 60% of the newest.
    asked = []

    def remember(execute, sql, params, many, context):
        asked.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(remember):
        search.ranked_ids(published, "普京", 0, 5)
    with connection.cursor() as cursor:
        sql, params = asked[-1]
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    # The newest articles, each tested.
    walks = [
        node["Plans"][0]["Actual Rows"]
        for node in search.plan_nodes(plan)
        if node["Node Type"] == "Nested Loop" and node["Actual Loops"]
    ]
    (walked,) = walks
    assert 5 <= walked < 12, walked  # of the 20 articles, 12 of them in the part
    # A term of several pieces (烏克 克蘭) is read a part per score when one
    # is dense, each checked in the document; else a part per field.
    ukraine = parse_query("烏克蘭")
    assert search._field_shares(connection, ukraine.terms[0])[1]["tags"] >= 0.5
    parts = search._parts(connection, ukraine, "id", 21)
    assert len(parts) == 8 and [part.walk for part in parts].count(True) == 1
    assert all(part.reads_document for part in parts)
    assert len(search._parts(connection, ukraine, "id", 200)) == 4
    ranking = list(published.search("烏克蘭").values_list("pk", flat=True))
    assert len(ranking) == 12
    for start, stop in [(0, 5), (5, 21), (0, 200)]:
        assert search.ranked_ids(published, "烏克蘭", start, stop) == ranking[start:stop]


def test_the_planner_is_asked_once_per_term_or_query_while_its_answer_is_kept():
    """PostgreSQL's estimates (how many match several terms, how dense each
    part of a term is) are kept `SHARES_SECONDS`: a reader's next page, or
    the next reader's search, asks no EXPLAIN. SQLite asks none at all."""
    for n in range(6):
        make_article(f"第{n}篇", "北約與拜登。普京。", tags=["普京"] if n % 2 else ())
    published = Article.objects.published()

    def explains(text, start=0):
        with CaptureQueriesContext(connection) as queries:
            assert search.ranked_ids(published, text, start, start + 3)
        return sum(query["sql"].startswith("EXPLAIN") for query in queries.captured_queries)

    asks = int(connection.vendor == "postgresql")
    assert [explains("北約 拜登"), explains("北約 拜登", 3), explains("北約 拜登")] == [asks, 0, 0]
    assert [explains("北約 普京"), explains("北約 普京")] == [asks, 0]
    assert [explains("普京"), explains("普京", 3)] == [asks, 0]
    cache.clear()
    assert [explains("北約 拜登"), explains("普京")] == [asks, asks]


def test_how_many_match_several_terms_is_the_planners_estimate_on_postgresql():
    for n in range(12):
        make_article(f"第{n}篇", "北約與拜登。")
    for n in range(8):
        make_article(f"另{n}篇", "無關。")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {SearchDocument._meta.db_table}")
        # 12 of 20 hold each term; taken as independent, 20 × 0.6 × 0.6 = 7.2.
        assert 5 <= search._expected_matches(connection, parse_query("北約 拜登")) <= 12
        assert search._expected_matches(connection, parse_query("北約 麒麟")) < 3
        # And how many hold a term in the title (the short fields' vector),
        # which chooses how a query of many terms is read (TITLED_PER_MATCH).
        titled = search._expected_rows(connection, "fields_vector", "'title:第' | 'title:另'")
        assert 15 <= titled <= 20
        assert 8 <= search._expected_rows(connection, "fields_vector", "'title:第'") <= 16
        assert search._expected_rows(connection, "fields_vector", "'title:北约'") < 3
    else:
        # SQLite has no planner's estimate: it counts, through FTS5, the
        # articles with a term in the title up to the page's end (none here),
        # once, and keeps the count for the next page of the same size.
        for asked in (2, 1):
            with CaptureQueriesContext(connection) as queries:
                found = search.ranked_ids(Article.objects.published(), "北約 拜登", 0, 21)
            assert len(found) == 12 and len(queries.captured_queries) == asked
        phrases = [search._fts5_phrase(term) for term in parse_query("北約 拜登").terms]
        every = " AND ".join(phrases)
        assert search._fts5_count(connection, every, 5) == 5
        assert search._fts5_count(connection, every, 21) == 12
        in_title = f"({{title}} : ({' OR '.join(phrases)})) AND {every}"
        assert search._fts5_count(connection, in_title, 21) == 0


def test_the_index_finds_a_term_in_one_short_field():
    """What the ranking's parts are found by: an FTS5 column filter on SQLite,
    migration 0012's index of field-prefixed pieces on PostgreSQL."""
    first = make_article("普京訪華", "無關。", tags=["外交"], captions=["普京抵達。美聯社"])
    second = make_article("無關", "普京與拜登。", tags=["普京"])

    def holding(field, cursor):
        if connection.vendor == "sqlite":
            cursor.execute(search._fts5_select(connection), [f'{{{field}}} : "普京"'])
        else:
            cursor.execute(f"SELECT {search.FIELDS_FUNCTION}(%s::tsquery)", [f"'{field}:普京'"])
        return {pk for (pk,) in cursor.fetchall()}

    with connection.cursor() as cursor:
        assert holding("title", cursor) == holding("captions", cursor) == {first.pk}
        assert holding("tags", cursor) == {second.pk}
        if connection.vendor == "postgresql":
            # Through the GIN index, inside the function where EXPLAIN cannot see.
            scans = "SELECT pg_stat_get_xact_numscans('articles_searchdocument_fields'::regclass)"
            cursor.execute("ANALYZE")
            cursor.execute(scans)
            before = cursor.fetchone()[0]
            assert holding("tags", cursor) == {second.pk}
            cursor.execute(scans)
            assert cursor.fetchone()[0] == before + 1


def test_a_title_outweighs_tags_and_captions_together():
    # What lets a one-term ranking be read field by field (search._parts).
    weights = search.FIELD_WEIGHTS
    assert weights["title"] > weights["tags"] + weights["captions"]
    assert weights["tags"] > weights["captions"] > 0
    assert search.field_weights(parse_query("北約")) == weights


@pytest.mark.parametrize("count", range(1, search.MAX_TERMS + 1))
def test_a_field_outweighs_the_fields_below_it_for_every_term_together(count):
    """What lets a ranking of several terms be read a part per number of them
    in the title (search._parts)."""
    query = parse_query(" ".join(CHARACTERS[:count]))
    assert len(query.terms) == count
    title, tags, captions = search.field_weights(query).values()
    assert title > count * (tags + captions)
    assert tags > count * captions
    assert captions > 0


def test_search_keeps_the_querysets_filters():
    make_article("草稿", "北約。", status="draft")
    make_article("已發佈", "北約。")
    assert found("北約") == ["已發佈"]
    assert sorted(found("北約", Article.objects.all())) == ["已發佈", "草稿"]


@pytest.mark.parametrize(
    "query",
    [
        '"', '""', "'", "*", "普京*", "-普京", "NOT 普京", "普京 OR 拜登", "NEAR(普京 拜登)",
        "(普京", "普京)", "{title}: 普京", "title:普京", "^普京", "普京:*", "'普京' & !'拜登'",
        "普京 <-> 拜登", "\\", "%", "_", "\x00", "𠺝", "普京" * 5000, "普 " * 2000,
    ],
)  # fmt: skip
def test_hostile_queries_are_answered_without_error(client, query):
    make_article("普京拜登", "普京與拜登。")
    found(query)
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200


# -- Kept in step ------------------------------------------------------------------


def assert_title_pieces_in_step():
    """Every document's title pieces, and no others, are in the table of them."""
    expected = {
        (article_id, piece)
        for article_id, title in SearchDocument.objects.values_list("article_id", "title")
        for piece in search.title_pieces(title)
    }
    assert set(TitlePiece.objects.values_list("article_id", "piece")) == expected
    return expected


def test_title_pieces_are_the_distinct_pieces_of_a_stored_title():
    title = pieces("香港。港人、香港 COVID-19")
    assert title.split().count("香港") == 2 and BOUNDARY in title
    assert search.title_pieces(title) == {"香港", "港人", "香", "港", "人", "covid", "19"}
    assert search.title_pieces("") == set()


def test_import_indexes_the_articles_it_creates(seeds_dir):
    write_seed(seeds_dir, "1.txt", number=1, title="第一篇", body="談到北約東擴。")
    write_seed(seeds_dir, "2.txt", number=2, title="第二篇", body="無關。", tags=["北約"])
    write_seed(
        seeds_dir,
        "3.txt",
        number=3,
        title="第三篇",
        body=figure_html("https://example.com/a.jpg", "北約峰會。美聯社"),
    )
    import_seeds([seeds_dir])
    assert SearchDocument.objects.count() == 3
    assert sorted(found("北約")) == ["第一篇", "第三篇", "第二篇"]
    rows = assert_title_pieces_in_step()
    assert {piece for _, piece in rows} == {
        *("第一", "一篇", "第二", "二篇", "第三", "三篇"),
        *("第", "一", "二", "三", "篇"),
    }
    assert len(rows) == 3 * 5


def test_reimporting_changed_text_replaces_the_old_words(seeds_dir):
    path = write_seed(seeds_dir, "1.txt", title="標題", body="舊的內容講普京。", tags=["舊標籤"])
    import_seeds([path])
    write_seed(seeds_dir, "1.txt", title="標題", body="新的內容講拜登。", tags=["新標籤"])
    assert import_seeds([path]).files[0].status == "updated"
    assert found("普京") == [] and found("舊標籤") == []
    write_seed(seeds_dir, "1.txt", title="新題", body="新的內容講拜登。", tags=["新標籤"])
    assert import_seeds([path]).files[0].status == "updated"
    assert {piece for _, piece in assert_title_pieces_in_step()} == {
        fold(piece) for piece in ("新題", "新", "題")
    }
    assert len(found("拜登")) == 1 and len(found("新標籤")) == 1


def test_an_import_leaves_the_index_ready_for_searches(seeds_dir):
    for number in range(1, 4):
        write_seed(seeds_dir, f"{number}.txt", number=number, body=f"北約第{number}篇。")
    import_seeds([seeds_dir])
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # Migration 0007: a large write buffer, merged less often.
            cursor.execute("SELECT k, v FROM articles_searchdocument_config")
            config = dict(cursor.fetchall())
            assert config["hashsize"] == 16 * 1024 * 1024 and config["automerge"] == 16
        else:
            # Migration 0007 lets new entries wait in the GIN pending list; the
            # importer merges them into the index before it returns.
            # Migration 0012's index of the short fields likewise.
            for index in search.PENDING_INDEXES:
                cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [index])
                assert "gin_pending_list_limit=65536" in cursor.fetchone()[0]
                cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
                assert cursor.fetchone()[0] == 0
    assert len(found("北約")) == 3


def test_a_dry_run_import_leaves_no_documents(seeds_dir):
    import_seeds([write_seed(seeds_dir, body="北約。")], dry_run=True)
    assert not Article.objects.exists()
    assert not SearchDocument.objects.exists() and not TitlePiece.objects.exists()


def test_saving_an_article_updates_its_document():
    article = make_article("舊標題", "舊內文。")
    article.title = "新標題"
    article.body = "新內文講北約。"
    article.save()
    assert found("舊標題") == [] and found("舊內文") == []
    assert found("新標題") == ["新標題"] and found("北約") == ["新標題"]
    assert {piece for _, piece in assert_title_pieces_in_step()} == {
        fold(piece) for piece in ("新標", "標題", "新", "標", "題")
    }


def test_caption_and_tag_edits_are_found_after_index_articles():
    article = make_article("文章", "內文。", captions=["舊說明"], tags=["舊標籤"])
    figure = article.figures.get()
    figure.caption = "新說明"
    figure.save()
    article.tags.set(["新標籤"])
    Article.objects.filter(pk=article.pk).update(title="新文章")
    search.index_articles([article.pk])  # the documented path after such edits
    assert found("新說明") == ["新文章"] and found("新標籤") == ["新文章"]
    assert len(assert_title_pieces_in_step()) == 2 + 3
    assert found("舊說明") == [] and found("舊標籤") == []


def test_a_renamed_tag_is_found_after_reindexing_its_articles():
    article = make_article("文章", tags=["普京"])
    tag = Tag.objects.get(name="普京")
    tag.name = "Vladimir Putin"
    tag.save()
    search.index_articles(tag.tagged_articles.values_list("content_object_id", flat=True))
    assert found("putin") == ["文章"]
    assert article.search_document.tags == " vladimir putin "


def test_deleting_an_article_deletes_its_document():
    keep = make_article("留下", "北約。")
    make_article("刪除", "北約。").delete()
    assert list(SearchDocument.objects.values_list("article_id", flat=True)) == [keep.pk]
    assert {article_id for article_id, _ in assert_title_pieces_in_step()} == {keep.pk}
    assert found("北約") == ["留下"]


def test_rebuilding_the_index_restores_every_document():
    make_article("一", "北約。")
    make_article("二", "普京。")
    SearchDocument.objects.all().delete()
    TitlePiece.objects.filter(piece="二").delete()
    call_command("rebuild_search_index", verbosity=0)
    assert SearchDocument.objects.count() == 2
    assert found("北約") == ["一"]
    assert {piece for _, piece in assert_title_pieces_in_step()} == {"一", "二"}


def test_the_migration_indexes_existing_articles():
    make_article("一", "北約。")
    SearchDocument.objects.all().delete()
    migration = importlib.import_module("articles.migrations.0005_search")
    migration.index_existing(django_apps, None)
    assert found("北約") == ["一"]


def test_the_migration_fills_the_title_pieces_of_existing_documents():
    make_article("北約峰會", "內文。")
    make_article("普京", "內文。")
    expected = assert_title_pieces_in_step()
    TitlePiece.objects.all().delete()
    migration = importlib.import_module("articles.migrations.0013_search_title_pieces")
    migration.fill(django_apps, None)
    assert assert_title_pieces_in_step() == expected and len(expected) == 7 + 3


def test_search_finds_what_a_substring_search_finds_on_an_archive(tmp_path):
    import_seeds(write_archive(tmp_path / "archive", 60))
    articles = Article.objects.prefetch_related("figures", "tags")

    def fields(article):
        yield article.title
        yield search.markup.plain_text(article.body_html)
        yield from (f"{f.caption} {f.credit} {f.alt}" for f in article.figures.all())
        yield from (tag.name for tag in article.tags.all())

    texts = {article.title: [fold(text) for text in fields(article)] for article in articles}
    for query in ["的", "香港", "立法會", "政府會議", "普京", "covid", "19", "議員的"]:
        expected = sorted(t for t, fs in texts.items() if any(fold(query) in f for f in fs))
        assert sorted(found(query, Article.objects.all())) == expected, query


def test_the_database_index_answers_searches():
    # A table of a reasonable size, written directly: the planner prefers
    # reading a table of a few pages to using any index.
    rng = random.Random(1)
    Article.objects.bulk_create(
        Article(number=n, title=f"文章{n}", slug=f"a{n}", status="published")
        for n in range(1, 2001)
    )
    SearchDocument.objects.bulk_create(
        SearchDocument(
            article_id=pk,
            **pieces_module.document(
                title="標題",
                tags=[],
                captions=[],
                body_html="".join(rng.choice(CHARACTERS) for _ in range(300)),
            ),
        )
        for pk in Article.objects.values_list("pk", flat=True)
    )
    search_page = Article.objects.search("普京").values_list("pk", flat=True)[:21]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            sql, params = search_page.query.sql_with_params()
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row) for row in cursor.fetchall())
            assert "SCAN articles_searchdocument VIRTUAL TABLE INDEX 0:M" in plan
        else:
            # The GIN index is scanned inside a function, which EXPLAIN does not
            # show; this transaction's scan count of the index does.
            scans = "SELECT pg_stat_get_xact_numscans('articles_searchdocument_vector'::regclass)"
            cursor.execute("ANALYZE")
            cursor.execute(scans)
            before = cursor.fetchone()[0]
            assert list(search_page)
            cursor.execute(scans)
            assert cursor.fetchone()[0] == before + 1


# -- The page ----------------------------------------------------------------------


def test_search_page_shows_found_articles_with_marked_excerpts(client):
    make_article("峰會", "美國總統拜登和俄羅斯總統普京周二晚舉行視像會議。")
    html = client.get("/search/", {"q": "普京"}).content.decode()
    assert "<h1>搜尋：普京</h1>" in html
    assert "俄羅斯總統<mark>普京</mark>周二晚" in html
    assert 'value="普京"' in html


def test_caption_match_shows_the_caption_in_the_excerpt(client):
    make_article("圖說", "內文無關。", captions=["北約峰會。美聯社"])
    html = client.get("/search/", {"q": "北約"}).content.decode()
    assert "<mark>北約</mark>峰會。" in html


def test_the_excerpt_escapes_html_written_in_the_article(client):
    make_article("危險", "講普京的文章寫了 &lt;script&gt;alert(1)&lt;/script&gt; 這段字。")
    html = client.get("/search/", {"q": "普京"}).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


def test_the_query_is_escaped_on_the_page(client):
    html = client.get("/search/", {"q": '"><script>alert(1)</script>'}).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_empty_query_shows_the_form_and_runs_no_query(client, django_assert_num_queries):
    make_article("北約", "北約。")
    client.get("/")  # the navigation's sections are looked up once and cached
    with django_assert_num_queries(0):
        html = client.get("/search/").content.decode()
    assert '<label for="search-query">' in html and 'name="q"' in html
    assert "北約" not in html.split("<main")[1]


def test_no_match_says_so(client):
    make_article("北約", "北約。")
    html = client.get("/search/", {"q": "普京"}).content.decode()
    assert "找不到符合「普京」的文章。" in html


@pytest.mark.parametrize("count", [1, 20])
def test_search_page_queries_do_not_grow_with_results(
    client, settings, django_assert_num_queries, count
):
    settings.PAGE_CACHE_SECONDS = 0  # each request searched for
    for n in range(count):
        make_article(f"北約{n}", "北約。", captions=["北約。美聯社"], tags=["北約", f"標籤{n}"])
    client.get("/search/")  # the navigation's sections are looked up once and cached
    # ids, its articles, their bylines, their figures (every body matches: no
    # captions); on PostgreSQL first the planner's estimate of each part of a
    # one-term ranking (search._dense_parts)
    with django_assert_num_queries(5 if connection.vendor == "postgresql" else 4):
        response = client.get("/search/", {"q": "北約"})
    assert response.content.decode().count('class="card"') == count
    # Another search finding them: their cards are kept.
    # ids, articles, captions (and the planner's estimate)
    with django_assert_num_queries(4 if connection.vendor == "postgresql" else 3):
        again = client.get("/search/", {"q": "美聯社"})
    assert again.content.decode().count('class="card"') == count
    assert again.content.decode().count("<mark>美聯社</mark>") == count  # from the captions
    # The first search again: ids and articles (the planner's estimate is kept).
    with django_assert_num_queries(2):
        once_more = client.get("/search/", {"q": "北約"})
    assert once_more.content.decode().count('class="card"') == count


def test_pages_keep_the_query(client):
    for n in range(25):
        make_article(f"北約{n}", "北約。", days_ago=n)
    first = client.get("/search/", {"q": "北約"}).content.decode()
    assert first.count('class="card"') == 20
    assert 'href="?q=%E5%8C%97%E7%B4%84&amp;page=2"' in first
    second = client.get("/search/", {"q": "北約", "page": 2}).content.decode()
    assert second.count('class="card"') == 5


def test_every_page_has_a_labelled_search_form(client):
    html = client.get("/").content.decode()
    assert '<form class="search-form" action="/search/" method="get" role="search">' in html
    assert '<label for="site-search"' in html and 'id="site-search"' in html
