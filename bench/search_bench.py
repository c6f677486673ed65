"""How fast search answers on an archive, against `LIKE '%q%'` on the same data.

Generates N archive-shaped seed files, imports them into a fresh database
(SQLite file by default, or --database-url), then, in the same run:

1. indexing: the import's files/s, and the time to rebuild every search
   document (`search.rebuild_index`), per article and as a share of the import;
2. each query through `Article.objects.published().search()` (a page of 21,
   the view's lists prefetched), through the view (`/search/?q=`, whole page
   with excerpts, Django's test client), and through the baseline: published
   articles whose title or body contains the query (`LIKE '%q%'`), a page of 21
   in date order — what a site without a search index would run.

It prints median and p99 ms per query and the baseline's ratio to each.

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

QUERIES = [
    ("2 characters", "普京"),
    ("4 characters", "香港政府"),
    ("1 character", "京"),
    ("English", "PUTIN"),
    ("Simplified", "乌克兰"),
    ("common character", "的"),
    ("two words", "普京 拜登"),
    ("no hit", "麒麟"),
]


def fresh_database(url: str | None, workdir: Path) -> str:
    if url is None:
        return f"sqlite:///{workdir / 'search.sqlite3'}"
    import psycopg

    base, _, _ = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute('DROP DATABASE IF EXISTS "newsroom_search_bench"')
        connection.execute('CREATE DATABASE "newsroom_search_bench"')
    return f"{base}/newsroom_search_bench"


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
    parser.add_argument("--runs", type=int, default=50, help="timed runs per query and way")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="newsroom-search-bench-") as tmp:
        workdir = Path(tmp)
        os.environ["DATABASE_URL"] = fresh_database(args.database_url, workdir)
        os.environ["DEBUG"] = "false"  # no query log, as in production
        os.environ["ALLOWED_HOSTS"] = "testserver"
        os.environ["DJANGO_SETTINGS_MODULE"] = "newsroom.settings"
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.db.models import Q
        from django.test import Client

        from articles import search
        from articles.importer import discover, iter_import
        from articles.models import Article, SearchDocument
        from tests.seedfiles import write_archive

        print(f"generating {args.files:,} archive-shaped seed files ...", flush=True)
        write_archive(workdir / "seeds", args.files)
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        for _ in iter_import(discover([workdir / "seeds"])):
            pass
        import_seconds = time.perf_counter() - started
        articles = Article.objects.count()
        started = time.perf_counter()
        search.rebuild_index()
        index_seconds = time.perf_counter() - started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        else:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

        database = connection.vendor
        print(f"\n{articles:,} articles ({args.files:,} files), {database}")
        print(
            f"  import with search indexing: {args.files / import_seconds:6.0f} files/s "
            f"({import_seconds:.1f} s)"
        )
        per_article = index_seconds / articles * 1000
        share = index_seconds / import_seconds
        print(
            f"  rebuilding every search document: {per_article:.2f} ms per article "
            f"({index_seconds:.1f} s), {share:.0%} of the import's time"
        )
        assert SearchDocument.objects.count() == articles

        client = Client()
        page = 21  # the view fetches one more than it shows

        def through_queryset(text):
            return lambda: list(Article.objects.published().search(text).for_list()[:page])

        def through_view(text):
            def get():
                response = client.get("/search/", {"q": text})
                assert response.status_code == 200, response.status_code

            return get

        def through_like(text):
            return lambda: list(
                Article.objects.published()
                .filter(Q(title__contains=text) | Q(body__contains=text))
                .for_list()[:page]
            )

        print(f"\n  ms per query, median / p99 of {args.runs} runs; ratio = LIKE / search")
        print(
            f"  {'query':<24} {'hits':>6}  {'search()':>15}  {'view':>15}  "
            f"{'LIKE':>15}  {'ratio':>6}"
        )
        for label, text in QUERIES:
            hits = Article.objects.published().search(text).count()
            queryset = timed(through_queryset(text), args.runs)
            view = timed(through_view(text), args.runs)
            like = timed(through_like(text), max(args.runs // 5, 5))
            print(
                f"  {label + ' ' + text:<24} {hits:>6}  "
                f"{queryset[0]:6.2f} / {queryset[1]:6.2f}  {view[0]:6.2f} / {view[1]:6.2f}  "
                f"{like[0]:6.2f} / {like[1]:6.2f}  {like[0] / queryset[0]:6.1f}"
            )
        if connection.vendor == "postgresql":
            connection.close()
            import psycopg

            base, _, _ = args.database_url.rpartition("/")
            with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
                admin.execute('DROP DATABASE IF EXISTS "newsroom_search_bench"')


if __name__ == "__main__":
    main()
