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

Beside the documents, each title's distinct pieces are rows of `TitlePiece`
(migration 0013), read from the index of its primary key alone: a query of
many terms counts there how many of them each title holds (`_title_tally`).

Ranking gives the same numbers on both: the articles holding more of the
query's terms in the title come first, then, among as many, those holding more
in the tags, then in captions (`field_weights`: for one term, 4 points in the
title, 2 in the tags, 1 in a caption; FTS5 column filters on SQLite, `strpos`
on the short stored fields on PostgreSQL); body-only matches count 0; ties go
to the newest article. A frequency score (bm25,
`ts_rank`) was measured and left out: on PostgreSQL it reads every matching
article's whole vector out of TOAST, ~30 µs each, 270 ms for a common
character in 10,000 articles.

Keeping the index in step: the importer writes the documents (and their
title pieces, `write_title_pieces()`) of every article it creates or
updates, in the batch's transaction; `Article.save()` updates the article's
own through `index_articles()`; deleting an article deletes them (CASCADE).
Anything else that changes what a document is made of — figure captions,
credits or alt text, tags (an admin inline, a tag merge), a bulk `update()`
of titles or bodies — must call `index_articles(ids)` afterwards.
`manage.py rebuild_search_index` rebuilds every document (needed after a change
to this module's rules or an upgrade of OpenCC's dictionaries).
"""

import functools
import hashlib
import itertools
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, NotSupportedError, connections, transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import StrIndex
from django.db.models.lookups import GreaterThan
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from . import markup
from .caching import prepared_cursor, remember_for
from .pieces import BOUNDARY, CJK, CJK_CHARACTER, MAX_WORD, TOKEN, any_spelling, document, fold

# What a query may cost: the first MAX_QUERY characters, at most MAX_TERMS terms.
MAX_QUERY = 200
MAX_TERMS = 16
# Points for the term of a one-term query found in each field, the fields in
# the order they rank; the body counts nothing more than a match. A query of
# more terms gives each field more (field_weights).
FIELD_WEIGHTS = {"title": 4, "tags": 2, "captions": 1}
# A ranking of several terms is read a part per number of them in the title
# (_parts): the articles holding k of the terms or more in the title are found
# through the index as every combination of k terms. PostgreSQL reads a
# ranking so where no number has more combinations than this (up to 6 terms);
# SQLite where the query has no more terms than this (each term of a
# combination is one more read of its list of documents, measured slower for
# three). Other rankings read first the articles holding as many terms in the
# title as the page's last one or more (_level), then the others with a term
# there (on PostgreSQL where TITLED_PER_MATCH allows; else every match scored).
MOST_COMBINATIONS = 20
SQLITE_LEVELS_UP_TO = 2
EXCERPT_LENGTH = markup.EXCERPT_LENGTH
# PostgreSQL only (migration 0002): the function that finds matching documents.
MATCHES_FUNCTION = "articles_searchdocument_matches"
# SQLite only (migration 0011): the index a ranked search reads its matches through.
SEARCH_ROWS_INDEX = "articles_article_search_rows"
# PostgreSQL only (migration 0012): the function that finds a term in one short field.
FIELDS_FUNCTION = "articles_searchdocument_in_fields"
# PostgreSQL only: a query of several terms whose matches the planner expects
# to be no more than this many is scored whole, in one part (see _parts).
SCORE_ALL_UP_TO = 1000
# PostgreSQL only: a query of several terms with more combinations than
# MOST_COMBINATIONS is read from the articles with a term in the title, those
# holding the most terms there first (_parts), where the planner expects
# those articles to be no more than this many times the matches; else every
# match is scored. Counting one's terms in the title costs ~0.4 µs a term
# (the table of title pieces), scoring one ~20 µs: at archive size, for
# queries whose articles with a term in the title the planner expects at
# 3.8 to 9.4 times their matches, a first page took 30–44 ms so against
# 44–118 scoring every match (3 until then).
TITLED_PER_MATCH = 10
# PostgreSQL only: a part of a one-term ranking that the planner expects to
# hold enough of the articles is first looked for among the newest this many
# articles of the list, each tested, newest first, the rest of it after them;
# enough is WALK_EXPECTING times a page's worth in those newest (_dense_parts).
WALK_NEWEST = 400
WALK_EXPECTING = 2
# How long the figures a ranking's parts are chosen by are kept: PostgreSQL's
# planner's for a term or a query (_field_shares, _expected_matches), SQLite's
# count of the articles with a term in the title (_parts), and on both how
# many terms the title of a page's last article holds (_level). ANALYZE moves them
# little between two imports; an estimate is only an estimate, and a stale one
# changes a plan, not results.
SHARES_SECONDS = 600
# In a ranking's SQL (ranked_ids): the search document's alias, and the mark
# where each part's source goes.
DOCUMENT = "search_document"
PART_MARK = "/* part */"
# PostgreSQL only: the GIN indexes whose new entries wait in a pending list.
PENDING_INDEXES = ("articles_searchdocument_vector", "articles_searchdocument_fields")


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
        """Finds `words` in text as written, in any spelling that folds to them
        (Traditional or Simplified, any case or width); words other than CJK
        runs only where they stand alone."""
        alternatives = []
        for word in sorted(self.words, key=len, reverse=True):
            if CJK_CHARACTER.match(word):
                alternatives.append(any_spelling(word))
            else:
                edge = r"\d" if word.isdigit() else rf"[^\W\d_{CJK}]"
                # The edge before the word is looked at after its first
                # character: a pattern that begins with a character class lets
                # the search skip to where that class matches, one that begins
                # with a lookbehind tries every position (4 times slower).
                first, rest = any_spelling(word[0]), any_spelling(word[1:])
                alternatives.append(rf"{first}(?<!{edge}{first}){rest}(?!{edge})")
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


def _needle(term: tuple[str, ...]) -> str:
    """What `strpos` (`INSTR` on SQLite) looks for in a document's stored
    pieces to find a term there: the term as it stands (' a b '), or for one
    CJK character, a piece beginning with it (' 的'). Each character of a run
    is listed once after all the run's pieces (pieces.pieces), so a piece
    beginning with it is there exactly where it is listed, and the first such
    piece mostly comes long before that list: a common character is found
    early in a body rather than after all its pairs (~12 µs a body)."""
    if len(term) == 1 and CJK_CHARACTER.fullmatch(term[0]):
        return f" {term[0]}"
    return _phrase(term)


def _fts5_phrase(term: tuple[str, ...]) -> str:
    # Every piece is letters or digits (TOKEN), so none can carry a quote.
    return f'"{" ".join(term)}"'


def _tsquery(query: Query) -> str:
    pieces_ = dict.fromkeys(piece for term in query.terms for piece in term)
    return " & ".join(f"'{piece}'" for piece in pieces_)


# -- Finding articles ----------------------------------------------------------


def _fts5_select(connection) -> str:
    """SQL for the ids of the SQLite documents matching an FTS5 expression
    (one parameter)."""
    from .models import SearchDocument

    quote = connection.ops.quote_name
    table = quote(SearchDocument._meta.db_table)
    key = quote(SearchDocument._meta.pk.column)
    return f"SELECT {key} FROM {table} WHERE {table} MATCH %s"


def _fts5_match(connection, expression: str) -> RawSQL:
    """The ids of the SQLite documents matching an FTS5 expression."""
    return RawSQL(_fts5_select(connection), [expression])


def _title_tally(connection, query: Query) -> tuple[str, list]:
    """SQL for the ids of the documents whose title holds some of the terms
    of `query`, an id for each term it holds (`id`), and its parameters:
    read from the narrow table of title pieces (`TitlePiece`) alone. A term
    of several pieces is counted where its pieces are, so perhaps where they
    stand apart."""
    from .models import TitlePiece

    quote = connection.ops.quote_name
    table = quote(TitlePiece._meta.db_table)
    piece = quote(TitlePiece._meta.get_field("piece").column)
    article = quote(TitlePiece._meta.get_field("article").column)
    selects, params = [], []
    for term in query.terms:
        pieces_ = list(dict.fromkeys(term))
        if len(pieces_) == 1:
            selects.append(f"SELECT {article} AS id FROM {table} WHERE {piece} = %s")
        else:
            selects.append(
                f"SELECT {article} AS id FROM {table}"
                f" WHERE {piece} IN ({', '.join(['%s'] * len(pieces_))})"
                f" GROUP BY {article} HAVING COUNT(*) = {len(pieces_):d}"
            )
        params += pieces_
    return " UNION ALL ".join(selects), params


def _level(connection, tally: str, params: list, stop: int, among: tuple[str, tuple]) -> int:
    """How many times the `stop`-th id of `tally` (SQL of ids, an id once for
    each thing it matched, `id`) stands in it, the ids in order of that
    number, of the ids `among` (SQL and its parameters) gives (0 if fewer of
    those stand in it)."""
    among_sql, among_params = among
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) AS hits FROM ({tally}) AS tally WHERE id IN ({among_sql})"
            " GROUP BY id ORDER BY hits DESC LIMIT 1 OFFSET %s",
            [*params, *among_params, stop - 1],
        )
        row = cursor.fetchone()
    return row[0] if row else 0


def _at_level(tally: str, level: int) -> str:
    """SQL for the ids standing in `tally` (see `_level`) `level` times or more."""
    return f"SELECT id FROM ({tally}) AS tally GROUP BY id HAVING COUNT(*) >= {level:d}"


def _fts5_count(connection, expression: str, most: int) -> int:
    """How many SQLite documents match an FTS5 expression, counted up to `most`
    (FTS5 reads its lists of documents only as far as the rows it is asked for)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM ({_fts5_select(connection)} LIMIT %s)", [expression, most]
        )
        (count,) = cursor.fetchone()
    return count


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


