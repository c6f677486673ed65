import io
import json
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image

from articles import fetching
from articles.images import rendition_widths
from articles.models import Figure

from . import imagefiles
from .factories import add_figure, archived_path
from .factories import article as new_article

pytestmark = pytest.mark.django_db

# Each case: what the archive serves for one figure, and what must come of it.
GOOD = {
    "jpeg": dict(body=imagefiles.jpeg_rotated_with_gps((480, 320))),
    "png": dict(body=imagefiles.png((400, 300)), content_type="image/png"),
    "gif": dict(body=imagefiles.gif((200, 150)), content_type="image/gif"),
    "webp": dict(body=imagefiles.webp((300, 210)), content_type="image/webp"),
    "flaky": dict(body=imagefiles.jpeg((360, 240)), fail_times=1),
}
BAD = {
    "bomb": (dict(body=imagefiles.bomb_png(), content_type="image/png"), "decompression bomb"),
    "truncated": (dict(body=imagefiles.truncated_jpeg()), "damaged or truncated JPEG image"),
    "html": (dict(body=imagefiles.HTML), "not a JPEG, PNG, GIF or WebP image"),
    "missing": (None, "HTTP 404 Not Found"),
    "slow": (dict(body=imagefiles.jpeg((300, 200)), delay=5), "timed out (tried 3 times)"),
    "huge": (dict(body=b"\xff" * 400_000), "400,000 bytes, over the 300,000-byte limit"),
    "private": (
        dict(location="http://169.254.169.254/latest/meta-data/"),
        "refused: 169.254.169.254 is a non-public address (169.254.169.254)",
    ),
}
PERMANENT = {"bomb", "truncated", "html", "missing", "huge", "private"}


def fetch(*args, verbosity=1):
    out, err = StringIO(), StringIO()
    try:
        call_command("fetch_figures", *map(str, args), verbosity=verbosity, stdout=out, stderr=err)
        error = None
    except CommandError as raised:
        error = raised
    return out.getvalue(), err.getvalue(), error


@pytest.fixture(autouse=True)
def _small_renditions(settings):
    # Small pictures and widths keep these tests quick; test_images covers the real sizes.
    settings.NEWSROOM_IMAGE_WIDTHS = [120, 240]


@pytest.fixture
def archive(image_server, fetch_settings):
    """Article 48691 with one figure per case, each pointing at its Wayback-shaped address."""
    article = new_article(figures=0, number=48691)
    figures = {}
    for name in [*GOOD, *BAD]:
        path = archived_path(f"{name} 圖片.jpg")
        route = GOOD.get(name) or BAD[name][0]
        if route is not None:
            image_server.add(path, **route)
        figures[name] = add_figure(article, image_url=image_server.url(path))
        figures[name].path = path
    return figures


def stored(name: str) -> Image.Image:
    with default_storage.open(name) as file:
        image = Image.open(io.BytesIO(file.read()))
        image.load()
        return image


def all_stored_files(settings) -> list:
    return [path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()]


def test_good_images_are_stored_and_every_failure_is_reported(archive, tmp_path):
    report = tmp_path / "report.json"
    out, err, error = fetch("--report", report)
    assert "12 figures in" in out and "5 fetched, 7 failed, 0 skipped" in out
    assert error is not None and error.returncode == 1
    assert "7 of 12 figures failed" in str(error)
    for name, (_, message) in BAD.items():
        figure = archive[name]
        line = f"article 48691 figure {figure.position}: {figure.image_url}: error: {message}"
        assert line in err

    results = json.loads(report.read_text())
    assert results["totals"] == {"fetched": 5, "failed": 7, "skipped": 0}
    by_figure = {entry["figure"]: entry for entry in results["figures"]}
    for name, (_, message) in BAD.items():
        entry = by_figure[archive[name].pk]
        assert entry["status"] == "failed" and entry["message"].startswith(message)
        assert entry["article"] == 48691 and entry["url"] == archive[name].image_url
    jpeg = by_figure[archive["jpeg"].pk]
    assert (jpeg["status"], jpeg["width"], jpeg["height"]) == ("fetched", 320, 480)
    assert jpeg["bytes"] == len(GOOD["jpeg"]["body"])


