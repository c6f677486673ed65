import pytest
from django.contrib.auth.models import Group, Permission

from articles.models import Article, Tag

from .admin_factories import form_data, make_article, make_user

pytestmark = pytest.mark.django_db

LIST = "/admin/articles/article/"
ADD = "/admin/articles/article/add/"


def change_url(article) -> str:
    return f"/admin/articles/article/{article.pk}/change/"


@pytest.fixture
def contributor(client):
    user = make_user("writer", "Contributor")
    client.force_login(user)
    return user


@pytest.fixture
def own_draft(client, contributor):
    data = form_data(client.get(ADD))
    data.update(title="我的草稿", body="內文。")
    assert client.post(ADD, data).status_code == 302
    return Article.objects.get(title="我的草稿")


def test_editor_may_do_everything_on_articles_and_nothing_on_users():
    editor = Group.objects.get(name="Editor")
    codenames = set(editor.permissions.values_list("codename", flat=True))
    for model in ("article", "figure", "video", "tag", "section", "author"):
        assert {f"{action}_{model}" for action in ("add", "change", "delete", "view")} <= codenames
    assert "publish_article" in codenames
    assert not editor.permissions.exclude(content_type__app_label="articles").exists()


def test_contributor_may_write_but_not_publish_or_delete():
    codenames = set(
        Group.objects.get(name="Contributor").permissions.values_list("codename", flat=True)
    )
    assert {"add_article", "change_article", "view_article", "add_figure"} <= codenames
    assert not codenames & {"publish_article", "delete_article", "change_tag", "delete_tag"}


def test_editor_cannot_open_the_users(client):
    client.force_login(make_user("editor", "Editor"))
    assert client.get(LIST).status_code == 200
    assert client.get("/admin/articles/tag/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 403


def test_contributor_writes_a_draft_and_is_its_creator(own_draft, contributor):
    assert own_draft.status == Article.Status.DRAFT
    assert own_draft.created_by == contributor


def test_contributor_form_has_no_status(client, own_draft):
    form = client.get(change_url(own_draft)).context["adminform"].form
    assert "status" not in form.fields


def test_contributor_cannot_publish_through_the_add_form(client, contributor):
    data = form_data(client.get(ADD))
    data.update(title="想發佈", body="內文。", status="published")
    assert client.post(ADD, data).status_code == 302
    assert Article.objects.get().status == Article.Status.DRAFT


def test_contributor_cannot_publish_through_the_change_form(client, own_draft):
    data = form_data(client.get(change_url(own_draft)))
    data.update(status="published", title="改了")
    assert client.post(change_url(own_draft), data).status_code == 302
    own_draft.refresh_from_db()
    assert (own_draft.title, own_draft.status) == ("改了", Article.Status.DRAFT)


def test_contributor_has_no_bulk_actions(client, own_draft):
    response = client.get(LIST)
    assert response.context["action_form"] is None
    assert 'name="action"' not in response.content.decode()


@pytest.mark.parametrize("action", ["publish", "hide", "unpublish", "delete_selected"])
def test_contributor_cannot_run_an_action_by_a_crafted_post(client, own_draft, action):
    published = make_article(number=5)
    client.post(
        LIST,
        {"action": action, "index": "0", "_selected_action": [own_draft.pk, published.pk]},
    )
    assert dict(Article.objects.values_list("pk", "status")) == {
        own_draft.pk: Article.Status.DRAFT,
        published.pk: Article.Status.PUBLISHED,
    }


def test_contributor_cannot_change_anothers_draft(client, contributor):
    other = make_article(status=Article.Status.DRAFT, created_by=make_user("other", "Contributor"))
    response = client.get(change_url(other))
    assert response.status_code == 200  # to read
    assert 'name="_save"' not in response.content.decode()
    data = form_data(response) | {"title": "改別人的"}
    assert client.post(change_url(other), data).status_code == 403
    assert Article.objects.get(pk=other.pk).title == other.title


def test_contributor_sees_the_figures_of_anothers_article_read_only(client, contributor):
    other = make_article(figures=1)
    html = client.get(change_url(other)).content.decode()
    assert "第 1 張圖片。" in html and 'name="figures-0-caption"' not in html


def test_contributor_cannot_change_their_article_once_published(client, own_draft):
    Article.objects.filter(pk=own_draft.pk).update(status=Article.Status.PUBLISHED)
    data = form_data(client.get(change_url(own_draft))) | {"title": "偷偷改"}
    assert client.post(change_url(own_draft), data).status_code == 403
    assert Article.objects.get().title == "我的草稿"


def test_contributor_cannot_delete(client, own_draft):
    assert (
        client.post(f"/admin/articles/article/{own_draft.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert Article.objects.exists()


def test_contributor_previews_their_draft(client, own_draft):
    assert client.get(f"/admin/articles/article/{own_draft.pk}/preview/").status_code == 200


def test_without_permission_to_add_tags_only_existing_tags_can_be_chosen(client):
    user = make_user("limited")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_article", "view_article", "view_tag"])
    )
    client.force_login(user)
    Tag.objects.create(name="普京")
    data = form_data(client.get(ADD)) | {"title": "標題", "tag_names": ["普京", "新標籤"]}
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert (
        "你沒有新增標籤的權限" in response.content.decode()
        and "新標籤" in response.content.decode()
    )
    data["tag_names"] = ["普京"]
    assert client.post(ADD, data).status_code == 302
    assert list(Article.objects.get().tags.values_list("name", flat=True)) == ["普京"]


def test_tag_names_need_permission_to_see_tags(client):
    client.force_login(make_user("nobody"))
    assert client.get("/admin/articles/tag/names/", {"term": "普"}).status_code == 403
