"""How fast readers' pages are served, as a share of a minimal Django view.

Generates N archive-shaped articles (default 10,000) into a fresh SQLite database
(or, given `--database-url`, a fresh database on that PostgreSQL server, vacuumed
and analysed after the import, dropped at the end), then serves, in the same run
and the same way (gunicorn, 2 sync workers, DEBUG off, persistent database
connections):

- the minimal view of bench/minimal_site.py: the baseline;
- Newsroom, whose pages are loaded with wrk: an article page with nothing cached
  (a different article on each request, every cache off); put together from its
  kept page but for its links, and its links (whole pages and kept article
  pages off, the other layers of articles/caching.py on: what is served when a
  kept article page has expired); with the page cache cold, as after an edit
  elsewhere (pages retired, each article's kept page still good); and warm (one
  article, cached); the home page and a tag page (cached); and searches, one connection
  at a time with the page cache off, so that each request is searched for.

The minimal view is served all along, and each page is measured in rounds
(default 5 of 4 s), each right after the minimal view: the machine's speed
drifts by a third within seconds, so a ratio is taken between two figures
measured next to each other. It prints, for each page, the medians over the
rounds of requests/s, p50 and p99 latency and the ratio of requests/s to
the baseline, and the lowest and highest ratio. Needs wrk (Debian package `wrk`).

    .venv/bin/python bench/pages_bench.py [--articles 10000] [--seconds 4]
        [--rounds 5] [--database-url postgres://…]
"""

import argparse
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import drop_database, fresh_database  # noqa: E402
from tests.seedfiles import write_archive  # noqa: E402

