"""Properties that hold for any input, searched for with Hypothesis.

The seed parser: any bytes give a parsed article or a `SeedError` naming a line of
the file, never another exception. The sanitiser: no Markdown or HTML, however
built, comes out with an element that runs code, an event handler, an inline
style or a URL with a scheme that executes. The exporter: any article, as the
importer or an editor leaves it, is written to a file the parser reads back the
same.

Random bytes alone rarely get past a parser's first check, so most inputs here
start valid and are then damaged: valid seed files with bytes, YAML-looking
fragments, control characters and very long lines spliced in, and HTML built
from a grammar of the tags, attributes and URL spellings that browsers run.
"""

import datetime as dt
import re
import unicodedata
from html.parser import HTMLParser

from hypothesis import example, given
from hypothesis import strategies as st

from articles.captions import split_credit
from articles.exporter import format_seed, join_credit
from articles.markup import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    MARKERS,
    URL_SCHEMES,
    render_body,
    sanitize,
)
from articles.seeds import HONG_KONG as HK
from articles.seeds import SeedArticle, SeedError, SeedFigure, SeedVideo, parse_seed

from . import seedfiles
from .conftest import SAMPLE
from .seedfiles import figure_html, original_url, seed_text, video_shortcode, wayback

SAMPLE_BYTES = SAMPLE.read_bytes()

# --- The seed parser -------------------------------------------------------------

# Any character UTF-8 can carry: C0 and C1 controls, non-characters, CJK, emoji.
ANY_CHARACTER = st.characters(codec="utf-8")
TEXT = st.text(ANY_CHARACTER, max_size=30)
HOSTS = st.one_of(
    st.sampled_from(["www.hkcnews.com", "hkcnews.com", "web.archive.org", "[::1]", "例子.香港"]),
    st.text(st.sampled_from("ab.-:[]@%#?/＃／？＠\u2100 09"), max_size=12),
)
NUMBERS = st.one_of(
    st.integers(min_value=-10, max_value=2**40).map(str),
    st.sampled_from(["", "0", "007", "٤٨٦٩١", "9" * 5000]),
)
URLS = st.builds(
    "{}{}/article/{}/{}".format,
    st.sampled_from(["https://", "http://", "HTTPS://", "//", "", "ftp://", "javascript:"]),
    HOSTS,
    NUMBERS,
    TEXT,
)
DATES = st.one_of(st.dates().map(str), st.sampled_from(["", "2021-02-30", "20211207"]), TEXT)
TIMESTAMPS = st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1)).map(
    "{:%Y-%m-%d %H:%M:%S}".format
)
TIMES = st.one_of(st.none(), TIMESTAMPS, TEXT)
BODY_BLOCKS = st.one_of(
    TEXT,
    st.builds(figure_html, URLS, st.one_of(st.none(), TEXT), TEXT),
    st.builds(video_shortcode, URLS, st.booleans()),
    st.sampled_from(
        [
            "<figure>",
            "</figure>",
            "<figure><img src='x' alt=\"a > b\"><figcaption>說明",
            "{{< video",
            '{{< video src="" >}}',
            "{{< figure 1 >}}",
            "{{< tweet id=1 >}}",
            "[link](/web/20210412060643/https://hkcnews.com/x)",
            "| a | b |\n| --- | --- |\n| 1 | 2 |",
            "---",
            "# 標題",
        ]
    ),
)


PRINTABLE = st.text(st.characters(codec="utf-8", categories=["L", "M", "N", "P", "S", "Zs"]),
                    min_size=1, max_size=30)  # fmt: skip


@st.composite
def valid_seed_files(draw) -> bytes:
    """A seed file the parser accepts: archive-shaped values, some of them odd."""
    number = draw(st.integers(1, 2**31 - 1))
    text = seed_text(
        number,
        title=draw(PRINTABLE),
        date=draw(st.one_of(st.dates().map(str), st.just(""))),
        last_updated=draw(st.one_of(st.none(), TIMESTAMPS)),
        author=draw(st.one_of(st.just(""), PRINTABLE)),
        category=draw(st.one_of(st.none(), PRINTABLE)),
        tags=draw(st.lists(PRINTABLE, max_size=5)),
        original=original_url(number, draw(st.sampled_from(["", "slug", "標題"]))),
        body="\n\n".join(draw(st.lists(BODY_BLOCKS, min_size=1, max_size=6))),
        heading=draw(st.booleans()),
    )
    return text.encode("utf-8")