def field_weights(query: Query) -> dict[str, int]:
    """Points for a term of `query` found in each short field, in the order
    the fields rank: a field outweighs the ones after it for every term
    together, so that the articles with more terms in the title come first,
    then, among as many, those with more terms in the tags, then in captions.
    (Powers of the number of terms + 1; for one term, FIELD_WEIGHTS.)

    So the ranking is read a part per number of terms in the title (_parts),
    each found through the index: with weights that let tags and captions
    outweigh a title, the first page had to score every article holding a
    term in the title, and the title hits of common words are thousands.
    """
    base = len(query.terms) + 1
    return {field: base ** (len(FIELD_WEIGHTS) - 1 - n) for n, field in enumerate(FIELD_WEIGHTS)}


def _score(connection, query: Query):
    """The points of `query` in each article (see field_weights), as an expression."""
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
    weights = field_weights(query)
    return sum(
        (
            Case(When(condition, then=Value(weights[field])), default=Value(0))
            for (_, field), condition in in_field.items()
        ),
        start=Value(0),
    )


NEWEST_FIRST = (F("published_at").desc(nulls_last=True), "-number")


def search_articles(queryset: QuerySet, text: str) -> QuerySet:
    """The articles of `queryset` matching a reader's query, best matches first.

    Every term must be found in the title, the tags, a caption or the body.
    The result is annotated with `search_score` (see field_weights) and ordered
    by it, then newest first. A query with no words gives no articles.
    """
    query = parse_query(text)
    if not query:
        return queryset.none()
    connection = connections[queryset.db]
    return (
        queryset.filter(pk__in=_matches(connection, query))
        .annotate(search_score=_score(connection, query))
        .order_by(F("search_score").desc(), *NEWEST_FIRST)
    )


