"""Write seed files into the database.

The article number is the identity: importing a file again updates its article
in place, and a file whose bytes have not changed is recognised by its content
hash and costs one lookup. Parsing and rendering run on every core
(`pipeline.prepare`); this module validates the results against the models and
writes them a batch at a time. Each file is all-or-nothing: when a batch cannot
be written, its files are written one by one so that only the bad one fails.
"""

import datetime as dt
import multiprocessing
import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import (
    DatabaseError,
    IntegrityError,
    connection,
    models,
    reset_queries,
    transaction,
)
from django.utils import timezone

from . import images, reports, search, tagging
from .caching import content_changed
from .models import (
    Article,
    Author,
    AuthorAlias,
    Byline,
    Figure,
    SearchDocument,
    Section,
    SectionAlias,
    Tag,
    TaggedArticle,
    TitlePiece,
    Video,
    unicode_slug,
)
from .pipeline import Options, Prepared, content_hash, prepare, prepare_many
from .seeds import Message, SeedArticle

SEED_SUFFIXES = {".txt", ".md", ".markdown"}
STATUSES = ("created", "updated", "unchanged", "skipped", "conflict", "failed")
BATCH_SIZE = 128
# Below this many files, starting worker processes costs more than it saves.
POOL_THRESHOLD = 2 * BATCH_SIZE
HONG_KONG = ZoneInfo("Asia/Hong_Kong")

# Fields the importer owns: a re-import compares and writes these and no others,
# so an editor's status, slug or publication time choices outside them survive.
ARTICLE_FIELDS = (
    "title",
    "section_id",
    "published_at",
    "last_updated",
    "body",
    "body_html",
    "excerpt",
    "url",
    "original_url",
)
SOURCE_FIELDS = ("source_path", "source_hash", "imported_at", "edited_at", "modified_at")
FIGURE_FIELDS = ("image_url", "original_image_url", "alt", "caption", "credit")
VIDEO_FIELDS = ("url", "archived_url")
TAG_FIELDS = ("position", "spelling")
# An import that writes this many articles refreshes PostgreSQL's planner
# statistics when it ends; autovacuum sees to smaller ones.
ANALYZE_AFTER = 1_000
# Old names of renamed sections and authors (the admin's KeepsOldSlugs).
ALIASES = {Section: SectionAlias, Author: AuthorAlias}


@dataclass
class FileResult:
    path: str
    status: str
    number: int | None = None
    messages: list[Message] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "status": self.status,
            "number": self.number,
            "messages": [asdict(message) for message in self.messages],
        }


@dataclass
class ImportReport:
    files: list[FileResult] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        counts = Counter(result.status for result in self.files)
        return {status: counts[status] for status in STATUSES}

    def as_dict(self) -> dict:
        return {"totals": self.totals, "files": [result.as_dict() for result in self.files]}


def discover(paths: Iterable[Path | str]) -> list[str]:
    """Every seed file under the given files and folders, in a stable order."""
    found: list[str] = []
    for path in map(Path, paths):
        if path.is_file():
            found.append(str(path))
        elif path.is_dir():
            found.extend(
                sorted(
                    str(child)
                    for child in path.rglob("*")
                    if child.suffix.lower() in SEED_SUFFIXES
                    and child.is_file()
                    and not any(part.startswith(".") for part in child.relative_to(path).parts)
                )
            )
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return found


def import_seeds(paths: Iterable[Path | str], **options) -> ImportReport:
    """Import seed files and folders; see `iter_import` for the options."""
    return ImportReport(files=list(iter_import(discover(paths), **options)))


def iter_import(
    files: list[str],
    *,
    overwrite: bool = False,
    dry_run: bool = False,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    waiting: Callable[[], None] | None = None,
) -> Iterator[FileResult]:
    """Import the given seed files, yielding one result per file as it is decided.

    overwrite: replace articles an editor changed since they were imported.
    dry_run: do everything, then roll it all back.
    workers: processes for parsing and rendering (default: one per core; 0: none).
    waiting: called once if another import holds the database and this one waits.
    """
    writer = _Writer(overwrite=overwrite)
    done = 0
    with _one_import_at_a_time(waiting), transaction.atomic() if dry_run else nullcontext():
        for result in _results(files, writer, workers):
            done += 1
            if progress:
                progress(done, len(files))
            yield result
        if dry_run:
            transaction.set_rollback(True)
        elif writer.indexed:
            search.finish_bulk_indexing()
            if writer.indexed >= ANALYZE_AFTER:
                _update_planner_statistics()