@st.composite
def seed_files(draw) -> bytes:
    """A seed file in the archive's format, with any values in it."""
    text = seed_text(
        title=draw(TEXT),
        date=draw(DATES),
        last_updated=draw(TIMES),
        author=draw(TEXT),
        category=draw(st.one_of(st.none(), TEXT)),
        tags=draw(st.lists(TEXT, max_size=5)),
        url=draw(st.one_of(st.none(), URLS)),
        original=draw(st.one_of(st.none(), URLS)),
        body="\n\n".join(draw(st.lists(BODY_BLOCKS, max_size=6))),
        heading=draw(st.booleans()),
        newline=draw(st.sampled_from(["\n", "\r\n", "\r"])),
    )
    return text.encode("utf-8")


YAML_FRAGMENTS = [
    "&a ", "*a", "<<: *a", "!!python/object/apply:os.system ['id']", "!custom ", "!!str ",
    "? ", "- ", ": ", ":", "{", "}", "[", "]", "|", ">-", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n",
    "---", "--- x", "...", '"', "'", "\\", "\\x03", "\\u0000", "# ", "\t", "~", "null", "\n",
    "\n  - ", "\ntags:\n  - ", "\ntitle: x", "\noriginal_url: ", "\n---\n", " #", "@", "`",
]  # fmt: skip
TEXT_FRAGMENTS = st.one_of(
    st.sampled_from(YAML_FRAGMENTS),
    TEXT,
    st.sampled_from(["\r", "\r\n", "\x85", "\u2028", "\ufeff", "\x00", "\x1c"]),
    st.sampled_from(["<figure>", "</figure>", "<figcaption>", "<img src=", "{{< video ", ">}}"]),
    # Very long lines.
    st.integers(1_000, 200_000).map("x".__mul__),
    st.integers(100, 20_000).map("長".__mul__),
)
BYTE_FRAGMENTS = st.one_of(
    st.binary(max_size=12),
    # Bytes that are not UTF-8: a stray byte, a cut sequence, an encoded surrogate.
    st.sampled_from([b"\xff", b"\xc3", b"\xe7\x9c", b"\xed\xa0\x80", b"\xef\xbb\xbf"]),
)


@st.composite
def damaged_seed_files(draw) -> bytes:
    """A valid seed file (the sample, or one made to order) with damage spliced in:
    mostly text, in the front matter or the body, and now and then raw bytes."""
    text = draw(st.one_of(st.just(SAMPLE_BYTES), valid_seed_files())).decode("utf-8")
    for _ in range(draw(st.integers(1, 4))):
        front_matter_end = text.find("\n---", 3) + 1 or len(text)
        low, high = draw(st.sampled_from([(4, front_matter_end), (front_matter_end, len(text))]))
        start = draw(st.integers(min(low, high), high))
        stop = draw(st.integers(start, min(start + 40, len(text))))
        action = draw(st.sampled_from(["insert", "replace", "delete"]))
        fragment = "" if action == "delete" else draw(TEXT_FRAGMENTS)
        text = text[:start] + fragment + text[stop if action != "insert" else start :]
    data = text.encode("utf-8")
    if draw(st.integers(0, 4)) == 0:
        where = draw(st.integers(0, len(data)))
        data = data[:where] + draw(BYTE_FRAGMENTS) + data[where:]
    return data


def line_count(data: bytes) -> int:
    return len(re.split(rb"\r\n|\r|\n", data))


def check_parse(data: bytes) -> SeedArticle | SeedError:
    """Parse; a seed error must name a line of the file. Any other exception fails."""
    try:
        seed = parse_seed(data)
    except SeedError as error:
        assert error.text.strip()
        assert 1 <= error.line <= line_count(data) + 1, (error.line, error.text)
        return error
    assert 0 < seed.number < 2**31
    assert [f.position for f in seed.figures] == list(range(1, len(seed.figures) + 1))
    assert [v.position for v in seed.videos] == list(range(1, len(seed.videos) + 1))
    assert all(1 <= message.line <= line_count(data) + 1 for message in seed.warnings)
    return seed


