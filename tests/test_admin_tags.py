from urllib.parse import unquote

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.importer import import_seeds
from articles.models import (
    Article,
    Author,
    AuthorAlias,
    Section,
    SectionAlias,
    Tag,
    TagAlias,
    TaggedArticle,
)
from articles.tagging import merge_tags

from .admin_factories import form_data, make_article, make_section
from .seedfiles import write_seed

pytestmark = pytest.mark.django_db

TAGS = "/admin/articles/tag/"


def tags_of(article) -> list[tuple[str, int, str]]:
    rows = TaggedArticle.objects.filter(content_object=article).select_related("tag")
    return [(row.tag.name, row.position, row.spelling) for row in rows.order_by("position")]


def merge(client, keep: str, *names: str):
    ids = [Tag.objects.get(name=name).pk for name in (keep, *names)]
    return client.post(
        TAGS,
        {
            "action": "merge",
            "index": "0",
            "_selected_action": ids,
            "keep": Tag.objects.get(name=keep).pk,
        },
    )


@pytest.fixture
def putins(sample):
    """The sample article has 普京, Vladimir Putin, putin, 烏克蘭, 拜登, in that order."""
    import_seeds([sample])
    both = make_article(number=1, tags=["香港", "putin"])
    untouched = make_article(number=2, tags=["普京"])
    return Article.objects.get(number=48691), both, untouched


def test_merge_asks_which_tag_to_keep(admin_client, putins):
    ids = [tag.pk for tag in Tag.objects.filter(name__in=["普京", "putin", "Vladimir Putin"])]
    response = admin_client.post(TAGS, {"action": "merge", "index": "0", "_selected_action": ids})
    html = response.content.decode()
    assert response.status_code == 200 and "保留哪一個標籤" in html
    assert "普京（2 篇文章）" in html and "putin（2 篇文章）" in html
    assert Tag.objects.count() == 6  # nothing merged yet


def test_merge_needs_two_tags(admin_client, putins):
    tag = Tag.objects.get(name="putin")
    response = admin_client.post(
        TAGS, {"action": "merge", "index": "0", "_selected_action": [tag.pk]}, follow=True
    )
    assert "請選擇最少兩個標籤" in response.content.decode()


def test_merge_moves_every_article_to_the_kept_tag(admin_client, putins):
    sample, other, untouched = putins
    response = merge(admin_client, "普京", "putin", "Vladimir Putin")
    assert response.status_code == 302
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["拜登", "普京", "烏克蘭", "香港"]
    # One row where the article had three of the merged tags, where the first was.
    assert tags_of(sample) == [("普京", 1, "普京"), ("烏克蘭", 4, "烏克蘭"), ("拜登", 5, "拜登")]
    assert tags_of(other) == [("香港", 1, "香港"), ("普京", 2, "普京")]
    assert tags_of(untouched) == [("普京", 1, "普京")]


def test_merge_into_a_tag_an_article_lacks_takes_the_first_position(putins):
    sample, _, _ = putins
    tags = Tag.objects.filter(name__in=["普京", "Vladimir Putin"])
    merge_tags(keep=Tag.objects.get(name="putin"), tags=tags)
    assert tags_of(sample) == [("putin", 1, "putin"), ("烏克蘭", 4, "烏克蘭"), ("拜登", 5, "拜登")]


def test_merged_articles_are_marked_edited_with_a_revision(admin_client, admin_user, putins):
    sample, other, untouched = putins
    merge(admin_client, "普京", "putin", "Vladimir Putin")
    edited = set(Article.objects.filter(edited_at__isnull=False).values_list("number", flat=True))
    assert edited == {sample.number, other.number}
    revision = sample.revisions.get()
    assert revision.user == admin_user and revision.note == "合併標籤"
    assert revision.changes["tags"] == [["普京", "Vladimir Putin", "putin"], ["普京"]]
    assert not untouched.revisions.exists()