def ranked_ids(queryset: QuerySet, text: str, start: int, stop: int) -> list[int]:
    """The ids of `search_articles(queryset, text)` from `start` to `stop`.

    Scoring and sorting every match costs in proportion to the matches (9,683
    of 10,000 articles hold 香), so the ranking is read as parts of it that no
    score crosses (`_parts`), each sorted on its own, the parts one after
    another in a single query (`UNION ALL`) that stops reading them once the
    page is full: a first page of 香 scores the 642 articles with 香 in the
    title, not the 9,683. Both databases return the parts of a `UNION ALL` in
    order and read a later part only while the `LIMIT` still wants rows; the
    tests hold the result to the one ranking on every page.

    On PostgreSQL, a part of a one-term ranking that the planner expects to
    be dense (`_dense_parts`) is looked for first among the newest WALK_NEWEST
    articles, each tested in list order until the page is full, then, if the
    page wants more, among its other articles through the index.
    """
    from .models import SearchDocument

    query = parse_query(text)
    if not query or start >= stop:
        return []
    connection = connections[queryset.db]
    # The queryset's articles, with a stand-in for where they are found.
    slot = object()
    source = RawSQL(f"SELECT %s {PART_MARK}", [slot])
    try:
        sql, params = (
            queryset.filter(pk__in=source).order_by().values_list("pk").query.sql_with_params()
        )
    except EmptyResultSet:
        return []
    quote = connection.ops.quote_name
    meta = queryset.model._meta
    table = quote(meta.db_table)
    key = f"{table}.{quote(meta.pk.column)}"
    # The document's fields, for the parts' conditions and points (a part
    # that needs none goes without).
    document_meta = SearchDocument._meta

    def join_document(on):
        return (
            f"INNER JOIN {quote(document_meta.db_table)} {DOCUMENT}"
            f" ON {DOCUMENT}.{quote(document_meta.pk.column)} = {on}"
        )

    articles = f"FROM {table} "
    if connection.vendor == "sqlite":
        # Each match is looked up in the index of migration 0011: with no
        # statistics, SQLite's planner would rather walk every published
        # article in list order and test each against the matches. The ORM
        # cannot ask for an index, so the hint goes into the SQL it wrote;
        # should that SQL ever read differently, the query runs without it,
        # slower, same results.
        articles += f"INDEXED BY {quote(SEARCH_ROWS_INDEX)} "
    plain = sql.replace(f"FROM {table} ", articles, 1)
    with_document = sql.replace(f"FROM {table} ", f"{articles}{join_document(key)} ", 1)

    def newest_first(alias):
        return ", ".join(
            f"{alias}.{quote(meta.get_field(name).column)} DESC{nulls}"
            for name, nulls in (("published_at", " NULLS LAST"), ("number", ""))
        )

    at = params.index(slot)
    parts = _parts(connection, query, key, stop)
    if any(part.walk for part in parts):
        # The queryset's newest articles, in list order, with what orders them.
        newest_sql, newest_params = (
            queryset.order_by(*NEWEST_FIRST)
            .values_list("pk", "published_at", "number")[:WALK_NEWEST]
            .query.sql_with_params()
        )
        newest = f"({newest_sql}) AS newest (id, published_at, number)"
    selects, all_params = [], []
    for part in parts:
        select = (with_document if part.reads_document else plain).replace(
            f"(SELECT %s {PART_MARK})", f"({part.source})", 1
        )
        select_params = [*params[:at], *part.source_params, *params[at + 1 :]]
        if part.condition:
            select += f" AND {part.condition}"
            select_params += part.condition_params
        if part.walk:
            # Among the newest articles, each tested in list order until the
            # page is full; then the part's others, found through the index.
            selects.append(
                f"SELECT * FROM (SELECT newest.id FROM {newest} {join_document('newest.id')}"
                f" WHERE {part.test} ORDER BY {newest_first('newest')}"
                f" LIMIT {stop:d}) AS part{len(selects)}"
            )
            all_params += [*newest_params, *part.test_params]
            select += f" AND {key} NOT IN (SELECT newest.id FROM {newest})"
            select_params += newest_params
        order = newest_first(table)
        if part.points:
            score, score_params = _points_sql(part.points)
            order = f"{score} DESC, {order}"
            select_params += score_params
        # A part sorted and cut on its own: no page needs more than `stop` of its rows.
        selects.append(
            f"SELECT * FROM ({select} ORDER BY {order} LIMIT {stop:d}) AS part{len(selects)}"
        )
        all_params += select_params
    # On PostgreSQL the statement is prepared once it repeats on a connection
    # and then planned once for any query of its shape (newsroom/postgresql):
    # planning it took longer than running it. Hence the limits written into
    # it: a limit the planner cannot see, it takes for a tenth of the rows,
    # and it then walked every article in list order (17 ms instead of 1).
    with prepared_cursor(connection) as cursor:
        cursor.execute(
            " UNION ALL ".join(selects) + f" LIMIT {stop - start:d} OFFSET {start:d}", all_params
        )
        return [pk for (pk,) in cursor.fetchall()]


