"""Parse seed files — Markdown with YAML front matter — into plain data.

Nothing here touches the database: `parse_seed` turns bytes into a `SeedArticle`
or raises `SeedError`, and every problem it finds carries the line of the file it
was found on. The importer decides what to do with the result.
"""

import datetime as dt
import html
import html.entities
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import yaml

from .captions import split_credit
from .wayback import unwrap_archive_url

HONG_KONG = ZoneInfo("Asia/Hong_Kong")
DEFAULT_NUMBER_PATTERN = r"/article/(?P<number>\d+)(?:/|$)"
DEFAULT_MAX_BYTES = 2 * 1024 * 1024

# The keys of a seed's front matter, in the order the archive writes them.
KEYS = ("title", "date", "last_updated", "author", "category", "tags", "url", "original_url")
REQUIRED_KEYS = ("title", "original_url")

# Characters YAML refuses and no reader wants: C0 controls but tab and newline,
# DEL, C1 controls and the two non-characters.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
CYRILLIC = re.compile("[\u0400-\u04ff]")
CJK = re.compile("[\u3400-\u9fff]")
# Code pages that turn UTF-8 Chinese into the Cyrillic seen in the archive.
MOJIBAKE_CODECS = ("ptcp154", "cp1251")

# None of these patterns scans past the start of another element of its kind
# (nor, inside a tag, past a "<"), so a file of thousands of unclosed
# "<figure>" or "{{< video" costs a pass over it, not one pass per opening.
FIGURE_BLOCK = re.compile(
    r"<figure\b[^<>]*>(?P<inner>(?:(?!<figure\b).)*?)</figure\s*>", re.IGNORECASE | re.DOTALL
)
IMG_TAG = re.compile(r"""<img\b(?P<attrs>(?:"[^"<]*"|'[^'<]*'|[^'"<>])*)>""", re.IGNORECASE)
FIGCAPTION = re.compile(
    r"<figcaption\b[^<>]*>(?P<caption>(?:(?!<figcaption\b).)*?)</figcaption\s*>",
    re.IGNORECASE | re.DOTALL,
)
HTML_ATTRIBUTE = re.compile(
    r"""(?P<name>[a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'=<>`]+))"""
)
HTML_TAG = re.compile(r"<[^<>]*>")
UNTERMINATED_REFERENCE = re.compile(r"&([A-Za-z][A-Za-z0-9]*)(?![A-Za-z0-9;])")
WEB_ADDRESS = re.compile(r"^(?:https?:)?//[^\s/]", re.IGNORECASE)
SHORTCODE = r"\{\{<\s*(?P<name>[\w-]+)(?P<attrs>(?:(?!\{\{<).)*?)/?\s*>\}\}"
# Figures and shortcodes in one pass, so each match's offset is in the original body.
EMBED = re.compile(rf"{FIGURE_BLOCK.pattern}|{SHORTCODE}", re.IGNORECASE | re.DOTALL)
# Links the Wayback Machine rewrote to be relative to itself.
WAYBACK_RELATIVE = re.compile(
    r"""(?P<prefix>\]\(\s*<?|(?:href|src)\s*=\s*["']?)/web/(?P<stamp>\d{1,14}(?:[a-z]{2}_)?)/"""
)
BLANK_LINES = re.compile(r"\n{3,}")
WHITESPACE = re.compile(r"\s+")

# How the body refers to the n-th figure or video of its article.
REFERENCE = "{{{{< {kind} {position} >}}}}"
REFERENCE_LINE = re.compile(r"^\{\{<\s*(?P<kind>figure|video)\s+(?P<position>\d+)\s*>\}\}$", re.M)


class SeedError(Exception):
    """A problem that stops a seed file from being imported."""

    def __init__(self, line: int, text: str):
        super().__init__(f"line {line}: {text}")
        self.line = line
        self.text = text


@dataclass(frozen=True)
class Message:
    level: str  # "error" or "warning"
    line: int
    text: str


@dataclass
class SeedFigure:
    position: int
    line: int
    image_url: str
    original_image_url: str
    alt: str
    caption: str
    credit: str


@dataclass
class SeedVideo:
    position: int
    line: int
    archived_url: str
    url: str


