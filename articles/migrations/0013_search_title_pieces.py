"""A narrow table of the search pieces of each article's title (articles/search.py).

A search of many terms counts how many of them each title holds, to read
first the articles holding the most (`search._level`). From the index of
every field's pieces, each of a term's articles cost reading its document's
row (PostgreSQL, ~4 µs) or its positions in every field (SQLite's FTS5 list);
here a piece's articles are one range of the primary key, read from the index
alone. The rows are filled from the search documents already written.
"""

from django.db import migrations, models


def fill(apps, schema_editor):
    from articles import search

    SearchDocument = apps.get_model("articles", "SearchDocument")
    ids = SearchDocument.objects.order_by("pk").values_list("pk", flat=True)
    for chunk in search._chunks(list(ids), 2000):
        titles = SearchDocument.objects.filter(pk__in=chunk).values_list("pk", "title")
        search.write_title_pieces(dict(titles), apps=apps)


class Migration(migrations.Migration):
    dependencies = [("articles", "0012_search_fields_index")]

    operations = [
        migrations.CreateModel(
            name="TitlePiece",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "piece",
                        "article",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("piece", models.CharField(max_length=64)),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=models.CASCADE, related_name="+", to="articles.article"
                    ),
                ),
            ],
            options={"verbose_name": "標題搜尋片段", "verbose_name_plural": "標題搜尋片段"},
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