@given(st.binary(max_size=2_000))
def test_arbitrary_bytes_parse_or_give_a_seed_error(data):
    check_parse(data)


@given(st.binary(max_size=2_000).map(lambda tail: b"---\n" + tail))
def test_bytes_after_an_opening_line_parse_or_give_a_seed_error(data):
    check_parse(data)


@given(seed_files())
@example(seed_text(original="https://[hkcnews.com/article/1/x").encode())
@example(seed_text(url="https://www.hkcnews.com＃/article/1/x").encode())
@example(seed_text(original="https://hkcnews.com/article/" + "9" * 5000).encode())
def test_seed_files_with_any_values_parse_or_give_a_seed_error(data):
    check_parse(data)


@given(damaged_seed_files())
def test_damaged_seed_files_parse_or_give_a_seed_error(data):
    check_parse(data)


def test_the_damage_reaches_past_the_first_checks():
    """The strategies are worth running: the damaged files are sometimes still
    articles and sometimes refused, for more than one reason."""
    results = []

    @given(damaged_seed_files())
    def collect(data):
        results.append(check_parse(data))

    collect()
    errors = {re.sub(r"['\"].*", "", r.text)[:25] for r in results if isinstance(r, SeedError)}
    assert sum(isinstance(r, SeedArticle) for r in results) >= len(results) // 5
    assert len(errors) >= 8


# --- The sanitiser ---------------------------------------------------------------

# Elements that run code, load other documents or take input.
RUNS_CODE = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math", "style",
    "link", "meta", "base", "form", "input", "button", "textarea", "select", "template",
    "noscript", "xmp", "plaintext", "noembed", "video", "audio", "source", "portal", "body",
}  # fmt: skip
EXECUTABLE_SCHEMES = {"javascript", "vbscript", "data"}
# Attributes whose value is text, never followed as a URL.
TEXT_ATTRIBUTES = {"title", "alt", "width", "height", "align", "colspan", "rowspan", "scope",
                   "start", "loading", "rel", "lang"}  # fmt: skip
# What the sanitiser adds of its own accord, and what nh3 allows on every
# element unless told otherwise (both plain text).
ADDED_ATTRIBUTES = {"a": {"rel"}, "img": {"loading"}}
GENERIC_ATTRIBUTES = {"lang", "title"}
C0_AND_SPACE = "".join(map(chr, range(0x21)))


def url_scheme(value: str) -> str:
    """The scheme a browser reads from a URL attribute (WHATWG URL parsing): C0
    controls and spaces around it stripped, tabs and newlines inside removed."""
    value = re.sub("[\t\n\r]", "", value).strip(C0_AND_SPACE)
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.\-]*):", value)
    return match.group(1).lower() if match else ""


