"""`{% figure_image figure sizes="…" %}`: a figure's picture in the right size.

With a local image, a `<picture>` offering the WebP renditions, and an `<img>`
with the JPEG ones as `srcset` for browsers without WebP; with only the
archived address, a plain `<img>` of it. Width and height are always given when
known, so the page does not move as pictures arrive. Everything comes from the
figure row (`Figure.renditions`): no query, no file is read or made here.
"""

from django import template

register = template.Library()

# The fallback `src`: the largest JPEG no wider than this (a phone's 2x screen).
FALLBACK_WIDTH = 960


@register.inclusion_tag("articles/_figure_image.html")
def figure_image(figure, sizes: str = "100vw", alt: str | None = None, loading: str = "lazy"):
    """The picture of `figure`; `alt=""` for a decorative one (the figure's alt text otherwise)."""
    context = {
        "alt": figure.alt if alt is None else alt,
        "sizes": sizes,
        "loading": loading,
        "width": figure.width,
        "height": figure.height,
        "src": figure.image_url,
        "srcset": "",
        "webp_srcset": "",
    }
    if not figure.image:
        return context
    storage = figure.image.storage
    by_format: dict[str, list[dict]] = {}
    for rendition in sorted(figure.renditions or [], key=lambda r: r["width"]):
        by_format.setdefault(rendition["format"], []).append(rendition)

    def srcset(renditions: list[dict]) -> str:
        return ", ".join(f"{storage.url(r['name'])} {r['width']}w" for r in renditions)

    jpegs = by_format.get("jpeg", [])
    fitting = [r for r in jpegs if r["width"] <= FALLBACK_WIDTH] or jpegs[:1]
    context.update(
        src=storage.url(fitting[-1]["name"]) if fitting else figure.image.url,
        srcset=srcset(jpegs),
        webp_srcset=srcset(by_format.get("webp", [])),
    )
    return context