def test_fetched_figures_have_their_image_size_and_renditions(archive):
    fetch()
    expected = {"jpeg": (320, 480), "png": (400, 300), "gif": (200, 150), "webp": (300, 210)}
    for name, size in expected.items():
        figure = Figure.objects.get(pk=archive[name].pk)
        assert (figure.width, figure.height) == size
        assert stored(figure.image.name).size == size
        assert stored(figure.image.name).format == name.upper()
        made = sorted((r["width"], r["format"]) for r in figure.renditions)
        assert made == [
            (w, f) for w in rendition_widths(size[0], [120, 240]) for f in ("jpeg", "webp")
        ]
        assert figure.fetch_error == ""


def test_the_fetched_jpeg_is_upright_and_no_stored_file_keeps_metadata(archive, settings):
    fetch()
    figure = Figure.objects.get(pk=archive["jpeg"].pk)
    for name in [figure.image.name] + [r["name"] for r in figure.renditions]:
        image = stored(name).convert("RGB")
        assert image.height > image.width
        assert image.getpixel((image.width - 3, 3))[0] > 200  # the red corner, turned
    files = all_stored_files(settings)
    # Five images: each itself plus a WebP and a JPEG at each of its widths.
    assert len(files) == sum(
        1 + len(Figure.objects.get(pk=archive[name].pk).renditions) for name in GOOD
    )
    for path in files:
        data = path.read_bytes()
        assert imagefiles.SECRET not in data and b"Exif\x00\x00" not in data
        assert not Image.open(path).getexif()


def test_a_failed_figure_keeps_its_archived_address_for_the_page(archive, client):
    fetch()
    missing = Figure.objects.get(pk=archive["missing"].pk)
    assert not missing.image and missing.image_url == archive["missing"].image_url
    html = client.get(missing.article.get_absolute_url()).content.decode()
    assert f'src="{missing.image_url}"' in html


def test_permanent_failures_are_remembered_and_passing_ones_are_not(archive):
    fetch()
    for name in BAD:
        figure = Figure.objects.get(pk=archive[name].pk)
        assert bool(figure.fetch_error) == (name in PERMANENT), name


def test_a_second_run_downloads_nothing_twice(archive, image_server):
    fetch()
    first = dict(image_server.hits)
    out, _, error = fetch()
    assert error is not None
    assert "1 figures in" in out and "0 fetched, 1 failed" in out
    assert "6 figures that failed before were not tried again (--retry-failed tries them)" in out
    tried_again = {path for path, hits in image_server.hits.items() if hits != first.get(path)}
    assert tried_again == {archive["slow"].path}


def test_retry_failed_tries_the_remembered_failures_again(archive, image_server):
    fetch()
    image_server.add(archive["missing"].path, body=imagefiles.jpeg((300, 200)))
    _, _, error = fetch("--retry-failed")
    figure = Figure.objects.get(pk=archive["missing"].pk)
    assert figure.image and figure.fetch_error == ""
    assert image_server.hits[archive["html"].path] == 2
    assert error is not None


def test_only_the_figures_of_the_chosen_articles(image_server, fetch_settings):
    paths = {}
    for number in (1, 2, 3):
        article = new_article(figures=0, number=number)
        paths[number] = archived_path(f"{number}.jpg")
        add_figure(
            article, image_url=image_server.add(paths[number], body=imagefiles.jpeg((300, 200)))
        )
    out, _, error = fetch(1, 3)
    assert error is None and "2 figures in" in out
    assert [image_server.hits[paths[n]] for n in (1, 2, 3)] == [1, 0, 1]


def test_an_unknown_article_number_is_an_error(fetch_settings):
    new_article(figures=0, number=1)
    _, _, error = fetch(1, 99999)
    assert str(error) == "no article numbered 99999"


