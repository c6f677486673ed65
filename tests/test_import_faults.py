"""The importer under faults: killed mid-batch, and run twice at once.

These tests run `import_seeds` as real processes against a database of their
own — a SQLite file, and a PostgreSQL database made for the test — and read
the result with plain SQL. The PostgreSQL case uses the server DATABASE_URL
points at when it is PostgreSQL, and otherwise NEWSROOM_TEST_POSTGRES_URL
(default postgres://postgres@127.0.0.1:5432/postgres) when it answers. When
no server answers, the case is skipped with the reason on a laptop, and fails
where NEWSROOM_REQUIRE_POSTGRES is set, as .ci/run sets it: CI always tests
both.
"""

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from articles.importer import BATCH_SIZE, discover
from articles.seeds import parse_seed

from .seedfiles import write_archive
from .services import postgres_server

ROOT = Path(__file__).resolve().parent.parent
LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
# How long to wait for a process to reach a point before calling it stuck.
PATIENCE = 120

# Runs import_seeds with a pause in its N-th batch: inside the transaction
# after the articles are inserted and before their figures, videos, bylines
# and tags ("inside"), or after the batch is committed ("between"). It makes
# the file `paused` when it stops, and goes on once `resume` exists.
PAUSED_IMPORT = """
import os, sys, time
import django
django.setup()
from django.core.management import call_command
from articles import importer

where, batch, paused, resume, *arguments = sys.argv[1:]
calls = []

def pause():
    calls.append(1)
    if len(calls) == int(batch):
        open(paused, "w").close()
        while not os.path.exists(resume):
            time.sleep(0.05)

if where == "inside":
    insert = importer._NewRows.insert
    def paused_insert(rows):
        pause()
        insert(rows)
    importer._NewRows.insert = paused_insert
else:
    write = importer._Writer.write
    def paused_write(self, prepared):
        results = write(self, prepared)
        pause()
        return results
    importer._Writer.write = paused_write
call_command("import_seeds", *arguments)
"""


@dataclass
class Database:
    url: str

    @property
    def vendor(self) -> str:
        return "sqlite" if self.url.startswith("sqlite") else "postgresql"

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.url,
            "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        }

    def rows(self, sql: str) -> list[tuple]:
        if self.vendor == "sqlite":
            with sqlite3.connect(self.url.removeprefix("sqlite:///")) as connection:
                return connection.execute(sql).fetchall()
        with psycopg.connect(self.url) as connection:
            return connection.execute(sql).fetchall()


def _postgres_server() -> str:
    """The maintenance database of the server the suite uses (tests/services.py)."""
    return f"{postgres_server() or LOCAL_POSTGRES.rpartition('/')[0]}/postgres"


def _administer(server: str, sql: str) -> None:
    with psycopg.connect(server, autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql)


