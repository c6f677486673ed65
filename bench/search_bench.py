"""How fast search answers on an archive, against `LIKE '%q%'` on the same data.

Generates N archive-shaped seed files, then, in the same run:

1. what indexing costs the import: the files are imported into two fresh
   databases, once as usual and once writing no search documents (each import
   in a fresh process, as `import_bench.py` does); then
   the time `index_articles` takes per article, on an emptied index;
2. each query, on the indexed database, through `search()` (a page of 21 ids,
   as the view fetches them: `search.ranked_ids`), through the view
   (`/search/?q=`, the whole page with its excerpts, Django's test client,
   the page cache off; the home page, 20 cards without search, is the
   yardstick for rendering) and
   through the baseline:
   published articles whose title or body contains the query (`LIKE '%q%'`),
   a page of 21 in date order — what a site without a search index would run.

It prints median and p99 ms per query and the baseline's ratio to `search()`.

    .venv/bin/python bench/search_bench.py [--files 10000] [--database-url URL]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import drop_database, fresh_database, in_django  # noqa: E402
from tests.seedfiles import write_archive  # noqa: E402

QUERIES = [
    ("2 characters", "普京"),
    ("4 characters", "香港政府"),
    ("1 character", "京"),
    ("English", "PUTIN"),
    ("Simplified", "乌克兰"),
    ("common character", "的"),
    ("two words", "普京 拜登"),
    ("two common characters", "香 港"),
    ("three common characters", "香 港 人"),
    ("seven common characters", "的 是 了 在 人 有 我"),
    ("no hit", "麒麟"),
]


IMPORT = """
import json, sys, time
import django
django.setup()
from django.core.management import call_command
from articles import importer, search
from articles.importer import discover, iter_import
from articles.models import SearchDocument
if sys.argv[2] == "without":
    # The importer writes the documents its workers cut; leave them unwritten.
    write = importer._insert
    importer._insert = lambda model, rows: None if model is SearchDocument else write(model, rows)
    search.index_articles = lambda ids, **options: None
call_command("migrate", verbosity=0)
files = discover([sys.argv[1]])
started = time.perf_counter()
for result in iter_import(files):
    pass
print(json.dumps({"seconds": time.perf_counter() - started, "files": len(files)}))
"""


def run_import(folder: Path, database_url: str, indexing: str) -> float:
    """Files per second of an import in a fresh process."""
    result = in_django(IMPORT, database_url, str(folder), indexing, DEBUG="false")
    return result["files"] / result["seconds"]


def timed(function, runs: int) -> tuple[float, float]:
    """Median and p99 milliseconds of `runs` calls, after one warm-up call."""
    function()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(len(times) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--runs", type=int, default=30, help="timed runs per query and way")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="newsroom-search-bench-") as tmp:
        workdir = Path(tmp)
        print(f"generating {args.files:,} archive-shaped seed files ...", flush=True)
        write_archive(workdir / "seeds", args.files)
        plain_url = fresh_database(args.database_url, workdir, "search_without")
        plain = run_import(workdir / "seeds", plain_url, "without")
        indexed_url = fresh_database(args.database_url, workdir, "search_with")
        indexed = run_import(workdir / "seeds", indexed_url, "with")

        os.environ["DATABASE_URL"] = indexed_url
        os.environ["DEBUG"] = "false"  # no query log, as in production
        os.environ["ALLOWED_HOSTS"] = "testserver"
        os.environ["DJANGO_SETTINGS_MODULE"] = "newsroom.settings"
        # No page cache: every request is searched for and its page rendered
        # (the cards are kept as fragments, as in production).
        os.environ["PAGE_CACHE_SECONDS"] = "0"
        import django

        django.setup()
        from django.db import connection
        from django.db.models import Q
        from django.test import Client

        from articles import search
        from articles.models import Article, SearchDocument

        articles = Article.objects.count()
        assert SearchDocument.objects.count() == articles
        ids = list(Article.objects.order_by("pk").values_list("pk", flat=True))
        SearchDocument.objects.all().delete()
        started = time.perf_counter()
        for start in range(0, len(ids), 64):  # the importer's batches
            search.index_articles(ids[start : start + 64])
        per_article = (time.perf_counter() - started) / articles * 1000
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")

        print(f"\n{articles:,} articles ({args.files:,} files), {connection.vendor}")
        print(f"  import without search indexing: {plain:6.0f} files/s")
        print(
            f"  import with search indexing:    {indexed:6.0f} files/s "
            f"(ratio {indexed / plain:.2f})"
        )
        print(f"  index_articles: {per_article:.2f} ms per article, in batches of 64")

        client = Client()
        page = 21  # the view fetches one more than it shows

        def through_search(text):
            return lambda: search.ranked_ids(Article.objects.published(), text, 0, page)

        def through_view(text):
            def get():
                response = client.get("/search/", {"q": text})
                assert response.status_code == 200, response.status_code

            return get

        def through_like(text):
            return lambda: list(
                Article.objects.published()
                .filter(Q(title__contains=text) | Q(body__contains=text))
                .values_list("pk", flat=True)[:page]
            )

        home = timed(lambda: client.get("/"), args.runs)
        print(f"\n  home page (20 cards, no search): {home[0]:.2f} / {home[1]:.2f} ms")
        print(f"  ms per query, median / p99 of {args.runs} runs; ratio = LIKE / search()")
        print(
            f"  {'query':<24} {'hits':>6}  {'search()':>15}  {'view':>15}  "
            f"{'LIKE':>15}  {'ratio':>6}"
        )
        for label, text in QUERIES:
            hits = Article.objects.published().search(text).count()
            found = timed(through_search(text), args.runs)
            view = timed(through_view(text), args.runs)
            like = timed(through_like(text), max(args.runs // 5, 5))
            print(
                f"  {label + ' ' + text:<24} {hits:>6}  "
                f"{found[0]:6.2f} / {found[1]:6.2f}  {view[0]:6.2f} / {view[1]:6.2f}  "
                f"{like[0]:6.2f} / {like[1]:6.2f}  {like[0] / found[0]:6.1f}"
            )
        connection.close()
    for name in ("search_with", "search_without"):
        drop_database(args.database_url, name)


if __name__ == "__main__":
    main()