class _Inspector(HTMLParser):
    """Reads HTML as a parser does (character references decoded) and lists what
    would run in a browser, and anything the allowlist does not name."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.dangers: list[str] = []
        self.unlisted: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in RUNS_CODE:
            self.dangers.append(f"<{tag}>")
        if tag not in ALLOWED_TAGS:
            self.unlisted.append(f"<{tag}>")
        allowed = (
            ALLOWED_ATTRIBUTES.get(tag, set())
            | ADDED_ATTRIBUTES.get(tag, set())
            | GENERIC_ATTRIBUTES
        )
        for name, value in attrs:
            if name.startswith("on"):
                self.dangers.append(f"<{tag} {name}>")
            elif name == "style":
                self.dangers.append(f"<{tag} style>")
            elif name not in TEXT_ATTRIBUTES and url_scheme(value or "") in EXECUTABLE_SCHEMES:
                self.dangers.append(f"<{tag} {name}={value[:30]!r}>")
            if name not in allowed:
                self.unlisted.append(f"<{tag} {name}>")
            elif name in ("href", "src") and url_scheme(value or "") not in URL_SCHEMES | {""}:
                self.unlisted.append(f"<{tag} {name}={value[:30]!r}>")

    handle_startendtag = handle_starttag

    def handle_comment(self, data):
        if not MARKERS.fullmatch(f"<!--{data}-->"):
            self.unlisted.append(f"<!--{data[:30]}-->")

    def handle_pi(self, data):
        self.unlisted.append(f"<?{data[:30]}>")

    def handle_decl(self, decl):
        self.unlisted.append(f"<!{decl[:30]}>")

    unknown_decl = handle_decl


def inspect(html: str) -> _Inspector:
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector


TAG_NAMES = st.sampled_from(
    [*sorted(RUNS_CODE), "a", "img", "p", "div", "span", "figure", "figcaption", "table", "td", "details",
       "marquee", "title", "isindex", "keygen", "animate", "set", "use", "image",
       "foreignObject", "annotation-xml", "mglyph", "malignmark", "ScRiPt", "IMG", "A"]
)  # fmt: skip
EVENT_HANDLERS = st.sampled_from(
    ["onerror", "onload", "onclick", "ONMOUSEOVER", "onfocus", "ontoggle", "onbegin", "onstart",
     "onanimationstart", "onpointerenter", "on", "onx"]
)  # fmt: skip
URL_ATTRIBUTE_NAMES = st.sampled_from(
    ["href", "src", "HREF", "action", "formaction", "xlink:href", "data", "poster", "background",
     "srcdoc", "srcset", "lowsrc", "dynsrc", "ping", "cite", "to", "values", "from", "by"]
)  # fmt: skip
OTHER_ATTRIBUTE_NAMES = st.sampled_from(
    ["style", "title", "alt", "width", "align", "colspan", "id", "class", "name", "content",
     "http-equiv", "attributeName", "rel", "target", "open", "autofocus", "is"]
)  # fmt: skip
SCHEME_SPELLINGS = st.sampled_from(
    ["javascript:", "JaVaScRiPt:", "java\tscript:", "java\nscript:", "java\rscript:",
     "  javascript:", "\x01javascript:", "\x00javascript:", "&#106;avascript:",
     "&#x6A;avascript:", "&#X6a;avascript:", "&#0000106;avascript:", "&#106avascript:",
     "jav&#x09;ascript:", "jav&Tab;ascript:", "jav&NewLine;ascript:", "javascript&colon;",
     "javascript&#58;", "javascript&#x3a;", "vbscript:", "VBScript:", "data:text/html,",
     "data:text/html;base64,", "DATA:image/svg+xml,", "livescript:", "%6Aavascript:",
     "\u200bjavascript:", "javascript\x00:", "https:", "http://ok.example/", "/relative",
     "#top", "mailto:x@y.example?", "//evil.example/", ""]
)  # fmt: skip
PAYLOADS = st.sampled_from(
    ["alert(1)", "alert`1`", "eval(atob('YWxlcnQoMSk='))", "<script>alert(1)</script>",
     "%0aalert(1)", "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", ""]
)  # fmt: skip
URL_VALUES = st.builds("{}{}".format, SCHEME_SPELLINGS, PAYLOADS)


@st.composite
def attributes(draw) -> str:
    kind = draw(st.sampled_from(["event", "url", "other"]))
    if kind == "event":
        name, value = draw(EVENT_HANDLERS), draw(PAYLOADS)
    elif kind == "url":
        name, value = draw(URL_ATTRIBUTE_NAMES), draw(URL_VALUES)
    else:
        name, value = draw(OTHER_ATTRIBUTE_NAMES), draw(st.one_of(URL_VALUES, TEXT))
    separator = draw(st.sampled_from([" ", "/", "\n", "\t", "  "]))
    quoting = draw(st.sampled_from(['"', "'", "", "unclosed", "bare"]))
    if quoting == "bare":
        return f"{separator}{name}"
    if quoting == "unclosed":
        return f'{separator}{name}="{value}'
    return f"{separator}{name}={quoting}{value}{quoting}"


@st.composite
def elements(draw, children: st.SearchStrategy[str]) -> str:
    tag = draw(TAG_NAMES)
    attrs = "".join(draw(st.lists(attributes(), max_size=3)))
    inner = "".join(draw(st.lists(children, max_size=3)))
    form = draw(st.sampled_from(["closed", "open", "self-closing", "stray-close", "broken"]))
    if form == "open":
        return f"<{tag}{attrs}>{inner}"
    if form == "self-closing":
        return f"<{tag}{attrs}/>{inner}"
    if form == "stray-close":
        return f"</{tag}{attrs}>{inner}"
    if form == "broken":
        return f"<{tag}{attrs}{inner}"
    return f"<{tag}{attrs}>{inner}</{tag}>"


def markdown_around(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Markdown constructs holding other fragments, and Markdown's own links."""
    return st.one_of(
        st.builds("[{}]({})".format, children, URL_VALUES),
        st.builds("![{}]({})".format, children, URL_VALUES),
        st.builds('[{}]({} "{}")'.format, children, URL_VALUES, children),
        st.builds("<{}>".format, URL_VALUES),
        st.builds("[{}][r]\n\n[r]: {}".format, children, URL_VALUES),
        st.builds("\n\n> {}\n\n".format, children),
        st.builds("\n\n- {}\n- {}\n\n".format, children, children),
        st.builds("\n\n| {} | b |\n| --- | --- |\n| {} | 2 |\n\n".format, children, children),
        st.builds("\n\n### {}\n\n".format, children),
        st.builds("`{}`".format, children),
        st.builds("\n\n    {}\n\n".format, children),
        st.builds("**{}**".format, children),
        st.builds("\n\n{}\n\n".format, children),
    )