def _update_planner_statistics() -> None:
    """Let PostgreSQL plan for the tables as they are now.

    Its planner works from statistics that autovacuum refreshes now and then:
    right after a large import it plans for the tables as they were, say
    empty, and sorts every article for a page of the newest 20. SQLite keeps
    no statistics unless asked, and plans its search queries better without.
    """
    if connection.vendor != "postgresql":
        return
    models_written = (Article, Figure, Video, Byline, TaggedArticle, Tag, Section, Author)
    tables = [model._meta.db_table for model in (*models_written, SearchDocument, TitlePiece)]
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(tables)}")


def _results(files: list[str], writer: "_Writer", workers: int | None) -> Iterator[FileResult]:
    options = Options(
        max_bytes=settings.NEWSROOM_SEED_MAX_BYTES,
        number_pattern=settings.NEWSROOM_ARTICLE_NUMBER_PATTERN,
    )
    if workers is None:
        workers = settings.NEWSROOM_IMPORT_WORKERS or os.cpu_count() or 1
    batches = (files[i : i + BATCH_SIZE] for i in range(0, len(files), BATCH_SIZE))
    if workers == 0 or len(files) < POOL_THRESHOLD:
        for batch in batches:
            early, to_parse = _read(batch, options, writer)
            yield from early
            yield from writer.write([prepare(path, data, options) for path, data in to_parse])
        return
    # Workers are started fresh (not forked) so that none inherits the
    # database connection; a window of batches in flight keeps memory flat.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[tuple[list[FileResult], Future]] = deque()
        for batch in batches:
            early, to_parse = _read(batch, options, writer)
            pending.append((early, pool.submit(prepare_many, to_parse, options)))
            if len(pending) > workers:
                early, future = pending.popleft()
                yield from early
                yield from writer.write(future.result())
        while pending:
            early, future = pending.popleft()
            yield from early
            yield from writer.write(future.result())


def _read(
    batch: list[str], options: Options, writer: "_Writer"
) -> tuple[list[FileResult], list[tuple[str, bytes]]]:
    """Read a batch of files; settle the ones that need no parsing."""
    early: list[FileResult] = []
    contents: list[tuple[str, bytes, str]] = []
    for path in batch:
        try:
            size = os.stat(path).st_size
            if size > options.max_bytes:
                message = f"file is {size:,} bytes, over the {options.max_bytes:,}-byte limit"
                early.append(FileResult(path, "failed", messages=[Message("error", 1, message)]))
                continue
            with open(path, "rb") as handle:
                data = handle.read(options.max_bytes + 1)
        except OSError as error:
            early.append(
                FileResult(
                    path, "failed", messages=[Message("error", 1, f"cannot read: {error.strerror}")]
                )
            )
            continue
        contents.append((path, data, content_hash(data)))
    unchanged = writer.unchanged_numbers([digest for _, _, digest in contents])
    to_parse = []
    for path, data, digest in contents:
        if digest in unchanged:
            early.append(FileResult(path, "unchanged", number=unchanged[digest]))
        else:
            to_parse.append((path, data))
    return early, to_parse


