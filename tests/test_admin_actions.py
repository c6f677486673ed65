import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.utils import timezone

from articles.models import Article

from .admin_factories import make_article

pytestmark = pytest.mark.django_db

LIST = "/admin/articles/article/"


def act(client, action: str, *articles):
    return client.post(
        LIST, {"action": action, "index": "0", "_selected_action": [a.pk for a in articles]}
    )


def statuses() -> dict[int, str]:
    return dict(Article.objects.values_list("number", "status"))


def test_publish_unpublish_and_hide_change_only_the_chosen(admin_client):
    one = make_article(number=1, status=Article.Status.DRAFT)
    two = make_article(number=2, status=Article.Status.DRAFT)
    act(admin_client, "publish", one)
    assert statuses() == {1: "published", 2: "draft"}
    act(admin_client, "hide", one, two)
    assert statuses() == {1: "hidden", 2: "hidden"}
    response = act(admin_client, "unpublish", two)
    assert statuses() == {1: "hidden", 2: "draft"}
    assert response.status_code == 302


def test_actions_mark_articles_edited_and_log_each(admin_client, admin_user):
    article = make_article(number=1)
    act(admin_client, "hide", article)
    article.refresh_from_db()
    assert article.edited_at is not None
    entry = LogEntry.objects.get()
    assert (entry.user, entry.object_id, entry.action_flag) == (admin_user, str(article.pk), CHANGE)
    assert "狀態" in entry.get_change_message()


def test_an_action_leaves_articles_already_in_that_state_alone(admin_client):
    article = make_article(number=1)
    act(admin_client, "publish", article)
    article.refresh_from_db()
    assert article.edited_at is None and not LogEntry.objects.exists()


def test_hiding_a_failed_capture_takes_it_off_the_site(
    admin_client, client, django_capture_on_commit_callbacks
):
    article = make_article(number=1, title="眾新聞告別　感謝讀者")
    assert client.get(article.get_absolute_url()).status_code == 200  # and cached
    with django_capture_on_commit_callbacks(execute=True):
        act(admin_client, "hide", article)
    assert client.get(article.get_absolute_url()).status_code == 404


def test_publishing_a_new_undated_article_dates_it_now(admin_client):
    written = make_article(number=1, status=Article.Status.DRAFT, published_at=None, imported=False)
    imported = make_article(number=2, status=Article.Status.HIDDEN, published_at=None)
    act(admin_client, "publish", written, imported)
    written.refresh_from_db()
    imported.refresh_from_db()
    assert written.published_at is not None and written.published_at <= timezone.now()
    # The archive's undated articles stay undated, in their own list.
    assert imported.published_at is None


def test_publishing_keeps_a_time_in_the_future(admin_client):
    later = timezone.now() + timezone.timedelta(days=2)
    article = make_article(number=1, status=Article.Status.DRAFT, published_at=later)
    act(admin_client, "publish", article)
    article.refresh_from_db()
    assert article.published_at == later
    assert not Article.objects.published().exists()


def test_select_across_acts_on_every_match(admin_client):
    for n in range(3):
        make_article(number=n + 1, status=Article.Status.DRAFT)
    admin_client.post(
        LIST + "?status=draft",
        {"action": "publish", "index": "0", "select_across": "1", "_selected_action": ["0"]},
    )
    assert set(statuses().values()) == {"published"}


def test_a_status_change_needs_no_new_search_document(admin_client):
    # The document holds text only; who may see an article is decided when searching.
    draft = make_article(number=1, body="談到北約。", status=Article.Status.DRAFT)
    assert list(Article.objects.published().search("北約")) == []
    act(admin_client, "publish", draft)
    assert list(Article.objects.published().search("北約")) == [draft]
    act(admin_client, "hide", draft)
    assert list(Article.objects.published().search("北約")) == []
    assert list(Article.objects.search("北約")) == [draft]
