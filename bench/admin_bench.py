"""How fast the editors' admin answers with a whole archive in it.

Loads N archive-shaped articles (default 50,000) into a fresh database through
the importer (files from tests/seedfiles.py), thinned to the archive's 2.4
figures per article, then times, through Django's test client and logged in as
a superuser, in one process:

- the admin index: a trivial admin page, the baseline;
- the article list: its first page, a filtered page (section and status), a
  tag's page and a search (普京);
- an article's change form.

It prints each page's median time, its ratio to the baseline, and its queries.

    .venv/bin/python bench/admin_bench.py [--articles 50000] [--database-url postgres://…]
    .venv/bin/python bench/admin_bench.py --reuse sqlite:////tmp/admin.sqlite3  # time only
"""

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import fresh_database, in_django
from tests.seedfiles import write_archive

# Pages are timed as a reader of the deployed site would get them.
DJANGO = {"DEBUG": "false", "ALLOWED_HOSTS": "testserver"}

LOAD = """
import json, sys
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from articles.importer import discover, iter_import
call_command("migrate", verbosity=0)
for _ in iter_import(discover([sys.argv[1]])):
    pass
# The generated bodies hold about 4.2 figures each; the archive has 2.4.
with connection.cursor() as cursor:
    cursor.execute("DELETE FROM articles_figure WHERE (id * 37) % 100 < 43")
    print(json.dumps({"figures_removed": cursor.rowcount}))
"""

TIME = """
import json, statistics, time
import django
django.setup()
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from articles.models import Article, Figure, Section, Tag

user = User.objects.filter(username="bench").first() or User.objects.create_superuser("bench")
client = Client()
client.force_login(user)
article = Article.objects.filter(figures__isnull=False).order_by("-number").first()
section = Section.objects.order_by("name").first()
articles = "/admin/articles/article/"
pages = {
    "admin index (baseline)": "/admin/",
    "article list, first page": articles,
    "article list, filtered": f"{articles}?section__id__exact={section.pk}&status=published",
    "article list, a tag": f"{articles}?tag=%E6%99%AE%E4%BA%AC",
    "article list, search 普京": f"{articles}?q=%E6%99%AE%E4%BA%AC",
    "article change form": f"{articles}{article.pk}/change/",
}
results = {}
for label, url in pages.items():
    for _ in range(2):
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(15):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, url
    results[label] = {"ms": statistics.median(times) * 1000, "queries": len(queries)}
shape = {
    "articles": Article.objects.count(),
    "figures": Figure.objects.count(),
    "tags": Tag.objects.count(),
}
print(json.dumps({"pages": results, "shape": shape}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--reuse", metavar="URL", help="time a database loaded before")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="newsroom-admin-bench-") as tmp:
        workdir = Path(tmp)
        database = args.reuse
        if database is None:
            print(f"loading {args.articles:,} archive-shaped articles ...", flush=True)
            write_archive(workdir / "seeds", args.articles)
            database = fresh_database(args.database_url, workdir, "admin")
            in_django(LOAD, database, str(workdir / "seeds"), **DJANGO)
        measured = in_django(TIME, database, **DJANGO)

    shape = measured["shape"]
    engine = "PostgreSQL" if database.startswith("postgres") else "SQLite"
    print(
        f"\n{shape['articles']:,} articles, {shape['figures']:,} figures "
        f"({shape['figures'] / shape['articles']:.1f} each), {shape['tags']:,} tags, {engine}"
    )
    pages = measured["pages"]
    baseline = pages["admin index (baseline)"]["ms"]
    for label, page in pages.items():
        print(
            f"  {label:<26}: {page['ms']:7.1f} ms  ×{page['ms'] / baseline:5.1f}  "
            f"{page['queries']:3d} queries"
        )
    print("  target: each under 150 ms")


if __name__ == "__main__":
    main()
