import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.importer import import_seeds
from articles.models import Article, Author, Figure, Tag, TagAlias, TaggedArticle

from .admin_factories import form_data, make_article, make_section
from .seedfiles import seed_text, write_seed

pytestmark = pytest.mark.django_db

ADD = "/admin/articles/article/add/"


def change_url(article) -> str:
    return f"/admin/articles/article/{article.pk}/change/"


def save(client, article, **changes):
    """Open the article's change form, change some values, save it."""
    data = form_data(client.get(change_url(article)))
    data.update(changes)
    return client.post(change_url(article), data)


def errors(response) -> list:
    """What the change form complained about, if it did not save."""
    if response.status_code == 302:
        return []
    adminform = response.context["adminform"].form
    found = [*adminform.non_field_errors(), *adminform.errors.items()]
    for inline in response.context["inline_admin_formsets"]:
        found += [*inline.formset.non_form_errors(), *(e for e in inline.formset.errors if e)]
    return found


def tags_of(article) -> list[tuple[str, int, str]]:
    rows = TaggedArticle.objects.filter(content_object=article).select_related("tag")
    return [(row.tag.name, row.position, row.spelling) for row in rows.order_by("position")]


def test_change_form_has_figures_tags_byline_and_read_only_source(admin_client, sample):
    import_seeds([sample])
    article = Article.objects.get()
    response = admin_client.get(change_url(article))
    html = response.content.decode()
    figures = response.context["inline_admin_formsets"][0].formset
    assert len(figures.forms) == 4
    assert '<img src="https://web.archive.org/web/20220118160222im_/' in html  # a thumbnail
    form = response.context["adminform"].form
    assert form["tag_names"].value() == ["普京", "Vladimir Putin", "putin", "烏克蘭", "拜登"]
    assert 'data-tags="true"' in html and "/admin/articles/tag/names/" in html
    assert form["byline"].value() == [article.authors.get().pk]
    for name in ("url", "original_url", "source_path", "source_hash", "number"):
        assert name not in form.fields
    assert article.source_hash in html and "https://www.hkcnews.com/article/48691/" in html
    assert "admin-autocomplete" in str(form["section"])


def test_saving_an_untouched_form_changes_nothing(admin_client):
    article = make_article(figures=2, tags=["普京"], authors=["何君健"])
    before = Article.objects.values("modified_at", "edited_at").get()
    response = save(admin_client, article)
    assert response.status_code == 302, errors(response)
    assert Article.objects.values("modified_at", "edited_at").get() == before
    assert not article.revisions.exists()


def test_line_ends_sent_by_a_browser_are_not_a_change(admin_client):
    article = make_article(body="第一段。\n\n第二段。")
    save(admin_client, article, body="第一段。\r\n\r\n第二段。")
    article.refresh_from_db()
    assert article.edited_at is None and article.body == "第一段。\n\n第二段。"


def test_changing_only_a_figure_marks_the_article_edited(admin_client):
    article = make_article(figures=2)
    response = save(admin_client, article, **{"figures-1-credit": "何君健攝"})
    assert response.status_code == 302, errors(response)
    article.refresh_from_db()
    assert article.edited_at is not None
    assert Figure.objects.get(article=article, position=2).credit == "何君健攝"


def test_changing_only_tags_marks_the_article_edited(admin_client):
    article = make_article(tags=["普京"])
    save(admin_client, article, tag_names=["普京", "俄羅斯"])
    article.refresh_from_db()
    assert article.edited_at is not None


def found(query: str) -> list[int]:
    """Numbers of the articles the site's search finds, drafts included."""
    return sorted(Article.objects.search(query).values_list("number", flat=True))


def test_an_edited_caption_is_found_by_search(admin_client):
    article = make_article(number=1, figures=1)
    assert found("圖片") == [1]
    response = save(admin_client, article, **{"figures-0-caption": "北約峰會。"})
    assert response.status_code == 302, errors(response)
    assert found("北約峰會") == [1]
    assert found("圖片") == []


def test_a_caption_edited_with_the_title_is_found_by_search(admin_client):
    article = make_article(number=1, figures=1)
    save(admin_client, article, title="新標題", **{"figures-0-caption": "北約峰會。"})
    assert found("新標題") == [1] and found("北約峰會") == [1]


def test_tags_changed_on_the_form_are_found_by_search(admin_client):
    article = make_article(number=1, tags=["香港"])
    assert found("香港") == [1]
    save(admin_client, article, tag_names=["北約"])
    assert found("北約") == [1]
    assert found("香港") == []


def test_a_new_articles_tags_are_found_by_search(admin_client):
    data = form_data(admin_client.get(ADD))
    data.update(title="新文章", body="內文。", status="draft", tag_names=["北約"])
    assert admin_client.post(ADD, data).status_code == 302
    assert Article.objects.matching("北約").get().title == "新文章"


def test_saving_an_untouched_form_leaves_the_search_index_alone(admin_client):
    article = make_article(figures=1, tags=["普京"])
    data = form_data(admin_client.get(change_url(article)))
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.post(change_url(article), data).status_code == 302
    assert not [q["sql"] for q in queries if "articles_searchdocument" in q["sql"]]