def test_merge_is_in_the_admin_log(admin_client, putins):
    merge(admin_client, "普京", "putin", "Vladimir Putin")
    kept = Tag.objects.get(name="普京")
    change = LogEntry.objects.get(object_id=str(kept.pk))
    assert (
        "putin" in change.get_change_message() and "Vladimir Putin" in change.get_change_message()
    )
    assert LogEntry.objects.filter(action_flag=DELETION).count() == 2


def test_merged_tags_old_pages_redirect_to_the_kept_one(admin_client, client, putins):
    putin_slug = Tag.objects.get(name="putin").slug
    merge(admin_client, "普京", "putin", "Vladimir Putin")
    response = client.get(f"/tag/{putin_slug}/?page=2")
    assert response.status_code == 301
    assert unquote(response["Location"]) == "/tag/普京/?page=2"
    assert client.get("/tag/vladimir-putin/").status_code == 301
    assert client.get("/tag/nothing-like-it/").status_code == 404


def test_merging_again_carries_the_old_aliases_along(putins):
    merge_tags(keep=Tag.objects.get(name="putin"), tags=Tag.objects.filter(name="普京"))
    merge_tags(keep=Tag.objects.get(name="拜登"), tags=Tag.objects.filter(name="putin"))
    kept = Tag.objects.get(name="拜登")
    assert set(TagAlias.objects.values_list("name", "target")) == {
        ("普京", kept.pk),
        ("putin", kept.pk),
    }


def test_merged_names_typed_again_mean_the_kept_tag(admin_client, putins):
    merge(admin_client, "普京", "putin")
    article = make_article(number=3)
    url = f"/admin/articles/article/{article.pk}/change/"
    data = form_data(admin_client.get(url)) | {"tag_names": ["PUTIN"]}
    assert admin_client.post(url, data).status_code == 302
    assert tags_of(article) == [("普京", 1, "PUTIN")]
    assert not Tag.objects.filter(name__iexact="putin").exists()


def test_renamed_tag_keeps_its_old_address(admin_client, client):
    tag = Tag.objects.create(name="Carrie Lam", slug="carrie-lam")
    url = f"{TAGS}{tag.pk}/change/"
    data = form_data(admin_client.get(url)) | {"name": "林鄭月娥", "slug": "林鄭月娥"}
    assert admin_client.post(url, data).status_code == 302
    response = client.get("/tag/carrie-lam/")
    assert response.status_code == 301 and unquote(response["Location"]) == "/tag/林鄭月娥/"
    assert TagAlias.objects.get().name == "Carrie Lam"
    # Back to the old address: it is a page again, and the other one redirects.
    data = form_data(admin_client.get(url)) | {"slug": "carrie-lam"}
    admin_client.post(url, data)
    assert list(TagAlias.objects.values_list("slug", flat=True)) == ["林鄭月娥"]


def test_renamed_section_keeps_its_old_address(admin_client, client):
    section = make_section("眾聞", slug="news")
    make_article(section=section)
    url = f"/admin/articles/section/{section.pk}/change/"
    data = form_data(admin_client.get(url)) | {"slug": "眾聞"}
    assert admin_client.post(url, data).status_code == 302
    response = client.get("/section/news/")
    assert response.status_code == 301 and unquote(response["Location"]) == "/section/眾聞/"
    assert client.get(response["Location"]).status_code == 200


def test_renamed_author_keeps_its_old_address(admin_client, client):
    author = Author.objects.create(name="何君健", slug="ho")
    url = f"/admin/articles/author/{author.pk}/change/"
    data = form_data(admin_client.get(url)) | {"slug": "ho-kwan-kin", "bio": "攝影記者。"}
    assert admin_client.post(url, data).status_code == 302
    assert client.get("/author/ho/")["Location"] == "/author/ho-kwan-kin/"
    assert Author.objects.get().bio == "攝影記者。"


def found(query: str) -> list[int]:
    """Numbers of the articles the site's search finds."""
    return sorted(Article.objects.search(query).values_list("number", flat=True))


