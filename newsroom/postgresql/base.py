"""Django's PostgreSQL backend, with a health check that does not ask the server.

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
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
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
