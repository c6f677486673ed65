"""A bounded load on the production configuration: does it hold?

Starts Newsroom as deployed (DJANGO_ENV=production, gunicorn with the repository's
gunicorn.conf.py, PostgreSQL and Redis when they answer on this machine, else
SQLite and a per-process cache) on 127.0.0.1 with N archive-shaped articles, and
runs wrk with a mix of readers' requests — home and list pages, 3,000 different
articles, tag pages, searches and feeds, each kind's pages asked for with the
heavy-tailed popularity of real readers (Zipf, exponent 1.1; `--uniform` for
every page equally) — at 50 concurrent connections: first one pass over the mix
with every cache empty, then for 60 seconds. Prints throughput, p50/p99 latency
and the error count of each, and the memory of each gunicorn worker before and
after the 60 seconds.

    .venv/bin/python bench/load.py [--articles 10000] [--seconds 60] [--connections 50]

Targets: zero errors, memory flat, p99 under 100 ms.
"""

import argparse
import http.client
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.seedfiles import write_archive  # noqa: E402
from tests.services import free_port, postgres_server  # noqa: E402

SEARCHES = ["普京", "烏克蘭", "乌克兰危机", "putin", "立法會", "香港", "經濟"]


def redis_answers() -> bool:
    import redis

    try:
        return redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


