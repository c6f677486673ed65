"""How fast the importer takes in an archive, against the work it cannot avoid.

Generates N archive-shaped seed files (figures with credits, videos, tags, tables,
and the bad shapes of the real backup), then, in the same run:

1. parse + render alone: every file read, parsed and rendered on all cores, nothing
   written — the floor the importer cannot go below;
2. the import into a fresh database (SQLite file by default, or --database-url);
3. the import again, every file unchanged.

It prints files/s for each, the import's ratio to parse + render, the projected
time for the 49,118-file archive, and the import process's peak memory at N/4 and N
(memory should not grow with N).

    .venv/bin/python bench/import_bench.py [--files 10000] [--database-url URL]
"""

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from articles.pipeline import Options, prepare_many  # noqa: E402
from bench.common import fresh_database, in_django  # noqa: E402
from tests.seedfiles import write_archive  # noqa: E402

ARCHIVE_SIZE = 49_118

IMPORT = """
import json, resource, sys, time
import django
django.setup()
from django.core.management import call_command
from articles.importer import discover, iter_import
call_command("migrate", verbosity=0)
files = discover([sys.argv[1]])
started = time.perf_counter()
counts = {}
for result in iter_import(files):
    counts[result.status] = counts.get(result.status, 0) + 1
seconds = time.perf_counter() - started
# VmHWM is this process's own high-water mark; ru_maxrss would include the
# benchmark's memory from before the exec.
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({
    "seconds": seconds,
    "counts": counts,
    "peak_kib": int(status["VmHWM"].split()[0]),
    "worker_peak_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
}))
"""


def parse_and_render(folder: Path, workers: int) -> float:
    """Seconds to read, parse and render every file on all cores, writing nothing."""
    files = sorted(folder.iterdir())
    options = Options(max_bytes=2 * 1024 * 1024, number_pattern=r"/article/(?P<number>\d+)(?:/|$)")
    started = time.perf_counter()
    batches = [files[i : i + 64] for i in range(0, len(files), 64)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(prepare_many, [(str(p), p.read_bytes()) for p in batch], options)
            for batch in batches
        ]
        prepared = 0
        for n, future in enumerate(futures):
            prepared += len(future.result())
            futures[n] = None  # keep the benchmark's own memory small
    assert prepared == len(files)
    return time.perf_counter() - started


def run_import(folder: Path, database_url: str) -> dict:
    return in_django(IMPORT, database_url, str(folder))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="newsroom-bench-") as tmp:
        workdir = Path(tmp)
        small, full = max(args.files // 4, 1), args.files
        print(f"generating {full:,} archive-shaped seed files ...", flush=True)
        write_archive(workdir / "full", full)
        write_archive(workdir / "small", small)
        size = sum(p.stat().st_size for p in (workdir / "full").iterdir())
        print(f"  {size / 1e6:.1f} MB, {size / full / 1e3:.1f} KB per file")

        floor = parse_and_render(workdir / "full", args.workers)
        first = run_import(workdir / "full", fresh_database(args.database_url, workdir, "full"))
        again_url = fresh_database(args.database_url, workdir, "again")
        run_import(workdir / "full", again_url)
        again = run_import(workdir / "full", again_url)
        quarter = run_import(workdir / "small", fresh_database(args.database_url, workdir, "small"))

    def rate(seconds: float, n: int = full) -> float:
        return n / seconds

    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\n{full:,} files, {args.workers} workers, {database}")

    def line(label: str, seconds: float) -> str:
        return f"  {label:<21}: {rate(seconds):8.0f} files/s  ({seconds:.1f} s)"

    print(line("parse + render alone", floor))
    print(line("import (fresh)", first["seconds"]), end="")
    print(f"  ratio to parse + render {floor / first['seconds']:.2f}")
    print(line("import (unchanged)", again["seconds"]))
    print(f"  statuses             : {first['counts']}")
    projected = ARCHIVE_SIZE / rate(first["seconds"])
    print(f"  projected for {ARCHIVE_SIZE:,} files: {projected:.0f} s (target: under 90 s)")
    print(
        f"  import process peak memory: {quarter['peak_kib'] / 1024:.0f} MiB at {small:,} files, "
        f"{first['peak_kib'] / 1024:.0f} MiB at {full:,} files "
        f"(ratio {first['peak_kib'] / quarter['peak_kib']:.2f}); "
        f"workers' peak {first['worker_peak_kib'] / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