LEAVES = st.one_of(
    TEXT,
    st.sampled_from(
        ["<!--", "-->", "<!-->", "<!--figure:1-->", "<![CDATA[", "]]>", "<?php ?>", "<!DOCTYPE x>",
         "</", "<", ">", "&", "&lt;script&gt;", "&#60;script&#62;", "\x00", "{{< figure 1 >}}",
         "\n\n{{< video 2 >}}\n\n", "alert(1)", "\n", "\n\n"]
    ),
)  # fmt: skip
DOCUMENTS = st.recursive(
    LEAVES,
    lambda children: st.one_of(elements(children), markdown_around(children)),
    max_leaves=12,
)
EXAMPLE_ATTACKS = [
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "[x](javascript&colon;alert(1))",
    "<javascript:alert(1)>",
    "[x]: javascript:alert(1)\n\n[y][x]",
]


@given(DOCUMENTS)
@example(EXAMPLE_ATTACKS[0])
@example(EXAMPLE_ATTACKS[1])
@example(EXAMPLE_ATTACKS[2])
@example(EXAMPLE_ATTACKS[3])
@example(EXAMPLE_ATTACKS[4])
@example(EXAMPLE_ATTACKS[5])
@example(EXAMPLE_ATTACKS[6])
@example('<figure onerror="alert(1)" title="javascript:alert(1)" lang="x"></figure>')
def test_rendered_bodies_never_carry_code(document):
    found = inspect(render_body(document))
    assert found.dangers == []
    assert found.unlisted == []


@given(DOCUMENTS)
def test_sanitized_html_never_carries_code(document):
    found = inspect(sanitize(document))
    assert found.dangers == []
    assert found.unlisted == []


def test_the_grammar_builds_what_the_check_catches():
    """The check must be able to fail: the raw documents are often dangerous."""
    raw = []

    @given(DOCUMENTS)
    def collect(document):
        raw.append(inspect(document))

    collect()
    assert sum(bool(found.dangers) for found in raw) >= len(raw) // 4
    assert all(inspect(EXAMPLE_ATTACKS[n]).dangers for n in (0, 2, 3))


def test_url_scheme_reads_like_a_browser():
    assert url_scheme(" \x01java\tscr\nipt:alert(1)") == "javascript"
    assert url_scheme("JAVASCRIPT:x") == "javascript"
    assert url_scheme("%6Aavascript:x") == ""
    assert url_scheme("/web/1/https://x") == ""
    assert url_scheme(wayback(original_url(1))) == "https"


# --- The exporter writes what the parser reads back --------------------------------

# Values as a form or the importer leaves them: stripped, no control characters.
VALUES = PRINTABLE.map(lambda text: WHITESPACE.sub(" ", text).strip()).filter(bool)
CREDIT_NAMES = st.one_of(st.sampled_from(seedfiles.CREDITS), st.sampled_from(["攝", "提供", "圖"]))
CAPTION_TEXTS = st.one_of(
    st.builds(
        "{}{}{}".format,
        PRINTABLE,
        st.sampled_from(["", "。", " ", "，", "）", "」", "|", "\u3000"]),
        CREDIT_NAMES,
    ),
    st.builds("{}（{}）".format, PRINTABLE, CREDIT_NAMES),
    st.builds("{}({})".format, PRINTABLE, CREDIT_NAMES),
    PRINTABLE,
)
WHITESPACE = re.compile(r"\s+")


