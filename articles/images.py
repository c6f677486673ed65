"""Figure images and authors' pictures: check them, clean them, make their renditions, store them.

Whatever the source — a download from the Wayback Machine or an editor's upload —
an image goes through `process()`: Pillow decides what it is (JPEG, PNG, GIF or
WebP, never the name or the Content-Type), refuses decompression bombs and
damaged files, turns it upright by its EXIF orientation and converts it to
sRGB. What is stored is re-encoded from the pixels alone, so no EXIF, GPS, XMP,
comment or text chunk of the source reaches anything the site serves.

Renditions are WebP and JPEG copies at `NEWSROOM_IMAGE_WIDTHS` (never wider than
the image), made once when the image is stored, saved beside it, and listed on
the figure row (`Figure.renditions`) so that pages need no query to use them.
Files are written and deleted through Django's storage API only.
"""

import hashlib
import io
import logging
import posixpath
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from django.db import transaction
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
RENDITION_FORMATS = ("webp", "jpeg")
RENDITION_EXTENSIONS = {"webp": "webp", "jpeg": "jpg"}
JPEG_QUALITY = 82
WEBP_QUALITY = 80
# The stored full-size copy is re-encoded too (that is what strips its
# metadata), at a quality that keeps it a faithful master for new renditions.
ORIGINAL_QUALITY = 90
# An author's picture is stored this many pixels square: twice the size pages
# show it at, for screens of two pixels to the point.
AVATAR_SIZE = 192
# Fields of a figure that describe its local image; cleared together.
LOCAL_FIELDS = ("image", "width", "height", "renditions", "fetch_error")

# warnings.catch_warnings() swaps the process-wide filters: one thread at a time.
_warnings_lock = threading.Lock()
_SRGB = ImageCms.createProfile("sRGB")


