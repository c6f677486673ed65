import math
import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles import exporter
from articles.captions import split_credit
from articles.exporter import export_seeds, join_credit, quote
from articles.importer import import_seeds
from articles.models import Article, Author, Byline, Figure, Section, Tag, TaggedArticle, Video
from articles.seeds import CONTROL_CHARACTERS, parse_seed

from . import seedfiles
from .seedfiles import (
    figure_html,
    original_url,
    seed_text,
    video_shortcode,
    write_archive,
    write_seed,
)

pytestmark = pytest.mark.django_db

ARTICLE_FIELDS = (
    "title", "slug", "status", "published_at", "last_updated", "body", "body_html", "excerpt",
    "url", "original_url", "source_path",
)  # fmt: skip


def front_matter(data: bytes) -> bytes:
    """A seed file's front matter, its two '---' lines included."""
    end = data.index(b"\n---", 3)
    return data[: data.index(b"\n", end + 1) + 1]


def snapshot() -> dict:
    """Everything a round trip must keep, by natural keys rather than ids."""
    articles = {}
    for article in Article.objects.select_related("section").prefetch_related(
        "bylines__author", "figures", "videos", "tagged_items__tag"
    ):
        articles[article.number] = {
            "fields": [getattr(article, name) for name in ARTICLE_FIELDS],
            "section": article.section.name if article.section else None,
            "authors": [byline.author.name for byline in article.bylines.all()],
            "figures": sorted(
                (f.position, f.image_url, f.original_image_url, f.alt, f.caption, f.credit)
                for f in article.figures.all()
            ),
            "videos": sorted((v.position, v.url, v.archived_url) for v in article.videos.all()),
            "tags": sorted(
                (t.position, t.spelling, t.tag.name) for t in article.tagged_items.all()
            ),
        }
    return {
        "articles": articles,
        "tags": sorted(Tag.objects.values_list("name", "slug")),
        "sections": sorted(Section.objects.values_list("name", "slug")),
        "authors": sorted(Author.objects.values_list("name", "slug")),
    }


def empty_database() -> None:
    for model in (Article, Tag, Section, Author):
        model.objects.all().delete()


def write_bad_shapes(folder: Path) -> None:
    """One file for each shape of the real archive that the importer repairs or
    treats specially (ARCHIVE.md), named to sort after `write_archive`'s files."""
    shapes = {
        "crlf": dict(newline="\r\n"),
        "control-characters": dict(title="標題\x03中間\x1c"),
        "mojibake": dict(category="眾說".encode().decode("ptcp154")),
        "empty-date": dict(date=""),
        "empty-author": dict(author=""),
        "no-category": dict(category=None),
        "case-variant-tags": dict(tags=["Vladimir Putin", "putin", "Putin", "普京"]),
        "escaped-quotes": dict(title='"The Bill is Dead" 的弦外之音 \\ 反斜線'),
        "lost-slug": dict(original=original_url(1, www=False)),
        "last-updated": dict(last_updated="2021-12-08 09:30:00"),
        "other-heading": dict(heading=False, body="# 另一個標題\n\n內文。"),
        "no-heading": dict(heading=False),
        "wayback-link": dict(body="[訂閱](/web/20210412060643/https://hkcnews.com/aboutus/)"),
        "unknown-shortcode": dict(body='前文。\n\n{{< tweet id="1" >}}\n\n後文。'),
        "figures": dict(
            body="\n\n".join(
                [
                    figure_html("https://www.hkcnews.com/沒有說明.jpg", None),
                    figure_html(
                        "https://www.hkcnews.com/a.jpg", "有 <b>粗體</b> &amp; 實體。資料圖片"
                    ),
                    figure_html(
                        "https://www.hkcnews.com/b.jpg", "會面時握手（美聯社）", alt="握手"
                    ),
                    figure_html("https://www.hkcnews.com/c.jpg", "示威者在旺角聚集 何君健攝"),
                    figure_html("https://www.hkcnews.com/d.jpg", "何君健攝"),
                    figure_html("https://www.hkcnews.com/e.jpg", "沒有來源的說明"),
                    "<figure>\n<figcaption>只有說明。美聯社</figcaption>\n</figure>",
                ]
            )
        ),
        "videos": dict(
            body="\n\n".join(
                [
                    video_shortcode(target, protocol_relative=n == 1)
                    for n, target in enumerate(seedfiles.VIDEO_TARGETS)
                ]
            )
        ),
        "failed-capture": dict(
            title="Temporarily Offline", date="", author="", category=None, body="", heading=False
        ),
    }
    for n, (name, values) in enumerate(shapes.items(), start=1):
        write_seed(folder, f"bad-{name}.txt", number=90_000 + n, **values)