def split_caption(text: str) -> tuple[str, str]:
    """A caption as the parser reads it from a seed file."""
    return split_credit(WHITESPACE.sub(" ", text).strip())


@given(CAPTION_TEXTS)
@example("示威者在旺角聚集 何君健攝")
@example("A。B（C攝）")
def test_a_split_caption_is_rejoined_into_the_same_two(text):
    caption, credit = split_caption(text)
    assert split_caption(join_credit(caption, credit)) == (caption, credit)


PARAGRAPHS = VALUES.filter(lambda text: not re.search(r"<figure|\{\{<|/web/", text, re.I))
ADDRESSES = st.text(st.sampled_from("abc/._-~%20中文"), min_size=1, max_size=20).map(
    "https://www.hkcnews.com/{}".format
)


@st.composite
def exportable_seeds(draw) -> SeedArticle:
    """An article as the importer or an editor leaves it."""
    number = draw(st.integers(1, 2**31 - 1))
    blocks = draw(st.lists(st.sampled_from(["text", "figure", "video"]), max_size=8))
    figures, videos, body = [], [], []
    for block in blocks:
        if block == "figure":
            caption, credit = split_caption(draw(CAPTION_TEXTS))
            image = draw(st.one_of(st.just(""), ADDRESSES.map(lambda a: wayback(a, kind="im_"))))
            alt = draw(st.one_of(st.just(""), VALUES))
            figures.append(SeedFigure(len(figures) + 1, 0, image, "", alt, caption, credit))
            body.append(f"{{{{< figure {len(figures)} >}}}}")
        elif block == "video":
            address = draw(st.one_of(st.sampled_from(seedfiles.VIDEO_TARGETS), ADDRESSES))
            archived = wayback(address, kind="if_")
            videos.append(SeedVideo(len(videos) + 1, 0, archived, address))
            body.append(f"{{{{< video {len(videos)} >}}}}")
        else:
            body.append(draw(PARAGRAPHS))
    tags = []
    for tag in draw(st.lists(VALUES.map(lambda t: unicodedata.normalize("NFC", t)), max_size=6)):
        if tag.casefold() not in {t.casefold() for t in tags}:
            tags.append(tag)
    moment = st.datetimes(dt.datetime(1980, 1, 1), dt.datetime(2100, 1, 1), timezones=st.just(HK))
    return SeedArticle(
        number=number,
        title=draw(VALUES),
        original_url=original_url(number, draw(st.sampled_from(["", "slug", "標題"]))),
        date=draw(st.one_of(st.none(), st.dates(dt.date(1900, 1, 1)))),
        last_updated=draw(st.one_of(st.none(), moment.map(lambda t: t.replace(microsecond=0)))),
        author=draw(st.one_of(st.just(""), VALUES)),
        category=draw(st.one_of(st.just(""), VALUES)),
        tags=tags,
        url=draw(st.one_of(st.just(""), st.just(wayback(original_url(number))))),
        body="\n\n".join(body),
        figures=figures,
        videos=videos,
    )


@given(exportable_seeds())
def test_exported_files_parse_back_to_the_same_article(seed):
    warnings = []
    parsed = parse_seed(format_seed(seed, warnings).encode("utf-8"))
    assert warnings == []
    fields = ("number", "title", "original_url", "date", "last_updated", "author", "category",
              "tags", "url", "body")  # fmt: skip
    assert [getattr(parsed, name) for name in fields] == [getattr(seed, name) for name in fields]
    assert [(f.image_url, f.alt, f.caption, f.credit) for f in parsed.figures] == [
        (f.image_url, f.alt, f.caption, f.credit) for f in seed.figures
    ]
    assert [(v.archived_url, v.url) for v in parsed.videos] == [
        (v.archived_url, v.url) for v in seed.videos
    ]
    # A figure without an image is one still, as it was in its file.
    assert all(w.text.endswith("has no image") for w in parsed.warnings)
