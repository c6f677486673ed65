"""Middleware that keeps the site answering when requests or the database
misbehave, and that runs the editors' middleware only where editors work."""

import logging

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger(__name__)


class HealthCheckMiddleware:
    """`/healthz` for load balancers: 200 when the database answers, 503 when not.

    It comes first in the middleware so that neither the Host check (balancers
    call by address), nor the HTTPS redirect, nor the cache stand in its way.
    """

    path = "/healthz"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != self.path:
            return self.get_response(request)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DatabaseError as error:
            logger.warning("health check: database unavailable: %s", error)
            # A broken persistent connection must not outlive the outage.
            connection.close_if_unusable_or_obsolete()
            return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
        return JsonResponse({"status": "ok", "database": "up"})


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body is larger than MAX_REQUEST_BYTES, unread.

    Django itself refuses form bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (400);
    this stops large uploads before a byte of them is read.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("Bad Content-Length.", status=400, content_type="text/plain")
        if length > settings.MAX_REQUEST_BYTES:
            return HttpResponse("Request body too large.", status=413, content_type="text/plain")
        return self.get_response(request)


class ForEditors:
    """Run a middleware only on the editors' side of the site: the admin, at
    `ADMIN_PATH`.

    Readers' pages use no session, no signed-in user and no messages (an
    editor reading them is told apart by the session cookie alone, see
    `articles.caching.for_readers`), and a page put together from kept parts
    costs little more than the middleware around it: setting up the three
    for every reader's request took a tenth of its time. Mixed in before the
    Django middleware it wraps, so that the admin's own checks still find it.
    """

    def __init__(self, get_response):
        super().__init__(get_response)
        self.editors_path = f"/{settings.ADMIN_PATH}"

    def __call__(self, request):
        if request.path_info.startswith(self.editors_path):
            return super().__call__(request)
        return self.get_response(request)


class EditorsSessionMiddleware(ForEditors, SessionMiddleware):
    pass


class EditorsAuthenticationMiddleware(ForEditors, AuthenticationMiddleware):
    pass


class EditorsMessageMiddleware(ForEditors, MessageMiddleware):
    pass
