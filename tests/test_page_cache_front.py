"""The page cache in front of Django (`articles.caching.PageCacheApplication`),
called as the application server calls it: through `newsroom.wsgi`."""

import io
from urllib.parse import unquote_to_bytes, urlsplit

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections

from articles.caching import PageCacheApplication, content_changed, kept_for
from articles.models import Article
from newsroom.wsgi import application, django_application

from . import factories

pytestmark = pytest.mark.django_db


class Served:
    """What a WSGI application answered, and whether Django handled it."""

    def __init__(self, status: str, headers: list, body: bytes, handled_by_django: bool):
        self.status = status
        self.headers = headers
        self.body = body
        self.handled_by_django = handled_by_django

    @property
    def code(self) -> int:
        return int(self.status.split()[0])

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


@pytest.fixture
def serve():
    """Call a WSGI application with a GET (or another method) of `url`.

    As Django's test client does, the database connection is left open across
    requests (the test's transaction holds it); whether Django handled the
    request is told by its request_started signal."""
    started = []

    def note(**_arguments):
        started.append(True)

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    request_started.connect(note)

    def call(url, app=application, method="GET", host="testserver", scheme="http", **headers):
        parts = urlsplit(url)
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(parts.path).decode("iso-8859-1"),
            "QUERY_STRING": parts.query,
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "443" if scheme == "https" else "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": host,
            "wsgi.url_scheme": scheme,
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            **{"HTTP_" + name.upper(): value for name, value in headers.items()},
        }
        answered = {}

        def start_response(status, response_headers, exc_info=None):
            answered.update(status=status, headers=response_headers)

        before = len(started)
        result = app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return Served(answered["status"], answered["headers"], body, len(started) > before)

    yield call
    request_started.disconnect(note)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_a_cached_page_is_answered_before_django_with_what_django_sends(serve):
    article = factories.article(tags=["普京"])
    for url in ("/", article.get_absolute_url(), "/tag/%E6%99%AE%E4%BA%AC/?page=1"):
        first = serve(url)
        assert first.code == 200 and first.handled_by_django
        again = serve(url)
        assert not again.handled_by_django
        from_django = serve(url, app=django_application)  # the middleware's answer
        assert from_django.handled_by_django
        for answer in (again, from_django):
            assert answer.status == "200 OK"
            assert answer.body == first.body
            assert sorted(answer.headers) == sorted(first.headers)
        # Kept as it left every middleware, security headers included.
        assert again.header("X-Content-Type-Options") == "nosniff"
        assert again.header("Content-Security-Policy") and again.header("ETag")


def test_a_changed_page_is_not_answered_from_the_front(serve, django_capture_on_commit_callbacks):
    article = factories.article(title="第一版")
    url = article.get_absolute_url()
    serve(url)
    assert not serve(url).handled_by_django
    article.title = "第二版"
    with django_capture_on_commit_callbacks(execute=True):
        article.save()
    changed = serve(url)
    assert changed.handled_by_django and "第二版" in changed.body.decode()


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"method": "HEAD"}, 200),
        ({"if_modified_since": "Tue, 07 Dec 2021 00:00:00 GMT"}, 200),
        ({"host": "elsewhere.example.org"}, 400),
    ],
)
def test_what_the_front_leaves_to_django(serve, options, code):
    url = factories.article().get_absolute_url()
    serve(url)
    served = serve(url, **options)
    assert served.handled_by_django and served.code == code


def test_a_conditional_request_is_answered_by_django_from_the_cache(
    serve, django_assert_num_queries
):
    url = factories.article().get_absolute_url()
    etag = serve(url).header("ETag")
    with django_assert_num_queries(0):
        served = serve(url, if_none_match=etag)
    assert served.handled_by_django and served.code == 304