def _expected_matches(connection, query: Query) -> float:
    """How many documents PostgreSQL's planner expects to hold every piece of
    `query` (from the statistics ANALYZE keeps of the index's pieces)."""
    return _expected_rows(connection, "vector", _tsquery(query))


def _expected_rows(connection, column: str, tsquery: str) -> float:
    """How many documents PostgreSQL's planner expects to match `tsquery` in
    one of their vectors (`vector`, or migration 0012's `fields_vector`)."""
    from .models import SearchDocument

    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN (FORMAT JSON) SELECT 1 FROM "
            f"{connection.ops.quote_name(SearchDocument._meta.db_table)} "
            f"WHERE {connection.ops.quote_name(column)} @@ %s::tsquery",
            [tsquery],
        )
        (plan,) = cursor.fetchone()
    return plan[0]["Plan"]["Plan Rows"]


def _dense_parts(connection, query: Query, parts: list["_Part"], stop: int) -> set[int]:
    """The indexes of the parts of a one-term ranking, a part per score, to
    look for among the newest articles first (see ranked_ids): those expected to hold, of the
    newest WALK_NEWEST, WALK_EXPECTING times a page's worth or more, up to
    where the parts before them are expected to fill the page.

    A part read through its index costs every article in it (~8 µs each on
    the machine measured: the index's rows, then each article's row for its
    date); tested one by one newest first, a dense part fills a page within
    its first few dozen articles (~10 µs each), and a part taken for dense
    that is not costs no more than WALK_NEWEST tests before it is read as usual.
    """
    (term,) = query.terms
    documents, shares = _kept_field_shares(connection, term)
    dense, before = set(), 0.0
    for index, part in enumerate(parts):
        if before * documents >= stop:
            break
        share = sum(
            math.prod(shares[field] if field in fields else 1 - shares[field] for field in shares)
            for fields in part.in_short_fields
        )
        if share * WALK_NEWEST >= WALK_EXPECTING * stop:
            dense.add(index)
        before += share
    return dense


def _kept_estimate(connection, asked: str, estimate: Callable):
    """What the database answered `asked` (`estimate()`), kept SHARES_SECONDS
    per database: PostgreSQL's EXPLAIN costs 1–3 ms, counting an FTS5 match
    on SQLite up to 2, and a reader's next page, or the next reader's search,
    asks the same; so is the count of how many terms the title of the
    page's last article holds (`_level`: on SQLite 8–14 ms for seven common
    characters at 10,000 articles, 37–66 at archive size, on a machine at
    half speed, most of it finding the matches)."""
    database = connection.settings_dict
    address = f"{database['HOST']}:{database['PORT']}/{database['NAME']}\n{asked}"
    key = f"newsroom:search-estimate:{hashlib.sha256(address.encode()).hexdigest()}"
    return remember_for(key, estimate, SHARES_SECONDS)


def _kept_field_shares(connection, term: tuple[str, ...]) -> tuple[float, dict[str, float]]:
    """`_field_shares`, kept per database and term (`_kept_estimate`)."""
    return _kept_estimate(
        connection, f"shares {' '.join(term)}", lambda: _field_shares(connection, term)
    )


def _kept_expected_matches(connection, query: Query) -> float:
    """`_expected_matches`, kept per database and query (`_kept_estimate`)."""
    return _kept_estimate(
        connection, f"matches {_tsquery(query)}", lambda: _expected_matches(connection, query)
    )


def _field_shares(connection, term: tuple[str, ...]) -> tuple[float, dict[str, float]]:
    """How many search documents PostgreSQL's planner expects there are, and
    what share of them it expects to hold `term` in each short field (from
    the statistics ANALYZE keeps of migration 0012's vector): one EXPLAIN.

    A term of several pieces is given the share of its rarest piece (a word's
    pieces mostly come together). A piece missing from the statistics is
    rarer than any in them, and the planner gives it the same share as a
    piece that is nowhere: taken as none.
    """
    from .models import SearchDocument

    quote = connection.ops.quote_name
    table = quote(SearchDocument._meta.db_table)
    # Each piece in each short field, and a piece the vector never holds (the
    # boundary mark) for the share the planner gives what it has no figure for.
    lexemes = {
        f"{field}{n}": f"{field}:{piece}" for field in FIELD_WEIGHTS for n, piece in enumerate(term)
    } | {"nowhere": BOUNDARY}
    # Each count a named CTE, which the plan shows by name (a UNION ALL of
    # plain counts may be planned in parallel, its members reordered).
    holding = f"SELECT 1 FROM {table} WHERE {quote('fields_vector')} @@ %s::tsquery"
    counts = {"documents": (f"SELECT 1 FROM {table}", [])} | {
        name: (holding, [f"'{lexeme}'"]) for name, lexeme in lexemes.items()
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (FORMAT JSON) WITH "
            + ", ".join(f"{name} AS MATERIALIZED ({sql})" for name, (sql, _) in counts.items())
            + " "
            + " UNION ALL ".join(f"SELECT 1 FROM {name}" for name in counts),
            [param for _, params in counts.values() for param in params],
        )
        (plan,) = cursor.fetchone()
    rows = {
        node["Subplan Name"].removeprefix("CTE "): node["Plan Rows"]
        for node in plan_nodes(plan)
        if node.get("Subplan Name", "").startswith("CTE ")
    }
    documents = max(rows["documents"], 1)
    return documents, {
        field: min(
            1.0,
            *(
                0.0 if rows[f"{field}{n}"] <= rows["nowhere"] else rows[f"{field}{n}"] / documents
                for n in range(len(term))
            ),
        )
        for field in FIELD_WEIGHTS
    }


