"""The baseline for bench/pages_bench.py: one Django view returning a short text,
with no middleware, served by gunicorn exactly like Newsroom.

    gunicorn bench.minimal_site:application
"""

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="minimal-site-for-benchmarks",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402


def hello(request):
    return HttpResponse("Hello, world.", content_type="text/plain")


urlpatterns = [path("", hello)]
application = get_wsgi_application()