class _Writer:
    """Writes prepared seeds, remembering section, author and tag ids between batches."""

    def __init__(self, *, overwrite: bool):
        self.overwrite = overwrite
        self.indexed = 0  # search documents written
        self.sections: dict[str, int] = {}
        self.authors: dict[str, int] = {}
        self.tags: dict[str, int] = {}  # by lower-cased name

    def unchanged_numbers(self, digests: list[str]) -> dict[str, int]:
        """Content hashes already imported, with their article numbers."""
        if not digests:
            return {}
        rows = Article.objects.filter(source_hash__in=digests)
        if self.overwrite:
            rows = rows.filter(edited_at__isnull=True)
        return dict(rows.values_list("source_hash", "number"))

    def write(self, prepared: list[Prepared]) -> list[FileResult]:
        # With DEBUG on, Django keeps every query it ran; a long import would
        # keep thousands of bulk inserts, bodies and all.
        reset_queries()
        results: dict[int, FileResult] = {}
        writable: list[tuple[int, Prepared]] = []
        for index, item in enumerate(prepared):
            result = _check(item)
            if result is None:
                writable.append((index, item))
            else:
                results[index] = result
        # An article number seen twice in one batch is written in a later round,
        # so each round sees what the one before it wrote.
        while writable:
            seen: set[int] = set()
            round_, later = [], []
            for index, item in writable:
                (later if item.seed.number in seen else round_).append((index, item))
                seen.add(item.seed.number)
            results.update(self._write_round(round_))
            writable = later
        if any(result.status in ("created", "updated") for result in results.values()):
            # Readers' cached pages are retired once the batch is committed.
            transaction.on_commit(content_changed)
        return [results[index] for index in range(len(prepared))]

    def _write_round(self, items: list[tuple[int, Prepared]]) -> dict[int, FileResult]:
        try:
            with transaction.atomic():
                return self._write_items(items)
        except DatabaseError:
            self._forget()
        results = {}
        for index, item in items:
            try:
                with transaction.atomic():
                    results.update(self._write_items([(index, item)]))
            except DatabaseError as error:
                self._forget()
                results[index] = _failure(item, 1, f"could not be written: {error}")
        return results

    def _forget(self) -> None:
        # Ids made in a rolled-back transaction no longer exist.
        self.sections.clear()
        self.authors.clear()
        self.tags.clear()

    def _write_items(self, items: list[tuple[int, Prepared]]) -> dict[int, FileResult]:
        now = timezone.now()
        existing = {
            article.number: article
            for article in Article.objects.filter(number__in=[p.seed.number for _, p in items])
        }
        section_ids = self._ids(Section, self.sections, {p.seed.category for _, p in items})
        author_ids = self._ids(Author, self.authors, {p.seed.author for _, p in items})
        tag_ids = self._tag_ids([tag for _, p in items for tag in p.seed.tags])

        results: dict[int, FileResult] = {}
        created: list[tuple[dict, Prepared]] = []
        updated: list[tuple[Article, Prepared]] = []
        for index, item in items:
            seed = item.seed
            article = existing.get(seed.number)
            if article is None:
                row = {
                    **_imported_values(item, section_ids),
                    **_source_values(item, now),
                    "number": seed.number,
                    "slug": unicode_slug(seed.title, fallback="article"),
                    "status": Article.Status.PUBLISHED,
                    "created_at": now,
                }
                created.append((row, item))
                results[index] = _result(item, "created")
            elif article.edited_at is not None and not self.overwrite:
                results[index] = _result(item, "conflict")
                results[index].messages.append(
                    Message(
                        "warning",
                        1,
                        f"article {seed.number} was edited at "
                        f"{timezone.localtime(article.edited_at):%Y-%m-%d %H:%M:%S}; "
                        "left as it is (--overwrite replaces it)",
                    )
                )
            else:
                values = _imported_values(item, section_ids)
                changed = {
                    name for name, value in values.items() if getattr(article, name) != value
                }
                for name, value in {**values, **_source_values(item, now)}.items():
                    setattr(article, name, value)
                if "title" in changed:
                    article.slug = unicode_slug(seed.title, fallback="article")
                updated.append((article, item))
                results[index] = _result(item, "updated" if changed else "unchanged")

        if created:
            _insert(Article, [row for row, _ in created])
            ids = dict(
                Article.objects.filter(
                    number__in=[row["number"] for row, _ in created]
                ).values_list("number", "id")
            )
            for row, _ in created:
                row["id"] = ids[row["number"]]
        if updated:
            Article.objects.bulk_update(
                [article for article, _ in updated],
                [*ARTICLE_FIELDS, "slug", *SOURCE_FIELDS],
            )
        related_changed = self._write_related(created, updated, author_ids, tag_ids)
        for result in results.values():
            if result.status == "unchanged" and result.number in related_changed:
                result.status = "updated"
        if related_changed:
            Article.objects.filter(number__in=related_changed).update(modified_at=now)

        # Search documents of what was written, in this batch's transaction:
        # cut by the workers, written here as rows (FTS5 has no upsert).
        written = {r.number for r in results.values() if r.status in ("created", "updated")}
        replaced = [article.pk for article, _ in updated if article.number in written]
        if replaced:
            SearchDocument.objects.filter(pk__in=replaced).delete()
        documents = [{"article_id": row["id"], **item.search_document} for row, item in created] + [
            {"article_id": article.pk, **item.search_document}
            for article, item in updated
            if article.number in written
        ]
        _insert(SearchDocument, documents)
        search.write_title_pieces({row["article_id"]: row["title"] for row in documents})
        self.indexed += len(documents)
        return results

    def _write_related(self, created, updated, author_ids, tag_ids) -> set[int]:
        """Write figures, videos, bylines and tags; return numbers whose rows changed."""
        new = _NewRows()
        for row, item in created:
            seed, article_id = item.seed, row["id"]
            new.figures += [_figure_row(article_id, figure) for figure in seed.figures]
            new.videos += [_video_row(article_id, video) for video in seed.videos]
            if seed.author:
                new.bylines.append(_byline_row(article_id, author_ids[seed.author]))
            new.tags += _tag_rows(article_id, seed.tags, tag_ids)
        changed = self._sync_related(updated, new, author_ids, tag_ids) if updated else set()
        new.insert()
        return changed

    def _sync_related(self, updated, new: "_NewRows", author_ids, tag_ids) -> set[int]:
        """Bring the rows of re-imported articles in line with their files.

        Figures and videos are matched by position and changed in place, so
        that a figure keeps its id (and its local image, unless the archived
        address changed).
        """
        changed: set[int] = set()
        ids = [article.pk for article, _ in updated]
        figures = _by_article(Figure.objects.filter(article_id__in=ids))
        videos = _by_article(Video.objects.filter(article_id__in=ids))
        bylines = _by_article(Byline.objects.filter(article_id__in=ids))
        tagged = _by_article(
            TaggedArticle.objects.filter(content_object_id__in=ids), key="content_object_id"
        )
        figure_updates, video_updates, tag_updates, deletions = [], [], [], []
        stale_files: list[str] = []
        for article, item in updated:
            seed = item.seed
            figure_sync = _sync(
                figures.get(article.pk, []),
                [_figure_row(article.pk, figure) for figure in seed.figures],
                FIGURE_FIELDS,
            )
            for figure, fields in figure_sync.updated:
                if "image_url" in fields:
                    # The local copy and its renditions are of the old picture.
                    stale_files += images.forget_image(figure)
            video_sync = _sync(
                videos.get(article.pk, []),
                [_video_row(article.pk, video) for video in seed.videos],
                VIDEO_FIELDS,
            )
            new.figures += figure_sync.created
            new.videos += video_sync.created
            figure_updates += [figure for figure, _ in figure_sync.updated]
            video_updates += [video for video, _ in video_sync.updated]
            deletions += figure_sync.deleted + video_sync.deleted

            current_authors = [b.author_id for b in bylines.get(article.pk, [])]
            wanted_authors = [author_ids[seed.author]] if seed.author else []
            if current_authors != wanted_authors:
                deletions += bylines.get(article.pk, [])
                new.bylines += [_byline_row(article.pk, a) for a in wanted_authors]

            tag_sync = _sync(
                tagged.get(article.pk, []),
                _tag_rows(article.pk, seed.tags, tag_ids),
                TAG_FIELDS,
                key="tag_id",
            )
            new.tags += tag_sync.created
            tag_updates += [row for row, _ in tag_sync.updated]
            deletions += tag_sync.deleted

            if (
                figure_sync.any
                or video_sync.any
                or tag_sync.any
                or current_authors != wanted_authors
            ):
                changed.add(article.number)
        for model in (Figure, Video, Byline, TaggedArticle):
            doomed = [row.pk for row in deletions if isinstance(row, model)]
            if doomed:
                model.objects.filter(pk__in=doomed).delete()
        if figure_updates:
            Figure.objects.bulk_update(figure_updates, [*FIGURE_FIELDS, *images.LOCAL_FIELDS])
        images.delete_files_on_commit(stale_files)
        if video_updates:
            Video.objects.bulk_update(video_updates, VIDEO_FIELDS)
        if tag_updates:
            TaggedArticle.objects.bulk_update(tag_updates, TAG_FIELDS)
        return changed

    def _ids(
        self, model: type[models.Model], cache: dict[str, int], names: set[str]
    ) -> dict[str, int]:
        """Ids of the sections or authors with these names, creating the missing ones.

        A name an editor renamed away means the section or author it became.
        """
        names = {name for name in names if name}
        missing = names - cache.keys()
        if missing:
            cache.update(model.objects.filter(name__in=missing).values_list("name", "id"))
            missing -= cache.keys()
        if missing:
            aliases = ALIASES[model].objects.filter(name__in=missing)
            cache.update(aliases.values_list("name", "target_id"))
            missing -= cache.keys()
        if missing:
            slugs = _unique_slugs(model, sorted(missing), model._meta.get_field("slug").max_length)
            model.objects.bulk_create(
                [model(name=name, slug=slug) for name, slug in slugs.items()], ignore_conflicts=True
            )
            cache.update(model.objects.filter(name__in=missing).values_list("name", "id"))
            _check_created(model, missing - cache.keys())
        return cache

    def _tag_ids(self, names: list[str]) -> dict[str, int]:
        """Ids of tags by lower-cased name; a new tag keeps the first spelling seen."""
        wanted: dict[str, str] = {}
        for name in names:
            wanted.setdefault(name.lower(), name)
        missing = wanted.keys() - self.tags.keys()
        if missing:
            self._load_tags(missing)
            missing -= self.tags.keys()
        if missing:
            spellings = [wanted[key] for key in sorted(missing)]
            slugs = _unique_slugs(Tag, spellings, Tag._meta.get_field("slug").max_length)
            Tag.objects.bulk_create(
                [Tag(name=name, slug=slugs[name]) for name in spellings], ignore_conflicts=True
            )
            self._load_tags(missing)
            # SQLite's LOWER() folds ASCII letters only: "École" is not found
            # under "école", but is under its own spelling.
            missing -= self.tags.keys()
            rows = Tag.objects.filter(name__in=[wanted[key] for key in missing])
            for name, pk in rows.values_list("name", "id"):
                self.tags[name.lower()] = pk
            _check_created(Tag, {wanted[key] for key in missing - self.tags.keys()})
        return self.tags

    def _load_tags(self, keys: set[str]) -> None:
        # A name an editor merged or renamed away means the tag it became.
        for key, tag in tagging.find_tags(keys).items():
            self.tags[tag.name.lower()] = tag.pk
            self.tags[key] = tag.pk