def test_editors_are_left_to_django_and_see_the_database(serve, client, admin_user):
    article = factories.article(title="原來的標題")
    url = article.get_absolute_url()
    serve(url)
    Article.objects.filter(pk=article.pk).update(title="悄悄改過")  # no signal: still cached
    assert "原來的標題" in serve(url).body.decode()
    client.force_login(admin_user)
    session = client.cookies["sessionid"].value
    editor = serve(url, cookie=f"sessionid={session}")
    assert editor.handled_by_django and "悄悄改過" in editor.body.decode()
    # Other cookies do not make a reader an editor.
    assert not serve(url, cookie="theme=dark").handled_by_django


def test_readers_sent_to_https_are_sent_there_whatever_is_cached(serve, settings):
    url = factories.article().get_absolute_url()
    serve(url)
    assert not serve(url).handled_by_django
    settings.SECURE_SSL_REDIRECT = True
    # The security middleware reads the setting when the application is made.
    app = PageCacheApplication(get_wsgi_application())
    redirected = serve(url, app=app)
    assert redirected.code == 301
    assert redirected.header("Location") == f"https://testserver{url}"
    assert serve(url, app=app, scheme="https").code == 200


def test_static_files_are_not_looked_up_in_the_page_cache(serve, monkeypatch):
    asked = []
    monkeypatch.setattr(cache, "get_many", lambda *args, **kwargs: asked.append(args) or {})
    served = serve("/static/css/newsroom.css")
    assert served.handled_by_django and served.code == 404  # runserver serves them
    assert asked == []
    assert kept_for(_request("/media/figures/1.jpg")) is None


def _request(path):
    from django.test import RequestFactory

    return RequestFactory().get(path)


def test_a_page_is_read_with_the_versions_in_one_round_trip_and_never_twice(serve, monkeypatch):
    article = factories.article()
    url = article.get_absolute_url()
    serve(url)  # the versions exist
    reads, inside = [], []
    real_get, real_get_many = cache.get, cache.get_many

    def get(key, *args, **kwargs):
        if not inside:
            reads.append(key)
        return real_get(key, *args, **kwargs)

    def get_many(keys, *args, **kwargs):
        reads.append(tuple(keys))
        inside.append(True)
        try:
            return real_get_many(keys, *args, **kwargs)
        finally:
            inside.pop()

    monkeypatch.setattr(cache, "get", get)
    monkeypatch.setattr(cache, "get_many", get_many)

    def pages_read():
        return [key for key in reads if "page:" in str(key) or "version" in str(key)]

    # A page not kept: read once by the front, the reading handed to Django.
    missing = serve(url + "?from=feed")
    assert missing.handled_by_django and missing.code == 200
    [first] = pages_read()
    assert isinstance(first, tuple) and "newsroom:content-version" in first
    assert any(":page:" in key for key in first)
    reads.clear()
    assert not serve(url + "?from=feed").handled_by_django
    assert reads == [first]  # one round trip, the page in it
    # The article's own address: its kept article page is read only when the
    # page is not kept (after an edit elsewhere), once.
    reads.clear()
    kept = serve(url)
    assert not kept.handled_by_django
    assert len(reads) == 1 and not any("article-page:" in key for key in reads[0])
    content_changed(links=False)  # an edit elsewhere: the page retires, not the article's
    reads.clear()
    again = serve(url)
    assert again.handled_by_django and again.header("ETag") == kept.header("ETag")
    article_reads = [key for key in reads if isinstance(key, str) and "article-page:" in key]
    assert len(article_reads) == 1
    assert article_reads[0].startswith(f"newsroom:article-page:{article.number}:")


def test_with_no_page_cache_every_request_goes_to_django(serve, settings):
    settings.PAGE_CACHE_SECONDS = 0
    url = factories.article().get_absolute_url()
    serve(url)
    assert serve(url).handled_by_django


def test_a_failing_cache_server_leaves_the_request_to_django(serve, settings):
    from .services import free_port

    settings.CACHES = {
        "default": {
            "BACKEND": "newsroom.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    served = serve(factories.article().get_absolute_url())
    # Django's error handling answers, with the site's own page.
    assert served.handled_by_django and served.code == 500
    assert "暫時未能顯示" in served.body.decode()