def worker_memory(master: int) -> dict[int, int]:
    """Resident memory in KiB of each child of the gunicorn master."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    memory = {}
    for pid in map(int, children):
        status = Path(f"/proc/{pid}/status").read_text()
        memory[pid] = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    return memory


def wrk(url: str, script: Path, connections: int, seconds: int) -> dict:
    output = subprocess.run(
        [
            "wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
            "--timeout", "10s", "-s", str(script), url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout  # fmt: skip

    def latency(percent: str) -> str:
        return re.search(rf"{percent}%\s+(\S+)", output).group(1)

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "throughput": float(re.search(r"Requests/sec:\s+(\S+)", output).group(1)),
        "latency": f"p50 {latency('50')}, p90 {latency('90')}, p99 {latency('99')}",
        "errors": f"{int(errors.group(1)) if errors else 0} non-2xx/3xx responses"
        + (f"; socket errors: {socket_errors.group(1)}" if socket_errors else "; no socket errors"),
    }


def first_pass(url: str, paths: list[str], connections: int) -> dict:
    """Ask for each path once, `connections` at a time, and time each answer."""
    host = urllib.parse.urlsplit(url)

    def ask(path: str) -> tuple[float, int]:
        start = time.perf_counter()
        connection = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = 0
        finally:
            connection.close()
        return time.perf_counter() - start, status

    start = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        answers = list(pool.map(ask, paths))
    elapsed = time.perf_counter() - start
    times = sorted(seconds for seconds, _ in answers)

    def latency(percent: int) -> str:
        return f"{times[min(len(times) - 1, len(times) * percent // 100)] * 1000:.2f}ms"

    failed = sum(1 for _, status in answers if status == 0)
    return {
        "requests": len(answers),
        "throughput": len(answers) / elapsed,
        "latency": f"p50 {latency(50)}, p90 {latency(90)}, p99 {latency(99)}",
        "errors": f"{sum(1 for _, status in answers if status >= 400)} non-2xx/3xx responses; "
        + (f"{failed} failed connections" if failed else "no socket errors"),
    }


def report(result: dict) -> None:
    print(f"  requests   : {result['requests']:,}")
    print(f"  throughput : {result['throughput']:.2f} requests/s")
    print(f"  latency    : {result['latency']}")
    print(f"  errors     : {result['errors']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument(
        "--uniform",
        action="store_true",
        help="pick every page with the same probability (the worst case for caches)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("load.py needs wrk: apt-get install wrk")

    with tempfile.TemporaryDirectory(prefix="newsroom-load-") as tmp:
        workdir = Path(tmp)
        server = postgres_server()
        database = None
        if server:
            import psycopg

            database = "newsroom_load"
            with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                connection.execute(f'CREATE DATABASE "{database}"')
        environment = {
            **os.environ,
            "DJANGO_ENV": "production",
            "DJANGO_SETTINGS_MODULE": "newsroom.settings",
            "SECRET_KEY": "load-benchmark-secret-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": f"{server}/{database}"
            if server
            else f"sqlite:///{workdir / 'db.sqlite3'}",
            "STATIC_ROOT": str(workdir / "static"),
            "MEDIA_ROOT": str(workdir / "media"),
        }
        if redis_answers():
            environment["CACHE_URL"] = "redis://127.0.0.1:6379/15"
            import redis

            redis.Redis(host="127.0.0.1", port=6379, db=15).flushdb()

        def manage(*arguments):
            subprocess.run(
                [sys.executable, "manage.py", *arguments], cwd=ROOT, env=environment, check=True
            )

        print(f"importing {args.articles:,} articles ...", flush=True)
        write_archive(workdir / "seeds", args.articles)
        manage("migrate", "--noinput", "-v0")
        manage("collectstatic", "--noinput", "-v0")
        manage("import_seeds", str(workdir / "seeds"), "-v0")
        listing = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup()\n"
                "from articles.models import Article, Tag, Section\n"
                "for a in Article.objects.published().order_by('?')[:3000]:\n"
                "    print(a.get_absolute_url())\n"
                "for t in Tag.objects.all(): print(t.get_absolute_url())\n"
                "for s in Section.objects.all(): print(s.get_absolute_url())\n",
            ],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        articles = [p for p in listing if p.startswith("/article/")]
        tags = [p for p in listing if p.startswith("/tag/")]
        sections = [p for p in listing if p.startswith("/section/")]

        rng = random.Random(7)

        def popular(items: list[str]) -> str:
            """One item, the first ones far more often: readers' attention is
            heavy-tailed (a Zipf distribution, exponent 1.1)."""
            weights = [1 / (rank + 1) ** 1.1 for rank in range(len(items))]
            return rng.choices(items, weights=weights)[0]

        mix = []
        for _ in range(5000):
            roll = rng.random()
            pick = rng.choice if args.uniform else popular
            if roll < 0.50:
                mix.append(pick(articles))
            elif roll < 0.65:
                mix.append(pick(["/", "/?page=2", "/?page=3", *sections]))
            elif roll < 0.77:
                mix.append(pick(tags))
            elif roll < 0.90:
                mix.append("/search/?q=" + urllib.parse.quote(pick(SEARCHES)))
            else:
                mix.append(pick(["/feed/rss/", "/feed/atom/", "/sitemap.xml"]))

        port = free_port()
        gunicorn = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "-c",
                "gunicorn.conf.py",
                "newsroom.wsgi",
                f"--bind=127.0.0.1:{port}",
                f"--workers={args.workers}",
                "--access-logfile=/dev/null",
                # Keep the same workers through the run, so that their memory
                # before and after shows a leak that replacing them would hide.
                "--max-requests=0",
            ],
            cwd=ROOT,
            env=environment,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):  # wait until it answers
                try:
                    urllib.request.urlopen(url + "/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            script = workdir / "mix.lua"
            quoted = ",".join('"' + p + '"' for p in mix)
            script.write_text(
                f"paths = {{{quoted}}}\ncounter = 0\n"
                "request = function()\n  counter = counter % #paths + 1\n"
                "  return wrk.format(nil, paths[counter])\nend\n"
            )
            # The first pass asks for each request of the mix once, every cache
            # empty. (wrk cannot stop at the end of a list, so Python asks.)
            cold = first_pass(url, mix, args.connections)
            before = worker_memory(gunicorn.pid)
            output = wrk(url, script, args.connections, args.seconds)
            after = worker_memory(gunicorn.pid)
        finally:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
            if server:
                import psycopg

                with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
                    connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    backend = "PostgreSQL" if server else "SQLite"
    cache = "Redis" if "CACHE_URL" in environment else "per-process"
    popularity = "uniform" if args.uniform else "Zipf 1.1"
    print(
        f"\n{args.articles:,} articles, {backend}, {cache} cache, gunicorn {args.workers} sync "
        f"workers, wrk {args.connections} connections, {popularity} mix of {len(mix):,} "
        f"requests ({len(set(mix)):,} different)"
    )
    print("first pass, each request of the mix once, caches empty:")
    report(cold)
    print(f"then {args.seconds} s over the mix again and again:")
    report(output)
    for pid in sorted(before):
        print(
            f"  worker {pid}: {before[pid] / 1024:.0f} MiB before, "
            f"{after.get(pid, 0) / 1024:.0f} MiB after"
        )
    replaced = set(before) ^ set(after)
    if replaced:
        print(f"  (workers replaced during the run, by a crash or a timeout: {len(replaced) // 2})")


if __name__ == "__main__":
    main()