def _check_created(model: type[models.Model], missing: set[str]) -> None:
    """Fail the batch when rows it needs could not be created.

    `bulk_create(ignore_conflicts=True)` skips a row whose slug another
    connection took between our choosing it and inserting (an editor saving a
    tag, say). The batch's transaction is then rolled back and its files are
    written one by one, each choosing its slugs again.
    """
    if missing:
        names = ", ".join(sorted(missing)[:3])
        raise IntegrityError(f"{model._meta.model_name} {names} could not be created: slug taken")


def _check(item: Prepared) -> FileResult | None:
    """A result for a file that cannot or should not be written, or None."""
    if item.error is not None and item.seed is not None:
        return _failure(item, item.error.line, item.error.text)
    if item.error is not None:
        return FileResult(item.path, "failed", messages=[item.error])
    seed = item.seed
    if seed.is_failed_capture:
        reason = f"failed capture ({seed.title or 'no title'}): no date, author or body"
        return _result(item, "skipped", Message("warning", 1, reason))
    for problem in _too_long(seed):
        return _failure(item, *problem)
    return None


def _too_long(seed: SeedArticle) -> Iterator[tuple[int, str]]:
    """Values longer than the model can hold: an error, never a silent truncation."""

    def limit(model: type[models.Model], name: str) -> int:
        return model._meta.get_field(name).max_length

    checks = [
        ("title", seed.title, limit(Article, "title"), seed.line_of("title")),
        ("author", seed.author, limit(Author, "name"), seed.line_of("author")),
        ("category", seed.category, limit(Section, "name"), seed.line_of("category")),
        ("url", seed.url, limit(Article, "url"), seed.line_of("url")),
        (
            "original_url",
            seed.original_url,
            limit(Article, "original_url"),
            seed.line_of("original_url"),
        ),
    ]
    checks += [("tag", tag, limit(Tag, "name"), seed.line_of("tags")) for tag in seed.tags]
    for figure in seed.figures:
        checks += [
            (
                f"figure {figure.position} image URL",
                figure.image_url,
                limit(Figure, "image_url"),
                figure.line,
            ),
            (f"figure {figure.position} alt text", figure.alt, limit(Figure, "alt"), figure.line),
            (
                f"figure {figure.position} credit",
                figure.credit,
                limit(Figure, "credit"),
                figure.line,
            ),
        ]
    for video in seed.videos:
        checks += [
            (f"video {video.position} address", video.archived_url, limit(Video, "url"), video.line)
        ]
    for what, value, maximum, line in checks:
        if len(value) > maximum:
            yield line, f"{what} is {len(value):,} characters, over the {maximum:,} allowed"


