"""PostgreSQL: an index of which field holds each piece (articles/search.py).

A ranked search reads its ranking in parts that no score crosses: for a query
of one term, the articles with it in the title, then in the tags, then in
captions alone, then in the body alone (`search.ranked_ids`). SQLite's FTS5
finds a term in one column by itself; PostgreSQL's index of all the pieces
(migration 0005) cannot, so this adds a second, smaller vector of the short
fields' pieces, each prefixed with its field (`title:普京`, `tags:普京`,
`captions:普京`), with a GIN index, and a function that keeps the planner on
it, as `articles_searchdocument_matches` does for the first.

SQLite needs nothing: the migration does nothing there.
"""

from django.db import migrations

TABLE = "articles_searchdocument"
INDEX = f"{TABLE}_fields"
FUNCTION = f"{TABLE}_in_fields"
FIELDS = ("title", "tags", "captions")
# As migration 0007 lets the first index's new entries pile up for an import.
PENDING_LIST_KB = 64 * 1024


def _prefixed(field: str) -> str:
    # Every stored piece but the boundary mark ¶ (search.pieces), as `field:piece`.
    return f"string_to_array(regexp_replace({field}, '([^ ¶]+)', '{field}:\\1', 'g'), ' ')"


VECTOR = f"""
ALTER TABLE {TABLE} ADD COLUMN fields_vector tsvector GENERATED ALWAYS AS (
    array_to_tsvector(array_remove(array_remove(
        {" || ".join(_prefixed(field) for field in FIELDS)}, ''), '¶'))
) STORED
"""

# The ids of the documents whose short fields hold every piece of `query`, read
# through the index whatever the planner would estimate (see migration 0005).
FUNCTION_SQL = f"""
CREATE FUNCTION {FUNCTION}(query tsquery) RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL SAFE ROWS 1000
SET enable_seqscan = off
AS $$
    SELECT rowid FROM {TABLE} WHERE fields_vector @@ query
$$
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(VECTOR)
    schema_editor.execute(
        f"CREATE INDEX {INDEX} ON {TABLE} USING gin (fields_vector)"
        f" WITH (gin_pending_list_limit = {PENDING_LIST_KB})"
    )
    schema_editor.execute(FUNCTION_SQL)
    schema_editor.execute(f"ANALYZE {TABLE}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP FUNCTION {FUNCTION}(tsquery)")
    schema_editor.execute(f"ALTER TABLE {TABLE} DROP COLUMN fields_vector")


class Migration(migrations.Migration):
    dependencies = [("articles", "0011_search_rows_index")]

    operations = [migrations.RunPython(create, drop)]
