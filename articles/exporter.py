"""Write every article back as a seed file, in the format it came in.

The importer run backwards, so that the archive can always leave Newsroom: one
file per article, with the archive's front matter (its keys, in its order, every
value a double-quoted string) and a body in which each figure is a `<figure>`
block with its current caption and credit and each video a shortcode. A file
exported from an article no one has edited has the front matter of the file it
came from, byte for byte, and a body that renders to the same HTML; importing an
export into an empty database gives the same articles, figures, videos and tags.

What the format cannot hold is named, per file, as a warning: a second author,
a credit the importer would not split off again, an address that would give
another article number. The format has no status, so drafts and hidden
articles are written like the rest (the command counts them).
"""

import datetime as dt
import html
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from .captions import split_credit
from .importer import SEED_SUFFIXES, discover
from .models import Article, Byline, Figure, TaggedArticle, Video
from .seeds import (
    CONTROL_CHARACTERS,
    HONG_KONG,
    REFERENCE_LINE,
    WEB_ADDRESS,
    SeedArticle,
    SeedFigure,
    SeedVideo,
)

# Articles read per query: a few hundred keep memory flat and queries few.
CHUNK_SIZE = 500
# Hidden, so that neither a re-import nor a person listing the folder sees one
# left behind by an export that was killed.
TEMPORARY_PREFIX = ".newsroom-export-"
# A source file name kept for the export: no folders, nothing hidden, nothing
# Windows or a shell would stumble on.
PLAIN_NAME = re.compile(r'[^\x00-\x1f\x7f/\\:*?"<>|]{1,200}')
# Characters a YAML double-quoted scalar cannot hold as they are: line breaks
# (YAML would fold them into spaces) and the control characters the parser
# removes. The archive's own values have none of them.
UNQUOTABLE = re.compile(f"[\n\r\x85\u2028\u2029]|{CONTROL_CHARACTERS.pattern}")
LINE_BREAKS = re.compile("[\r\n\x85\u2028\u2029]+")
BLANK_LINES = re.compile(r"\n{3,}")
WHITESPACE = re.compile(r"\s+")


@dataclass
class ExportResult:
    path: str
    number: int
    status: str  # "written", or "unchanged": the file already held these bytes
    published: bool = True
    warnings: list[str] = field(default_factory=list)


def export_seeds(directory: Path | str, **options) -> list[ExportResult]:
    """Write every article to `directory`; see `iter_export` for the options."""
    return list(iter_export(directory, **options))


