"""Chinese full-text search: what is indexed, how a query is read, how results are found.

Chinese is written without spaces and the project has no word dictionary, so
text is cut into overlapping two-character pieces: 普京與拜登 becomes 普京 京與
與拜 拜登. A query is cut the same way, and a run of Chinese characters in it
matches where its pieces stand next to each other in that order — exactly where
the text contains the run, as `LIKE '%普京%'` would find it, but through an index.
Latin words and numbers are pieces of their own, lower-cased.

One piece list per field (title, tags, captions, body) is stored in a
`SearchDocument` per article. The database indexes the pieces:

- SQLite: the `SearchDocument` table *is* an FTS5 table (tokenizer `ascii`,
  which splits on spaces and keeps every non-ASCII character, so each piece is
  one token). A run is an FTS5 phrase query, which checks adjacency itself.
- PostgreSQL: a generated `tsvector` column holding the distinct pieces
  (`array_to_tsvector`, so no text search parser or locale can re-cut them) with
  a GIN index. The index finds the articles holding every piece of the query;
  for a run of three or more characters, `strpos` on the stored pieces then
  checks that they stand together, which is the same rule FTS5 applies. Both
  steps run in a SQL function (migration 0002) that keeps the planner on the index.

Ranking gives the same numbers on both: a term found in the title counts 4, in
the tags 2, in a caption 1, summed over the query's terms (FTS5 column filters
on SQLite, `strpos` on the short stored fields on PostgreSQL); body-only
matches count 0; ties go to the newest article. A frequency score (bm25,
`ts_rank`) was measured and left out: on PostgreSQL it reads every matching
article's whole vector out of TOAST, ~30 µs each, 270 ms for a common
character in 10,000 articles.

Keeping the index in step: the importer calls `index_articles()` for every
article it creates or updates, in the batch's transaction; `Article.save()`
updates the article's own document; deleting an article deletes its document
(CASCADE). Anything else that changes what a document is made of — figure
captions, credits or alt text, tags (an admin inline, a tag merge), a bulk
`update()` of titles or bodies — must call `index_articles(ids)` afterwards.
`manage.py rebuild_search_index` rebuilds every document (needed after a change
to this module's rules or an upgrade of OpenCC's dictionaries).
"""

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.resources import files

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db import NotSupportedError, connections, transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import StrIndex
from django.db.models.lookups import GreaterThan
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString
from opencc import OpenCC

from . import markup

# Scripts written without spaces between words: cut into two-character pieces.
CJK = (
    "\u3005\u3007"  # 々 〇
    "\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff"  # kana (not the ・ between names)
    "\u3100-\u312f"  # bopomofo
    "\u3400-\u4dbf\u4e00-\u9fff"  # ideographs, extension A
    "\uac00-\ud7af"  # hangul syllables
    "\uf900-\ufaff"  # compatibility ideographs
    "\U00020000-\U0003134f"  # extensions B to G
)
# A run of CJK characters, a word of other letters, or a number.
TOKEN = re.compile(rf"(?P<cjk>[{CJK}]+)|(?P<word>[^\W\d_{CJK}]+)|(?P<number>\d+)")
CJK_CHARACTER = re.compile(f"[{CJK}]")
# Stands between two runs of text whose pieces would otherwise look adjacent
# (…香港。港人… must not match 香港人). Not a word character, so no query has it.
BOUNDARY = "¶"
# Long enough for any real word; keeps PostgreSQL's 2 KB lexeme limit far away.
MAX_WORD = 64
# What a query may cost: the first MAX_QUERY characters, at most MAX_TERMS terms.
MAX_QUERY = 200
MAX_TERMS = 16
# Points for a term found in each field; the body counts nothing more than a match.
FIELD_WEIGHTS = {"title": 4, "tags": 2, "captions": 1}
EXCERPT_LENGTH = markup.EXCERPT_LENGTH
# PostgreSQL only (migration 0002): the function that finds matching documents.
MATCHES_FUNCTION = "articles_searchdocument_matches"
WHITESPACE = re.compile(r"\s+")


# -- Folding ------------------------------------------------------------------


# Latin, punctuation, CJK symbols, kana, ideographs, full-width forms.
_COMMON_RANGES = (
    (0, 0x250),
    (0x2000, 0x2070),
    (0x3000, 0x3100),
    (0x3400, 0xA000),
    (0xFF00, 0xFFF0),
)


