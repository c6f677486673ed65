import pytest
from django.db import OperationalError
from django.urls import reverse

from articles.models import Article

from . import factories

pytestmark = pytest.mark.django_db


def csp_of(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {
        directive.split()[0]: directive.split()[1:]
        for directive in policy.split(";")
        if directive.strip()
    }


@pytest.mark.parametrize("path", ["/", "/feed/rss/", "/robots.txt", "/admin/login/"])
def test_content_security_policy_is_enforced(client, path):
    response = client.get(path)
    assert "Content-Security-Policy-Report-Only" not in response
    policy = csp_of(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "https://web.archive.org" in policy["img-src"]
    assert "https://www.youtube-nocookie.com" in policy["frame-src"]
    assert "https://www.youtube.com" not in policy["frame-src"]


def test_security_headers(client):
    response = client.get(factories.article().get_absolute_url())
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz", headers={"host": "10.0.0.7"})  # balancers call by address
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}


def test_healthz_says_when_the_database_does_not(client, monkeypatch):
    from django.db import connection

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_database_errors_answer_503_with_the_static_page(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(Article.objects, "published", refuse)
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "網站暫停服務" in response.content.decode()


def test_other_errors_answer_500_with_the_static_page(client, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(Article.objects, "published", fail)
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 500
    assert "暫時未能顯示這一頁" in response.content.decode()


def test_oversized_request_body_is_refused_unread(client, settings):
    settings.MAX_REQUEST_BYTES = 1000
    response = client.post(
        "/admin/login/", data=b"x" * 2000, content_type="application/octet-stream"
    )
    assert response.status_code == 413


def test_oversized_form_is_refused(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.raise_request_exception = False
    response = client.post("/admin/login/", {"username": "a", "password": "b" * 5000})
    assert response.status_code == 400


def test_bad_content_length_is_refused(client):
    response = client.generic("POST", "/admin/login/", headers={"content-length": "lots"})
    assert response.status_code == 400


def login(client, username, password, address="203.0.113.5"):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def test_repeated_failed_logins_lock_the_account_out(client, django_user_model, settings):
    django_user_model.objects.create_superuser("editor", "e@example.org", "correct horse")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "editor", "wrong").status_code == 200  # the form again
    locked = login(client, "editor", "wrong")
    assert locked.status_code == 429
    assert "暫時不能登入" in locked.content.decode()
    # Even the right password is refused while locked out...
    assert login(client, "editor", "correct horse").status_code == 429
    # ...but only for that account from that address.
    assert login(client, "editor", "correct horse", address="198.51.100.9").status_code == 302


def test_a_successful_login_resets_the_count(client, django_user_model, settings):
    django_user_model.objects.create_superuser("editor", "e@example.org", "correct horse")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "editor", "wrong")
    assert login(client, "editor", "correct horse").status_code == 302
    client.logout()
    assert login(client, "editor", "wrong").status_code == 200
