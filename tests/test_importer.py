import datetime as dt
import shutil

import pytest
from django.db import IntegrityError, connection

from articles import importer, tagging
from articles.importer import discover, import_seeds
from articles.models import (
    Article,
    Author,
    Byline,
    Figure,
    Section,
    Tag,
    TaggedArticle,
    Video,
    unicode_slug,
)

from .seedfiles import figure_html, seed_text, video_shortcode, write_archive, write_seed

pytestmark = pytest.mark.django_db


def statuses(report):
    return [result.status for result in report.files]


def test_sample_seed_imports_to_article_48691(sample):
    report = import_seeds([sample])
    assert statuses(report) == ["created"]
    article = Article.objects.get()
    assert article.number == 48691
    assert article.title == "拜登、普京第二次峰會　謀化解烏克蘭危機"
    assert article.slug == "拜登普京第二次峰會-謀化解烏克蘭危機"
    assert article.status == Article.Status.PUBLISHED
    assert article.section.name == "眾聞"
    assert [a.name for a in article.authors.all()] == ["眾新聞記者"]
    assert article.published_at == dt.datetime(2021, 12, 6, 16, 0, tzinfo=dt.UTC)
    assert [f.credit for f in article.figures.all()] == ["美聯社", "資料圖片", "資料圖片", "美聯社"]
    assert [f.position for f in article.figures.all()] == [1, 2, 3, 4]
    assert sorted(t.name for t in article.tags.all()) == sorted(
        ["普京", "Vladimir Putin", "putin", "烏克蘭", "拜登"]
    )
    assert article.source_path == "000_8372918e7152907c.txt"
    assert len(article.source_hash) == 64
    assert article.edited_at is None and article.imported_at is not None
    assert article.body_html.count("<!--figure:") == 4
    assert article.excerpt.startswith("美國總統拜登和俄羅斯總統普京周二晚")
    assert article.get_absolute_url() == "/article/48691/" + (
        "%E6%8B%9C%E7%99%BB%E6%99%AE%E4%BA%AC%E7%AC%AC%E4%BA%8C%E6%AC%A1%E5%B3%B0%E6%9C%83-"
        "%E8%AC%80%E5%8C%96%E8%A7%A3%E7%83%8F%E5%85%8B%E8%98%AD%E5%8D%B1%E6%A9%9F/"
    )


def test_reimporting_an_unchanged_file_writes_nothing(sample, django_assert_max_num_queries):
    import_seeds([sample])
    before = Article.objects.values_list("modified_at", "imported_at").get()
    with django_assert_max_num_queries(2):
        report = import_seeds([sample])
    assert statuses(report) == ["unchanged"]
    assert report.files[0].number == 48691
    assert Article.objects.values_list("modified_at", "imported_at").get() == before
    assert (Figure.objects.count(), TaggedArticle.objects.count(), Tag.objects.count()) == (4, 5, 5)


def test_same_content_in_new_bytes_is_unchanged(seeds_dir):
    write_seed(seeds_dir, "a.txt", tags=["普京"])
    import_seeds([seeds_dir])
    write_seed(seeds_dir, "a.txt", text=seed_text(tags=["普京"]) + "\n\n")
    report = import_seeds([seeds_dir])
    assert statuses(report) == ["unchanged"]
    assert Article.objects.get().source_hash == report_hash(seeds_dir / "a.txt")


