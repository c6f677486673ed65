"""How fast images become renditions, and how many bytes the renditions save.

Generates photo-like JPEGs with Pillow (gradients, shapes and sensor-like noise,
at typical news sizes, mostly 2400×1600) and runs each through
`articles.images.process`: the work `fetch_figures` and an admin upload do for
every image — decode, turn upright, convert to sRGB, re-encode the full-size
copy without metadata, and make a WebP and a JPEG at each width of
NEWSROOM_IMAGE_WIDTHS. Then, in the same run:

1. renditions per second on one thread, and on two (the fetcher processes in
   its download threads; Pillow lets go of the GIL while it decodes, resizes
   and encodes);
2. the bytes of each rendition against the original it came from.

    .venv/bin/python bench/images_bench.py [--photos 24]
"""

import argparse
import io
import os
import random
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from PIL import Image, ImageDraw, ImageFilter  # noqa: E402

from articles.images import process  # noqa: E402

# (width, height, share of the photos): the archive's pictures are mostly
# 2400-pixel "large" JPEGs, with some smaller and some portrait ones.
SIZES = [((2400, 1600), 0.6), ((1600, 1067), 0.2), ((1200, 800), 0.1), ((1067, 1600), 0.1)]


def photo(width: int, height: int, rng: random.Random) -> bytes:
    """A JPEG (quality 90) that compresses like a photograph: smooth light, edges, grain."""
    channels = []
    for _ in range(3):
        gradient = Image.linear_gradient("L").rotate(rng.uniform(0, 360)).resize((width, height))
        channels.append(gradient)
    image = Image.merge("RGB", channels)
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randint(width // 40, width // 6)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(3))
    grain = Image.merge("RGB", [Image.effect_noise((width, height), 40)] * 3)
    image = Image.blend(image, grain, 0.12)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def photos(count: int) -> list[bytes]:
    rng = random.Random(20211207)
    sizes = [size for size, share in SIZES for _ in range(round(share * count))] or [SIZES[0][0]]
    return [photo(*sizes[i % len(sizes)], rng) for i in range(count)]


def timed(originals: list[bytes], threads: int):
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        processed = list(pool.map(process, originals))
    return processed, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=24)
    args = parser.parse_args()

    originals = photos(args.photos)
    total = sum(map(len, originals))
    shapes = defaultdict(int)
    for data in originals:
        shapes["×".join(map(str, Image.open(io.BytesIO(data)).size))] += 1
    print(
        f"{len(originals)} photos ({', '.join(f'{n} at {s}' for s, n in shapes.items())}), "
        f"{total / 1e6:.1f} MB of JPEG, {total / len(originals) / 1e3:.0f} KB each; "
        f"widths {settings.NEWSROOM_IMAGE_WIDTHS}"
    )
    process(originals[0])  # warm up: codecs loaded, caches filled

    for threads in (1, 2):
        processed, seconds = timed(originals, threads)
        made = sum(len(p.renditions) for p in processed)
        each = seconds / len(processed) * 1000
        print(
            f"{threads} thread{'s' if threads > 1 else ''}: {made} renditions of "
            f"{len(processed)} photos in {seconds:.1f} s: {made / seconds:.1f} renditions/s, "
            f"{len(processed) / seconds:.2f} photos/s ({each:.0f} ms each)"
        )

    sizes = defaultdict(list)  # (format, width) -> bytes as a share of the original
    masters = []
    for data, result in zip(originals, processed, strict=True):
        masters.append(len(result.data) / len(data))
        for rendition in result.renditions:
            width = rendition.width if rendition.width != result.width else "full"
            sizes[rendition.format, width].append(len(rendition.data) / len(data))
    print("\nbytes against the original, mean over the photos that have that width:")
    print(f"{'width':>6} {'WebP':>8} {'JPEG':>8}")
    for width in [*settings.NEWSROOM_IMAGE_WIDTHS, "full"]:
        row = [sizes.get((kind, width)) for kind in ("webp", "jpeg")]
        if any(row):
            cells = [f"{sum(r) / len(r):>7.1%}" if r else f"{'-':>8}" for r in row]
            print(f"{width:>6} {cells[0]} {cells[1]}")
    print(f"full-size copy, re-encoded without metadata: {sum(masters) / len(masters):.0%}")
    phone = sizes.get(("webp", 960), [])
    if phone:
        share = sum(phone) / len(phone)
        print(
            f"a phone at 2x (the 960-pixel WebP) downloads {share:.1%} of the original: "
            f"{1 - share:.1%} fewer bytes"
        )


if __name__ == "__main__":
    main()