def _imported_values(item: Prepared, section_ids: dict[str, int]) -> dict:
    """The values of the importer's own article fields (ARTICLE_FIELDS) for a seed."""
    seed = item.seed
    published_at = (
        dt.datetime.combine(seed.date, dt.time.min, tzinfo=HONG_KONG) if seed.date else None
    )
    return {
        "title": seed.title,
        "section_id": section_ids[seed.category] if seed.category else None,
        "published_at": published_at,
        "last_updated": seed.last_updated,
        "body": seed.body,
        "body_html": item.body_html,
        "excerpt": item.excerpt,
        "url": seed.url,
        "original_url": seed.original_url,
    }


def _source_values(item: Prepared, now: dt.datetime) -> dict:
    """Where an article came from, and that no one has edited it since."""
    return {
        "source_path": Path(item.path).name,
        "source_hash": item.sha256,
        "imported_at": now,
        "edited_at": None,
        "modified_at": now,
    }


def _figure_row(article_id: int, figure) -> dict:
    return {
        "article_id": article_id,
        "position": figure.position,
        "image_url": figure.image_url,
        "original_image_url": figure.original_image_url,
        "alt": figure.alt,
        "caption": figure.caption,
        "credit": figure.credit,
        "image": "",
    }


def _video_row(article_id: int, video) -> dict:
    return {
        "article_id": article_id,
        "position": video.position,
        "url": video.url,
        "archived_url": video.archived_url,
    }


