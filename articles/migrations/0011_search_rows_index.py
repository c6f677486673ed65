"""SQLite: an index of what a ranked search reads of each matching article.

A search sorts its matches by score, then publication time and number
(`search.ranked_ids`). Reading those columns from the article rows themselves
means reading past each match's body, and without this index SQLite walked
every published article to test it against the matches: ~3 ms at 10,000
articles before a single match was scored, and growing with the archive. With
it, the search starts from the index's matches and looks each one up here.
PostgreSQL finds and ranks matches its own way (migration 0005) and gets no
such index.
"""

from django.db import migrations

INDEX = "articles_article_search_rows"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f"CREATE INDEX {INDEX} ON articles_article (id, status, published_at, number)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP INDEX {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("articles", "0010_list_index_nulls_last")]

    operations = [migrations.RunPython(create, drop)]
