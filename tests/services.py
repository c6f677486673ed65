"""Real servers for tests that need them: PostgreSQL, gunicorn, a TCP proxy.

PostgreSQL is used when it answers: the server in DATABASE_URL, or the one in
NEWSROOM_TEST_POSTGRES_URL, or else the local server on 127.0.0.1:5432 (user
postgres, trust auth) that CI and the development machines run. Where none
answers, tests that need it are skipped on a laptop, and fail where
NEWSROOM_REQUIRE_POSTGRES is set (`.ci/run` sets it).
"""

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432"


def postgres_server() -> str | None:
    """`postgres://user@host:port` of a PostgreSQL server that answers, or None."""
    candidates = [
        url.rpartition("/")[0]
        for url in (
            os.environ.get("DATABASE_URL", ""),
            os.environ.get("NEWSROOM_TEST_POSTGRES_URL", ""),
        )
        if url.startswith("postgres")
    ]
    candidates.append(LOCAL_POSTGRES)
    for server in candidates:
        try:
            with psycopg.connect(f"{server}/postgres", connect_timeout=2):
                return server
        except psycopg.OperationalError:
            continue
    return None


@pytest.fixture(scope="session")
def postgres() -> str:
    server = postgres_server()
    if server is None:
        message = "PostgreSQL is not answering on 127.0.0.1:5432"
        if os.environ.get("NEWSROOM_REQUIRE_POSTGRES"):
            pytest.fail(message + " (NEWSROOM_REQUIRE_POSTGRES is set)")
        pytest.skip(message + "; CI runs this with PostgreSQL listening")
    return server


@contextmanager
def scratch_database(server: str):
    """A new, empty PostgreSQL database, dropped afterwards."""
    name = f"newsroom_scratch_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepared_statements(connection) -> list[str]:
    """The statements prepared on a Django connection to PostgreSQL."""
    return list(plans_of_prepared_statements(connection))


def plans_of_prepared_statements(connection) -> dict[str, tuple[int, int]]:
    """Each statement prepared on a Django connection to PostgreSQL, with how
    many times it was run on a plan made for any values (generic) and on one
    made for the values given (custom)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        return {statement: (generic, custom) for statement, generic, custom in cursor.fetchall()}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(*arguments: str, environment: dict, check: bool = True, timeout: int = 300):
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
    )


def get(url: str, headers: dict | None = None, timeout: float = 10):
    """(status, headers, body) of a GET, whatever the status."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@contextmanager
def gunicorn(environment: dict, workers: int = 2):
    """Newsroom under gunicorn with the repository's config, on a free port."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "newsroom.wsgi",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--access-logfile=/dev/null",
        ],
        cwd=ROOT,
        env={**os.environ, **environment},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + process.stdout.read())
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


class TcpProxy:
    """Forwards a local port to a server, and can cut every connection at will:
    the database "goes away" for whoever talks to it through the proxy."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and reset the open ones."""
        if self._listener:
            # Shutting the listener down wakes the thread blocked in accept();
            # closing it alone would leave it accepting.
            with suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for connection in self._connections:
                with suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self._connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        sockets = [a, b]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], 1)
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    (b if source is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in sockets:
                with suppress(OSError):
                    sock.close()