@pytest.fixture
def archive(tmp_path) -> Path:
    folder = tmp_path / "archive"
    write_archive(folder, 200)
    write_bad_shapes(folder)
    return folder


def test_sample_comes_back_byte_for_byte(sample, tmp_path):
    import_seeds([sample])
    results = export_seeds(tmp_path / "export")
    assert [(Path(r.path).name, r.number, r.status, r.warnings) for r in results] == [
        (sample.name, 48691, "written", [])
    ]
    assert (tmp_path / "export" / sample.name).read_bytes() == sample.read_bytes()


def test_round_trip_gives_the_same_articles_figures_videos_and_tags(archive, tmp_path):
    first = import_seeds([archive], workers=0)
    assert first.totals["failed"] == 0 and first.totals["skipped"] > 1
    before = snapshot()
    results = export_seeds(tmp_path / "export")
    assert len(results) == len(before["articles"]) == first.totals["created"]
    assert [r.warnings for r in results if r.warnings] == []

    empty_database()
    again = import_seeds([tmp_path / "export"], workers=0)
    assert again.totals["created"] == len(results)
    assert again.totals["created"] == len(again.files)
    after = snapshot()
    assert after["articles"].keys() == before["articles"].keys()
    for number, article in before["articles"].items():
        assert after["articles"][number] == article, number
    assert after == before
    assert sum(len(a["figures"]) for a in after["articles"].values()) > 300
    assert sum(len(a["videos"]) for a in after["articles"].values()) > 30


def test_export_reproduces_each_original_front_matter(archive, tmp_path):
    import_seeds([archive], workers=0)
    exact = repaired = 0
    for result in export_seeds(tmp_path / "export"):
        exported = Path(result.path).read_bytes()
        original = (archive / Path(result.path).name).read_bytes()
        seed = parse_seed(original)
        end = original.count(b"\n", 0, len(front_matter(original)))
        if not any(warning.line <= end for warning in seed.warnings) and b"\r" not in original:
            assert front_matter(exported) == front_matter(original), result.path
            exact += 1
            continue
        # A repaired file (control characters, mojibake, line endings, a case
        # variant of a tag dropped) comes back as the importer read it.
        again = parse_seed(exported)
        assert again.warnings == []
        for key in ("title", "date", "last_updated", "author", "category", "tags", "url"):
            assert getattr(again, key) == getattr(seed, key), (result.path, key)
        repaired += 1
    assert exact >= 180
    assert repaired >= 4


def test_export_of_edits_is_what_readers_see(seeds_dir, tmp_path):
    body = "\n\n".join(
        [
            "第一段。",
            figure_html("https://www.hkcnews.com/1.jpg", "一。美聯社"),
            "第二段。",
            figure_html("https://www.hkcnews.com/2.jpg", "二。資料圖片"),
            video_shortcode("https://www.youtube.com/embed/aBcDeFgHiJk"),
            video_shortcode("https://www.youtube.com/embed/dQw4w9WgXcQ"),
        ]
    )
    import_seeds([write_seed(seeds_dir, body=body, tags=["普京", "putin", "拜登"])])
    article = Article.objects.get()
    article.title = "編輯改過的標題"
    article.save()
    first, second = article.figures.all()
    Figure.objects.filter(pk=first.pk).update(position=2, caption="改了說明。", credit="何君健攝")
    Figure.objects.filter(pk=second.pk).update(position=1)
    Figure.objects.create(article=article, position=7, image_url="https://example.com/新.jpg")
    Video.objects.filter(article=article, position=1).delete()
    # The editor merges 拜登 into a tag named Joe Biden.
    biden = Tag.objects.create(name="Joe Biden", slug="joe-biden")
    TaggedArticle.objects.filter(tag__name="拜登").update(tag=biden)

    exported = parse_seed(Path(export_seeds(tmp_path / "export")[0].path).read_bytes())
    assert exported.title == "編輯改過的標題"
    assert [(f.image_url[-5:], f.caption, f.credit) for f in exported.figures] == [
        ("2.jpg", "二。", "資料圖片"),
        ("1.jpg", "改了說明。", "何君健攝"),
        ("新.jpg", "", ""),
    ]
    assert [v.url for v in exported.videos] == ["https://www.youtube.com/embed/dQw4w9WgXcQ"]
    assert exported.body.split("\n\n") == [
        "第一段。", "{{< figure 1 >}}", "第二段。", "{{< figure 2 >}}", "{{< video 1 >}}",
        "{{< figure 3 >}}",
    ]  # fmt: skip
    assert exported.tags == ["普京", "putin", "Joe Biden"]


