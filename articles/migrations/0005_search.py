"""The search index (articles/search.py): one SearchDocument per article.

The table is made by hand because it differs by database: on SQLite it is an
FTS5 virtual table whose rowid is the article id; on PostgreSQL a plain table
with a generated tsvector of the distinct pieces and a GIN index on it.
Existing articles are indexed at the end.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "articles_searchdocument"

# `ascii` splits on ASCII spaces and punctuation and keeps every other character
# in its token, so each stored piece (letters, digits, CJK pairs, ¶) is one token.
SQLITE_TABLE = f"""
CREATE VIRTUAL TABLE {TABLE} USING fts5(
    title, tags, captions, body, tokenize = 'ascii', detail = full
)
"""

# array_to_tsvector takes the pieces as they are: no parser, dictionary or
# locale can cut them differently. Phrases are checked on the stored pieces,
# so the vector needs no positions.
POSTGRESQL_VECTOR = f"""
ALTER TABLE {TABLE} ADD COLUMN vector tsvector GENERATED ALWAYS AS (
    array_to_tsvector(array_remove(array_remove(string_to_array(
        title || ' ' || tags || ' ' || captions || ' ' || body, ' '), ''), '¶'))
) STORED
"""
POSTGRESQL_INDEX = f"CREATE INDEX {TABLE}_vector ON {TABLE} USING gin (vector)"

# The ids of the documents holding every piece of `query`, where each of
# `phrases` (' a b ') stands in one field. The planner prices a sequential scan
# by the table's own pages, not by the vector each row would read from TOAST,
# so for a common word it would read every vector (~140 ms at 10,000 articles)
# rather than use the GIN index (~5 ms): the function keeps it to the index.
POSTGRESQL_FUNCTION = f"""
CREATE FUNCTION {TABLE}_matches(query tsquery, phrases text[]) RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL SAFE ROWS 1000
SET enable_seqscan = off
AS $$
    SELECT rowid FROM {TABLE}
    WHERE vector @@ query
    AND NOT EXISTS (
        SELECT FROM unnest(phrases) AS phrase
        WHERE strpos(title, phrase) = 0 AND strpos(tags, phrase) = 0
        AND strpos(captions, phrase) = 0 AND strpos(body, phrase) = 0
    )
$$
"""


def create_table(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TABLE)
        return
    schema_editor.create_model(apps.get_model("articles", "SearchDocument"))
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_VECTOR)
        schema_editor.execute(POSTGRESQL_INDEX)
        schema_editor.execute(POSTGRESQL_FUNCTION)


def drop_table(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TABLE {TABLE}")
    else:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP FUNCTION {TABLE}_matches(tsquery, text[])")
        schema_editor.delete_model(apps.get_model("articles", "SearchDocument"))


def index_existing(apps, schema_editor):
    from articles import search

    ids = apps.get_model("articles", "Article").objects.values_list("pk", flat=True)
    search.index_articles(list(ids), apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0004_groups"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SearchDocument",
                    fields=[
                        (
                            "article",
                            models.OneToOneField(
                                db_column="rowid",
                                on_delete=django.db.models.deletion.CASCADE,
                                primary_key=True,
                                related_name="search_document",
                                serialize=False,
                                to="articles.article",
                            ),
                        ),
                        ("title", models.TextField(blank=True)),
                        ("tags", models.TextField(blank=True)),
                        ("captions", models.TextField(blank=True)),
                        ("body", models.TextField(blank=True)),
                    ],
                    options={
                        "verbose_name": "搜尋文件",
                        "verbose_name_plural": "搜尋文件",
                    },
                ),
            ],
        ),
        migrations.RunPython(create_table, drop_table),
        migrations.RunPython(index_existing, migrations.RunPython.noop),
    ]