def plan_nodes(plan) -> Iterator[dict]:
    """Every node of a plan PostgreSQL's `EXPLAIN (FORMAT JSON)` returned."""
    nodes = [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        nodes += node.get("Plans", [])
        yield node


def _points_sql(points: tuple[tuple[str, tuple, int], ...]) -> tuple[str, list]:
    """SQL adding up the points of the conditions a row meets, and its parameters."""
    score = " + ".join(
        f"CASE WHEN {condition} THEN {weight} ELSE 0 END" for condition, _, weight in points
    )
    return f"({score})", [param for _, params, _ in points for param in params]


@dataclass(frozen=True)
class _Part:
    """A part of a ranking (see `ranked_ids`): the SQL finding its documents'
    ids, a condition its rows must meet besides, and the conditions whose
    points still order them, each with its points."""

    source: str
    source_params: tuple = ()
    condition: str = ""
    condition_params: tuple = ()
    points: tuple[tuple[str, tuple, int], ...] = ()
    # PostgreSQL, a part per score of a one-term ranking: the sets of short
    # fields its articles hold the term in (and not the others), and a test
    # of a document's row that holds exactly for them (see _dense_parts).
    in_short_fields: tuple[tuple[str, ...], ...] = ()
    test: str = ""
    test_params: tuple = ()
    # Whether to look for it among the newest articles first (see ranked_ids).
    walk: bool = False

    @property
    def reads_document(self) -> bool:
        """Whether its condition or points read the search document's row."""
        return any(DOCUMENT in sql for sql in [self.condition, *(p[0] for p in self.points)])


def _parts(connection, query: Query, key: str, stop: int) -> list[_Part]:
    """The parts of the ranking of `query` that no score crosses, highest first.

    A query of one term splits by field, since a title (4) outweighs tags and
    captions together (3): the articles with the term in the title (4 to 7
    points), in the tags but not the title (2 or 3), in captions alone (1), in
    the body alone (0, nothing to score); on PostgreSQL a term of one piece
    splits further, a part per score, and so does a term of several pieces
    when the planner expects one of those parts to be dense enough to walk
    (`_dense_parts`; `stop` is where the page ends). With more terms, a part
    per number of them in the title (see field_weights), all of them first,
    each found through the index as every combination of that many terms in
    the title and scored within by tags and captions; then the articles with
    none in the title, scored (on SQLite those with a term in the tags or
    captions, then those matched in the body alone). A query with more terms
    than those parts were measured to pay for (SQLITE_LEVELS_UP_TO,
    MOST_COMBINATIONS) reads first the articles holding as many terms in the
    title as the page's last one or more (counted from the table of title
    pieces, `_level`), each checked and scored from its document, then
    the others with a term in the title, scored; on PostgreSQL where the
    planner expects those to be few enough against the matches
    (TITLED_PER_MATCH) and, where the page's last holds one term in the
    title, no more than the matches; else one part, every match scored, as
    for a query whose matches the planner expects to be few
    (SCORE_ALL_UP_TO). SQLite
    reads the title apart only where the articles with a term in it fill
    the page (`_fts5_count`); where they do not, every match with a term in
    a short field is scored in one part, then the body alone.
    """
    quote = connection.ops.quote_name
    # A term in a field of the document, read from its stored pieces (the
    # same rule as the index's: `_needle`).
    position = "INSTR" if connection.vendor == "sqlite" else "STRPOS"

    def holds(field, term):
        return f"{position}({DOCUMENT}.{quote(field)}, %s) > 0", (_needle(term),)

    def lacks(field, term):
        sql, params = holds(field, term)
        return f"NOT {sql}", params

    def joined(conditions, operator):
        # Conditions, each SQL and its parameters, as one.
        return (
            "(" + f" {operator} ".join(sql for sql, _ in conditions) + ")",
            tuple(param for _, params in conditions for param in params),
        )

    weights = field_weights(query)
    # Every term somewhere, as the index finds it: on SQLite asked of a
    # document's body only for a term its short fields do not hold. On
    # PostgreSQL as the match function checks it: every piece in the
    # document's vector (~7 µs an article, where finding a common character
    # in a body takes `strpos` ~12 µs), and a term of several pieces
    # standing together in one field. (`IS TRUE` keeps the planner from
    # finding the condition through the vector's index, every match of
    # common words: 的 是 了 在 人 took 730 ms at archive size so, 15 without.)
    somewhere = {
        term: joined([holds(field, term) for field in [*FIELD_WEIGHTS, "body"]], "OR")
        for term in query.terms
    }
    if connection.vendor == "postgresql":
        in_vector = (f"({DOCUMENT}.{quote('vector')} @@ %s::tsquery) IS TRUE", (_tsquery(query),))
        every = joined(
            [in_vector, *(somewhere[term] for term in query.terms if len(term) > 1)], "AND"
        )
    else:
        every = joined(list(somewhere.values()), "AND")
    # How many terms the title holds, read from the document.
    title_terms = joined(
        [
            (f"CASE WHEN {sql} THEN 1 ELSE 0 END", params)
            for sql, params in (holds("title", term) for term in query.terms)
        ],
        "+",
    )
    # Each term's points in each short field.
    points = tuple(
        (*holds(field, term), weight) for term in query.terms for field, weight in weights.items()
    )
    if connection.vendor == "sqlite":
        match = _fts5_select(connection)
        phrases = [_fts5_phrase(term) for term in query.terms]

        def fts5(expression, points=()):
            return _Part(
                match,
                (expression,),
                points=tuple((f"{key} IN ({match})", (where,), weight) for where, weight in points),
            )

        if len(phrases) == 1:
            (phrase,) = phrases
            tags, captions = (
                (f"{{{field}}} : {phrase}", FIELD_WEIGHTS[field]) for field in ("tags", "captions")
            )
            return [
                fts5(f"{{title}} : {phrase}", [tags, captions]),
                fts5(f"{{tags}} : {phrase} NOT {{title}} : {phrase}", [captions]),
                fts5(f"{{captions}} : {phrase} NOT {{title tags}} : {phrase}"),
                fts5(f"{phrase} NOT {{title tags captions}} : {phrase}"),
            ]
        every_term = " AND ".join(phrases)
        any_term = " OR ".join(phrases)
        any_in_title = f"{{title}} : ({any_term})"
        in_short_fields = f"{{{' '.join(FIELD_WEIGHTS)}}} : ({any_term})"
        below_title = [
            (f"{{{field}}} : {phrase}", weights[field])
            for field in ("tags", "captions")
            for phrase in phrases
        ]
        # After the title: a term in the tags or captions, scored; the body alone.
        below = fts5(
            f"(({{tags captions}} : ({any_term})) AND {every_term}) NOT {any_in_title}", below_title
        )
        body = fts5(f"({every_term}) NOT {in_short_fields}")
        in_title_points = [(f"{{title}} : {phrase}", weights["title"]) for phrase in phrases]
        with_title = f"({any_in_title}) AND {every_term}"
        counted = _kept_estimate(
            connection,
            f"count {stop} {with_title}",
            lambda: _fts5_count(connection, with_title, stop),
        )
        if counted < stop:
            # The page goes on below the title: every match with a term in
            # a short field, scored in one part, reads each term's list in
            # each field once, not once a part.
            return [
                fts5(f"({in_short_fields}) AND {every_term}", in_title_points + below_title),
                body,
            ]
        if len(phrases) > SQLITE_LEVELS_UP_TO:
            # The page is filled by the articles with a term in the title.
            # How many terms the title of the page's last one holds, the
            # matching articles in order of that number, is counted from
            # the table of title pieces (`_title_tally`): the articles
            # holding as many or more come first, few, each checked and
            # scored from its document's stored pieces; then the others with
            # a term in the title, scored (read only where some of the first
            # are drafts or hold a term's pieces apart in the title).
            tally, tally_params = _title_tally(connection, query)
            level = _kept_estimate(
                connection,
                f"level {stop} {query.terms}",
                lambda: _level(connection, tally, tally_params, stop, (match, (every_term,))),
            )
            with_title = fts5(with_title, in_title_points + below_title)
            if level < 2:
                return [with_title, below, body]
            at_level = _at_level(tally, level)
            return [
                _Part(
                    at_level,
                    tuple(tally_params),
                    *joined([(f"{title_terms[0]} >= {level:d}", title_terms[1]), every], "AND"),
                    points,
                ),
                # The document is read only for those the count took for
                # holding as many (`OR` reads on only where its left is false).
                replace(
                    with_title,
                    condition=f"({key} NOT IN ({at_level}) OR {title_terms[0]} < {level:d})",
                    condition_params=(*tally_params, *title_terms[1]),
                ),
                below,
                body,
            ]

        def in_title(count):
            # FTS5: `count` of the phrases or more in the title.
            either = " OR ".join(
                f"({' AND '.join(some)})" for some in itertools.combinations(phrases, count)
            )
            return f"{{title}} : ({either})"

        # All of them in the title, then fewer: each with every term somewhere.
        parts = [fts5(in_title(len(phrases)), below_title)]
        for count in range(len(phrases) - 1, 0, -1):
            expression = f"(({in_title(count)}) AND ({every_term})) NOT ({in_title(count + 1)})"
            parts.append(fts5(expression, below_title))
        return [*parts, below, body]
    if connection.vendor == "postgresql":
        found = _matches(connection, query)
        matches = _Part(found.sql, tuple(found.params))
        # Every match scored, in one part.
        scored_whole = [replace(matches, points=points)]

        def in_fields(pieces: str):
            # Through migration 0012's index: field-prefixed pieces, a tsquery.
            return f"SELECT {quote(FIELDS_FUNCTION)}(%s::tsquery)", (pieces,)

        def any_in(fields, terms):
            # A term's pieces in one of `fields`.
            return in_fields(
                " | ".join(
                    "(" + " & ".join(f"'{field}:{piece}'" for piece in term) + ")"
                    for term in terms
                    for field in fields
                )
            )

        if len(query.terms) > 1:
            expected_matches = _kept_expected_matches(connection, query)
            if expected_matches <= SCORE_ALL_UP_TO:
                return scored_whole
            below_title = tuple(
                (*holds(field, term), weights[field])
                for field in ("tags", "captions")
                for term in query.terms
            )
            # The rest, none in the title, scored: the matches (every term
            # already checked) are fewer than the articles holding a term in
            # the tags or captions (香港 政府: 2,900 against 8,200 at archive size).
            rest = _Part(
                matches.source,
                matches.source_params,
                f"{title_terms[0]} = 0",
                title_terms[1],
                below_title,
            )
            if math.comb(len(query.terms), len(query.terms) // 2) > MOST_COMBINATIONS:
                # Too many combinations to find each number of terms in the
                # title through the index: the articles with a term's pieces
                # in the title, found through it, where the planner expects
                # them to be few enough against the matches.
                found, found_params = any_in(["title"], query.terms)
                (titled,) = found_params
                expected = _kept_estimate(
                    connection,
                    f"fields {titled}",
                    lambda: _expected_rows(connection, "fields_vector", titled),
                )
                if expected > TITLED_PER_MATCH * expected_matches:
                    return scored_whole
                # As on SQLite: how many terms the title of the page's last
                # article holds, the matching articles in order of that
                # number, counted from the table of title pieces; the
                # articles holding as many or more come first, few, found by
                # the same count, then checked and scored; then the others
                # with a term in the title, scored (read where some of the
                # first are drafts or hold a term's pieces apart).
                tally, tally_params = _title_tally(connection, query)
                level = _kept_estimate(
                    connection,
                    f"level {stop} {query.terms}",
                    lambda: _level(
                        connection,
                        tally,
                        tally_params,
                        stop,
                        (matches.source, matches.source_params),
                    ),
                )
                with_title = _Part(
                    found,
                    found_params,
                    *joined([(f"{title_terms[0]} > 0", title_terms[1]), every], "AND"),
                    points,
                )
                if level < 2:
                    # The page's last article holds one term in the title:
                    # every article with a term there is read and scored, so
                    # they go first only where the planner expects them to
                    # be fewer than the matches; else every match is scored.
                    if expected > expected_matches:
                        return scored_whole
                    return [with_title, rest]
                return [
                    _Part(
                        _at_level(tally, level),
                        tuple(tally_params),
                        *joined([(f"{title_terms[0]} >= {level:d}", title_terms[1]), every], "AND"),
                        points,
                    ),
                    replace(
                        with_title,
                        condition=f"{title_terms[0]} < {level:d} AND {with_title.condition}",
                        condition_params=(*title_terms[1], *with_title.condition_params),
                    ),
                    rest,
                ]
            parts = []
            for count in range(len(query.terms), 0, -1):
                # Found through migration 0012's index by every combination
                # of `count` terms, then counted in the document: pieces
                # found apart are no term.
                source = in_fields(
                    " | ".join(
                        "("
                        + " & ".join(f"'title:{piece}'" for term in some for piece in term)
                        + ")"
                        for some in itertools.combinations(query.terms, count)
                    )
                )
                conditions = [(f"{title_terms[0]} = {count:d}", title_terms[1])]
                if count < len(query.terms):
                    conditions.append(every)
                parts.append(_Part(*source, *joined(conditions, "AND"), below_title))
            return [*parts, rest]
        (term,) = query.terms

        def part(field, outside, points=()):
            # In `field` (found through migration 0012's index), in none of `outside`.
            return _Part(
                *any_in([field], [term]),
                *joined([holds(field, term), *(lacks(other, term) for other in outside)], "AND"),
                tuple((*holds(other, term), FIELD_WEIGHTS[other]) for other in points),
            )

        body = _Part(
            matches.source,
            matches.source_params,
            *joined([lacks(field, term) for field in FIELD_WEIGHTS], "AND"),
        )
        # A part per score from 7 down to 1: the articles holding the term in
        # exactly the short fields of a combination worth that score.
        by_score = {}
        for size in range(1, len(FIELD_WEIGHTS) + 1):
            for fields in itertools.combinations(FIELD_WEIGHTS, size):
                score = sum(FIELD_WEIGHTS[field] for field in fields)
                by_score.setdefault(score, []).append(fields)
        per_score = []
        for score in sorted(by_score, reverse=True):
            combinations = by_score[score]
            test, test_params = joined(
                [
                    joined(
                        [
                            holds(field, term) if field in fields else lacks(field, term)
                            for field in FIELD_WEIGHTS
                        ],
                        "AND",
                    )
                    for fields in combinations
                ],
                "OR",
            )
            if len(term) == 1:
                # One piece (a word of one or two characters, an English
                # word): which short fields hold it is exact in the index,
                # so the part is found there, with no document to read.
                (piece,) = term
                pattern = " | ".join(
                    "("
                    + " & ".join(
                        f"'{field}:{piece}'" if field in fields else f"!'{field}:{piece}'"
                        for field in FIELD_WEIGHTS
                    )
                    + ")"
                    for fields in combinations
                )
                found = _Part(*in_fields(pattern))
            else:
                # Several: found by their pieces in the fields that hold
                # them, then checked in the document (adjacent, and not in
                # the other fields).
                pattern = " | ".join(
                    "("
                    + " & ".join(f"'{field}:{piece}'" for field in fields for piece in term)
                    + ")"
                    for fields in combinations
                )
                found = _Part(*in_fields(pattern), test, test_params)
            per_score.append(
                replace(
                    found,
                    in_short_fields=tuple(combinations),
                    test=test,
                    test_params=test_params,
                )
            )
        # Each part newest first, nothing to score. (Through the function:
        # written as a plain subquery, the planner walks the list index
        # testing each article when it expects a part to be dense, reading on
        # through the whole list when it is wrong, as it was for 的:
        # docs/search.md. A part expected to be dense is walked here, never
        # further than the newest WALK_NEWEST: _dense_parts.)
        dense = _dense_parts(connection, query, per_score, stop)
        if len(term) == 1 or dense:
            return [replace(part, walk=index in dense) for index, part in enumerate(per_score)] + [
                body
            ]
        # A term of several pieces with no dense part: a part per field,
        # scored, reads fewer documents for adjacency than a part per score.
        return [
            part("title", [], ["tags", "captions"]),
            part("tags", ["title"], ["captions"]),
            part("captions", ["title", "tags"]),
            body,
        ]
    raise NotSupportedError(f"search needs SQLite or PostgreSQL, not {connection.vendor}")


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
    seven queries per 500 articles. A migration passes its own `apps`.
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
            write_title_pieces({doc.article_id: doc.title for doc in documents}, apps=apps)


def title_pieces(title: str) -> set[str]:
    """The distinct pieces of a document's `title` as stored (`TitlePiece`)."""
    return set(title.split()) - {BOUNDARY}


def write_title_pieces(titles: dict[int, str], *, apps: Apps = global_apps) -> None:
    """Write the `TitlePiece` rows of these articles from their documents'
    stored titles (by article id), in place of any they had. A migration
    passes its own `apps`; one from before the table has none to write."""
    try:
        TitlePiece = apps.get_model("articles", "TitlePiece")
    except LookupError:
        return
    if not titles:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    meta = TitlePiece._meta
    insert = (
        f"INSERT INTO {quote(meta.db_table)}"
        f" ({quote(meta.get_field('piece').column)}, {quote(meta.get_field('article').column)})"
    )
    rows = [(piece, pk) for pk, title in titles.items() for piece in sorted(title_pieces(title))]
    with transaction.atomic(), connection.cursor() as cursor:
        TitlePiece.objects.filter(article_id__in=list(titles)).delete()
        # Rows as values, no model instances: ~30 an article. PostgreSQL
        # takes them as two arrays in one statement, 3× faster than a
        # statement a row.
        if connection.vendor == "postgresql":
            cursor.execute(
                f"{insert} SELECT * FROM unnest(%s::text[], %s::bigint[])",
                [[piece for piece, _ in rows], [pk for _, pk in rows]],
            )
        else:
            cursor.executemany(f"{insert} VALUES (%s, %s)", rows)


def finish_bulk_indexing() -> None:
    """After writing many documents: merge PostgreSQL's pending GIN entries into
    the indexes (migrations 0007 and 0012 let them pile up), so searches need
    not read them."""
    connection = connections["default"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for index in PENDING_INDEXES:
                cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])


def rebuild_index(batch_size: int = 500) -> int:
    """Rebuild every article's search document; return how many there are."""
    from .models import Article, SearchDocument, TitlePiece

    with transaction.atomic():
        SearchDocument.objects.all().delete()
        TitlePiece.objects.all().delete()
        ids = list(Article.objects.order_by("pk").values_list("pk", flat=True))
        for chunk in _chunks(ids, batch_size):
            index_articles(chunk)
    return len(ids)


# -- Showing results -------------------------------------------------------------


def highlight(text: str, query: Query, length: int = EXCERPT_LENGTH) -> SafeString | None:
    """About `length` characters of `text` around the first match of `query`,
    every matched word in `<mark>`, the rest escaped; None if nothing matches."""
    if not query.words or query.pattern.search(text) is None:
        return None  # (words hold no spaces: spacing changes no match)
    text = " ".join(text.split())  # spaces as one: 6 times faster than a regex
    first = query.pattern.search(text)
    start = max(0, first.start() - length // 4)
    end = max(min(len(text), start + length), first.end())
    start = max(0, min(start, end - length))
    parts = ["…"] if start else []
    position = start
    for match in query.pattern.finditer(text, start, end):
        parts += (escape(text[position : match.start()]), "<mark>", escape(match[0]), "</mark>")
        position = match.end()
    parts.append(escape(text[position:end]))
    if end < len(text):
        parts.append("…")
    # Every character of the text went through escape(); the rest are the marks.
    return mark_safe("".join(parts))


@dataclass(frozen=True)
class Result:
    article: object
    excerpt: SafeString


def _captions(articles: list) -> dict[int, str]:
    """The captions and credits of these articles' figures, by article id: one
    query, no figure models."""
    connection = connections[DEFAULT_DB_ALIAS]
    found: dict[int, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            _captions_sql(connection.vendor, len(articles)), [article.pk for article in articles]
        )
        for article_id, caption, credit in cursor.fetchall():
            found.setdefault(article_id, []).append(f"{caption} {credit}")
    return {article_id: " ".join(texts) for article_id, texts in found.items()}


@functools.cache
def _captions_sql(vendor: str, count: int) -> str:
    """The captions query for `count` articles (a page holds at most 20), as
    the ORM writes it, written once per database vendor and count: writing
    it cost the ORM four times what the database took to answer it."""
    from .models import Figure

    query = (
        Figure.objects.filter(article_id__in=range(count))
        .order_by("article_id", "position", "id")
        .values_list("article_id", "caption", "credit")
    )
    sql, params = query.query.sql_with_params()
    assert list(params) == list(range(count)), "the ids must be the query's only parameters"
    return sql


def results(articles: list, text: str) -> list[Result]:
    """Found articles, each with an excerpt around its first match.

    The excerpt comes from the body, or else from a caption; an article matched
    only by its title or tags shows its usual excerpt. Load `body_html`: this
    runs one query, for the captions of the articles whose body has no match,
    if there are any.
    """
    query = parse_query(text)
    excerpts = {
        article.pk: highlight(markup.plain_text(article.body_html), query) for article in articles
    }
    unmatched = [article for article in articles if excerpts[article.pk] is None]
    captions = _captions(unmatched) if unmatched else {}
    return [
        Result(
            article,
            excerpts[article.pk]
            or highlight(captions.get(article.pk, ""), query)
            or escape(article.excerpt),
        )
        for article in articles
    ]
