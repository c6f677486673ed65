"""The figure and author forms of the admin: uploads checked and processed like fetched images."""

import hashlib
import re

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.html import format_html

from . import images
from .models import Author, Figure

# What an editor reads when an upload is refused, by ImageRejected.code.
REJECTIONS = {
    "format": "這個檔案不是 JPEG、PNG、GIF 或 WebP 圖片（{detail}）。",
    "damaged": "圖片已損壞或不完整，無法讀取（{detail}）。",
    "pixels": "圖片像素太多，不能使用（{detail}）。",
}
THUMBNAIL_WIDTH = 160


class FigureForm(forms.ModelForm):
    """A figure; an uploaded image replaces the local one, cleaned and with renditions.

    The upload is checked by Pillow, not by its name or type: anything but a
    readable JPEG, PNG, GIF or WebP within the size and pixel limits is a form
    error, and nothing is stored. The stored name is made by `images.save_image`,
    never taken from the upload. Replaced or cleared files are deleted once the
    change is committed.
    """

    image = forms.FileField(
        label="圖片檔案",
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"}
        ),
        help_text="JPEG、PNG、GIF 或 WebP。上載後會轉正、移除 EXIF 等資料，並製作不同大小的版本。",
    )

    class Meta:
        model = Figure
        fields = [
            "position",
            "image_url",
            "original_image_url",
            "alt",
            "caption",
            "credit",
            "image",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.processed: images.ProcessedImage | None = None
        self.cleared = False
        # The files to delete if this form replaces or clears the image.
        self.previous_files = images.file_names(self.instance)

    def clean_image(self):
        value = self.cleaned_data.get("image")
        if value is False:
            self.cleared = True
            return False
        if isinstance(value, UploadedFile):
            self.processed = _read_upload(value, images.process)
        # None: the model field is left as it is; the new image is stored in
        # save(), under a name of our making.
        return None

    def save(self, commit=True):
        figure = super().save(commit=False)
        if self.processed is not None:
            images.save_image(figure, self.processed)
        elif self.cleared:
            images.forget_image(figure)
        if self.processed is not None or self.cleared:
            images.delete_files_on_commit(self.previous_files, figure.image.storage)
        if commit:
            figure.save()
            self._save_m2m()
        return figure


class AuthorForm(forms.ModelForm):
    """An author; an uploaded picture is checked as a figure's image is, then
    stored upright, cut square and made `images.AVATAR_SIZE` pixels, re-encoded
    from its pixels alone (no EXIF or GPS position of the upload is served),
    under a name of our making. A replaced or cleared picture's file is
    deleted once the change is committed."""

    avatar = forms.FileField(
        label="頭像",
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"}
        ),
        help_text=(
            f"JPEG、PNG、GIF 或 WebP。上載後會轉正、裁成正方形、縮成 "
            f"{images.AVATAR_SIZE}×{images.AVATAR_SIZE}，並移除 EXIF 等資料。"
        ),
    )

    class Meta:
        model = Author
        fields = ["name", "slug", "bio", "avatar"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.previous_avatar = self.instance.avatar.name if self.instance.avatar else ""

    def clean_avatar(self):
        value = self.cleaned_data.get("avatar")
        if isinstance(value, UploadedFile):
            return avatar_file(_read_upload(value, images.avatar))
        # False clears the picture; None leaves it as it is.
        return value

    def save(self, commit=True):
        author = super().save(commit=commit)
        if self.previous_avatar and "avatar" in self.changed_data:
            images.delete_files_on_commit([self.previous_avatar], author.avatar.storage)
        return author


def avatar_file(data: bytes) -> ContentFile:
    """A cleaned picture (`images.avatar`) as a file to store, named by its
    content's hash (the storage puts it in the field's folder)."""
    return ContentFile(data, name=f"{hashlib.sha256(data).hexdigest()[:16]}.jpg")


def is_avatar_file(name: str) -> bool:
    """Whether a stored picture's name is one `avatar_file` made (the storage
    may have added a suffix to keep it free)."""
    folder = Author._meta.get_field("avatar").upload_to
    pattern = rf"{re.escape(folder)}[0-9a-f]{{16}}(_[0-9A-Za-z]+)?\.jpg"
    return re.fullmatch(pattern, name) is not None


def _read_upload(upload: UploadedFile, process):
    """`process(the upload's bytes)`, or a form error saying why not."""
    limit = settings.NEWSROOM_IMAGE_MAX_BYTES
    if upload.size > limit:
        raise forms.ValidationError(
            f"檔案有 {upload.size:,} 位元組，超過 {limit:,} 位元組的上限。", code="too_large"
        )
    upload.seek(0)
    try:
        return process(upload.read())
    except images.ImageRejected as error:
        raise forms.ValidationError(
            REJECTIONS[error.code].format(detail=error), code=error.code
        ) from None


@admin.display(description="縮圖")
def figure_thumbnail(figure: Figure) -> str:
    """The smallest rendition, or why there is no local image (for the figure inline)."""
    renditions = sorted(figure.renditions or [], key=lambda r: (r["width"], r["format"] != "jpeg"))
    if figure.image and renditions:
        smallest = renditions[0]
        height = round(smallest["height"] * THUMBNAIL_WIDTH / smallest["width"])
        return format_html(
            '<img src="{}" width="{}" height="{}" alt="" loading="lazy">',
            figure.image.storage.url(smallest["name"]),
            THUMBNAIL_WIDTH,
            height,
        )
    if figure.fetch_error:
        return format_html("未能下載存檔圖片：{}", figure.fetch_error)
    if figure.image_url:
        return "未下載；頁面使用存檔圖片。"
    return "—"
