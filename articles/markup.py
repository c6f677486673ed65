"""Article bodies: Markdown in, sanitised HTML out.

This is the one place that decides which HTML a reader's browser receives from
an article body. Bodies are Markdown with raw HTML (as in the archive), so the
rendered HTML is always passed through an allowlist sanitiser: no script, no
event handlers, no `javascript:` or `data:` URLs, no frames, styles or forms.

A body refers to its article's figures and videos with lines such as
`{{< figure 2 >}}`; the rendered HTML keeps each as a marker comment
(`<!--figure:2-->`) that the page fills in with the current figure, so an edited
caption shows without rendering the body again.
"""

import html
import re
import threading
from dataclasses import dataclass
from xml.etree import ElementTree as etree

import markdown
import nh3
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dl",
    "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "strong",
    "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}

MARKER = "<!--{kind}:{position}-->"
MARKERS = re.compile(r"<!--(?P<kind>figure|video):(?P<position>\d+)-->")
RENDERED_REFERENCE = re.compile(
    r"<p>\{\{&lt;\s*(?P<kind>figure|video)\s+(?P<position>\d+)\s*&gt;\}\}</p>"
)
TAGS = re.compile(r"<[^>]*>")
# Where a block ends, words end; inline tags sit inside a word.
BREAKS = re.compile(
    r"</(?:p|h[1-6]|li|td|th|blockquote|pre|figcaption|dd|dt)>|<br\s*/?>|<!--[^>]*-->"
)
WHITESPACE = re.compile(r"\s+")
EXCERPT_LENGTH = 120

_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
    clean_content_tags={"script", "style", "template", "noscript", "xmp", "textarea", "title"},
    # One attribute only: nh3 adds several in no fixed order, and a rendering
    # must be the same every time for re-imports to see that nothing changed.
    set_tag_attribute_values={"img": {"loading": "lazy"}},
)
_local = threading.local()


# Every inline pattern Python-Markdown applies needs one of these to match:
# code, escapes, links and images, raw HTML and autolinks, entities, emphasis,
# and the two-space line break.
INLINE_SYNTAX = re.compile(r"[`\\\[<&*_]|  \n")


class PlainTextShortcut(Treeprocessor):
    """Mark text without inline syntax as final, so inline patterns skip it.

    Most of an archive body is Chinese prose with no Markdown inline syntax at
    all, and trying each of the inline patterns on it is half the cost of a
    conversion. Text marked as an `AtomicString` (the documented way to say
    "not to be processed") renders exactly as before.
    """

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            if element.text and not INLINE_SYNTAX.search(element.text):
                element.text = AtomicString(element.text)
            if element.tail and not INLINE_SYNTAX.search(element.tail):
                element.tail = AtomicString(element.tail)


def _markdown() -> markdown.Markdown:
    # Building a Markdown instance costs more than converting a short body, so
    # each thread keeps one and resets it between conversions.
    converter = getattr(_local, "markdown", None)
    if converter is None:
        converter = _local.markdown = markdown.Markdown(
            extensions=["tables", "sane_lists"],
            extension_configs={"tables": {"use_align_attribute": True}},
            output_format="html",
        )
        # Just before the inline patterns (priority 20) run.
        converter.treeprocessors.register(PlainTextShortcut(converter), "plain_text", 21)
    return converter.reset()


class MarkupError(ValueError):
    """A body that cannot be rendered."""


def sanitize(fragment: str) -> str:
    """Clean an HTML fragment down to the tags and attributes articles may use."""
    return _cleaner.clean(fragment)


def render_body(body: str) -> str:
    """Render a Markdown body to sanitised HTML with figure and video markers.

    Raises `MarkupError` for a body Python-Markdown cannot take apart.
    """
    try:
        converted = _markdown().convert(body)
    except RecursionError:
        # Python-Markdown parses a nested list by recursion, a few frames a
        # level: a list nested some 250 levels deep exhausts Python's stack.
        # The converter is left mid-parse (its block parser's state stack is
        # not unwound, and reset() does not clear it): kept, it would escape
        # the raw HTML of every later body in this thread. A new one is built.
        _local.markdown = None
        raise MarkupError("the body is nested too deeply to render") from None
    rendered = sanitize(converted).strip()
    return RENDERED_REFERENCE.sub(
        lambda m: MARKER.format(kind=m["kind"], position=int(m["position"])), rendered
    )


def plain_text(body_html: str) -> str:
    """A rendered body as plain text: tags and markers dropped, entities decoded."""
    return html.unescape(TAGS.sub("", BREAKS.sub(" ", body_html)))


def excerpt(body_html: str, length: int = EXCERPT_LENGTH) -> str:
    """The first words of a rendered body as plain text."""
    text = TAGS.sub("", BREAKS.sub(" ", body_html))
    text = WHITESPACE.sub(" ", html.unescape(text)).strip()
    if len(text) <= length:
        return text
    return text[: length - 1].rstrip() + "…"


@dataclass(frozen=True)
class Part:
    """A piece of a rendered body: sanitised HTML, or a reference to a figure or video."""

    html: str = ""
    kind: str = ""
    position: int = 0


def split_body(body_html: str) -> list[Part]:
    """Cut rendered HTML at its markers, for a page to put figures and videos in."""
    parts: list[Part] = []
    end = 0
    for match in MARKERS.finditer(body_html):
        if match.start() > end:
            parts.append(Part(html=body_html[end : match.start()]))
        parts.append(Part(kind=match["kind"], position=int(match["position"])))
        end = match.end()
    if end < len(body_html):
        parts.append(Part(html=body_html[end:]))
    return parts
