"""Authors' pictures uploaded in the admin: checked, upright, square, small and clean."""

import io
import re
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from PIL import Image

from articles import images
from articles.models import Author

from . import imagefiles
from .admin_factories import form_data

pytestmark = pytest.mark.django_db

STORED_NAME = r"authors/[0-9a-f]{16}(_\w+)?\.jpg"


def change_url(author: Author) -> str:
    return f"/admin/articles/author/{author.pk}/change/"


def post_avatar(admin_client, author: Author, data: bytes | None, **fields):
    """Post the author's change form with `data` uploaded as its picture."""
    url = change_url(author)
    values = form_data(admin_client.get(url)) | fields
    if data is not None:
        values["avatar"] = SimpleUploadedFile("我的相片.jpg", data, content_type="image/jpeg")
    return admin_client.post(url, values)


def stored_files(settings) -> list:
    return sorted(path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file())


def is_red(pixel) -> bool:
    red, green, blue = pixel
    return red > 200 and green < 60 and blue < 60


@pytest.fixture
def author():
    return Author.objects.create(name="何君健", slug="ho-kwan-kin")


def test_an_uploaded_picture_is_stored_upright_square_small_and_clean(
    admin_client, author, settings, client
):
    # Stored sideways (EXIF orientation 6), with a GPS position, a camera
    # make and a comment; its red corner is top left as stored.
    upload = imagefiles.jpeg_rotated_with_gps((900, 900))
    assert post_avatar(admin_client, author, upload).status_code == 302
    author.refresh_from_db()
    assert re.fullmatch(STORED_NAME, author.avatar.name), author.avatar.name
    (path,) = stored_files(settings)
    data = path.read_bytes()
    assert imagefiles.SECRET not in data
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "JPEG"
    assert picture.size == (images.AVATAR_SIZE, images.AVATAR_SIZE)
    assert not picture.getexif()
    picture = picture.convert("RGB")
    # Turned as the orientation says: the red corner is now top right.
    assert is_red(picture.getpixel((images.AVATAR_SIZE - 8, 8)))
    assert not is_red(picture.getpixel((8, 8)))
    page = client.get(author.get_absolute_url()).content.decode()
    assert f'src="{author.avatar.url}"' in page


def test_a_picture_is_cut_to_its_centre_and_never_enlarged(admin_client, author, settings):
    # 300 × 120: the square in its middle is 120 wide, less than AVATAR_SIZE.
    assert post_avatar(admin_client, author, imagefiles.png((300, 120))).status_code == 302
    author.refresh_from_db()
    picture = Image.open(author.avatar.path)
    assert picture.size == (120, 120)
    assert picture.format == "JPEG"
    # The PNG's right half is transparent: on white, not black.
    assert picture.convert("RGB").getpixel((110, 60)) == pytest.approx((255, 255, 255), abs=8)


@pytest.mark.parametrize(
    "data, message",
    [
        (imagefiles.bomb_png(), "圖片像素太多"),
        (imagefiles.truncated_jpeg(), "圖片已損壞或不完整"),
        (imagefiles.HTML, "不是 JPEG、PNG、GIF 或 WebP 圖片"),
        (imagefiles.SVG, "不是 JPEG、PNG、GIF 或 WebP 圖片"),
    ],
    ids=["bomb", "truncated", "html", "svg"],
)
def test_a_file_that_is_no_usable_picture_is_refused_and_nothing_stored(
    admin_client, author, settings, data, message
):
    response = post_avatar(admin_client, author, data, bio="攝影記者。")
    assert response.status_code == 200
    assert message in "".join(response.context["adminform"].form.errors["avatar"])
    author.refresh_from_db()
    assert not author.avatar and author.bio == ""
    assert stored_files(settings) == []


def saved(admin_client, author, capture, data, **fields) -> Author:
    """The author once the form is posted and its transaction committed."""
    with capture(execute=True):
        assert post_avatar(admin_client, author, data, **fields).status_code == 302
    author.refresh_from_db()
    return author


def test_a_replaced_or_cleared_picture_leaves_no_file_behind(
    admin_client, author, settings, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    first = saved(admin_client, author, capture, imagefiles.jpeg((400, 400))).avatar.name
    replaced = saved(admin_client, author, capture, imagefiles.webp((500, 500))).avatar.name
    assert replaced != first
    assert [path.name for path in stored_files(settings)] == [replaced.split("/")[1]]
    assert not saved(admin_client, author, capture, None, **{"avatar-clear": "on"}).avatar
    assert stored_files(settings) == []


def test_saving_an_author_untouched_keeps_the_picture(
    admin_client, author, settings, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    kept = saved(admin_client, author, capture, imagefiles.jpeg((400, 400))).avatar.name
    author = saved(admin_client, author, capture, None, bio="攝影記者。")
    assert author.avatar.name == kept and author.bio == "攝影記者。"
    assert len(stored_files(settings)) == 1


def test_pictures_stored_before_are_cleaned_by_a_command(
    admin_client, settings, django_capture_on_commit_callbacks
):
    old = Author.objects.create(name="舊相", slug="old")
    old.avatar.save("old.jpg", ContentFile(imagefiles.jpeg_rotated_with_gps((900, 600))))
    broken = Author.objects.create(name="壞相", slug="broken")
    broken.avatar.save("broken.jpg", ContentFile(imagefiles.truncated_jpeg()))
    uploaded = Author.objects.create(name="新相", slug="new")
    capture = django_capture_on_commit_callbacks
    clean_name = saved(admin_client, uploaded, capture, imagefiles.jpeg((300, 300))).avatar.name
    Author.objects.create(name="無相", slug="none")
    out, err = io.StringIO(), io.StringIO()
    with capture(execute=True), pytest.raises(CommandError):
        call_command("clean_avatars", stdout=out, stderr=err)
    assert out.getvalue().strip() == "1 pictures cleaned, 1 already clean, 1 failed"
    assert err.getvalue().startswith("author broken: authors/broken.jpg: damaged or truncated")
    old.refresh_from_db()
    assert re.fullmatch(STORED_NAME, old.avatar.name)
    picture = Image.open(old.avatar.path)
    assert picture.size == (images.AVATAR_SIZE, images.AVATAR_SIZE) and not picture.getexif()
    assert imagefiles.SECRET not in Path(old.avatar.path).read_bytes()
    uploaded.refresh_from_db()
    assert uploaded.avatar.name == clean_name
    assert Author.objects.get(slug="broken").avatar.name == "authors/broken.jpg"
    names = {path.relative_to(settings.MEDIA_ROOT).as_posix() for path in stored_files(settings)}
    assert names == {old.avatar.name, clean_name, "authors/broken.jpg"}
    # Run again: nothing left to clean, the broken picture still reported.
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("clean_avatars", stdout=out, stderr=io.StringIO())
    assert out.getvalue().strip() == "0 pictures cleaned, 2 already clean, 1 failed"
