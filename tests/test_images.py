import io
import re

import pytest
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image

from articles import images
from articles.importer import import_seeds
from articles.models import Figure

from . import imagefiles
from .factories import add_figure, with_image
from .factories import article as new_article
from .seedfiles import figure_html, write_seed

# What Pillow reports about a file that says nothing of where, when or by whom.
HARMLESS_INFO = {
    "jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi", "progressive", "progression",
    "transparency", "background", "version", "loop", "duration", "extension", "timestamp",
}  # fmt: skip


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def every_output(processed: images.ProcessedImage) -> list[bytes]:
    return [processed.data] + [rendition.data for rendition in processed.renditions]


def is_red(pixel) -> bool:
    r, g, b = pixel[:3]
    return r > 200 and g < 60 and b < 60


@pytest.mark.parametrize(
    ("width", "expected"),
    [(2400, [480, 960, 1600]), (1600, [480, 960, 1600]), (1000, [480, 960, 1000]), (300, [300])],
)
def test_rendition_widths_are_never_wider_than_the_image(width, expected):
    assert images.rendition_widths(width, [480, 960, 1600]) == expected


def test_renditions_are_webp_and_jpeg_at_each_width_in_proportion():
    processed = images.process(imagefiles.jpeg((2400, 1600)))
    made = [(r.format, r.width, r.height) for r in processed.renditions]
    assert sorted(made) == sorted(
        (kind, width, round(width * 2 / 3))
        for kind in ("webp", "jpeg")
        for width in (480, 960, 1600)
    )
    for rendition in processed.renditions:
        image = opened(rendition.data)
        assert image.format == rendition.format.upper()
        assert image.size == (rendition.width, rendition.height)


def test_exif_orientation_is_applied_to_the_image_and_every_rendition():
    processed = images.process(imagefiles.jpeg_rotated_with_gps((1200, 800)))
    assert (processed.width, processed.height) == (800, 1200)
    for data in every_output(processed):
        image = opened(data).convert("RGB")
        assert image.height > image.width
        # Turned a quarter clockwise, the top-left red block is now top right.
        assert is_red(image.getpixel((image.width - 3, 3)))
        assert not is_red(image.getpixel((3, 3)))


@pytest.mark.parametrize(
    "source",
    [imagefiles.jpeg_rotated_with_gps, imagefiles.png, imagefiles.gif, imagefiles.webp],
    ids=["jpeg", "png", "gif", "webp"],
)
def test_no_metadata_survives_in_the_image_or_any_rendition(source):
    data = source()
    assert imagefiles.SECRET in data
    for output in every_output(images.process(data)):
        image = opened(output)
        assert not image.getexif()
        assert set(image.info) <= HARMLESS_INFO, image.info.keys()
        assert imagefiles.SECRET not in output
        assert b"Exif\x00\x00" not in output


@pytest.mark.parametrize(
    ("source", "format", "extension"),
    [
        (imagefiles.jpeg, "JPEG", "jpg"),
        (imagefiles.png, "PNG", "png"),
        (imagefiles.gif, "GIF", "gif"),
        (imagefiles.webp, "WEBP", "webp"),
    ],
)
def test_each_allowed_format_is_kept_in_its_own_format(source, format, extension):
    processed = images.process(source())
    assert processed.format == format
    assert opened(processed.data).format == format
    assert processed.filename.endswith(f".{extension}")
    assert {r.format for r in processed.renditions} == {"webp", "jpeg"}


def test_transparency_is_kept_in_webp_and_flattened_on_white_in_jpeg():
    processed = images.process(imagefiles.png((800, 600)))
    webp = next(r for r in processed.renditions if r.format == "webp")
    jpeg = next(r for r in processed.renditions if r.format == "jpeg")
    assert opened(webp.data).getpixel((webp.width - 3, 3))[3] == 0
    assert opened(jpeg.data).getpixel((jpeg.width - 3, 3)) >= (250, 250, 250)


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (imagefiles.HTML, "format", "not a JPEG, PNG, GIF or WebP image"),
        (imagefiles.SVG, "format", "not a JPEG, PNG, GIF or WebP image"),
        (imagefiles.encode(Image.new("RGB", (10, 10)), "BMP"), "format", "not a JPEG"),
        (imagefiles.encode(Image.new("RGB", (10, 10)), "TIFF"), "format", "not a JPEG"),
        (b"", "format", "not a JPEG"),
        (imagefiles.truncated_jpeg(), "damaged", "truncated"),
        (imagefiles.bomb_png(), "pixels", "decompression bomb"),
    ],
    ids=["html", "svg", "bmp", "tiff", "empty", "truncated", "bomb"],
)
def test_what_is_not_an_allowed_intact_image_is_refused_with_the_reason(data, code, words):
    with pytest.raises(images.ImageRejected) as refused:
        images.process(data)
    assert refused.value.code == code
    assert words in str(refused.value)


def test_pillows_decompression_bomb_warning_is_an_error(monkeypatch):
    # Between Pillow's limit and twice that, Pillow only warns.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    with pytest.raises(images.ImageRejected) as refused:
        images.open_image(imagefiles.jpeg((1500, 1000)), max_pixels=10**9)
    assert refused.value.code == "pixels"