def _byline_row(article_id: int, author_id: int) -> dict:
    return {"article_id": article_id, "author_id": author_id, "position": 1}


def _tag_rows(article_id: int, tags: list[str], tag_ids: dict[str, int]) -> list[dict]:
    # Two names may mean one tag (an old name and the tag it was merged into):
    # the first one stands.
    first = {}
    for tag in tags:
        first.setdefault(tag_ids[tag.lower()], tag)
    return [
        {"content_object_id": article_id, "tag_id": tag_id, "position": position, "spelling": tag}
        for position, (tag_id, tag) in enumerate(first.items(), start=1)
    ]


@dataclass
class _NewRows:
    figures: list[dict] = field(default_factory=list)
    videos: list[dict] = field(default_factory=list)
    bylines: list[dict] = field(default_factory=list)
    tags: list[dict] = field(default_factory=list)

    def insert(self) -> None:
        for model, rows in (
            (Figure, self.figures),
            (Video, self.videos),
            (Byline, self.bylines),
            (TaggedArticle, self.tags),
        ):
            _insert(model, rows)


def _insert(model: type[models.Model], rows: list[dict]) -> None:
    """Insert rows given as column values, without building model instances.

    An article brings about ten related rows; for these small rows, building
    and compiling model instances costs several times what the database does.
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in rows[0]]
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    # Only dates and times need adapting for the database (time zones on SQLite).
    adapt = {
        field.attname: field.get_db_prep_save
        for field in fields
        if isinstance(field, models.DateField | models.TimeField)
    }
    values = [
        tuple(
            adapt[name](value, connection) if name in adapt else value
            for name, value in row.items()
        )
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


@dataclass
class _Synced:
    created: list[dict] = field(default_factory=list)
    updated: list[tuple[models.Model, set[str]]] = field(default_factory=list)
    deleted: list[models.Model] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


def _sync(
    current: list[models.Model], wanted: list[dict], fields: tuple[str, ...], key: str = "position"
) -> _Synced:
    """Match rows by key: update those that differ, add and remove the rest."""
    synced = _Synced()
    by_key = {getattr(row, key): row for row in current}
    for values in wanted:
        existing = by_key.pop(values[key], None)
        if existing is None:
            synced.created.append(values)
            continue
        changed = {name for name in fields if getattr(existing, name) != values[name]}
        if changed:
            for name in changed:
                setattr(existing, name, values[name])
            synced.updated.append((existing, changed))
    synced.deleted = list(by_key.values())
    return synced


def _by_article(rows, key: str = "article_id") -> dict[int, list]:
    grouped: dict[int, list] = {}
    for row in rows:
        grouped.setdefault(getattr(row, key), []).append(row)
    return grouped


def _unique_slugs(model: type[models.Model], names: list[str], max_length: int) -> dict[str, str]:
    """Slugs for new rows that collide neither with each other nor with the table."""
    fallback = model._meta.model_name
    wanted = {name: unicode_slug(name, max_length - 6, fallback=fallback) for name in names}
    taken = set(model.objects.filter(slug__in=wanted.values()).values_list("slug", flat=True))
    slugs: dict[str, str] = {}
    for name, slug in wanted.items():
        candidate, n = slug, 1
        while candidate in taken:
            if n == 1:
                # Rare: fetch this slug's numbered variants once.
                taken |= set(
                    model.objects.filter(slug__startswith=f"{slug}-").values_list("slug", flat=True)
                )
            n += 1
            candidate = f"{slug}-{n}"
        taken.add(candidate)
        slugs[name] = candidate
    return slugs


def _result(item: Prepared, status: str, *extra: Message) -> FileResult:
    return FileResult(
        item.path, status, number=item.seed.number, messages=[*item.seed.warnings, *extra]
    )


def _failure(item: Prepared, line: int, text: str) -> FileResult:
    messages = [*item.seed.warnings] if item.seed else []
    return FileResult(
        item.path,
        "failed",
        number=item.seed.number if item.seed else None,
        messages=[*messages, Message("error", line, text)],
    )


def write_report(report_file, results: Iterable[FileResult]) -> Iterator[FileResult]:
    """Stream results into a JSON report while passing them on; totals come last."""
    return reports.stream_json(report_file, results, items="files", statuses=STATUSES)


# --- One import at a time ---------------------------------------------------------

# The key of PostgreSQL's advisory lock for "an import is writing": any number
# nothing else here uses ("news" in ASCII).
IMPORT_LOCK = 0x6E657773


@contextmanager
def _one_import_at_a_time(waiting: Callable[[], None] | None) -> Iterator[None]:
    """On PostgreSQL, hold a session-level advisory lock for the whole import.

    Under READ COMMITTED, two imports of the same files would each see an
    article missing that the other is inserting; the second waits here for
    the first instead. The lock belongs to the database session, so an import
    that is killed lets go of it with its connection. SQLite needs none: its
    IMMEDIATE transactions let one writer in at a time, and each batch reads
    the rows it writes inside its own transaction.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [IMPORT_LOCK])
        if not cursor.fetchone()[0]:
            if waiting:
                waiting()
            cursor.execute("SELECT pg_advisory_lock(%s)", [IMPORT_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK])