def test_merged_articles_are_found_by_the_kept_tags_name(admin_client):
    make_article(number=1, body="內文。", tags=["北約"])
    make_article(number=2, body="內文。", tags=["NATO", "香港"])
    make_article(number=3, body="內文。", tags=["香港"])
    assert found("北約") == [1] and found("nato") == [2]
    assert merge(admin_client, "北約", "NATO").status_code == 302
    assert found("北約") == [1, 2]
    assert found("nato") == []
    assert found("香港") == [2, 3]


def test_a_renamed_tag_is_found_by_its_new_name(admin_client):
    make_article(number=1, body="內文。", tags=["Carrie Lam"])
    make_article(number=2, body="內文。", tags=["香港"])
    tag = Tag.objects.get(name="Carrie Lam")
    url = f"{TAGS}{tag.pk}/change/"
    data = form_data(admin_client.get(url)) | {"name": "林鄭月娥"}
    assert admin_client.post(url, data).status_code == 302
    assert found("林鄭月娥") == [1]
    assert found("carrie") == []


def test_a_tag_renamed_in_case_only_leaves_the_search_index_alone(admin_client):
    make_article(number=1, body="內文。", tags=["covid-19"])
    tag = Tag.objects.get(name="covid-19")
    url = f"{TAGS}{tag.pk}/change/"
    data = form_data(admin_client.get(url)) | {"name": "COVID-19"}
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.post(url, data).status_code == 302
    assert Tag.objects.get().name == "COVID-19"
    assert not [q["sql"] for q in queries if "articles_searchdocument" in q["sql"]]
    assert found("covid-19") == [1]


def test_a_deleted_tag_is_no_longer_found(admin_client):
    make_article(number=1, body="內文。", tags=["北約", "香港"])
    make_article(number=2, body="內文。", tags=["NATO"])
    tag = Tag.objects.get(name="北約")
    assert admin_client.post(f"{TAGS}{tag.pk}/delete/", {"post": "yes"}).status_code == 302
    assert found("北約") == [] and found("香港") == [1]
    bulk = {"action": "delete_selected", "index": "0", "post": "yes"}
    bulk["_selected_action"] = [Tag.objects.get(name="NATO").pk]
    assert admin_client.post(TAGS, bulk).status_code == 302
    assert not Tag.objects.filter(name="NATO").exists()
    assert found("nato") == []


def test_tag_list_counts_articles_and_finds_old_names(admin_client, putins):
    response = admin_client.get(TAGS + "?o=3")  # by article count
    rows = [(tag.name, tag.article_count) for tag in response.context["cl"].result_list]
    assert [count for _, count in rows] == [1, 1, 1, 1, 2, 2]
    assert set(rows[-2:]) == {("普京", 2), ("putin", 2)}
    merge(admin_client, "普京", "putin")
    found = admin_client.get(TAGS, {"q": "PUT"}).context["cl"].result_list
    assert [tag.name for tag in found] == ["Vladimir Putin", "普京"]


def test_section_and_author_lists_count_articles(admin_client):
    section = make_section("眾聞")
    make_article(section=section, authors=["何君健"])
    make_article(section=section, authors=["何君健", "林振東"])
    sections = admin_client.get("/admin/articles/section/").context["cl"].result_list
    assert [(s.name, s.article_count) for s in sections] == [("眾聞", 2)]
    authors = admin_client.get("/admin/articles/author/").context["cl"].result_list
    assert sorted((a.name, a.article_count) for a in authors) == [("何君健", 2), ("林振東", 1)]


def test_tag_names_for_the_article_form_begin_with_what_was_typed(admin_client):
    for name in ("香港", "港島", "普京", "港"):
        Tag.objects.create(name=name)
    response = admin_client.get("/admin/articles/tag/names/", {"term": "港"})
    assert response.json() == {
        "results": [{"id": name, "text": name} for name in ("港", "港島", "香港")],
        "pagination": {"more": False},
    }