def iter_export(
    directory: Path | str,
    *,
    site_url: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[ExportResult]:
    """Write every article to `directory` as a seed file, yielding a result per file.

    A file keeps the name of the file its article was imported from when that
    is a plain file name, and is `<number>.txt` otherwise. Each file is written
    whole or not at all (to a hidden temporary file, then renamed), and a file
    that already holds the same bytes is left untouched.

    site_url: where this site is, for the address of an article written here
    rather than imported (default: the first of ALLOWED_HOSTS, over https).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob(f"{TEMPORARY_PREFIX}*.tmp"):
        leftover.unlink(missing_ok=True)
    site_url = (site_url or default_site_url()).rstrip("/")
    plan = _file_names()
    tags_seen: set[int] = set()
    done = 0
    for start in range(0, len(plan), CHUNK_SIZE):
        chunk = plan[start : start + CHUNK_SIZE]
        articles = _articles([pk for _, pk in chunk], site_url)
        for name, pk in chunk:
            done += 1
            article = articles.get(pk)
            if article is None:  # deleted since the export began
                continue
            warnings: list[str] = []
            seed = _seed_of(article, site_url=site_url, tags_seen=tags_seen, warnings=warnings)
            path = directory / name
            status = _write(path, format_seed(seed, warnings).encode("utf-8"))
            if progress:
                progress(done, len(plan))
            yield ExportResult(
                str(path),
                article.number,
                status,
                published=article.status == Article.Status.PUBLISHED,
                warnings=warnings,
            )


def other_seed_files(directory: Path | str, written: set[str]) -> list[str]:
    """Seed files in `directory` that the export did not write (`written` holds
    the paths of those it did): a re-import of the folder would read them too."""
    return [path for path in discover([directory]) if path not in written]


def default_site_url() -> str:
    for host in settings.ALLOWED_HOSTS:
        if host and host != "*" and not host.startswith("."):
            return f"https://{host}"
    return "https://localhost"


def format_seed(seed: SeedArticle, warnings: list[str] | None = None) -> str:
    """The text of the seed file for `seed`, the inverse of `seeds.parse_seed`.

    Each reference in the body (`{{< figure 2 >}}`) becomes the figure or video
    at that position, as on the page: once, and nothing for a figure that is not
    there; the figures and videos the body does not place follow it. What a
    re-import would read differently is added to `warnings`.
    """
    warnings = [] if warnings is None else warnings
    lines = [
        "---",
        f"title: {quote(seed.title)}",
        f"date: {quote(seed.date.isoformat() if seed.date else '')}",
    ]
    if seed.last_updated:
        moment = timezone.localtime(seed.last_updated, HONG_KONG).replace(tzinfo=None)
        lines.append(f"last_updated: {quote(moment.isoformat(' ', 'seconds'))}")
    lines.append(f"author: {quote(seed.author)}")
    if seed.category:
        lines.append(f"category: {quote(seed.category)}")
    if seed.tags:
        lines.append("tags:")
        lines += [f"  - {quote(tag)}" for tag in seed.tags]
    lines += [f"url: {quote(seed.url)}", f"original_url: {quote(seed.original_url)}", "---"]
    text = "\n".join(lines) + "\n\n# " + LINE_BREAKS.sub(" ", seed.title) + "\n"
    body = _body(seed, warnings)
    return text + f"\n{body}\n" if body else text


def quote(value: str) -> str:
    """A YAML double-quoted string as the archive writes them: backslashes and
    quotes escaped, and (never in the archive) line breaks and control characters."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + UNQUOTABLE.sub(_escape_character, escaped) + '"'


def _escape_character(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def join_credit(caption: str, credit: str) -> str:
    """A caption with its credit back on its end, in the first form that
    `captions.split_credit` takes apart into the same two again: as the archive
    writes it (`…會面。美聯社`), after a space, or in brackets. When none does, the
    credit follows a space, and stays in the text at least."""
    caption, credit = caption.strip(), credit.strip()
    if not credit:
        return caption
    if not caption:
        return credit
    candidates = (caption + credit, f"{caption} {credit}", f"{caption}（{credit}）")
    for candidate in candidates:
        if split_credit(candidate) == (caption, credit):
            return candidate
    return candidates[1]


def _body(seed: SeedArticle, warnings: list[str]) -> str:
    figures: dict[int, SeedFigure] = {}
    for figure in seed.figures:
        figures.setdefault(figure.position, figure)
    videos: dict[int, SeedVideo] = {}
    for video in seed.videos:
        videos.setdefault(video.position, video)
    placed: set[int] = set()

    def expand(match: re.Match) -> str:
        table = figures if match["kind"] == "figure" else videos
        item = table.pop(int(match["position"]), None)
        if item is None:
            return ""
        placed.add(id(item))
        if isinstance(item, SeedFigure):
            return _figure_block(item, warnings)
        return _video_shortcode(item, warnings)

    body = REFERENCE_LINE.sub(expand, seed.body.replace("\r\n", "\n").replace("\r", "\n"))
    rest = [_figure_block(f, warnings) for f in seed.figures if id(f) not in placed]
    rest += [_video_shortcode(v, warnings) for v in seed.videos if id(v) not in placed]
    return BLANK_LINES.sub("\n\n", "\n\n".join(part for part in [body.strip(), *rest] if part))


def _figure_block(figure: SeedFigure, warnings: list[str]) -> str:
    lines = ["<figure>"]
    if figure.image_url and not WEB_ADDRESS.match(figure.image_url):
        warnings.append(
            f"figure {figure.position}: image address {figure.image_url[:60]!r} is not a web "
            "address; a re-import drops it"
        )
    if figure.image_url or figure.alt:
        lines.append(f'<img src="{_attribute(figure.image_url)}" alt="{_attribute(figure.alt)}">')
    caption = join_credit(figure.caption, figure.credit)
    expected = (_squash(figure.caption), _squash(figure.credit))
    read_back = split_credit(_squash(caption))
    if read_back != expected:
        warnings.append(
            f"figure {figure.position}: a re-import reads caption and credit as "
            f"{read_back[0][-30:]!r} and {read_back[1]!r}, not {expected[1]!r}"
        )
    if caption:
        lines.append(f"<figcaption>{html.escape(caption, quote=False)}</figcaption>")
    lines.append("</figure>")
    return "\n".join(lines)


def _video_shortcode(video: SeedVideo, warnings: list[str]) -> str:
    if not WEB_ADDRESS.match(video.archived_url):
        warnings.append(
            f"video {video.position}: {video.archived_url[:60]!r} is not a web address; "
            "a re-import drops it"
        )
    return f'{{{{< video src="{_attribute(video.archived_url)}" >}}}}'


def _attribute(value: str) -> str:
    return html.escape(value, quote=True)


def _squash(text: str) -> str:
    return WHITESPACE.sub(" ", text).strip()


def _file_names() -> list[tuple[str, int]]:
    """(file name, article id) for every article, in the order a re-import reads them.

    Where two articles came from files of the same name, the lower number keeps
    it; names are compared without case, as some filesystems do.
    """
    taken: set[str] = set()
    plan: list[tuple[str, int]] = []
    rows = Article.objects.order_by("number").values_list("pk", "number", "source_path")
    for pk, number, source_path in rows.iterator(chunk_size=2000):
        name = source_path if _is_plain_name(source_path) else f"{number}.txt"
        suffix = 1
        while name.lower() in taken:
            suffix += 1
            name = f"{number}.txt" if suffix == 2 else f"{number}-{suffix}.txt"
        taken.add(name.lower())
        plan.append((name, pk))
    # The order `importer.discover` reads a folder in.
    plan.sort()
    return plan


def _is_plain_name(name: str) -> bool:
    return bool(
        PLAIN_NAME.fullmatch(name)
        and name == name.strip()
        and not name.startswith(".")
        and Path(name).suffix.lower() in SEED_SUFFIXES
        and len(name.encode()) <= 200
    )


ARTICLE_COLUMNS = (
    "pk", "number", "title", "slug", "status", "published_at", "last_updated", "body", "url",
    "original_url", "section__name",
)  # fmt: skip
FIGURE_COLUMNS = (
    "position", "image_url", "original_image_url", "alt", "caption", "credit", "image",
)  # fmt: skip


@dataclass
class _Article:
    """An article and its related rows as plain values.

    Building model instances for the ten or so rows an article brings costs
    several times what reading them does, as it does in the importer.
    """

    pk: int
    number: int
    title: str
    slug: str
    status: str
    published_at: dt.datetime | None
    last_updated: dt.datetime | None
    body: str
    url: str
    original_url: str
    section: str | None
    authors: list[str] = field(default_factory=list)
    figures: list[SeedFigure] = field(default_factory=list)
    videos: list[SeedVideo] = field(default_factory=list)
    # (position, id, spelling, tag id, tag name), in the order they were stored.
    tags: list[tuple[int, int, str, int, str]] = field(default_factory=list)


def _articles(ids: list[int], site_url: str) -> dict[int, _Article]:
    """The articles with these ids, with their related rows, in five queries."""
    articles = {
        values[0]: _Article(*values)
        for values in Article.objects.filter(pk__in=ids).order_by().values_list(*ARTICLE_COLUMNS)
    }
    ids = list(articles)
    bylines = Byline.objects.filter(article_id__in=ids).order_by("position", "id")
    for article_id, name in bylines.values_list("article_id", "author__name"):
        articles[article_id].authors.append(name)
    storage = Figure._meta.get_field("image").storage
    figures = Figure.objects.filter(article_id__in=ids).order_by("position", "id")
    rows = figures.values_list("article_id", *FIGURE_COLUMNS)
    for article_id, position, image_url, original, alt, caption, credit, image in rows:
        # A figure added here may have only an original address, or only a file.
        if not image_url:
            image_url = original or (urljoin(f"{site_url}/", storage.url(image)) if image else "")
        figure = SeedFigure(position, 0, image_url, original, alt, caption, credit)
        articles[article_id].figures.append(figure)
    videos = Video.objects.filter(article_id__in=ids).order_by("position", "id")
    for article_id, position, archived, url in videos.values_list(
        "article_id", "position", "archived_url", "url"
    ):
        articles[article_id].videos.append(SeedVideo(position, 0, archived or url, url))
    tagged = TaggedArticle.objects.filter(content_object_id__in=ids).order_by("position", "id")
    for article_id, *tag in tagged.values_list(
        "content_object_id", "position", "id", "spelling", "tag_id", "tag__name"
    ):
        articles[article_id].tags.append(tuple(tag))
    return articles


def _seed_of(
    article: _Article, *, site_url: str, tags_seen: set[int], warnings: list[str]
) -> SeedArticle:
    """The article as the parser would have read it from its file."""
    if len(article.authors) > 1:
        left_out = ", ".join(article.authors[1:])
        warnings.append(f"the seed format has one author; left out: {left_out}")
    original_url = article.original_url or _site_address(article, site_url)
    _check_number(article.number, original_url, warnings)
    published = article.published_at
    seed = SeedArticle(
        number=article.number,
        title=article.title,
        original_url=original_url,
        date=timezone.localtime(published, HONG_KONG).date() if published else None,
        last_updated=article.last_updated,
        author=article.authors[0] if article.authors else "",
        category=article.section or "",
        tags=_tag_spellings(article, tags_seen),
        url=article.url,
        body=article.body,
        figures=article.figures,
        videos=article.videos,
    )
    if seed.is_failed_capture:
        warnings.append("no date, author or body: a re-import skips it as a failed capture")
    return seed


def _tag_spellings(article: _Article, tags_seen: set[int]) -> list[str]:
    """The article's tags as its file listed them, in their order.

    A tag is written as the file spelled it when that is the tag's name in
    another case ("putin" for Putin), and by its name otherwise (a merged or
    renamed tag). The first file a re-import reads with a tag gives the tag its
    name, so that file always spells it as it is named now. Tags added here,
    with no position, follow the file's.
    """
    spellings = []
    for _, _, spelling, tag_id, name in sorted(
        article.tags, key=lambda tag: (tag[0] == 0, tag[0], tag[1])
    ):
        if tag_id in tags_seen and spelling.lower() == name.lower():
            name = spelling
        tags_seen.add(tag_id)
        spellings.append(name)
    return spellings


def _site_address(article: _Article, site_url: str) -> str:
    try:
        path = reverse("article", kwargs={"number": article.number, "slug": article.slug})
    except NoReverseMatch:  # no slug
        path = f"/article/{article.number}/"
    return site_url + path


def _check_number(number: int, original_url: str, warnings: list[str]) -> None:
    """Warn when a re-import would not file the article under its own number."""
    pattern = settings.NEWSROOM_ARTICLE_NUMBER_PATTERN
    match = re.search(pattern, urlsplit(original_url).path)
    if not match:
        warnings.append(
            f"original_url has no article number matching {pattern!r}; a re-import refuses it"
        )
        return
    found = match.group("number") if "number" in match.groupdict() else match.group(1)
    if not (found and found.isdecimal() and len(found) <= 10 and int(found) == number):
        warnings.append(
            f"original_url names article {found}, not {number}; a re-import files it there"
        )


def _write(path: Path, data: bytes) -> str:
    """Write a file whole or not at all, unless it already holds these bytes."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return "unchanged"
    except FileNotFoundError:
        pass
    temporary = path.with_name(f"{TEMPORARY_PREFIX}{os.getpid()}-{path.name}.tmp")
    # O_EXCL: never write through a link someone left in the folder; the
    # permissions are the usual ones for a new file (the umask applies).
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return "written"
