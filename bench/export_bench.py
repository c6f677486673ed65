"""How fast `export_seeds` gives an archive back, and whether its memory stays flat.

Generates N archive-shaped seed files, imports them into a fresh database (a
SQLite file by default, or --database-url), then, each in a fresh process:

1. the export into an empty folder;
2. the export again, every file unchanged;
3. the export of an N/4 archive, for the peak memory at N/4 against N.

    .venv/bin/python bench/export_bench.py [--files 10000] [--database-url URL]
"""

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import fresh_database, in_django  # noqa: E402
from bench.import_bench import ARCHIVE_SIZE, run_import  # noqa: E402
from tests.seedfiles import write_archive  # noqa: E402

EXPORT = """
import json, sys, time
import django
django.setup()
from articles.exporter import iter_export
started = time.perf_counter()
counts = {}
for result in iter_export(sys.argv[1]):
    counts[result.status] = counts.get(result.status, 0) + 1
seconds = time.perf_counter() - started
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({
    "seconds": seconds, "counts": counts, "peak_kib": int(status["VmHWM"].split()[0]),
}))
"""


def run_export(folder: Path, database_url: str) -> dict:
    return in_django(EXPORT, database_url, str(folder))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="newsroom-bench-") as tmp:
        workdir = Path(tmp)
        small, full = max(args.files // 4, 1), args.files
        print(f"generating and importing {full:,} archive-shaped seed files ...", flush=True)
        write_archive(workdir / "full", full)
        write_archive(workdir / "small", small)
        full_url = fresh_database(args.database_url, workdir, "export_full")
        small_url = fresh_database(args.database_url, workdir, "export_small")
        run_import(workdir / "full", full_url)
        run_import(workdir / "small", small_url)

        first = run_export(workdir / "out", full_url)
        again = run_export(workdir / "out", full_url)
        quarter = run_export(workdir / "out-small", small_url)
        size = sum(p.stat().st_size for p in (workdir / "out").iterdir())

    articles = first["counts"]["written"]
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\n{articles:,} articles ({size / 1e6:.1f} MB of seed files), {database}")
    for label, run in (("export (empty folder)", first), ("export (unchanged)", again)):
        seconds = run["seconds"]
        print(f"  {label:<21}: {articles / seconds:8.0f} articles/s  ({seconds:.1f} s)")
    projected = ARCHIVE_SIZE / (articles / first["seconds"])
    print(f"  projected for {ARCHIVE_SIZE:,} articles: {projected:.0f} s")
    print(
        f"  export process peak memory: {quarter['peak_kib'] / 1024:.0f} MiB at {small:,} files, "
        f"{first['peak_kib'] / 1024:.0f} MiB at {full:,} files "
        f"(ratio {first['peak_kib'] / quarter['peak_kib']:.2f})"
    )


if __name__ == "__main__":
    main()