def report_hash(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_changed_file_updates_article_figures_videos_and_tags(seeds_dir):
    body = "\n\n".join(
        [
            "第一段。",
            figure_html("https://www.hkcnews.com/1.jpg", "一。美聯社"),
            figure_html("https://www.hkcnews.com/2.jpg", "二。資料圖片"),
            video_shortcode("https://www.youtube.com/embed/aBcDeFgHiJk"),
        ]
    )
    path = write_seed(seeds_dir, "a.txt", body=body, tags=["普京", "拜登", "烏克蘭"])
    import_seeds([path])
    first_figure = Figure.objects.get(position=1)

    new_body = "\n\n".join(
        [
            "改寫的第一段。",
            figure_html("https://www.hkcnews.com/1.jpg", "一，改了說明。何君健攝"),
        ]
    )
    write_seed(
        seeds_dir, "a.txt", body=new_body, title="新標題", tags=["普京", "北約"], author="何君健"
    )
    report = import_seeds([path])
    assert statuses(report) == ["updated"]
    article = Article.objects.get()
    assert article.title == "新標題" and article.slug == "新標題"
    assert "改寫的第一段" in article.body_html
    assert [(f.caption, f.credit) for f in article.figures.all()] == [
        ("一，改了說明。", "何君健攝")
    ]
    assert article.figures.get().pk == first_figure.pk  # updated in place, not replaced
    assert Video.objects.count() == 0
    assert sorted(t.name for t in article.tags.all()) == ["北約", "普京"]
    assert [(t.tag.name, t.position) for t in article.tagged_items.all()] == [
        ("普京", 1),
        ("北約", 2),
    ]
    assert [a.name for a in article.authors.all()] == ["何君健"]


def test_editor_changes_are_reported_as_a_conflict_and_kept(seeds_dir):
    path = write_seed(seeds_dir, "a.txt")
    import_seeds([path])
    article = Article.objects.get()
    article.title = "編輯改過的標題"
    article.save()
    write_seed(seeds_dir, "a.txt", title="檔案裡的新標題")

    report = import_seeds([path])
    assert statuses(report) == ["conflict"]
    assert "was edited" in report.files[0].messages[-1].text
    assert Article.objects.get().title == "編輯改過的標題"

    report = import_seeds([path], overwrite=True)
    assert statuses(report) == ["updated"]
    article = Article.objects.get()
    assert article.title == "檔案裡的新標題"
    assert article.edited_at is None


def test_editor_changes_survive_an_unchanged_file(seeds_dir):
    path = write_seed(seeds_dir, "a.txt")
    import_seeds([path])
    article = Article.objects.get()
    article.title = "編輯改過的標題"
    article.save()
    assert statuses(import_seeds([path])) == ["unchanged"]
    assert Article.objects.get().title == "編輯改過的標題"
    assert statuses(import_seeds([path], overwrite=True)) == ["updated"]
    assert Article.objects.get().title != "編輯改過的標題"


def test_status_chosen_by_an_editor_is_not_reset_by_a_reimport(seeds_dir):
    path = write_seed(seeds_dir, "a.txt")
    import_seeds([path])
    Article.objects.update(status=Article.Status.HIDDEN)
    write_seed(seeds_dir, "a.txt", title="新標題")
    import_seeds([path])
    assert Article.objects.get().status == Article.Status.HIDDEN


def test_a_file_that_fails_midway_leaves_nothing_behind(seeds_dir, monkeypatch):
    for number in (1, 2, 3):
        write_seed(seeds_dir, f"{number}.txt", number=number, tags=[f"標籤{number}", "共同"])
    real_insert = importer._insert

    def failing_insert(model, rows):
        second = Article.objects.filter(number=2).values_list("pk", flat=True).first()
        if model is TaggedArticle and any(row["content_object_id"] == second for row in rows):
            raise IntegrityError("simulated failure while writing article 2's tags")
        return real_insert(model, rows)

    monkeypatch.setattr(importer, "_insert", failing_insert)
    report = import_seeds([seeds_dir])
    assert statuses(report) == ["created", "failed", "created"]
    assert "simulated failure" in report.files[1].messages[-1].text
    assert sorted(Article.objects.values_list("number", flat=True)) == [1, 3]
    assert not Figure.objects.filter(article__number=2).exists()
    assert not Tag.objects.filter(name="標籤2").exists()
    assert Tag.objects.filter(name="共同").count() == 1
    assert TaggedArticle.objects.count() == 4


def test_bad_files_fail_with_their_line_and_the_rest_go_in(seeds_dir):
    write_seed(seeds_dir, "1-good.txt", number=1)
    write_seed(seeds_dir, "2-bad-date.txt", number=2, date="2021-02-30")
    write_seed(seeds_dir, "3-long-title.txt", number=3, title="長" * 5000)
    write_seed(seeds_dir, "4-big5.txt", text="---\ntitle: 標題\n".encode("big5"))
    write_seed(seeds_dir, "5-good.txt", number=5)
    report = import_seeds([seeds_dir])
    assert statuses(report) == ["created", "failed", "failed", "failed", "created"]
    messages = {r.path.rsplit("/", 1)[-1]: r.messages[-1] for r in report.files[1:4]}
    assert (messages["2-bad-date.txt"].line, messages["2-bad-date.txt"].level) == (3, "error")
    assert messages["3-long-title.txt"].line == 2
    assert "5,000 characters, over the 255 allowed" in messages["3-long-title.txt"].text
    assert messages["4-big5.txt"].line == 2
    assert sorted(Article.objects.values_list("number", flat=True)) == [1, 5]


def test_long_tag_is_an_error_not_a_truncation(seeds_dir):
    report = import_seeds([write_seed(seeds_dir, tags=["好", "長" * 101])])
    assert statuses(report) == ["failed"]
    assert report.files[0].messages[-1].line == 6
    assert not Tag.objects.exists()


def test_failed_captures_are_skipped_with_the_reason(seeds_dir):
    for number, title in enumerate(["眾新聞告別　感謝讀者", "Temporarily Offline", ""], start=1):
        write_seed(
            seeds_dir, f"{number}.txt", number=number, title=title, date="", author="",
            category=None, body="", heading=False,
        )  # fmt: skip
    write_seed(seeds_dir, "4.txt", number=4, date="")
    report = import_seeds([seeds_dir])
    assert statuses(report) == ["skipped", "skipped", "skipped", "created"]
    assert "failed capture (眾新聞告別　感謝讀者)" in report.files[0].messages[0].text
    article = Article.objects.get()
    assert article.number == 4 and article.published_at is None


def test_empty_author_is_no_byline(seeds_dir):
    import_seeds([write_seed(seeds_dir, author="")])
    assert not Author.objects.exists()
    assert not Byline.objects.exists()


def test_tags_are_one_per_name_whatever_the_case(seeds_dir):
    write_seed(seeds_dir, "1.txt", number=1, tags=["Putin", "普京"])
    write_seed(seeds_dir, "2.txt", number=2, tags=["putin"])
    write_seed(seeds_dir, "3.txt", number=3, tags=["PUTIN", "Vladimir Putin"])
    import_seeds([seeds_dir])
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Putin", "Vladimir Putin", "普京"]
    assert Tag.objects.get(name="Putin").tagged_articles.count() == 3
    # Each article remembers how its file spelled the tag, and where.
    assert list(
        TaggedArticle.objects.filter(content_object__number=3).values_list("spelling", "position")
    ) == [("PUTIN", 1), ("Vladimir Putin", 2)]
    assert Tag.objects.get(name="普京").slug == "普京"


def test_a_merged_tags_old_name_means_the_tag_it_became(seeds_dir):
    write_seed(seeds_dir, "1.txt", number=1, tags=["Putin"])
    write_seed(seeds_dir, "2.txt", number=2, tags=["普京"])
    import_seeds([seeds_dir])
    tagging.merge_tags(keep=Tag.objects.get(name="普京"), tags=[Tag.objects.get(name="Putin")])
    # New files still spell it the old way, some both ways.
    write_seed(seeds_dir, "3.txt", number=3, tags=["PUTIN", "拜登"])
    write_seed(seeds_dir, "4.txt", number=4, tags=["putin", "普京"])
    report = import_seeds([seeds_dir])
    assert [f.status for f in report.files] == ["unchanged", "unchanged", "created", "created"]
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["拜登", "普京"]
    merged = TaggedArticle.objects.filter(tag__name="普京")
    assert sorted(merged.values_list("content_object__number", flat=True)) == [1, 2, 3, 4]
    assert list(
        TaggedArticle.objects.filter(content_object__number=4).values_list("tag__name", "position")
    ) == [("普京", 1)]


def test_a_large_import_leaves_postgresql_planning_for_what_it_wrote(seeds_dir, monkeypatch):
    monkeypatch.setattr(importer, "ANALYZE_AFTER", 3)
    for number in range(1, 4):
        write_seed(seeds_dir, f"{number}.txt", number=number)
    import_seeds([seeds_dir])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'articles_article'")
            assert cursor.fetchone()[0] == 3
        else:
            # SQLite plans its search queries better without statistics.
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            assert cursor.fetchone()[0] == 0


def test_tag_that_differs_only_in_case_is_refused_by_the_database():
    Tag.objects.create(name="Putin", slug="putin")
    with pytest.raises(IntegrityError):
        Tag.objects.create(name="PUTIN", slug="putin-2")


def test_slugs_stay_unique_when_names_collide(seeds_dir):
    write_seed(seeds_dir, "1.txt", number=1, tags=["C++", "C#", "c"], category="眾 聞")
    write_seed(seeds_dir, "2.txt", number=2, category="眾聞")
    import_seeds([seeds_dir])
    assert len(set(Tag.objects.values_list("slug", flat=True))) == 3
    assert sorted(Section.objects.values_list("slug", flat=True)) == ["眾-聞", "眾聞"]


def test_sections_and_authors_are_shared_between_articles(seeds_dir):
    for number in range(1, 4):
        write_seed(seeds_dir, f"{number}.txt", number=number, author="何君健", category="眾說")
    import_seeds([seeds_dir])
    assert Section.objects.get().articles.count() == 3
    assert Author.objects.get().articles.count() == 3


def test_same_article_twice_in_one_batch_is_created_then_updated(seeds_dir):
    write_seed(seeds_dir, "a.txt", number=9, title="第一個")
    write_seed(seeds_dir, "b.txt", number=9, title="第二個")
    report = import_seeds([seeds_dir])
    assert statuses(report) == ["created", "updated"]
    assert Article.objects.get().title == "第二個"


def test_dry_run_writes_nothing(seeds_dir):
    write_seed(seeds_dir, "a.txt", tags=["普京"])
    report = import_seeds([seeds_dir], dry_run=True)
    assert statuses(report) == ["created"]
    assert not Article.objects.exists()
    assert not Tag.objects.exists()
    assert not Section.objects.exists()


def test_video_rows_keep_provider_address_and_start(seeds_dir):
    body = video_shortcode("https://www.youtube.com/embed/aBcDeFgHiJk?start=133")
    import_seeds([write_seed(seeds_dir, body=body)])
    video = Video.objects.get()
    assert video.url == "https://www.youtube.com/embed/aBcDeFgHiJk?start=133"
    assert video.archived_url.startswith("https://web.archive.org/web/20220118160222if_/")
    assert (video.info.provider, video.info.start) == ("youtube", 133)


def test_discover_reads_folders_recursively_in_order(tmp_path):
    write_seed(tmp_path, "b/2.txt")
    write_seed(tmp_path, "a/1.md")
    write_seed(tmp_path, "a/.hidden/3.txt")
    (tmp_path / "a" / "notes.json").write_text("{}")
    found = discover([tmp_path])
    assert [p.removeprefix(str(tmp_path)) for p in found] == ["/a/1.md", "/b/2.txt"]
    with pytest.raises(FileNotFoundError):
        discover([tmp_path / "missing"])


@pytest.mark.django_db(transaction=True)
def test_worker_processes_give_the_same_result_as_one_process(tmp_path):
    files = write_archive(tmp_path / "archive", 160)
    report = import_seeds([tmp_path / "archive"], workers=2)
    assert len(report.files) == 160
    in_pool = {a.number: (a.title, a.body_html, a.excerpt) for a in Article.objects.all()}
    Article.objects.all().delete()
    serial = import_seeds([tmp_path / "archive"], workers=0)
    assert statuses(serial) == statuses(report)
    assert in_pool == {a.number: (a.title, a.body_html, a.excerpt) for a in Article.objects.all()}
    assert report.totals["failed"] == 0
    assert report.totals["skipped"] > 0
    assert len(files) == 160


def test_article_saved_by_a_person_renders_its_body_and_gets_the_next_number(sample):
    import_seeds([sample])
    article = Article(title="新文章", body="<script>x</script>**粗體**")
    article.save()
    assert article.number == 48692
    assert article.body_html == "<p><strong>粗體</strong></p>"
    assert article.slug == "新文章"
    assert article.edited_at is not None


def test_next_number_retries_when_another_save_takes_it(sample, monkeypatch):
    import_seeds([sample])
    real_aggregate = Article.objects.aggregate
    answers = []

    def stale_then_real(**kwargs):
        # The first answer is stale, as if read before another editor's save.
        answers.append(real_aggregate(**kwargs) if answers else {"last": 48690})
        return answers[-1]

    monkeypatch.setattr(Article.objects, "aggregate", stale_then_real)
    article = Article(title="新文章")
    article.save()
    assert len(answers) == 2
    assert article.number == 48692


def test_copy_of_sample_elsewhere_is_recognised_by_content(sample, tmp_path):
    import_seeds([sample])
    copy = tmp_path / "renamed.txt"
    shutil.copy(sample, copy)
    assert statuses(import_seeds([copy])) == ["unchanged"]


def test_reordered_tags_are_an_update(seeds_dir):
    path = write_seed(seeds_dir, "a.txt", tags=["普京", "拜登"])
    import_seeds([path])
    write_seed(seeds_dir, "a.txt", tags=["拜登", "普京"])
    assert statuses(import_seeds([path])) == ["updated"]
    assert list(TaggedArticle.objects.values_list("spelling", flat=True)) == ["拜登", "普京"]


def test_body_too_deeply_nested_to_render_fails_that_file_alone(seeds_dir):
    nested = "\n".join("    " * level + "- 項目" for level in range(400))
    write_seed(seeds_dir, "1.txt", number=1, body="開場。\n\n" + nested)
    write_seed(seeds_dir, "2.txt", number=2)
    report = import_seeds([seeds_dir])
    assert statuses(report) == ["failed", "created"]
    failure = report.files[0]
    assert failure.number == 1
    assert (failure.messages[-1].line, failure.messages[-1].text) == (
        12,
        "the body is nested too deeply to render",
    )
    assert list(Article.objects.values_list("number", flat=True)) == [2]


def test_tags_with_capitals_beyond_ascii_are_created_and_found(seeds_dir):
    # SQLite's LOWER() leaves É and Р as they are; Python's lower() does not.
    write_seed(seeds_dir, "1.txt", number=1, tags=["École", "Россия"])
    write_seed(seeds_dir, "2.txt", number=2, tags=["École"])
    assert statuses(import_seeds([seeds_dir])) == ["created", "created"]
    assert statuses(import_seeds([write_seed(seeds_dir, "3.txt", number=3, tags=["École"])])) == [
        "created"
    ]
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["École", "Россия"]
    assert Tag.objects.get(name="École").tagged_articles.count() == 3


@pytest.mark.parametrize(
    ("model", "values"), [(Section, {"category": "眾聞"}), (Tag, {"tags": ["眾聞"]})]
)
def test_a_slug_taken_meanwhile_fails_the_batch_not_the_import(
    seeds_dir, monkeypatch, model, values
):
    # Another connection saves a row with the slug the import has chosen,
    # between its choosing and its inserting.
    model.objects.create(name="別的", slug="眾聞")
    real_unique_slugs = importer._unique_slugs
    stale = []

    def chosen_before_the_other_save(table, names, max_length):
        if table is model and not stale:
            stale.append(names)
            return {name: unicode_slug(name) for name in names}
        return real_unique_slugs(table, names, max_length)

    monkeypatch.setattr(importer, "_unique_slugs", chosen_before_the_other_save)
    for number in (1, 2):
        write_seed(seeds_dir, f"{number}.txt", number=number, **values)
    assert statuses(import_seeds([seeds_dir])) == ["created", "created"]
    assert stale == [["眾聞"]]
    assert model.objects.get(name="眾聞").slug == "眾聞-2"
    assert Article.objects.count() == 2