class ImageRejected(ValueError):
    """An image that will not be stored; `code` says why, the message says what."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    format: str  # "webp" or "jpeg"
    data: bytes


@dataclass(frozen=True)
class ProcessedImage:
    """A cleaned image ready to store: the full-size copy and its renditions."""

    format: str  # Pillow's name of the source format: JPEG, PNG, GIF, WEBP
    width: int
    height: int
    data: bytes
    digest: str  # SHA-256 of the source bytes, which names the stored files
    renditions: tuple[Rendition, ...]

    @property
    def filename(self) -> str:
        return f"{self.digest[:16]}.{EXTENSIONS[self.format]}"


def rendition_widths(width: int, widths: Iterable[int]) -> list[int]:
    """The widths to make for an image `width` pixels wide: never wider than it.

    An image narrower than the largest wanted width gets a copy at its own
    width instead, so every image has at least one rendition per format.
    """
    wanted = sorted(set(widths))
    chosen = [w for w in wanted if w < width]
    if not wanted or width <= wanted[-1]:
        chosen.append(width)
    return chosen


def open_image(data: bytes, *, max_pixels: int | None = None) -> Image.Image:
    """Decode bytes as an allowed image, or raise ImageRejected saying why.

    Pillow's own decompression-bomb check raises a warning between its limit
    and twice that; here the warning is an error. `max_pixels`
    (NEWSROOM_IMAGE_MAX_PIXELS) is the site's own, usually lower, limit, checked
    from the header before any pixel is decoded.
    """
    if max_pixels is None:
        max_pixels = settings.NEWSROOM_IMAGE_MAX_PIXELS
    try:
        with _warnings_lock, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise ImageRejected("pixels", f"decompression bomb refused: {error}") from None
    except UnidentifiedImageError:
        raise ImageRejected("format", "not a JPEG, PNG, GIF or WebP image") from None
    except (OSError, EOFError, ValueError, SyntaxError) as error:
        raise ImageRejected("damaged", f"damaged image: {error}") from None
    width, height = image.size
    if width * height > max_pixels:
        raise ImageRejected(
            "pixels",
            f"{width}×{height} is {width * height:,} pixels, over the {max_pixels:,} allowed",
        )
    try:
        # Decoding every pixel is what finds a truncated or corrupt file.
        image.load()
    except (OSError, EOFError, ValueError, SyntaxError) as error:
        raise ImageRejected(
            "damaged", f"damaged or truncated {image.format} image: {error}"
        ) from None
    return image


def process(
    data: bytes, *, widths: Iterable[int] | None = None, max_pixels: int | None = None
) -> ProcessedImage:
    """Check, clean and resize image bytes; raise ImageRejected if they are not usable.

    Animated GIF and WebP images keep their first frame.
    """
    source = open_image(data, max_pixels=max_pixels)
    if widths is None:
        widths = settings.NEWSROOM_IMAGE_WIDTHS
    try:
        upright = ImageOps.exif_transpose(source)
        pixels = _srgb(upright, source.info.get("icc_profile"))
        renditions = tuple(
            _rendition(pixels, width, kind)
            for width in rendition_widths(pixels.width, widths)
            for kind in RENDITION_FORMATS
        )
        original = _encode_original(upright, pixels, source.format)
    except (OSError, ValueError) as error:
        raise ImageRejected("damaged", f"cannot convert the image: {error}") from None
    return ProcessedImage(
        format=source.format,
        width=pixels.width,
        height=pixels.height,
        data=original,
        digest=hashlib.sha256(data).hexdigest(),
        renditions=renditions,
    )


def avatar(data: bytes, *, size: int = AVATAR_SIZE, max_pixels: int | None = None) -> bytes:
    """An author's picture: image bytes checked as `process()` checks them,
    turned upright, cut to the square at their centre, made `size` pixels
    square (never larger than the picture) and encoded as JPEG from the
    pixels alone; raise ImageRejected if they are not usable."""
    source = open_image(data, max_pixels=max_pixels)
    try:
        upright = ImageOps.exif_transpose(source)
        pixels = _flatten(_srgb(upright, source.info.get("icc_profile")))
        side = min(size, *pixels.size)
        square = ImageOps.fit(pixels, (side, side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        square.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    except (OSError, ValueError) as error:
        raise ImageRejected("damaged", f"cannot convert the image: {error}") from None
    return out.getvalue()


def _srgb(image: Image.Image, profile: bytes | None) -> Image.Image:
    """The pixels alone, in sRGB, as RGB or (with transparency) RGBA."""
    if profile and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            image = ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(profile)),
                _SRGB,
                outputMode="RGBA" if image.mode == "RGBA" else "RGB",
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            # A broken profile: the pixels as they are beat no image at all.
            logger.info("ignored an unreadable colour profile")
    transparent = "transparency" in image.info or image.mode in ("RGBA", "LA", "PA")
    image = image.convert("RGBA" if transparent else "RGB")
    # Pillow's encoders fall back to `info` for comments and colour profiles;
    # emptying it leaves nothing but pixels to write.
    image.info = {}
    return image


def _rendition(image: Image.Image, width: int, kind: str) -> Rendition:
    height = max(1, round(image.height * width / image.width))
    if width != image.width:
        image = image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    if kind == "webp":
        image.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    else:
        _flatten(image).save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return Rendition(width, height, kind, out.getvalue())


def _flatten(image: Image.Image) -> Image.Image:
    """An RGB image, transparent areas on white (JPEG has no transparency)."""
    if image.mode == "RGB":
        return image
    background = Image.new("RGB", image.size, "white")
    background.paste(image, mask=image.getchannel("A"))
    return background


def _encode_original(upright: Image.Image, pixels: Image.Image, source_format: str) -> bytes:
    """The full-size copy in its source format, holding nothing but pixels."""
    out = io.BytesIO()
    if source_format == "JPEG":
        _flatten(pixels).save(out, "JPEG", quality=ORIGINAL_QUALITY, optimize=True)
    elif source_format == "WEBP":
        pixels.save(out, "WEBP", quality=ORIGINAL_QUALITY, method=4)
    elif source_format == "GIF":
        # A GIF keeps its own palette rather than being quantised again.
        frame = upright.copy()
        keep = ("transparency",) if frame.mode == "P" else ()
        frame.info = {key: upright.info[key] for key in keep if key in upright.info}
        frame.save(out, "GIF")
    else:
        pixels.save(out, "PNG")
    return out.getvalue()


def save_image(figure, processed: ProcessedImage) -> list[str]:
    """Store a processed image and its renditions for a figure, in the figure's storage.

    Sets the figure's image, width, height and renditions (the caller saves
    the row) and returns the names of the files it stored. Names are made
    here, never taken from a client: the content's hash under the field's
    `upload_to` folder, renditions beside it (`…-480w.webp`), and the storage
    picks a free name rather than overwrite another file.
    """
    field_file = figure.image
    storage = field_file.storage
    stored: list[str] = []
    try:
        field_file.save(processed.filename, ContentFile(processed.data), save=False)
        stored.append(field_file.name)
        stem = posixpath.splitext(field_file.name)[0]
        renditions = []
        for rendition in processed.renditions:
            extension = RENDITION_EXTENSIONS[rendition.format]
            name = storage.save(
                f"{stem}-{rendition.width}w.{extension}", ContentFile(rendition.data)
            )
            stored.append(name)
            renditions.append(
                {
                    "name": name,
                    "width": rendition.width,
                    "height": rendition.height,
                    "format": rendition.format,
                }
            )
    except BaseException:
        delete_files(stored, storage)
        raise
    figure.width, figure.height = processed.width, processed.height
    figure.renditions = renditions
    figure.fetch_error = ""
    return stored


def file_names(figure) -> list[str]:
    """The names of every file stored for a figure: its image and renditions."""
    names = [figure.image.name] if figure.image else []
    return names + [rendition["name"] for rendition in figure.renditions or []]


def forget_image(figure) -> list[str]:
    """Clear a figure's local image fields; return the names of the files it had.

    The files are not deleted here: pass the names to `delete_files_on_commit`
    so that a rolled-back change keeps them.
    """
    names = file_names(figure)
    figure.image = None
    figure.width = figure.height = None
    figure.renditions = []
    figure.fetch_error = ""
    return names


def delete_files(names: Iterable[str], storage: Storage | None = None) -> None:
    storage = storage or default_storage
    for name in names:
        try:
            storage.delete(name)
        except OSError as error:
            logger.warning("could not delete %s: %s", name, error)


def delete_files_on_commit(names: Iterable[str], storage: Storage | None = None) -> None:
    """Delete files once the current transaction commits (never, if it rolls back)."""
    names = list(names)
    if names:
        # robust: a storage that fails to delete must not fail the commit.
        transaction.on_commit(partial(delete_files, names, storage), robust=True)
