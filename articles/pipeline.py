"""The CPU-bound half of an import: parse a seed file, render its body, cut its
search pieces.

It runs in worker processes, one file after another, and so imports nothing
from Django: what it returns is plain data for the importer to write.
"""

import hashlib
from dataclasses import dataclass

from . import markup, pieces
from .seeds import Message, SeedArticle, SeedError, parse_seed


@dataclass(frozen=True)
class Options:
    max_bytes: int
    number_pattern: str


@dataclass
class Prepared:
    path: str
    sha256: str
    seed: SeedArticle | None = None
    body_html: str = ""
    excerpt: str = ""
    # The fields of the article's search document (pieces.document).
    search_document: dict[str, str] | None = None
    error: Message | None = None


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def prepare(path: str, data: bytes, options: Options) -> Prepared:
    """Parse and render one seed file; a problem comes back as `error`, not raised."""
    prepared = Prepared(path=path, sha256=content_hash(data))
    try:
        seed = parse_seed(data, max_bytes=options.max_bytes, number_pattern=options.number_pattern)
    except SeedError as error:
        prepared.error = Message("error", error.line, error.text)
        return prepared
    prepared.seed = seed
    if not seed.is_failed_capture:
        try:
            prepared.body_html = markup.render_body(seed.body)
        except markup.MarkupError as error:
            prepared.error = Message("error", seed.body_line, str(error))
            return prepared
        prepared.excerpt = markup.excerpt(prepared.body_html)
        prepared.search_document = pieces.document(
            title=seed.title,
            tags=seed.tags,
            captions=[f"{f.caption} {f.credit} {f.alt}" for f in seed.figures],
            body_html=prepared.body_html,
        )
    return prepared


def prepare_many(items: list[tuple[str, bytes]], options: Options) -> list[Prepared]:
    return [prepare(path, data, options) for path, data in items]