def test_site_pixel_limit_is_checked_before_decoding(settings):
    settings.NEWSROOM_IMAGE_MAX_PIXELS = 500_000
    with pytest.raises(images.ImageRejected) as refused:
        images.process(imagefiles.jpeg((1200, 800)))
    assert "1200×800 is 960,000 pixels, over the 500,000 allowed" in str(refused.value)


@pytest.mark.django_db
def test_image_and_renditions_are_stored_side_by_side_under_names_of_our_making():
    figure = with_image(add_figure(new_article(figures=0)), imagefiles.jpeg((1200, 800)))
    assert re.fullmatch(r"figures/\d{4}/\d{2}/[0-9a-f]{16}\.jpg", figure.image.name)
    stem = figure.image.name.removesuffix(".jpg")
    assert sorted(r["name"] for r in figure.renditions) == sorted(
        f"{stem}-{width}w.{extension}"
        for width in (480, 960, 1200)
        for extension in ("webp", "jpg")
    )
    assert (figure.width, figure.height) == (1200, 800)
    for rendition in figure.renditions:
        with default_storage.open(rendition["name"]) as stored:
            assert opened(stored.read()).size == (rendition["width"], rendition["height"])


@pytest.mark.django_db
def test_the_same_picture_on_two_figures_is_two_sets_of_files():
    article = new_article(figures=0)
    data = imagefiles.jpeg()
    first = with_image(add_figure(article), data)
    second = with_image(add_figure(article), data)
    assert first.image.name != second.image.name
    assert not set(images.file_names(first)) & set(images.file_names(second))
    assert all(default_storage.exists(name) for name in images.file_names(first))


@pytest.mark.django_db
def test_deleting_a_figure_deletes_its_files_once_committed(django_capture_on_commit_callbacks):
    figure = with_image(add_figure(new_article(figures=0)), imagefiles.jpeg())
    names = images.file_names(figure)
    assert len(names) == 7
    with django_capture_on_commit_callbacks(execute=True):
        figure.delete()
    assert not any(default_storage.exists(name) for name in names)


@pytest.mark.django_db
def test_deleting_an_article_deletes_the_files_of_its_figures(django_capture_on_commit_callbacks):
    article = new_article(figures=0)
    figures = [with_image(add_figure(article), imagefiles.jpeg()) for _ in range(2)]
    names = [name for figure in figures for name in images.file_names(figure)]
    with django_capture_on_commit_callbacks(execute=True):
        article.delete()
    assert names and not any(default_storage.exists(name) for name in names)


@pytest.mark.django_db
def test_a_rolled_back_deletion_keeps_the_files(django_capture_on_commit_callbacks):
    figure = with_image(add_figure(new_article(figures=0)), imagefiles.jpeg())
    pk = figure.pk

    class Undo(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Undo),
        transaction.atomic(),
    ):
        figure.delete()
        raise Undo
    assert Figure.objects.filter(pk=pk).exists()
    assert all(default_storage.exists(name) for name in images.file_names(figure))


@pytest.mark.django_db
def test_reimport_with_a_new_image_address_forgets_the_old_local_copy(
    seeds_dir, django_capture_on_commit_callbacks
):
    old = "https://www.hkcnews.com/news_新聞/2021/12/putin.jpg"
    path = write_seed(seeds_dir, body="內文。\n\n" + figure_html(old, "普京。美聯社"))
    import_seeds([path])
    figure = with_image(Figure.objects.get(), imagefiles.jpeg())
    names = images.file_names(figure)
    write_seed(
        seeds_dir, body="內文。\n\n" + figure_html(old.replace("putin", "biden"), "普京。美聯社")
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert import_seeds([path]).files[0].status == "updated"
    figure.refresh_from_db()
    assert "biden.jpg" in figure.image_url
    assert not figure.image and figure.renditions == [] and figure.width is None
    assert not any(default_storage.exists(name) for name in names)


@pytest.mark.django_db
def test_reimport_with_the_same_image_address_keeps_the_local_copy(seeds_dir):
    path = write_seed(seeds_dir)
    import_seeds([path])
    figure = with_image(Figure.objects.get(), imagefiles.jpeg())
    write_seed(seeds_dir, title="新標題")
    assert import_seeds([path]).files[0].status == "updated"
    figure.refresh_from_db()
    assert figure.image and len(figure.renditions) == 6


@pytest.mark.django_db
def test_only_the_storage_api_is_used(settings, django_capture_on_commit_callbacks):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    figure = with_image(add_figure(new_article(figures=0)), imagefiles.jpeg())
    assert default_storage.__class__.__name__ == "InMemoryStorage"
    assert all(default_storage.exists(name) for name in images.file_names(figure))
    assert not (settings.MEDIA_ROOT).exists()
    with django_capture_on_commit_callbacks(execute=True):
        figure.delete()
    assert not any(default_storage.exists(name) for name in images.file_names(figure))
