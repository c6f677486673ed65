"""Images made in memory with Pillow: good ones, and the bad shapes the web serves."""

import io
import struct
import zlib

from PIL import ExifTags, Image
from PIL.PngImagePlugin import PngInfo

RED = (255, 0, 0)
SECRET = b"secret-metadata"


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def marked(size=(1200, 800), mode="RGB", background=(40, 90, 160)) -> Image.Image:
    """A picture with a red block in its top-left corner, to tell which way is up."""
    image = Image.new(mode, size, background if mode == "RGB" else (*background, 255))
    image.paste(RED if mode == "RGB" else (*RED, 255), (0, 0, size[0] // 6, size[1] // 6))
    return image


def jpeg(size=(1200, 800), **options) -> bytes:
    return encode(marked(size), "JPEG", quality=90, **options)


def jpeg_rotated_with_gps(size=(1200, 800)) -> bytes:
    """A JPEG stored sideways with EXIF orientation 6 (turn 90° clockwise to view),
    a GPS position, a camera make and a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = SECRET.decode()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (22.0, 17.0, 0.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (114.0, 10.0, 0.0)
    return encode(marked(size), "JPEG", quality=90, exif=exif, comment=SECRET)


def png(size=(800, 600)) -> bytes:
    """A PNG with transparency and a text chunk."""
    info = PngInfo()
    info.add_text("Author", SECRET.decode())
    image = marked(size, mode="RGBA")
    image.paste((0, 0, 0, 0), (size[0] // 2, 0, size[0], size[1]))
    return encode(image, "PNG", pnginfo=info)


def gif(size=(640, 480)) -> bytes:
    return encode(marked(size).convert("P"), "GIF", comment=SECRET)


def webp(size=(1000, 700)) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = SECRET.decode()
    return encode(marked(size), "WEBP", quality=85, exif=exif)


def truncated_jpeg() -> bytes:
    data = jpeg()
    return data[: len(data) // 2]


def bomb_png(width=50_000, height=50_000) -> bytes:
    """A tiny PNG whose header claims billions of pixels: a decompression bomb."""
    data = bytearray(encode(Image.new("1", (1, 1)), "PNG"))
    # IHDR is the first chunk: length (4), type (4), width, height, ..., CRC.
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


HTML = b"<!doctype html><html><head><title>Wayback Machine</title></head><body>Hrm.</body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)