def _migrate(url: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=Database(url).environment(),
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def _templates(tmp_path_factory) -> Iterator[dict[str, str]]:
    """A migrated database per engine, made once and copied for each test."""
    made: dict[str, str] = {}
    yield made
    if "postgresql" in made:
        _administer(_postgres_server(), f"DROP DATABASE IF EXISTS {made['postgresql']}")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path, tmp_path_factory, _templates) -> Iterator[Database]:
    """An empty, migrated database of the test's own for import processes."""
    if request.param == "sqlite":
        if "sqlite" not in _templates:
            template = tmp_path_factory.mktemp("template") / "db.sqlite3"
            _migrate(f"sqlite:///{template}")
            _templates["sqlite"] = str(template)
        shutil.copy(_templates["sqlite"], tmp_path / "db.sqlite3")
        yield Database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
        return
    server = _postgres_server()
    try:
        _administer(server, "SELECT 1")
    except psycopg.OperationalError as error:
        reason = f"PostgreSQL does not answer at {server}: {str(error).strip()[:200]}"
        if os.environ.get("NEWSROOM_REQUIRE_POSTGRES"):
            pytest.fail(f"{reason} (NEWSROOM_REQUIRE_POSTGRES is set)")
        pytest.skip(f"{reason}; CI runs this with PostgreSQL listening")
    if "postgresql" not in _templates:
        template = f"newsroom_faults_template_{uuid.uuid4().hex[:8]}"
        _administer(server, f"CREATE DATABASE {template}")
        _templates["postgresql"] = template
        _migrate(urlsplit(server)._replace(path=f"/{template}").geturl())
    name = f"newsroom_faults_{uuid.uuid4().hex[:8]}"
    _administer(server, f"CREATE DATABASE {name} TEMPLATE {_templates['postgresql']}")
    try:
        yield Database(urlsplit(server)._replace(path=f"/{name}").geturl())
    finally:
        _administer(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def archive(tmp_path) -> Path:
    folder = tmp_path / "archive"
    write_archive(folder, 6 * BATCH_SIZE + 10)
    return folder


def expected_rows(folder: Path) -> dict[int, tuple[int, int, int, int]]:
    """Per article number: the figures, videos, tags and bylines its file gives."""
    expected = {}
    for path in discover([folder]):
        seed = parse_seed(Path(path).read_bytes())
        if not seed.is_failed_capture:
            counts = (len(seed.figures), len(seed.videos), len(seed.tags), int(bool(seed.author)))
            expected[seed.number] = counts
    return expected


def stored_rows(database: Database) -> dict[int, tuple[int, int, int, int]]:
    """Per article number: the figures, videos, tags and bylines the database holds."""
    rows = database.rows(
        """
        SELECT a.number,
          (SELECT COUNT(*) FROM articles_figure f WHERE f.article_id = a.id),
          (SELECT COUNT(*) FROM articles_video v WHERE v.article_id = a.id),
          (SELECT COUNT(*) FROM articles_taggedarticle t WHERE t.content_object_id = a.id),
          (SELECT COUNT(*) FROM articles_byline b WHERE b.article_id = a.id)
        FROM articles_article a
        """
    )
    numbers = Counter(number for number, *_ in rows)
    assert [number for number, count in numbers.items() if count > 1] == []
    return {number: tuple(counts) for number, *counts in rows}


def duplicates(database: Database) -> dict[str, int]:
    """Rows that say the same thing twice, by table: none may exist."""
    checks = {
        "figures": "SELECT article_id, position FROM articles_figure GROUP BY 1, 2",
        "videos": "SELECT article_id, position FROM articles_video GROUP BY 1, 2",
        "tags": "SELECT LOWER(name) FROM articles_tag GROUP BY 1",
        "sections": "SELECT name FROM articles_section GROUP BY 1",
        "authors": "SELECT name FROM articles_author GROUP BY 1",
    }
    return {
        table: count
        for table, sql in checks.items()
        if (count := database.rows(f"SELECT COUNT(*) FROM ({sql} HAVING COUNT(*) > 1) d")[0][0])
    }


def first_batches(folder: Path, batches: int) -> set[int]:
    """The numbers of the articles that the first batches of an import of `folder` write."""
    files = discover([folder])[: batches * BATCH_SIZE]
    seeds = [parse_seed(Path(path).read_bytes()) for path in files]
    return {seed.number for seed in seeds if not seed.is_failed_capture}


def created(output: str) -> int:
    return int(re.search(r"(\d+) created, \d+ updated", output).group(1))


def start_import(database: Database, folder: Path, *options: str, log: Path) -> subprocess.Popen:
    with log.open("w") as output:
        return subprocess.Popen(
            [sys.executable, "manage.py", "import_seeds", str(folder), "--workers", "0", *options],
            cwd=ROOT,
            env=database.environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def start_paused_import(
    database: Database, folder: Path, where: str, batch: int, tmp_path: Path, log: Path
) -> tuple[subprocess.Popen, Path, Path]:
    paused, resume = tmp_path / f"paused-{log.stem}", tmp_path / f"resume-{log.stem}"
    with log.open("w") as output:
        command = [sys.executable, "-c", PAUSED_IMPORT, where, str(batch), str(paused)]
        process = subprocess.Popen(
            [*command, str(resume), str(folder), "--workers", "0"],
            cwd=ROOT,
            env=database.environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return process, paused, resume


def wait_for(condition, process: subprocess.Popen, log: Path, what: str) -> None:
    """Wait for a condition that a process brings about; fail if it ends first."""
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if process.poll() is not None and not condition():
            pytest.fail(f"the import ended before {what}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no {what} after {PATIENCE} s:\n{log.read_text()}")
        time.sleep(0.05)


def finish(process: subprocess.Popen, log: Path) -> str:
    try:
        process.wait(timeout=PATIENCE)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"the import did not finish in {PATIENCE} s:\n{log.read_text()}")
    output = log.read_text()
    assert process.returncode == 0, output
    return output


def test_import_killed_mid_batch_leaves_whole_articles_and_a_rerun_finishes(
    database, archive, tmp_path
):
    expected = expected_rows(archive)
    log = tmp_path / "killed.log"
    process, paused, _ = start_paused_import(database, archive, "inside", 3, tmp_path, log)
    wait_for(paused.exists, process, log, "the third batch")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=PATIENCE)

    # Two batches were committed; the third had inserted its articles, and
    # none of their figures, videos, bylines or tags, when it was killed.
    committed = stored_rows(database)
    assert committed.keys() == first_batches(archive, 2)
    assert committed == {number: expected[number] for number in committed}
    assert duplicates(database) == {}

    rerun = tmp_path / "rerun.log"
    output = finish(start_import(database, archive, log=rerun), rerun)
    new, old = len(expected) - len(committed), len(committed)
    assert f"{new} created, 0 updated, {old} unchanged" in output
    assert stored_rows(database) == expected
    assert duplicates(database) == {}


def test_two_imports_at_once_write_each_article_once(database, archive, tmp_path):
    expected = expected_rows(archive)
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    processes = [start_import(database, archive, log=log) for log in logs]
    outputs = [finish(process, log) for process, log in zip(processes, logs, strict=True)]

    assert stored_rows(database) == expected
    assert duplicates(database) == {}
    assert sum(map(created, outputs)) == len(expected)
    seeds = [parse_seed(Path(path).read_bytes()) for path in discover([archive])]
    tags = {tag.lower() for seed in seeds for tag in seed.tags}
    assert database.rows("SELECT COUNT(*) FROM articles_tag")[0][0] == len(tags)


def test_a_second_import_waits_for_the_first_or_goes_between_its_batches(
    database, archive, tmp_path
):
    expected = expected_rows(archive)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first, paused, resume = start_paused_import(
        database, archive, "between", 1, tmp_path, first_log
    )
    wait_for(paused.exists, first, first_log, "the end of the first batch")
    second = start_import(database, archive, log=second_log)
    if database.vendor == "postgresql":
        # The first holds the import lock while it pauses: the second says so and waits.
        waiting = "Another import is writing to this database; waiting for it to finish."
        wait_for(lambda: waiting in second_log.read_text(), second, second_log, "a wait")
        assert second.poll() is None
        assert stored_rows(database).keys() == first_batches(archive, 1)
    else:
        # SQLite lets the second write between the first one's batches.
        finish(second, second_log)
        assert stored_rows(database) == expected
    resume.touch()
    outputs = finish(first, first_log), finish(second, second_log)

    assert stored_rows(database) == expected
    assert duplicates(database) == {}
    assert sum(map(created, outputs)) == len(expected)
