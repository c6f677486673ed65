"""Sessions, sign-in and messages run on the editors' side of the site only."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client, RequestFactory

from articles.models import Section
from newsroom.middleware import EditorsAuthenticationMiddleware, EditorsSessionMiddleware

from . import factories

pytestmark = pytest.mark.django_db


def editors_middleware(get_response):
    return EditorsSessionMiddleware(EditorsAuthenticationMiddleware(get_response))


def test_readers_pages_set_up_no_session_user_or_messages(client, admin_user):
    article = factories.article(title="讀者的頁面")
    for signed_in in (False, True):
        if signed_in:
            client.force_login(admin_user)
        for url in ("/", article.get_absolute_url(), "/search/?q=讀者", "/no-such-page/"):
            request = client.get(url).wsgi_request
            assert not hasattr(request, "session"), url
            assert not hasattr(request, "user"), url
            assert not hasattr(request, "_messages"), url


def test_editors_pages_have_the_session_and_the_signed_in_user(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert response.wsgi_request.user == admin_user
    assert response.wsgi_request.session.session_key == client.session.session_key


def test_an_editor_signs_in_with_the_csrf_token_checked():
    client = Client(enforce_csrf_checks=True)
    get_user_model().objects.create_superuser("editor", "editor@example.org", "a-long-password")
    assert (
        client.post(
            "/admin/login/", {"username": "editor", "password": "a-long-password"}
        ).status_code
        == 403
    )
    page = client.get("/admin/login/")
    token = page.context["csrf_token"]
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "editor", "password": "a-long-password", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert client.get("/admin/").wsgi_request.user.username == "editor"


def test_editors_are_told_what_an_action_did(admin_client):
    section = Section.objects.create(name="要刪的欄目", slug="to-delete")
    response = admin_client.post(
        "/admin/articles/section/",
        {"action": "delete_selected", "_selected_action": [section.pk], "post": "yes"},
        follow=True,
    )
    assert not Section.objects.filter(pk=section.pk).exists()
    told = [str(message) for message in response.context["messages"]]
    assert len(told) == 1 and "1" in told[0], told


@pytest.mark.parametrize(
    ("admin_path", "path", "set_up"),
    [
        ("admin/", "/admin/articles/", True),
        ("admin/", "/article/1/slug/", False),
        ("admin/", "/administrator/", False),
        ("editors/", "/editors/", True),
        ("editors/", "/admin/", False),
    ],
)
def test_the_editors_side_is_where_admin_path_says(settings, admin_path, path, set_up):
    settings.ADMIN_PATH = admin_path
    seen = {}

    def view(request):
        seen["session"] = hasattr(request, "session")
        seen["user"] = hasattr(request, "user")
        return HttpResponse("")

    editors_middleware(view)(RequestFactory().get(path))
    assert seen == {"session": set_up, "user": set_up}


def test_the_admin_finds_the_middleware_it_needs():
    # The admin refuses to run without sessions, sign-in and messages in
    # MIDDLEWARE (admin.E408–E410): the editors' versions must count.
    call_command("check", fail_level="ERROR")