@functools.cache
def _fold_table() -> dict[int, int | str]:
    """One character for one character: HK and Traditional forms to Simplified,
    full-width Latin to ASCII, compatibility ideographs to unified ones.

    Folding goes Traditional→Simplified because that direction is many-to-one
    (後 and 后 → 后; 發 and 髮 → 发): any two spellings of a word that a reader
    could mean fold to the same text, so a Simplified query finds Traditional
    text and the reverse. Simplified→Traditional has to guess (发 → 發 or 髮?)
    and would miss. The price is a little precision (後 also finds 皇后).

    The table comes from OpenCC's `hk2s` conversion, asked once for each
    character its dictionaries know. Its phrase rules are left out on purpose:
    a per-character fold gives a substring of the text the same fold as the
    text itself, which a query needs. Converting text with OpenCC directly
    costs ~10 ms per 1,000 characters (pure Python); this table with
    `str.translate`, ~0.07 ms. Building it takes ~0.25 s, once per process.
    """
    converter = OpenCC("hk2s")
    characters: list[str] = []
    for name in ("HKVariantsRev.txt", "TSCharacters.txt"):
        text = (files("opencc") / "dictionary" / name).read_text(encoding="utf-8")
        characters += [line.split("\t")[0] for line in text.splitlines() if line[1:2] == "\t"]
    converted = converter.convert("\n".join(characters)).split("\n")
    table: dict[str, str] = {}
    for character, result in zip(characters, converted, strict=True):
        # This port writes every candidate ("干 乾" for 乾); the first is OpenCC's choice.
        first = result.split(" ")[0]
        if len(first) == 1 and first != character:
            table[character] = first
    for character in list(table):
        # Follow chains (薴 → 苧 → 苎) so that folding twice changes nothing.
        seen, target = {character}, table[character]
        while target in table and target not in seen:
            seen.add(target)
            target = table[target]
        table[character] = target
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII
        table[chr(code)] = chr(code - 0xFEE0)
    table["\u3000"] = " "
    for code in range(0xF900, 0xFB00):
        unified = unicodedata.normalize("NFKC", chr(code))
        if len(unified) == 1 and unified != chr(code):
            table[chr(code)] = table.get(unified, unified)
    # str.translate raises and catches a KeyError for every character it does
    # not find: mapping the common ranges to themselves makes folding ~3× faster.
    identity = {code: code for start, end in _COMMON_RANGES for code in range(start, end)}
    return identity | {ord(character): target for character, target in table.items()}


def fold(text: str) -> str:
    """Text as the index sees it: Simplified, half-width, lower case."""
    return text.translate(_fold_table()).lower()


def _fold_aligned(text: str) -> str:
    """`fold`, guaranteed one character for one, so positions carry back to `text`."""
    folded = fold(text)
    if len(folded) == len(text):
        return folded
    # A few letters lower-case to two characters (İ → i̇); leave those as they are.
    return "".join(c if len(f := fold(c)) != 1 else f for c in text)


# -- Pieces -------------------------------------------------------------------


def pieces(text: str) -> str:
    """The search pieces of one field, separated and surrounded by spaces.

    Each run of CJK characters gives its overlapping two-character pieces in
    order; each character of it is also listed once, after all the pieces, so
    that a one-character query is a single index lookup. (A prefix query on the
    pieces would miss the last character of a run, and for a common character
    make the index merge thousands of piece lists.) Other words and numbers are
    pieces as they are, lower-cased. `BOUNDARY` separates two runs where the
    first ends with the character the second begins with.
    """
    out: list[str] = []
    characters: set[str] = set()
    last = ""  # the last character of the previous run's pieces, if they came last
    for match in TOKEN.finditer(fold(text)):
        token = match.group()
        if match.lastgroup == "cjk":
            characters.update(token)
            if len(token) > 1:
                if token[0] == last:
                    out.append(BOUNDARY)
                out += [token[i : i + 2] for i in range(len(token) - 1)]
                last = token[-1]
        else:
            out.append(token[:MAX_WORD])
            last = ""
    out += sorted(characters)
    return f" {' '.join(out)} " if out else ""


def document(*, title: str, tags: Iterable[str], captions: Iterable[str], body_html: str) -> dict:
    """The fields of an article's `SearchDocument`."""
    return {
        "title": pieces(title),
        # One line each, so that two tags never read as one run.
        "tags": pieces("\n".join(tags)),
        "captions": pieces("\n".join(captions)),
        "body": pieces(markup.plain_text(body_html)),
    }


# -- Queries ------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A reader's query: terms that must all match, each a sequence of adjacent pieces."""

    terms: tuple[tuple[str, ...], ...]
    # The folded words to mark in an excerpt: CJK runs, other words, numbers.
    words: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.terms)

    @functools.cached_property
    def pattern(self) -> re.Pattern:
        """Finds `words` in folded text; other words only where they stand alone."""
        alternatives = []
        for word in sorted(self.words, key=len, reverse=True):
            if CJK_CHARACTER.match(word):
                alternatives.append(re.escape(word))
            else:
                edge = r"\d" if word.isdigit() else rf"[^\W\d_{CJK}]"
                alternatives.append(rf"(?<!{edge}){re.escape(word)}(?!{edge})")
        return re.compile("|".join(alternatives))


