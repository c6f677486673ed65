"""What the benchmarks share: fresh databases, and timing code in a fresh process."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fresh_database(url: str | None, workdir: Path, name: str) -> str:
    """An empty database named for `name`: a SQLite file in `workdir`, or, given a
    PostgreSQL URL, a database on that server (dropped first if it is there)."""
    if url is None:
        return f"sqlite:///{workdir / (name + '.sqlite3')}"
    import psycopg

    base, _, _ = url.rpartition("/")
    database = f"newsroom_bench_{name}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}"')
        connection.execute(f'CREATE DATABASE "{database}"')
    return f"{base}/{database}"


def drop_database(url: str | None, name: str) -> None:
    """Drop what `fresh_database(url, …, name)` made on a PostgreSQL server."""
    if url is None:
        return
    import psycopg

    base, _, _ = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "newsroom_bench_{name}"')


def in_django(code: str, database_url: str, *args: str, **environment: str) -> dict:
    """Run `code` in a fresh Python process set up for Newsroom on this database
    and return the JSON object it prints last."""
    output = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "newsroom.settings",
            "DATABASE_URL": database_url,
            **environment,
        },
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])