def test_article_written_here_exports_under_this_site_and_comes_back(seeds_dir, tmp_path):
    import_seeds([write_seed(seeds_dir, number=48691)])
    section = Section.objects.create(name="新欄目", slug="新欄目")
    article = Article(title="編輯新寫的文章", body="**內文**。", section=section)
    article.save()
    article.tags.add("新標籤", "普京")
    Byline.objects.create(article=article, author=Author.objects.create(name="編輯", slug="編輯"))
    Figure.objects.create(article=article, position=1, image_url="https://example.com/a.jpg")
    Figure.objects.create(
        article=article, position=2, original_image_url="https://example.com/b.jpg"
    )
    uploaded = Figure.objects.create(article=article, position=3)
    Figure.objects.filter(pk=uploaded.pk).update(image="figures/2021/12/c.jpg")
    Video.objects.create(article=article, position=1, url="https://www.youtube.com/embed/x1234567")

    results = {
        r.number: r for r in export_seeds(tmp_path / "export", site_url="https://newsroom.example/")
    }
    path = tmp_path / "export" / "48692.txt"
    assert (Path(results[48692].path), results[48692].warnings) == (path, [])
    text = path.read_text(encoding="utf-8")
    assert 'url: ""\n' in text
    assert f'original_url: "https://newsroom.example{article.get_absolute_url()}"\n' in text

    empty_database()
    import_seeds([path])
    again = Article.objects.get()
    assert (again.number, again.title, again.section.name) == (48692, "編輯新寫的文章", "新欄目")
    assert sorted(again.tags.names()) == sorted(["普京", "新標籤"])
    assert [a.name for a in again.authors.all()] == ["編輯"]
    assert [f.image_url for f in again.figures.all()] == [
        "https://example.com/a.jpg",
        "https://example.com/b.jpg",
        "https://newsroom.example/media/figures/2021/12/c.jpg",
    ]
    assert again.videos.get().url == "https://www.youtube.com/embed/x1234567"


def test_what_a_seed_file_cannot_hold_is_a_warning(seeds_dir, tmp_path):
    write_seed(seeds_dir, "1.txt", number=1, body=figure_html("https://example.com/a.jpg", "說明"))
    write_seed(seeds_dir, "2.txt", number=2)
    import_seeds([seeds_dir])
    one = Article.objects.get(number=1)
    for name in ("甲", "乙"):
        author, _ = Author.objects.get_or_create(name=name, slug=name)
        Byline.objects.create(article=one, author=author, position=2)
    Figure.objects.filter(article=one).update(caption="說明", credit="張三")
    Article.objects.filter(number=2).update(number=3, status=Article.Status.HIDDEN)
    Article(title="草稿").save()

    results = {r.number: r for r in export_seeds(tmp_path / "export")}
    assert results[1].warnings == [
        "the seed format has one author; left out: 甲, 乙",
        "figure 1: a re-import reads caption and credit as '說明 張三' and '', not '張三'",
    ]
    assert "names article 2, not 3" in results[3].warnings[0]
    assert not results[3].published
    assert results[4].warnings == [
        "no date, author or body: a re-import skips it as a failed capture"
    ]


def test_credits_are_rejoined_so_that_a_reimport_splits_them_alike():
    for credit in seedfiles.CREDITS:
        for caption in ("普京與拜登會面。", "普京與拜登會面", "會面（左）", ""):
            joined = join_credit(caption, credit)
            assert split_credit(joined) == (caption, credit), joined
    assert join_credit("圖為二人6月在日內瓦會面。", "美聯社") == "圖為二人6月在日內瓦會面。美聯社"
    assert join_credit("示威者在旺角聚集", "何君健攝") == "示威者在旺角聚集 何君健攝"
    assert join_credit("只有說明", "") == "只有說明"


def test_values_are_quoted_as_the_archive_quotes_them():
    for value in ("標題", '"The Bill is Dead" 的弦外之音', "C:\\path", ""):
        assert quote(value) == seedfiles.quote(value)
    assert quote("一\n二\x03") == '"一\\x0a二\\x03"'
    text = seed_text(title="x").replace('"x"', quote("一\n二\u2028三\t\x1c四"))
    assert parse_seed(text.encode()).title == "一\n二\u2028三\t\x1c四"
    assert not CONTROL_CHARACTERS.search(quote("\x00\x7f\x9f\ufffe"))