@dataclass
class SeedArticle:
    number: int
    title: str
    original_url: str
    date: dt.date | None = None
    last_updated: dt.datetime | None = None
    author: str = ""
    category: str = ""
    tags: list[str] = field(default_factory=list)
    url: str = ""
    body: str = ""
    figures: list[SeedFigure] = field(default_factory=list)
    videos: list[SeedVideo] = field(default_factory=list)
    # Where each front matter key stands in the file, and where the body
    # starts, for messages about them.
    lines: dict[str, int] = field(default_factory=dict)
    body_line: int = 1
    warnings: list[Message] = field(default_factory=list)

    @property
    def is_failed_capture(self) -> bool:
        """A capture of an error page rather than of an article.

        The archive holds hundreds: the shutdown notice, "Temporarily Offline",
        empty titles. None has a date, a byline or a body.
        """
        return self.date is None and not self.author and not self.body.strip()

    def line_of(self, key: str) -> int:
        return self.lines.get(key, 1)


def read_seed(
    path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, number_pattern: str = DEFAULT_NUMBER_PATTERN
) -> SeedArticle:
    """Read and parse one seed file, refusing oversized files before reading them."""
    size = path.stat().st_size
    if size > max_bytes:
        raise SeedError(1, f"file is {size:,} bytes, over the {max_bytes:,}-byte limit")
    return parse_seed(path.read_bytes(), max_bytes=max_bytes, number_pattern=number_pattern)


def parse_seed(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, number_pattern: str = DEFAULT_NUMBER_PATTERN
) -> SeedArticle:
    """Parse the bytes of one seed file. Raises `SeedError` naming the line."""
    if len(data) > max_bytes:
        raise SeedError(1, f"file is {len(data):,} bytes, over the {max_bytes:,}-byte limit")
    warnings: list[Message] = []
    lines = _decode(data, warnings)
    if not lines or lines[0].strip() != "---":
        raise SeedError(1, "no front matter: a seed file starts with a line '---'")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "..."))
    except StopIteration:
        raise SeedError(1, "front matter opened on line 1 is never closed with '---'") from None

    values, key_lines = _read_front_matter("\n".join(lines[1:end]), first_line=2)
    for key in REQUIRED_KEYS:
        if key not in values:
            raise SeedError(2, f"front matter has no '{key}'")
    for key in values.keys() - set(KEYS):
        warnings.append(Message("warning", key_lines[key], f"unknown key '{key}' ignored"))

    def text(key: str) -> str:
        value = values.get(key, "")
        if not isinstance(value, str):
            raise SeedError(key_lines[key], f"'{key}' must be a string, not a list")
        return value.strip()

    title = text("title")
    original_url = text("original_url")
    article = SeedArticle(
        number=_article_number(original_url, number_pattern, key_lines["original_url"]),
        title=title,
        original_url=original_url,
        date=_parse_date(text("date"), key_lines.get("date")),
        last_updated=_parse_last_updated(text("last_updated"), key_lines.get("last_updated")),
        author=text("author"),
        category=text("category"),
        tags=_parse_tags(values.get("tags", ""), key_lines.get("tags"), warnings),
        url=_check_url(text("url"), "url", key_lines.get("url")),
        lines=key_lines,
        warnings=warnings,
    )
    _read_body(article, lines[end + 1 :], first_line=end + 2)
    if not article.title and not article.is_failed_capture:
        raise SeedError(key_lines["title"], "title is empty")
    return article


def _decode(data: bytes, warnings: list[Message]) -> list[str]:
    """Bytes to lines: strict UTF-8, LF endings, no control characters."""
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise SeedError(line, "contains NUL bytes: not a text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise SeedError(
            line, f"not UTF-8: byte 0x{data[error.start]:02X} at column {column}"
        ) from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not CYRILLIC.search(text) and not CONTROL_CHARACTERS.search(text):
        return lines
    for number, line in enumerate(lines, start=1):
        if CYRILLIC.search(line):
            repaired = _repair_mojibake(line)
            if repaired is not None:
                line = lines[number - 1] = repaired
                warnings.append(
                    Message(
                        "warning", number, "repaired UTF-8 text misread as a Cyrillic code page"
                    )
                )
        if CONTROL_CHARACTERS.search(line):
            found = sorted({f"U+{ord(c):04X}" for c in CONTROL_CHARACTERS.findall(line)})
            lines[number - 1] = CONTROL_CHARACTERS.sub("", line)
            warnings.append(
                Message("warning", number, f"removed control characters {', '.join(found)}")
            )
    return lines


def _repair_mojibake(line: str) -> str | None:
    for codec in MOJIBAKE_CODECS:
        try:
            repaired = line.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
        if CJK.search(repaired) and not CYRILLIC.search(repaired):
            return repaired
    return None