def test_a_body_the_renderer_refuses_is_a_form_error_not_a_server_error(admin_client):
    article = make_article(body="原來的內文。")
    nested = "- " * 3000 + "項目"  # a list in a list, 3,000 levels deep
    response = save(admin_client, article, body=nested)
    assert response.status_code == 200
    body_errors = response.context["adminform"].form.errors["body"]
    assert body_errors == [
        "內文無法轉換成網頁，未能儲存。通常是清單或引文一層套一層太多層：請減少層數後再儲存。"
    ]
    assert Article.objects.get().body == "原來的內文。"
    data = form_data(admin_client.get(ADD))
    data.update(title="新文章", body=nested, status="draft")
    assert "body" in admin_client.post(ADD, data).context["adminform"].form.errors
    assert Article.objects.count() == 1


def test_edited_article_is_a_conflict_for_the_importer(admin_client, seeds_dir):
    path = write_seed(seeds_dir, text=seed_text(title="原來的標題"))
    import_seeds([path])
    article = Article.objects.get()
    save(admin_client, article, title="編輯改過的標題")
    write_seed(seeds_dir, text=seed_text(title="檔案的新標題"))
    report = import_seeds([path])
    assert report.files[0].status == "conflict"
    assert Article.objects.get().title == "編輯改過的標題"


def test_body_is_sanitised_on_save(admin_client):
    article = make_article()
    save(
        admin_client, article, body='好。<script>alert(1)</script><a href="javascript:x()">連結</a>'
    )
    article.refresh_from_db()
    assert "<script" not in article.body_html and "javascript:" not in article.body_html
    assert "好。" in article.body_html


def test_tags_are_kept_in_order_new_ones_created_and_old_names_followed(admin_client):
    article = make_article(tags=["Putin", "香港"])
    kept = Tag.objects.get(name="Putin")
    TagAlias.objects.create(
        target=Tag.objects.create(name="烏克蘭"), name="Ukraine", slug="ukraine"
    )
    response = save(admin_client, article, tag_names=["ukraine", "新標籤", "Putin", "新標籤"])
    assert response.status_code == 302, errors(response)
    assert tags_of(article) == [
        ("烏克蘭", 1, "ukraine"),
        ("新標籤", 2, "新標籤"),
        ("Putin", 3, "Putin"),
    ]
    assert TaggedArticle.objects.get(content_object=article, tag=kept).spelling == "Putin"
    assert not Tag.objects.filter(name="香港", tagged_articles__isnull=False).exists()


def test_a_kept_tag_keeps_the_spelling_of_the_source_file(admin_client):
    article = make_article()
    tag = Tag.objects.create(name="Putin")
    TaggedArticle.objects.create(content_object=article, tag=tag, position=1, spelling="putin")
    save(admin_client, article, tag_names=["新", "Putin"])
    assert tags_of(article) == [("新", 1, "新"), ("Putin", 2, "putin")]


def test_byline_keeps_the_order_chosen(admin_client):
    article = make_article(authors=["何君健"])
    first, second = Author.objects.get(), Author.objects.create(name="林振東", slug="lin")
    save(admin_client, article, byline=[str(second.pk), str(first.pk)])
    assert list(article.bylines.values_list("author__name", "position")) == [
        ("林振東", 1),
        ("何君健", 2),
    ]
    response = admin_client.get(change_url(article))
    assert response.context["adminform"].form["byline"].value() == [second.pk, first.pk]


def test_source_fields_cannot_be_changed_by_a_post(admin_client, sample):
    import_seeds([sample])
    article = Article.objects.get()
    save(admin_client, article, url="https://evil.example/", source_hash="0" * 64, number="1")
    assert Article.objects.values_list("url", "source_hash", "number").get() == (
        article.url,
        article.source_hash,
        48691,
    )


def test_two_figures_cannot_share_a_position(admin_client):
    article = make_article(figures=2)
    response = save(admin_client, article, **{"figures-1-position": "1"})
    assert response.status_code == 200
    assert "兩張圖片的次序都是 1" in response.content.decode()


def test_new_article_takes_the_next_number_a_slug_and_its_author(admin_client, admin_user):
    make_article(number=49930)
    response = admin_client.get(ADD)
    html = response.content.decode()
    assert 'id="id_slug"' in html and "prepopulated_fields" in html.replace("-", "_")
    data = form_data(response)
    data.update(title="拜登、普京第二次峰會　謀化解烏克蘭危機", body="內文。", status="draft")
    response = admin_client.post(ADD, data)
    assert response.status_code == 302, errors(response)
    article = Article.objects.get(number=49931)
    assert article.slug == "拜登普京第二次峰會-謀化解烏克蘭危機"
    assert article.created_by == admin_user and article.published_at is None
    assert article.revisions.get().changes["title"] == ["", article.title]


def test_publishing_a_new_article_without_a_time_publishes_it_now(admin_client):
    data = form_data(admin_client.get(ADD))
    data.update(title="新文章", body="內文。", status="published")
    admin_client.post(ADD, data)
    article = Article.objects.get()
    assert abs(article.published_at - timezone.now()) < dt.timedelta(minutes=1)
    assert Article.objects.published().filter(pk=article.pk).exists()


