"""The production configuration, run the way it is deployed: gunicorn, PostgreSQL."""

import gc
import re
import runpy
import time
from urllib.parse import urlsplit

import pytest

from .services import TcpProxy, get, gunicorn, manage, scratch_database

SAMPLE = "seeds/000_8372918e7152907c.txt"
ARTICLE = "/article/48691/"


def production(database_url: str, tmp_path, **extra) -> dict:
    return {
        "DJANGO_ENV": "production",
        "SECRET_KEY": "a-long-random-production-secret-for-the-tests-only-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1,archive.example.org",
        "DATABASE_URL": database_url,
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        **extra,
    }


def test_deploy_checks_are_clean_in_production(tmp_path):
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        environment=production("sqlite:///" + str(tmp_path / "db.sqlite3"), tmp_path),
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_its_secrets(tmp_path, missing):
    environment = production("sqlite:///" + str(tmp_path / "db.sqlite3"), tmp_path)
    environment[missing] = ""
    result = manage("check", environment=environment, check=False)
    assert result.returncode != 0
    assert f"{missing} must be set when DJANGO_ENV=production" in result.stderr


@pytest.fixture
def deployed(postgres, tmp_path):
    """A production database with the sample article, and its static files collected."""
    with scratch_database(postgres) as database_url:
        # Plain HTTP to gunicorn here; in front of it a proxy would redirect to HTTPS.
        environment = production(database_url, tmp_path, SECURE_SSL_REDIRECT="false")
        manage("migrate", "--noinput", environment=environment)
        manage("import_seeds", SAMPLE, environment=environment)
        manage("collectstatic", "--noinput", "-v0", environment=environment)
        yield environment


def test_workers_leave_the_preloaded_application_to_the_garbage_collector_frozen():
    config = runpy.run_path("gunicorn.conf.py")
    assert config["preload_app"] is True
    gc.unfreeze()
    try:
        config["pre_fork"](None, None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_production_under_gunicorn_serves_the_site(deployed):
    with gunicorn(deployed) as url:
        status, headers, body = get(url + "/")
        assert status == 200 and "拜登、普京第二次峰會" in body.decode()
        assert "max-age=300" in headers["Cache-Control"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]

        status, headers, _ = get(url + ARTICLE)
        assert status == 200  # followed the permanent redirect to the canonical address
        status, headers, body = get(
            url + ARTICLE, headers={"X-Forwarded-Proto": "https", "Host": "archive.example.org"}
        )
        assert status == 200
        assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert body.decode().count('<figure class="figure">') == 4

        status, _, body = get(url + "/healthz")
        assert (status, body) == (200, b'{"status": "ok", "database": "up"}')

        html = get(url + "/")[2].decode()
        stylesheet = re.search(r'href="(/static/css/newsroom\.[0-9a-f]{12}\.css)"', html)
        assert stylesheet, "static files have hashed names"
        status, headers, _ = get(url + stylesheet.group(1), headers={"Accept-Encoding": "gzip"})
        assert status == 200
        assert "immutable" in headers["Cache-Control"]
        max_age = int(re.search(r"max-age=(\d+)", headers["Cache-Control"]).group(1))
        assert max_age >= 365 * 24 * 3600
        assert headers["Content-Encoding"] == "gzip"

        status, _, body = get(url + "/article/1/")
        assert status == 404 and "找不到這一頁" in body.decode()
        status, _, _ = get(url + "/", headers={"Host": "evil.example.com"})
        assert status == 400


def test_site_answers_503_while_the_database_is_gone_and_recovers(deployed):
    server = urlsplit(deployed["DATABASE_URL"])
    proxy = TcpProxy((server.hostname, server.port or 5432))
    proxy.start()
    through_proxy = deployed["DATABASE_URL"].replace(
        f"{server.hostname}:{server.port or 5432}", f"127.0.0.1:{proxy.port}"
    )
    environment = {**deployed, "DATABASE_URL": through_proxy, "PAGE_CACHE_SECONDS": "0"}
    with gunicorn(environment) as url:
        assert get(url + ARTICLE)[0] == 200
        assert get(url + "/healthz")[0] == 200

        proxy.stop()
        started = time.monotonic()
        status, headers, body = get(url + ARTICLE, timeout=30)
        assert status == 503
        assert time.monotonic() - started < 10, "answers within seconds, never hangs"
        assert headers["Retry-After"] == "30"
        assert "網站暫停服務" in body.decode()
        assert get(url + "/healthz", timeout=30)[0] == 503
        assert get(url + "/", timeout=30)[0] == 503

        proxy = TcpProxy((server.hostname, server.port or 5432))
        proxy.port = int(urlsplit(through_proxy).port)
        proxy.start()
        deadline = time.monotonic() + 20
        while get(url + "/healthz")[0] != 200:
            assert time.monotonic() < deadline, "the site recovers by itself"
            time.sleep(0.5)
        for _ in range(4):  # every worker's connection is good again
            assert get(url + ARTICLE)[0] == 200
    proxy.stop()
