"""Error pages that need nothing from the database to be shown."""

import sys

from django.db import DatabaseError, connections
from django.http import HttpResponse, HttpResponseServerError
from django.template import loader


def server_error(request):
    """500, or 503 with Retry-After when the error is that the database is gone.

    Rendered without the request, so that no context processor reaches for the
    database that may be the very thing that failed.
    """
    error = sys.exc_info()[1]
    if isinstance(error, DatabaseError):
        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponseServerError(loader.render_to_string("500.html"))