BIN = Path(sys.executable).parent
SEARCHES = [
    "普京",
    "烏克蘭危機",
    "乌克兰",
    "putin",
    "香",
    "普京 拜登",
    "香 港",
    "香 港 人",
    "的 是 了 在 人 有 我",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(app: str, environment: dict, workers: int = 2):
    port = free_port()
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            app,
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--worker-class=sync",
            "--log-level=warning",
            "--access-logfile=/dev/null",
            # gunicorn.conf.py replaces workers every few thousand requests; a
            # replaced worker starts with an empty per-process cache, which at
            # these rates would happen every few seconds and measure restarts.
            "--max-requests=0",
        ],
        cwd=ROOT,
        env={**os.environ, **environment},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def wrk(url: str, seconds: int, connections: int = 4, paths: list[str] | None = None) -> dict:
    """Requests/s and latency percentiles from wrk (one thread)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    with tempfile.TemporaryDirectory() as folder:
        if paths:
            # A Lua script that asks for each path in turn.
            script = Path(folder) / "paths.lua"
            quoted = ",".join('"' + p.replace('"', '\\"') + '"' for p in paths)
            script.write_text(
                f"paths = {{{quoted}}}\ncounter = 0\n"
                "request = function()\n  counter = counter % #paths + 1\n"
                "  return wrk.format(nil, paths[counter])\nend\n"
            )
            command += ["-s", str(script)]
        run = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    output = run.stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),
        "p99": _ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),
        "errors": int(errors.group(1)) if errors else 0,
    }


def warm(url: str, paths: list[str], seconds: int = 2, most: int = 60) -> None:
    """Ask for the paths until every worker keeps them all: until the rate
    stops rising (three rounds in a row within a tenth of the best so far).

    Each worker keeps its own copies (the development cache is per process),
    and which worker answers a request is the kernel's choice, so one pass over
    the paths is not enough; a fixed time was not either: a round measured
    while pages were still being put together from nothing ran at a tenth of
    the rate of the next.
    """
    best, steady = 0.0, 0
    for round_ in range(1, most + 1):
        rps = wrk(url, seconds, paths=paths)["rps"]
        steady = steady + 1 if rps < best * 1.1 else 0
        best = max(best, rps)
        if steady == 3:
            print(f"  warmed in {round_ * seconds} s ({best:.0f} req/s at best)", flush=True)
            return
    print(f"warning: {url} still speeding up after {most * seconds} s", flush=True)


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=4, help="each measurement's length")
    parser.add_argument("--rounds", type=int, default=5, help="measurements of each page")
    parser.add_argument("--database-url", help="a PostgreSQL server's URL (default: SQLite)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("pages_bench needs wrk: apt-get install wrk")

    with tempfile.TemporaryDirectory(prefix="newsroom-pages-") as tmp:
        workdir = Path(tmp)
        database_url = fresh_database(args.database_url, workdir, "pages")
        try:
            measure(args, workdir, database_url)
        finally:
            drop_database(args.database_url, "pages")


def measure(args, workdir: Path, database_url: str) -> None:
    environment = {
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY": "pages-benchmark",
    }
    print(f"generating and importing {args.articles:,} articles ...", flush=True)
    write_archive(workdir / "seeds", args.articles)
    manage = [sys.executable, "manage.py"]
    env = {**os.environ, **environment}
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [*manage, "import_seeds", str(workdir / "seeds"), "-v0"], cwd=ROOT, env=env, check=True
    )
    if database_url.startswith("postgres"):
        # As after a full import in production (docs/search.md): the planner's
        # statistics of the search pieces, and the visibility map.
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")
    listing = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup()\n"
            "from articles.models import Article, Tag\n"
            "from django.db.models import Count\n"
            "for a in Article.objects.published().order_by('?')[:2000]:\n"
            "    print(a.get_absolute_url())\n"
            "print('TAG', Tag.objects.annotate(n=Count('tagged_articles'))"
            ".order_by('-n').first().get_absolute_url())\n",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    articles = [line for line in listing if line.startswith("/article/")]
    tag = next(line for line in listing if line.startswith("TAG ")).split(" ", 1)[1]
    article = random.Random(1).choice(articles)

    uncached = {
        "PAGE_CACHE_SECONDS": "0",
        "ARTICLE_PAGE_CACHE_SECONDS": "0",
        "ARTICLE_CACHE_SECONDS": "0",
        "LINKS_CACHE_SECONDS": "0",
    }
    rebuilt = {"PAGE_CACHE_SECONDS": "0", "ARTICLE_PAGE_CACHE_SECONDS": "0"}
    results = {}
    # The baseline is served all along, and each page is measured in rounds,
    # each right after the baseline: the machine's speed drifts by a third
    # within seconds, and a ratio is only as good as its two figures' nearness.
    with gunicorn("bench.minimal_site:application", {}) as baseline:
        paired = Paired(baseline + "/", args.seconds, args.rounds)
        with gunicorn("newsroom.wsgi", {**environment, **uncached}) as url:
            wrk(url + "/", 2, paths=articles[:200])
            results["article, nothing cached"] = paired.measure(url, paths=articles)
        with gunicorn("newsroom.wsgi", {**environment, **rebuilt}) as url:
            warm(url, articles[:300])
            results["article, from kept parts"] = paired.measure(url, paths=articles[:300])
        # After an edit elsewhere every page is retired, but each article's
        # kept page is still good: the state this measures.
        with gunicorn("newsroom.wsgi", {**environment, "PAGE_CACHE_SECONDS": "0"}) as url:
            warm(url, articles[:300])
            results["article, page cache cold"] = paired.measure(url, paths=articles[:300])
            # Searches with no page cache, so that each one is searched for.
            for query in SEARCHES:
                path = "/search/?q=" + urllib.request.quote(query)
                wrk(url + path, 1, connections=1)
                results[f"search {query}"] = paired.measure(url + path, connections=1)
        with gunicorn("newsroom.wsgi", environment) as url:
            wrk(url + "/", 2)
            wrk(url + article, 2)
            results["article, page cache warm"] = paired.measure(url + article)
            results["home"] = paired.measure(url + "/")
            results["tag page"] = paired.measure(url + tag)
        baselines = paired.baselines

    print(
        f"\n{args.articles:,} articles, gunicorn 2 sync workers, wrk -t1 -c4 (searches -c1), "
        f"{args.rounds} rounds of {args.seconds} s each"
    )
    print(
        f"the minimal view (baseline): {min(baselines):.0f}–{max(baselines):.0f} req/s over "
        f"the run; each ratio is to the baseline measured just before it; medians of the rounds"
    )
    print(
        f"{'page':<26}{'req/s':>9}{'ratio':>8}{'ratios':>12}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
    )
    for name, result in results.items():
        ratios = f"{min(result['ratios']):.2f}–{max(result['ratios']):.2f}"
        print(
            f"{name:<26}{result['rps']:>9.0f}{result['ratio']:>8.2f}{ratios:>12}"
            f"{result['p50']:>9.2f}{result['p99']:>9.2f}{result['errors']:>8}"
        )


class Paired:
    """Pages measured in rounds, each right after the baseline."""

    def __init__(self, baseline: str, seconds: int, rounds: int):
        self.baseline = baseline
        self.seconds = seconds
        self.rounds = rounds
        self.baselines: list[float] = []
        wrk(baseline, 2)

    def measure(self, url: str, connections: int = 4, paths: list[str] | None = None) -> dict:
        """Medians over the rounds of requests/s, latency and the ratio of
        requests/s to the baseline just before; errors summed."""
        runs, ratios = [], []
        for _ in range(self.rounds):
            base = wrk(self.baseline, self.seconds)["rps"]
            run = wrk(url, self.seconds, connections=connections, paths=paths)
            self.baselines.append(base)
            runs.append(run)
            ratios.append(run["rps"] / base)
        return {
            **{key: statistics.median(run[key] for run in runs) for key in ("rps", "p50", "p99")},
            "errors": sum(run["errors"] for run in runs),
            "ratio": statistics.median(ratios),
            "ratios": ratios,
        }


if __name__ == "__main__":
    main()