def _read_front_matter(text: str, *, first_line: int) -> tuple[dict, dict[str, int]]:
    """Read a flat mapping of strings and lists of strings from YAML events.

    Working from the parser's events, never constructing objects, means no YAML
    tag can build anything, aliases and anchors are refused before they are
    expanded, and a duplicate key is an error rather than a silent overwrite.
    """
    values: dict[str, str | list[str]] = {}
    key_lines: dict[str, int] = {}
    try:
        events = list(yaml.parse(text, Loader=yaml.CBaseLoader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        text = f"front matter is not valid YAML: {error.problem}"
        if error.context and error.context_mark:
            text += f" {error.context} that starts on line {first_line + error.context_mark.line}"
        raise SeedError(first_line + (mark.line if mark else 0), text) from None
    except yaml.YAMLError as error:
        raise SeedError(first_line, f"front matter is not valid YAML: {error}") from None

    def line_of(event) -> int:
        return first_line + event.start_mark.line

    for event in events:
        if getattr(event, "anchor", None) is not None:
            raise SeedError(line_of(event), "YAML anchors and aliases are not allowed")
        tag = getattr(event, "tag", None)
        if tag not in (None, "!", "tag:yaml.org,2002:str"):
            raise SeedError(line_of(event), f"YAML tag {tag} is not allowed")

    body = events[2:-2] if len(events) > 4 else []
    if len(events) <= 4 or not isinstance(events[2], yaml.MappingStartEvent):
        line = line_of(events[2]) if len(events) > 4 else first_line
        raise SeedError(line, "front matter is not a mapping of keys to values")
    if sum(isinstance(e, yaml.DocumentStartEvent) for e in events) > 1:
        raise SeedError(first_line, "front matter holds more than one YAML document")

    position = 1
    while position < len(body) - 1:
        key_event = body[position]
        if not isinstance(key_event, yaml.ScalarEvent):
            raise SeedError(line_of(key_event), "front matter keys must be plain names")
        key = key_event.value
        if key in values:
            raise SeedError(
                line_of(key_event), f"duplicate key '{key}' (first on line {key_lines[key]})"
            )
        key_lines[key] = line_of(key_event)
        value_event = body[position + 1]
        if isinstance(value_event, yaml.ScalarEvent):
            values[key] = _scalar(value_event)
            position += 2
        elif isinstance(value_event, yaml.SequenceStartEvent):
            items = []
            position += 2
            while not isinstance(body[position], yaml.SequenceEndEvent):
                if not isinstance(body[position], yaml.ScalarEvent):
                    raise SeedError(line_of(body[position]), f"'{key}' items must be strings")
                items.append(_scalar(body[position]))
                position += 1
            values[key] = items
            position += 1
        else:
            raise SeedError(line_of(value_event), f"'{key}' must be a string or a list of strings")
    return values, key_lines


def _scalar(event: yaml.ScalarEvent) -> str:
    plain = event.implicit[0] and event.style is None
    if plain and event.value in ("~", "null", "Null", "NULL"):
        return ""
    return event.value


def _article_number(original_url: str, pattern: str, line: int) -> int:
    _check_url(original_url, "original_url", line)
    if not original_url:
        raise SeedError(line, "original_url is empty")
    match = re.search(pattern, urlsplit(original_url).path)
    if not match:
        raise SeedError(line, f"original_url has no article number matching {pattern!r}")
    text = (match.group("number") if "number" in match.groupdict() else match.group(1)) or ""
    if not text.isdecimal():
        raise SeedError(line, f"article number {text[:20]!r} is not a number")
    # int() refuses a run of over 4,300 digits outright; no article number has 11.
    number = int(text) if len(text) <= 10 else 0
    if not 0 < number < 2**31:
        raise SeedError(line, f"article number {text[:20]} is out of range")
    return number


def _check_url(url: str, key: str, line: int | None) -> str:
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError as error:
        # An unclosed "[" of an IPv6 host, or a host with characters that
        # normalise to one of "/?#@:" (a full-width "＃").
        raise SeedError(line or 1, f"{key} is not a valid URL ({error}): {url[:80]!r}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SeedError(line or 1, f"{key} must be an http(s) URL, not {url[:80]!r}")
    return url


def _parse_date(value: str, line: int | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise SeedError(line or 1, f'date "{value}" is not a real date (YYYY-MM-DD)') from None


def _parse_last_updated(value: str, line: int | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise SeedError(
            line or 1, f'last_updated "{value}" is not a real time (YYYY-MM-DD HH:MM:SS)'
        ) from None
    return moment.replace(tzinfo=HONG_KONG)


def _parse_tags(value: str | list[str], line: int | None, warnings: list[Message]) -> list[str]:
    if isinstance(value, str):
        if value.strip():
            raise SeedError(line or 1, "tags must be a list of strings")
        return []
    tags: list[str] = []
    seen: dict[str, str] = {}
    for raw in value:
        tag = unicodedata.normalize("NFC", WHITESPACE.sub(" ", raw).strip())
        if not tag:
            continue
        key = tag.casefold()
        if key in seen:
            warnings.append(
                Message("warning", line or 1, f"tag '{tag}' is the same tag as '{seen[key]}'")
            )
            continue
        seen[key] = tag
        tags.append(tag)
    return tags


def _read_body(article: SeedArticle, lines: list[str], *, first_line: int) -> None:
    """Fill the article's body, figures and videos from the lines after the front matter."""
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    heading = lines[start] if start < len(lines) else ""
    if heading.startswith("# ") and _same_title(heading[2:], article.title):
        start += 1
        while start < len(lines) and not lines[start].strip():
            start += 1
    body = "\n".join(lines[start:])
    first_line += start
    article.body_line = first_line

    counted = {"offset": 0, "line": first_line}

    def line_at(offset: int) -> int:
        # Matches come in order: count only the newlines since the previous one.
        counted["line"] += body.count("\n", counted["offset"], offset)
        counted["offset"] = offset
        return counted["line"]

    def replace(match: re.Match) -> str:
        line = line_at(match.start())
        if match.group("inner") is not None:
            position = len(article.figures) + 1
            article.figures.append(_figure(match.group("inner"), position, line, article))
            return "\n\n" + REFERENCE.format(kind="figure", position=position) + "\n\n"
        name = match.group("name")
        if name.lower() != "video":
            article.warnings.append(
                Message("warning", line, f"unknown shortcode '{name}' left as text")
            )
            return match.group(0)
        archived = _attributes(match.group("attrs")).get("src", "").strip()
        if not WEB_ADDRESS.match(archived):
            article.warnings.append(
                Message("warning", line, f"video without a web address removed: {archived[:40]!r}")
            )
            return ""
        position = len(article.videos) + 1
        article.videos.append(SeedVideo(position, line, archived, unwrap_archive_url(archived)))
        return "\n\n" + REFERENCE.format(kind="video", position=position) + "\n\n"

    body = EMBED.sub(replace, body)
    body = WAYBACK_RELATIVE.sub(r"\g<prefix>https://web.archive.org/web/\g<stamp>/", body)
    article.body = BLANK_LINES.sub("\n\n", body).strip()


def _same_title(heading: str, title: str) -> bool:
    def squash(text: str) -> str:
        return WHITESPACE.sub("", html.unescape(text)).replace("\\", "")

    return squash(heading) == squash(title)


def _figure(inner: str, position: int, line: int, article: SeedArticle) -> SeedFigure:
    image = IMG_TAG.search(inner)
    attrs = _attributes(image.group("attrs")) if image else {}
    if not image:
        article.warnings.append(Message("warning", line, f"figure {position} has no image"))
    image_url = attrs.get("src", "").strip()
    if image_url and not WEB_ADDRESS.match(image_url):
        article.warnings.append(
            Message("warning", line, f"figure {position}: image address {image_url[:40]!r} dropped")
        )
        image_url = ""
    caption_match = FIGCAPTION.search(inner)
    caption = ""
    if caption_match:
        raw = caption_match.group("caption")
        caption = WHITESPACE.sub(" ", html.unescape(HTML_TAG.sub(" ", raw))).strip()
        if HTML_TAG.search(raw):
            article.warnings.append(
                Message("warning", line, f"figure {position}: markup in the caption kept as text")
            )
    caption, credit = split_credit(caption)
    return SeedFigure(
        position=position,
        line=line,
        image_url=image_url,
        original_image_url=unwrap_archive_url(image_url) if image_url else "",
        alt=attrs.get("alt", "").strip(),
        caption=caption,
        credit=credit,
    )


def _attributes(text: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for match in HTML_ATTRIBUTE.finditer(text):
        value = next(v for v in match.group("dq", "sq", "bare") if v is not None)
        # As in HTML, the first of repeated attributes is the one that counts.
        attributes.setdefault(match.group("name").lower(), _unescape_attribute(value))
    return attributes


def _unescape_attribute(value: str) -> str:
    """Decode character references as a browser does inside an attribute.

    html.unescape reads text: it takes "&reg" in "?a=1&region=HK" for ®. In an
    attribute, a reference without its ";" that runs on into a letter, a digit
    or "=" is left as written (HTML, "named character reference state").
    """

    def reference(match: re.Match) -> str:
        name, following = match.group(1), value[match.end() : match.end() + 1]
        if name in html.entities.html5 and following != "=":
            return match.group(0)
        return "&amp;" + name

    return html.unescape(UNTERMINATED_REFERENCE.sub(reference, value))