def test_an_interrupted_run_continues_where_it_stopped(image_server, fetch_settings):
    article = new_article(figures=0)
    paths = []
    for n in range(8):
        paths.append(archived_path(f"{n}.jpg"))
        add_figure(article, image_url=image_server.add(paths[-1], body=imagefiles.jpeg((300, 200))))

    def interrupt(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        for _ in fetching.iter_fetch(fetching.figures_to_fetch(), workers=2, progress=interrupt):
            pass
    after_interrupt = Figure.objects.exclude(image="").count()
    assert 2 <= after_interrupt < 8
    out, _, error = fetch()
    assert error is None and f"{8 - after_interrupt} figures in" in out
    assert Figure.objects.filter(image="").count() == 0
    # Whatever was downloaded before the interrupt was kept, not fetched again.
    assert [image_server.hits[path] for path in paths] == [1] * 8


def test_a_figure_changed_during_its_fetch_is_left_as_it_is(
    image_server, fetch_settings, monkeypatch, settings
):
    figure = add_figure(new_article(figures=0))
    figure.image_url = image_server.add(archived_path("a.jpg"), body=imagefiles.jpeg((300, 200)))
    figure.save()
    stale = list(Figure.objects.select_related("article"))
    # Meanwhile, a re-import gives the figure another picture.
    Figure.objects.filter(pk=figure.pk).update(image_url="https://web.archive.org/other.jpg")
    monkeypatch.setattr(fetching, "_in_pages", lambda figures: iter(stale))
    results = list(fetching.iter_fetch(Figure.objects.all()))
    assert [(r.status, r.message) for r in results] == [
        ("skipped", "the figure changed while its image was being fetched")
    ]
    figure.refresh_from_db()
    assert not figure.image and figure.image_url == "https://web.archive.org/other.jpg"
    assert all_stored_files(settings) == []


def test_verbosity_two_adds_a_line_per_figure_and_zero_only_errors(archive):
    out, err, _ = fetch(verbosity=2)
    jpeg = archive["jpeg"]
    assert f"fetched: article 48691 figure {jpeg.position}: {jpeg.image_url} (320×480)" in out
    Figure.objects.update(fetch_error="")
    out, err, _ = fetch("--retry-failed", verbosity=0)
    assert out == ""
    assert "error: HTTP 404 Not Found" in err


def test_success_exits_zero(image_server, fetch_settings):
    add_figure(
        new_article(figures=0),
        image_url=image_server.add("/a.jpg", body=imagefiles.jpeg((300, 200))),
    )
    out, err, error = fetch()
    assert error is None and err == ""
    assert "1 figures in" in out and "1 fetched, 0 failed, 0 skipped" in out


def test_production_settings_refuse_the_local_server(image_server, fetch_settings):
    fetch_settings.NEWSROOM_FETCH_PRIVATE_ALLOWLIST = []
    url = image_server.add("/a.jpg", body=imagefiles.jpeg((300, 200)))
    add_figure(new_article(figures=0), image_url=url)
    _, err, error = fetch()
    assert "error: refused: 127.0.0.1 is a non-public address (127.0.0.1)" in err
    assert image_server.hits["/a.jpg"] == 0 and error is not None


def test_a_bad_allowlist_entry_is_a_command_error(fetch_settings):
    fetch_settings.NEWSROOM_FETCH_PRIVATE_ALLOWLIST = ["intranet"]
    _, _, error = fetch()
    assert "NEWSROOM_FETCH_PRIVATE_ALLOWLIST: 'intranet' is not an address" in str(error)


def test_a_passing_failure_clears_an_earlier_permanent_one(archive, image_server):
    Figure.objects.filter(pk=archive["slow"].pk).update(fetch_error="HTTP 404 Not Found")
    fetch("--retry-failed", archive["slow"].article.number)
    assert Figure.objects.get(pk=archive["slow"].pk).fetch_error == ""


def test_readers_see_the_fetched_copy_at_once(image_server, fetch_settings, client):
    article = new_article(figures=0)
    path = archived_path("one.jpg")
    image_server.add(path, body=imagefiles.jpeg((480, 320)))
    figure = add_figure(article, image_url=image_server.url(path))
    article.refresh_from_db()
    before = article.modified_at
    assert "/media/" not in client.get(article.get_absolute_url()).content.decode()  # cached
    fetch()
    article.refresh_from_db()
    assert article.modified_at > before  # Last-Modified moves
    figure.refresh_from_db()
    assert figure.image.url in client.get(article.get_absolute_url()).content.decode()