def parse_query(text: str) -> Query:
    """Read a query typed by a reader; nothing in it is ever index syntax.

    Words (split at spaces) are ANDed. Within a word, a CJK run is one term (its
    pieces, adjacent); a one-character run is that character; the other words
    and numbers between two runs form one term, so `COVID-19` needs covid next
    to 19. Quotes, `*`, `-`, parentheses, `OR`, `NEAR` are punctuation or plain
    words here. Only the first MAX_QUERY characters and MAX_TERMS terms count.
    """
    terms: dict[tuple[str, ...], None] = {}
    words: dict[str, None] = {}
    for word in fold(text[:MAX_QUERY]).split():
        group: list[str] = []
        for match in TOKEN.finditer(word):
            token = match.group()
            if match.lastgroup == "cjk":
                if group:
                    terms[tuple(group)] = None
                    group = []
                if len(token) == 1:
                    terms[(token,)] = None
                else:
                    terms[tuple(token[i : i + 2] for i in range(len(token) - 1))] = None
                words[token] = None
            else:
                group.append(token[:MAX_WORD])
                words[token[:MAX_WORD]] = None
        if group:
            terms[tuple(group)] = None
    return Query(terms=tuple(terms)[:MAX_TERMS], words=tuple(words))


def _phrase(term: tuple[str, ...]) -> str:
    """A term as it stands in stored pieces: ' a b '."""
    return f" {' '.join(term)} "


def _fts5_phrase(term: tuple[str, ...]) -> str:
    # Every piece is letters or digits (TOKEN), so none can carry a quote.
    return f'"{" ".join(term)}"'


def _tsquery(query: Query) -> str:
    pieces_ = dict.fromkeys(piece for term in query.terms for piece in term)
    return " & ".join(f"'{piece}'" for piece in pieces_)


# -- Finding articles ----------------------------------------------------------


def _fts5_match(connection, expression: str) -> RawSQL:
    """The ids of the SQLite documents matching an FTS5 expression."""
    from .models import SearchDocument

    quote = connection.ops.quote_name
    table = quote(SearchDocument._meta.db_table)
    key = quote(SearchDocument._meta.pk.column)
    return RawSQL(f"SELECT {key} FROM {table} WHERE {table} MATCH %s", [expression])


def _matches(connection, query: Query) -> RawSQL:
    """The ids of the documents holding every term of `query`, found through the index."""
    if connection.vendor == "sqlite":
        return _fts5_match(connection, " AND ".join(_fts5_phrase(term) for term in query.terms))
    if connection.vendor == "postgresql":
        # The function (migration 0005) finds the articles holding every piece
        # through the GIN index, then checks that a term of several pieces
        # stands together in one field.
        phrases = [_phrase(term) for term in query.terms if len(term) > 1]
        return RawSQL(
            f"SELECT {connection.ops.quote_name(MATCHES_FUNCTION)}(%s::tsquery, %s::text[])",
            [_tsquery(query), phrases],
        )
    raise NotSupportedError(f"search needs SQLite or PostgreSQL, not {connection.vendor}")


def matching_articles(queryset: QuerySet, text: str) -> QuerySet:
    """The articles of `queryset` matching a query, unranked and in the queryset's order.

    The same matches as `search_articles`, for lists that sort by their own
    columns (the admin's): scoring every match would be wasted there, and
    costs in proportion to the number of matches.
    """
    query = parse_query(text)
    if not query:
        return queryset.none()
    return queryset.filter(pk__in=_matches(connections[queryset.db], query))


def search_articles(queryset: QuerySet, text: str) -> QuerySet:
    """The articles of `queryset` matching a reader's query, best matches first.

    Every term must be found in the title, the tags, a caption or the body.
    The result is annotated with `search_score` (see FIELD_WEIGHTS) and ordered
    by it, then newest first. A query with no words gives no articles.
    """
    query = parse_query(text)
    if not query:
        return queryset.none()
    connection = connections[queryset.db]
    matches = _matches(connection, query)
    if connection.vendor == "sqlite":
        # Which fields hold a term, from the index alone: reading the stored
        # pieces of every match would read whole bodies.
        in_field = {
            (term, field): Q(pk__in=_fts5_match(connection, f"{{{field}}} : {_fts5_phrase(term)}"))
            for term in query.terms
            for field in FIELD_WEIGHTS
        }
    else:
        # Title, tags and captions are short and stored in the row.
        in_field = {
            (term, field): GreaterThan(
                StrIndex(f"search_document__{field}", Value(_phrase(term))), 0
            )
            for term in query.terms
            for field in FIELD_WEIGHTS
        }
    score = sum(
        (
            Case(When(condition, then=Value(FIELD_WEIGHTS[field])), default=Value(0))
            for (_, field), condition in in_field.items()
        ),
        start=Value(0),
    )
    return (
        queryset.filter(pk__in=matches)
        .annotate(search_score=score)
        .order_by(F("search_score").desc(), F("published_at").desc(nulls_last=True), "-number")
    )


