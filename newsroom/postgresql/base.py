"""Django's PostgreSQL backend, with a health check that does not ask the server
and a cursor for statements worth preparing.

With `CONN_HEALTH_CHECKS` (settings.py) Django checks a persistent connection
before the first query of each request, and its PostgreSQL backend does so by
sending `SELECT 1`: a round trip on every request that reads the database. An
article page put together from what is kept reads one indexed row, so the
check doubled its trips to the database.

A connection the server has closed (a restart, `pg_terminate_backend`, an idle
timeout) has the server's last message and the end of the stream waiting on
its socket, and one the TCP keepalives found dead has an error there; a
healthy idle connection has nothing (Newsroom does not `LISTEN`). So the check
looks at the socket without waiting and asks the server only when something
is there.

Django's cursors bind parameters on the client (its default; see
`server_side_binding` in Django's PostgreSQL notes): every query reaches the
server as new text, to be parsed and planned again. `server_bound_cursor()`
gives a cursor whose parameters the server binds, so that psycopg prepares a
statement once it has run `prepare_threshold` times (5) on the connection, for
the few queries run on nearly every request or search. A prepared statement
is planned once, for whatever values it is given (`plan_cache_mode =
force_generic_plan`, set on each connection whose statements are prepared):
planning a search's ranking took longer than running it (1.2–5 ms against
0.6–2), and left to choose, PostgreSQL kept planning the rankings whose plan
for any values it estimated a little dearer. Only statements whose plan does
not hang on their values belong in `server_bound_cursor()`: the planner sees
parameters, not values (a `LIMIT` given as a parameter is taken to read a
tenth of the rows; the search writes its limits into the SQL).
"""

import select

import psycopg
from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    _binding_on_server = False

    def server_bound_cursor(self):
        """A Django cursor (logged and wrapped like any) whose parameters the
        server binds: its statements are prepared once they repeat."""
        self._binding_on_server = True
        try:
            return self.cursor()
        finally:
            self._binding_on_server = False

    def _configure_connection(self, connection):
        commit = super()._configure_connection(connection)
        if connection.prepare_threshold is None:
            return commit
        with connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_generic_plan")
        return True

    def create_cursor(self, name=None):
        if not self._binding_on_server or name is not None:
            return super().create_cursor(name)
        client_binding = self.connection.cursor_factory
        self.connection.cursor_factory = psycopg.Cursor
        try:
            return super().create_cursor()
        finally:
            self.connection.cursor_factory = client_binding

    def is_usable(self):
        if self.connection is None or self.connection.closed:
            return False
        if not _something_to_read(self.connection.fileno()):
            return True
        return super().is_usable()


def _something_to_read(descriptor: int) -> bool:
    """Whether data, the end of the stream or an error waits on a socket."""
    poller = select.poll()
    # The end of the stream and errors are reported whatever is asked for.
    poller.register(descriptor, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
