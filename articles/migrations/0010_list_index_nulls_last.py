"""PostgreSQL: the list index in the lists' own order, undated articles last.

Lists are ordered by publication time, newest first, undated articles last
(`Article.Meta.ordering`). SQLite sorts NULL below every value, so its
descending index is already in that order; PostgreSQL sorts NULL above, so a
plain descending index is not, and every list sorted all published articles
(23 ms for a page of 20 out of 10,000 instead of 0.2 ms). The index keeps its
name and columns; only PostgreSQL's copy says where NULL goes.
"""

from django.db import migrations

INDEX = "articles_ar_status_80c4c5_idx"
COLUMNS = {
    "forwards": "status, published_at DESC NULLS LAST, number DESC",
    "backwards": "status, published_at DESC, number DESC",
}


def rebuild(direction):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(f"DROP INDEX {INDEX}")
        schema_editor.execute(f"CREATE INDEX {INDEX} ON articles_article ({COLUMNS[direction]})")

    return apply


class Migration(migrations.Migration):
    dependencies = [("articles", "0009_tag_article_index")]

    operations = [migrations.RunPython(rebuild("forwards"), rebuild("backwards"))]
