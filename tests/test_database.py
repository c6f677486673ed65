"""Newsroom's PostgreSQL backend (newsroom/postgresql): connections are
checked before each request without a round trip when nothing has come from
the server, and replaced when the server has closed them; statements run
through `server_bound_cursor()` are prepared once they repeat, and planned
once for any values. On both runs:
these use the PostgreSQL server of tests/services.py, not the suite's
database."""

import time
from contextlib import contextmanager
from unittest import mock

import dj_database_url
import psycopg
import pytest
from django.db.utils import ConnectionHandler

from newsroom.postgresql.base import DatabaseWrapper

from .services import manage, plans_of_prepared_statements, prepared_statements


@contextmanager
def backend_connection(postgres, django_db_blocker, prepare_threshold):
    """A connection of Newsroom's backend, as settings.py configures it."""
    settings = dj_database_url.parse(
        f"{postgres}/postgres", conn_max_age=600, conn_health_checks=True
    )
    settings["ENGINE"] = "newsroom.postgresql"
    settings["OPTIONS"] = {"prepare_threshold": prepare_threshold}
    connection = ConnectionHandler({"default": settings})["default"]
    assert isinstance(connection, DatabaseWrapper)
    with django_db_blocker.unblock():
        connection.ensure_connection()
        try:
            yield connection
        finally:
            connection.close()


@pytest.fixture
def wrapper(postgres, django_db_blocker):
    with backend_connection(postgres, django_db_blocker, 5) as connection:  # as settings.py
        yield connection


def backend_pid(connection) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def terminate(postgres: str, pid: int) -> None:
    with psycopg.connect(f"{postgres}/postgres", autocommit=True) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]


@pytest.mark.parametrize(("threshold", "expected"), [(None, "5"), ("", "None"), ("2", "2")])
def test_settings_choose_the_backend_for_postgresql(postgres, threshold, expected):
    environment = {"DATABASE_URL": f"{postgres}/postgres"}
    if threshold is not None:
        environment["DATABASE_PREPARE_THRESHOLD"] = threshold
    result = manage(
        "shell", "-c",
        "from django.db import connection; print(connection.settings_dict['ENGINE'], "
        "connection.vendor, connection.settings_dict['CONN_HEALTH_CHECKS'], "
        "connection.settings_dict['OPTIONS']['prepare_threshold'])",
        environment=environment,
    )  # fmt: skip
    assert result.stdout.splitlines()[-1].split() == [
        "newsroom.postgresql", "postgresql", "True", expected
    ]  # fmt: skip


def test_a_healthy_connection_is_usable_without_asking_the_server(wrapper):
    pid = backend_pid(wrapper)
    with mock.patch.object(
        wrapper.connection, "cursor", side_effect=AssertionError("asked the server")
    ):
        assert wrapper.is_usable()
        wrapper.health_check_done = False
        wrapper.close_if_health_check_failed()
    assert wrapper.connection is not None
    assert backend_pid(wrapper) == pid, "the same connection goes on"


def test_a_connection_the_server_closed_is_replaced_before_the_next_query(postgres, wrapper):
    pid = backend_pid(wrapper)
    terminate(postgres, pid)
    deadline = time.monotonic() + 10
    while wrapper.is_usable():  # the server's last words take a moment to arrive
        assert time.monotonic() < deadline, "a terminated connection is noticed"
        time.sleep(0.05)
    # As at the first query of the next request: the check fails, the
    # connection is closed, and the query runs on a new one.
    wrapper.health_check_done = False
    assert backend_pid(wrapper) != pid


def test_something_from_the_server_is_checked_by_asking_it(wrapper):
    """Whatever waits on the socket, the server is asked; while it answers, the
    connection is kept."""
    with mock.patch("newsroom.postgresql.base._something_to_read", return_value=True):
        with mock.patch.object(
            wrapper.connection, "cursor", wraps=wrapper.connection.cursor
        ) as cursor:
            assert wrapper.is_usable()
        assert cursor.called


def test_a_closed_connection_is_not_usable(wrapper):
    wrapper.connection.close()
    assert not wrapper.is_usable()
    wrapper.connection = None
    assert not wrapper.is_usable()


def test_the_server_bound_cursor_prepares_a_statement_once_it_repeats(wrapper):
    wrapper.force_debug_cursor = True  # log queries, as the suite's counts do
    query = "SELECT %s::integer + 1 AS server_bound"
    for number in range(6):
        with wrapper.server_bound_cursor() as cursor:
            cursor.execute(query, [number])
            assert cursor.fetchone() == (number + 1,)
    assert [s for s in prepared_statements(wrapper) if "server_bound" in s] == [
        "SELECT $1::integer + 1 AS server_bound"
    ]
    logged = [entry["sql"] for entry in wrapper.queries_log if "server_bound" in entry["sql"]]
    assert len(logged) == 6, "counted like any query"


def test_djangos_cursors_bind_on_the_client_and_prepare_nothing(wrapper):
    for number in range(6):
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT %s::integer + 1 AS client_bound", [number])
            assert cursor.fetchone() == (number + 1,)
    assert not [s for s in prepared_statements(wrapper) if "client_bound" in s]


def plan_cache_mode(connection) -> tuple[str, str]:
    """The connection's `plan_cache_mode`, and where it comes from."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting, source FROM pg_settings WHERE name = 'plan_cache_mode'")
        return cursor.fetchone()


def test_a_prepared_statement_is_planned_once_for_any_values(wrapper):
    """PostgreSQL would plan a prepared statement for the values given at
    least five times before weighing a plan for any; here every run of it
    uses the one plan."""
    assert plan_cache_mode(wrapper) == ("force_generic_plan", "session")
    query = "SELECT count(*) AS planned_once FROM pg_class WHERE relpages > %s"
    for number in range(12):
        with wrapper.server_bound_cursor() as cursor:
            cursor.execute(query, [number])
            assert cursor.fetchone()[0] >= 0
    plans = plans_of_prepared_statements(wrapper)
    (generic, custom) = plans[query.replace("%s", "$1")]
    assert generic >= 6 and custom == 0


def test_without_prepared_statements_postgresql_plans_as_it_would(postgres, django_db_blocker):
    """Behind a pooler that cannot carry prepared statements
    (`DATABASE_PREPARE_THRESHOLD` empty) nothing is prepared, and the
    connection's planning is left as the server's settings make it."""
    with backend_connection(postgres, django_db_blocker, None) as connection:
        assert plan_cache_mode(connection)[1] != "session"
        for number in range(8):
            with connection.server_bound_cursor() as cursor:
                cursor.execute("SELECT %s::integer AS not_prepared", [number])
        assert not [s for s in prepared_statements(connection) if "not_prepared" in s]