def test_files_keep_plain_source_names_and_otherwise_take_the_number(seeds_dir, tmp_path):
    names = ["a.txt", "B.md", "c.json", ".hidden.txt", "空 格.txt", "x/a.txt", "y/A.TXT", "z.txt"]
    for number, name in enumerate(names, start=1):
        write_seed(seeds_dir, f"{number}/{name}", number=number)
    import_seeds(sorted(seeds_dir.glob("*/**/*.*"), key=lambda path: path.parent.name))
    Article.objects.filter(number=8).update(source_path="../../etc/passwd.txt")
    exported = {r.number: Path(r.path).name for r in export_seeds(tmp_path / "export")}
    # Two files named a.txt (in any case): the lower number keeps the name.
    assert exported == {1: "a.txt", 2: "B.md", 3: "3.txt", 4: "4.txt", 5: "空 格.txt",
                        6: "6.txt", 7: "7.txt", 8: "8.txt"}  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "export").iterdir()) == sorted(exported.values())


def test_a_file_is_written_whole_or_not_at_all(sample, tmp_path, monkeypatch):
    import_seeds([sample])
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / sample.name).write_text("舊的內容", encoding="utf-8")
    (folder / f"{exporter.TEMPORARY_PREFIX}123-x.txt.tmp").write_text("一半")

    def interrupted(source, target):
        raise OSError(28, "No space left on device", str(target))

    monkeypatch.setattr(exporter.os, "replace", interrupted)
    with pytest.raises(OSError, match="No space left"):
        export_seeds(folder)
    assert (folder / sample.name).read_text(encoding="utf-8") == "舊的內容"
    assert [p.name for p in folder.iterdir()] == [sample.name]


def test_unchanged_files_are_left_alone(sample, tmp_path):
    import_seeds([sample])
    path = tmp_path / "export" / sample.name
    export_seeds(path.parent)
    os.utime(path, (1_000_000_000, 1_000_000_000))
    assert [r.status for r in export_seeds(path.parent)] == ["unchanged"]
    assert path.stat().st_mtime == 1_000_000_000


def test_articles_are_read_a_chunk_at_a_time(seeds_dir, tmp_path, monkeypatch):
    for number in range(1, 6):
        body = (
            figure_html("https://example.com/a.jpg")
            + "\n\n"
            + video_shortcode("https://x.example/v")
        )
        write_seed(seeds_dir, f"{number}.txt", number=number, tags=["普京", "拜登"], body=body)
    import_seeds([seeds_dir])
    monkeypatch.setattr(exporter, "CHUNK_SIZE", 2)
    with CaptureQueriesContext(connection) as queries:
        results = export_seeds(tmp_path / "export")
    # One query lists the articles; each chunk is one for the articles (with
    # their sections) and one each for bylines, figures, videos and tags.
    chunks = math.ceil(len(results) / 2)
    assert (len(results), len(queries)) == (5, 1 + 5 * chunks)


def run(*args, verbosity=1):
    out, err = StringIO(), StringIO()
    call_command("export_seeds", *map(str, args), verbosity=verbosity, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_summary_and_a_line_per_file(sample, tmp_path):
    import_seeds([sample])
    Article(title="草稿", body="內文").save()
    out, err = run(tmp_path, verbosity=2)
    assert f"written: {tmp_path / sample.name} (48691)\n" in out
    assert f"written: {tmp_path / '48692.txt'} (48692)\n" in out
    assert "2 articles in" in out
    assert "2 written, 0 unchanged; 1 not published" in out
    assert err == ""
    out, _ = run(tmp_path, verbosity=0)
    assert out == ""
    assert "0 written, 2 unchanged" in run(tmp_path)[0]


def test_command_warns_of_other_seed_files_in_the_folder(sample, tmp_path):
    import_seeds([sample])
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "gone.md").write_text("---\n")
    _, err = run(tmp_path)
    assert f"{tmp_path}: warning: 1 other seed files are in the folder" in err
    assert str(tmp_path / "old" / "gone.md") in err


def test_command_names_the_file_it_cannot_write(sample, tmp_path, monkeypatch):
    import_seeds([sample])

    def full(source, target):
        raise OSError(28, "No space left on device", str(target))

    monkeypatch.setattr(exporter.os, "replace", full)
    with pytest.raises(CommandError, match=f"{tmp_path / sample.name}: No space left on device"):
        run(tmp_path)


def test_command_refuses_a_site_url_that_is_not_http(tmp_path):
    with pytest.raises(CommandError, match="must be an http"):
        run(tmp_path, "--site-url", "newsroom.example")