def test_an_article_published_for_later_appears_when_its_time_comes(admin_client, client):
    data = form_data(admin_client.get(ADD))
    later = timezone.localtime() + dt.timedelta(hours=2)
    data.update(
        title="排程文章",
        body="內文。",
        status="published",
        published_at_0=f"{later:%Y-%m-%d}",
        published_at_1=f"{later:%H:%M:%S}",
    )
    admin_client.post(ADD, data)
    article = Article.objects.get()
    assert client.get(article.get_absolute_url()).status_code == 404
    Article.objects.filter(pk=article.pk).update(published_at=timezone.now())
    assert client.get(article.get_absolute_url()).status_code == 200


def test_view_on_site_only_for_what_readers_can_see(admin_client):
    published = make_article()
    draft = make_article(status=Article.Status.DRAFT)
    response = admin_client.get(change_url(published))
    assert response.context["has_absolute_url"]
    assert 'class="viewsitelink"' in response.content.decode()
    assert not admin_client.get(change_url(draft)).context["has_absolute_url"]


def test_preview_shows_a_draft_as_readers_will_see_it(admin_client, client):
    article = make_article(status=Article.Status.DRAFT, title="未發佈的草稿", figures=1)
    assert (
        f"/admin/articles/article/{article.pk}/preview/"
        in admin_client.get(change_url(article)).content.decode()
    )
    response = admin_client.get(f"/admin/articles/article/{article.pk}/preview/")
    html = response.content.decode()
    assert response.status_code == 200 and response["X-Robots-Tag"] == "noindex"
    assert "未發佈的草稿" in html and "<figure" in html and "預覽・草稿" in html
    assert client.get(f"/admin/articles/article/{article.pk}/preview/").status_code == 302
    assert client.get(article.get_absolute_url()).status_code == 404


def test_save_and_preview(admin_client):
    article = make_article(status=Article.Status.DRAFT)
    response = save(admin_client, article, title="改好了", _preview="儲存並預覽")
    assert response["Location"] == f"/admin/articles/article/{article.pk}/preview/"
    assert "改好了" in admin_client.get(response["Location"]).content.decode()


def test_second_editor_is_told_the_article_changed_since_they_opened_it(admin_client, client):
    from .admin_factories import make_user

    article = make_article(title="原標題")
    other = make_user("editor-b", "Editor")
    client.force_login(other)
    mine = form_data(admin_client.get(change_url(article)))
    theirs = form_data(client.get(change_url(article)))
    theirs["title"] = "對方的標題"
    assert client.post(change_url(article), theirs).status_code == 302
    mine["title"] = "我的標題"
    response = admin_client.post(change_url(article), mine)
    assert response.status_code == 200
    html = response.content.decode()
    assert "editor-b" in html and "你的修改未有儲存" in html
    assert Article.objects.get().title == "對方的標題"
    # Opened again, the form carries the new version and saves.
    again = form_data(admin_client.get(change_url(article)))
    again["title"] = "我的標題"
    assert admin_client.post(change_url(article), again).status_code == 302
    assert Article.objects.get().title == "我的標題"


def test_a_bulk_action_or_import_since_opening_is_a_conflict_too(admin_client):
    article = make_article()
    mine = form_data(admin_client.get(change_url(article)))
    Article.objects.filter(pk=article.pk).update(modified_at=timezone.now())
    mine["title"] = "我的標題"
    response = admin_client.post(change_url(article), mine)
    assert response.status_code == 200 and "有所修改" in response.content.decode()


def test_every_save_is_in_the_admin_log(admin_client, admin_user):
    article = make_article()
    save(admin_client, article, title="新標題")
    entry = LogEntry.objects.get()
    assert entry.user == admin_user and entry.object_id == str(article.pk)
    assert "標題" in entry.get_change_message()


def test_section_autocomplete_finds_sections(admin_client):
    make_section("眾聞")
    response = admin_client.get(
        "/admin/autocomplete/",
        {"term": "眾", "app_label": "articles", "model_name": "article", "field_name": "section"},
    )
    assert [item["text"] for item in response.json()["results"]] == ["眾聞"]


def test_author_autocomplete_finds_authors(admin_client):
    Author.objects.create(name="何君健", slug="ho")
    response = admin_client.get(
        "/admin/autocomplete/",
        {"term": "君", "app_label": "articles", "model_name": "article", "field_name": "authors"},
    )
    assert [item["text"] for item in response.json()["results"]] == ["何君健"]


@pytest.mark.parametrize("figures", [1, 10])
def test_change_form_queries_do_not_grow_with_figures(
    admin_client, figures, django_assert_num_queries
):
    article = make_article(figures=figures, tags=["普京", "拜登"], authors=["何君健"])
    admin_client.get(change_url(article))  # content types are cached after the first
    # session, user, the article, its tags, its byline's authors (ids, then
    # for the widget), figures, videos, whether readers can see it.
    with django_assert_num_queries(9):
        response = admin_client.get(change_url(article))
    assert len(response.context["inline_admin_formsets"][0].formset.forms) == figures