# -- Keeping the index in step ---------------------------------------------------


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def index_articles(ids: Iterable[int], *, apps: Apps = global_apps) -> None:
    """Write the search documents of these articles from what is in the database now.

    Call it, in the same transaction, after changing what a document is made
    of anywhere but `Article.save()`: figures' captions, credits or alt text,
    an article's tags (an admin's `save_related`, a tag merge), a bulk
    `update()` of titles or bodies. Ids of deleted articles are dropped. Costs
    five queries per 500 articles. A migration passes its own `apps`.
    """
    Article, Figure, SearchDocument, TaggedArticle = (
        apps.get_model("articles", name)
        for name in ("Article", "Figure", "SearchDocument", "TaggedArticle")
    )
    ids = sorted(set(ids))
    with transaction.atomic():
        for chunk in _chunks(ids, 500):
            captions: dict[int, list[str]] = {}
            for article_id, caption, credit, alt in (
                Figure.objects.filter(article_id__in=chunk)
                .order_by("article_id", "position", "id")
                .values_list("article_id", "caption", "credit", "alt")
            ):
                captions.setdefault(article_id, []).append(f"{caption} {credit} {alt}")
            tags: dict[int, list[str]] = {}
            for article_id, name in (
                TaggedArticle.objects.filter(content_object_id__in=chunk)
                .order_by("content_object_id", "position", "id")
                .values_list("content_object_id", "tag__name")
            ):
                tags.setdefault(article_id, []).append(name)
            documents = [
                SearchDocument(
                    article_id=pk,
                    **document(
                        title=title,
                        tags=tags.get(pk, ()),
                        captions=captions.get(pk, ()),
                        body_html=body_html,
                    ),
                )
                for pk, title, body_html in Article.objects.filter(pk__in=chunk)
                .order_by()
                .values_list("pk", "title", "body_html")
            ]
            # FTS5 tables have no upsert: replace.
            SearchDocument.objects.filter(pk__in=chunk).delete()
            SearchDocument.objects.bulk_create(documents)


def rebuild_index(batch_size: int = 500) -> int:
    """Rebuild every article's search document; return how many there are."""
    from .models import Article, SearchDocument

    with transaction.atomic():
        SearchDocument.objects.all().delete()
        ids = list(Article.objects.order_by("pk").values_list("pk", flat=True))
        for chunk in _chunks(ids, batch_size):
            index_articles(chunk)
    return len(ids)


# -- Showing results -------------------------------------------------------------


def highlight(text: str, query: Query, length: int = EXCERPT_LENGTH) -> SafeString | None:
    """About `length` characters of `text` around the first match of `query`,
    every matched word in `<mark>`, the rest escaped; None if nothing matches."""
    text = WHITESPACE.sub(" ", text).strip()
    if not query.words:
        return None
    folded = _fold_aligned(text)
    first = query.pattern.search(folded)
    if first is None:
        return None
    start = max(0, first.start() - length // 4)
    end = max(min(len(text), start + length), first.end())
    start = max(0, min(start, end - length))
    parts = ["…"] if start else []
    position = start
    for match in query.pattern.finditer(folded, start, end):
        parts.append(escape(text[position : match.start()]))
        parts.append(format_html("<mark>{}</mark>", text[match.start() : match.end()]))
        position = match.end()
    parts.append(escape(text[position:end]))
    if end < len(text):
        parts.append("…")
    # Each part is already escaped or built by format_html, so none is escaped twice.
    return format_html_join("", "{}", ((part,) for part in parts))


@dataclass(frozen=True)
class Result:
    article: object
    excerpt: SafeString


def results(articles: list, text: str) -> list[Result]:
    """Found articles, each with an excerpt around its first match.

    The excerpt comes from the body, or else from a caption; an article matched
    only by its title or tags shows its usual excerpt. Load `body_html` and
    prefetch `figures`: this runs no query.
    """
    query = parse_query(text)
    found = []
    for article in articles:
        body = markup.plain_text(article.body_html)
        captions = " ".join(f"{f.caption} {f.credit}" for f in article.figures.all())
        excerpt = highlight(body, query) or highlight(captions, query) or escape(article.excerpt)
        found.append(Result(article, excerpt))
    return found
