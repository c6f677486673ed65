import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from articles import images
from articles.models import Figure

from . import imagefiles
from .adminforms import add_inline_form, form_data, submittable
from .factories import add_figure, with_image
from .factories import article as new_article

pytestmark = pytest.mark.django_db

STORED_NAME = r"figures/\d{4}/\d{2}/[0-9a-f]{16}\.(jpg|png|gif|webp)"


@pytest.fixture
def admin_client(client, django_user_model):
    """A logged-in superuser (without hashing a password, which takes a second here)."""
    client.force_login(
        django_user_model.objects.create(username="editor", is_staff=True, is_superuser=True)
    )
    return client


@pytest.fixture
def figure():
    return add_figure(new_article(figures=0, number=48691))


def change_url(article) -> str:
    return reverse("admin:articles_article_change", args=[article.pk])


def post_change(admin_client, article, edit) -> "HttpResponse":  # noqa: F821
    url = change_url(article)
    data = form_data(admin_client.get(url).content.decode())
    edit(data)
    return admin_client.post(url, {**submittable(data), "_save": "Save"})


def upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def media_files(settings) -> list:
    return [path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()]


def test_an_uploaded_image_is_upright_clean_and_has_renditions(
    admin_client, figure, settings, django_capture_on_commit_callbacks
):
    def edit(data):
        data["figures-0-image"] = upload("相片.jpg", imagefiles.jpeg_rotated_with_gps((1200, 800)))

    with django_capture_on_commit_callbacks(execute=True):
        response = post_change(admin_client, figure.article, edit)
    assert response.status_code == 302, response.content.decode()
    figure.refresh_from_db()
    assert re.fullmatch(STORED_NAME, figure.image.name)
    assert (figure.width, figure.height) == (800, 1200)
    assert sorted({r["width"] for r in figure.renditions}) == [480, 800]
    files = media_files(settings)
    assert len(files) == 1 + len(figure.renditions) == 5
    for path in files:
        assert imagefiles.SECRET not in path.read_bytes()
        assert not Image.open(path).getexif()
        assert Image.open(path).height > Image.open(path).width


def test_an_image_can_be_added_with_a_new_figure(admin_client, figure):
    def edit(data):
        prefix = add_inline_form(data, "figures")
        data[f"{prefix}-position"] = ["2"]
        data[f"{prefix}-image"] = upload("new.png", imagefiles.png((400, 300)), "image/png")

    assert post_change(admin_client, figure.article, edit).status_code == 302
    added = figure.article.figures.get(position=2)
    assert added.image.name.endswith(".png") and (added.width, added.height) == (400, 300)
    assert len(added.renditions) == 2


@pytest.mark.parametrize(
    "name", ["../../../../etc/passwd.jpg", "..\\..\\evil.jpg", "/tmp/abs.jpg", "a\x00b.jpg"]
)
def test_the_stored_name_is_ours_whatever_the_upload_is_called(
    admin_client, figure, settings, name
):
    def edit(data):
        data["figures-0-image"] = upload(name, imagefiles.jpeg((400, 300)))

    assert post_change(admin_client, figure.article, edit).status_code == 302
    figure.refresh_from_db()
    assert re.fullmatch(STORED_NAME, figure.image.name)
    media = settings.MEDIA_ROOT.resolve()
    assert all(path.resolve().is_relative_to(media) for path in media_files(settings))


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (imagefiles.HTML, "page.jpg", "這個檔案不是 JPEG、PNG、GIF 或 WebP 圖片"),
        (imagefiles.SVG, "drawing.jpg", "這個檔案不是 JPEG、PNG、GIF 或 WebP 圖片"),
        (imagefiles.SVG, "drawing.svg", "這個檔案不是 JPEG、PNG、GIF 或 WebP 圖片"),
        (imagefiles.truncated_jpeg(), "cut.jpg", "圖片已損壞或不完整，無法讀取"),
        (imagefiles.bomb_png(), "bomb.png", "圖片像素太多，不能使用"),
        (b"\xff\xd8" + b"\x00" * 300_000, "big.jpg", "超過 200,000 位元組的上限"),
    ],
    ids=["html", "svg-as-jpg", "svg", "truncated", "bomb", "too-large"],
)
def test_what_is_not_a_usable_image_is_a_form_error_and_nothing_is_stored(
    admin_client, figure, settings, data, name, message
):
    settings.NEWSROOM_IMAGE_MAX_BYTES = 200_000
    with_image(figure, imagefiles.jpeg((400, 300)))
    before = sorted(media_files(settings))

    def edit(form):
        form["figures-0-image"] = upload(name, data)

    response = post_change(admin_client, figure.article, edit)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert sorted(media_files(settings)) == before
    kept = Figure.objects.get(pk=figure.pk)
    assert kept.image.name == figure.image.name and kept.renditions == figure.renditions


def test_replacing_an_image_deletes_the_old_files(
    admin_client, figure, settings, django_capture_on_commit_callbacks
):
    old = images.file_names(with_image(figure, imagefiles.jpeg((1200, 800))))

    def edit(data):
        data["figures-0-image"] = upload("new.jpg", imagefiles.jpeg((600, 400)))

    with django_capture_on_commit_callbacks(execute=True):
        assert post_change(admin_client, figure.article, edit).status_code == 302
    figure.refresh_from_db()
    assert (figure.width, figure.height) == (600, 400)
    assert not any(default_storage.exists(name) for name in old)
    assert len(media_files(settings)) == 1 + len(figure.renditions)


def test_clearing_an_image_deletes_its_files_and_the_page_shows_the_archived_one(
    admin_client, client, figure, settings, django_capture_on_commit_callbacks
):
    with_image(figure, imagefiles.jpeg((600, 400)))

    def edit(data):
        data["figures-0-image-clear"] = ["on"]

    with django_capture_on_commit_callbacks(execute=True):
        assert post_change(admin_client, figure.article, edit).status_code == 302
    figure.refresh_from_db()
    assert not figure.image and figure.renditions == [] and figure.width is None
    assert media_files(settings) == []
    html = client.get(figure.article.get_absolute_url()).content.decode()
    assert f'src="{figure.image_url}"' in html


def test_deleting_a_figure_in_the_admin_deletes_its_files(
    admin_client, figure, settings, django_capture_on_commit_callbacks
):
    with_image(figure, imagefiles.jpeg((600, 400)))

    def edit(data):
        data["figures-0-DELETE"] = ["on"]

    with django_capture_on_commit_callbacks(execute=True):
        assert post_change(admin_client, figure.article, edit).status_code == 302
    assert not Figure.objects.filter(pk=figure.pk).exists()
    assert media_files(settings) == []


def test_saving_an_article_leaves_its_images_alone(
    admin_client, figure, settings, django_capture_on_commit_callbacks
):
    with_image(figure, imagefiles.jpeg((600, 400)))
    before = sorted(media_files(settings))

    def edit(data):
        data["figures-0-caption"] = ["新的說明。"]

    with django_capture_on_commit_callbacks(execute=True):
        assert post_change(admin_client, figure.article, edit).status_code == 302
    figure.refresh_from_db()
    assert figure.caption == "新的說明。" and len(figure.renditions) == 4
    assert sorted(media_files(settings)) == before


def test_the_figure_inline_shows_a_thumbnail(admin_client, figure):
    with_image(figure, imagefiles.jpeg((1200, 800)))
    html = admin_client.get(change_url(figure.article)).content.decode()
    smallest = next(r for r in figure.renditions if r["width"] == 480 and r["format"] == "jpeg")
    assert f'<img src="/media/{smallest["name"]}" width="160" height="107"' in html