def test_tag_names_come_a_page_at_a_time(admin_client):
    Tag.objects.bulk_create(Tag(name=f"標籤{n:02}", slug=f"t{n}") for n in range(25))
    first = admin_client.get("/admin/articles/tag/names/", {"term": "標籤"}).json()
    second = admin_client.get("/admin/articles/tag/names/", {"term": "標籤", "page": 2}).json()
    assert len(first["results"]) == 20 and first["pagination"]["more"]
    assert len(second["results"]) == 5 and not second["pagination"]["more"]


def test_taggit_own_tag_admin_is_gone(admin_client):
    assert admin_client.get("/admin/taggit/tag/").status_code == 404


def test_deleting_a_tag_marks_its_articles_edited(admin_client):
    tagged = make_article(number=1, tags=["普京"])
    other = make_article(number=2, tags=["香港"])
    tag = Tag.objects.get(name="普京")
    assert admin_client.post(f"{TAGS}{tag.pk}/delete/", {"post": "yes"}).status_code == 302
    tagged.refresh_from_db()
    other.refresh_from_db()
    assert tagged.edited_at is not None and other.edited_at is None


def test_deleting_sections_in_bulk_marks_their_articles_edited(admin_client):
    section = make_section("眾聞")
    article = make_article(section=section)
    admin_client.post(
        "/admin/articles/section/",
        {
            "action": "delete_selected",
            "index": "0",
            "_selected_action": [section.pk],
            "post": "yes",
        },
    )
    article.refresh_from_db()
    assert article.section is None and article.edited_at is not None


def rename(admin_client, model: str, obj, **changes):
    url = f"/admin/articles/{model}/{obj.pk}/change/"
    response = admin_client.post(url, form_data(admin_client.get(url)) | changes)
    assert response.status_code == 302


def test_a_renamed_section_and_author_keep_their_files(admin_client, seeds_dir):
    write_seed(seeds_dir, "1.txt", number=1, category="眾聞", author="何君健")
    import_seeds([seeds_dir])
    # The section keeps its address; the author gets a new one too.
    rename(admin_client, "section", Section.objects.get(), name="新聞")
    rename(admin_client, "author", Author.objects.get(), name="何記者", slug="ho")
    assert list(SectionAlias.objects.values_list("name", "slug")) == [("眾聞", None)]
    assert list(AuthorAlias.objects.values_list("name", "slug")) == [("何君健", "何君健")]
    # A file not yet imported, and a corrected one, still use the old names.
    write_seed(seeds_dir, "1.txt", number=1, category="眾聞", author="何君健", body="改正。")
    write_seed(seeds_dir, "2.txt", number=2, category="眾聞", author="何君健")
    statuses = [f.status for f in import_seeds([seeds_dir]).files]
    assert statuses == ["updated", "created"]
    assert list(Section.objects.values_list("name", flat=True)) == ["新聞"]
    assert list(Author.objects.values_list("name", flat=True)) == ["何記者"]
    for article in Article.objects.all():
        assert article.section.name == "新聞"
        assert [b.author.name for b in article.bylines.all()] == ["何記者"]


def test_a_tag_renamed_keeping_its_address_keeps_its_files(admin_client, seeds_dir):
    write_seed(seeds_dir, "1.txt", number=1, tags=["Carrie Lam"])
    import_seeds([seeds_dir])
    rename(admin_client, "tag", Tag.objects.get(), name="林鄭月娥")
    assert list(TagAlias.objects.values_list("name", "slug")) == [("Carrie Lam", None)]
    write_seed(seeds_dir, "2.txt", number=2, tags=["carrie lam"])
    import_seeds([seeds_dir])
    assert list(Tag.objects.values_list("name", flat=True)) == ["林鄭月娥"]
    assert Tag.objects.get().tagged_articles.count() == 2


def test_a_change_of_case_leaves_no_tag_alias(admin_client):
    rename(admin_client, "tag", Tag.objects.create(name="covid-19"), name="COVID-19")
    assert not TagAlias.objects.exists()
