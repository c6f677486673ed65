import pytest

from articles.history import Line, revision_diff
from articles.models import Revision

from .admin_factories import form_data, make_article

pytestmark = pytest.mark.django_db


def change_url(article) -> str:
    return f"/admin/articles/article/{article.pk}/change/"


def test_a_save_records_what_it_changed_in_title_body_tags_and_figures(admin_client, admin_user):
    article = make_article(title="舊標題", body="第一段。\n\n第二段。", tags=["普京"], figures=1)
    data = form_data(admin_client.get(change_url(article)))
    data.update(
        {
            "title": "新標題",
            "body": "第一段。\n\n改寫的第二段。",
            "tag_names": ["普京", "拜登"],
            "figures-0-credit": "何君健攝",
        }
    )
    assert admin_client.post(change_url(article), data).status_code == 302
    revision = Revision.objects.get()
    assert revision.user == admin_user
    assert revision.changes["title"] == ["舊標題", "新標題"]
    assert revision.changes["body"] == ["第一段。\n\n第二段。", "第一段。\n\n改寫的第二段。"]
    assert revision.changes["tags"] == [["普京"], ["普京", "拜登"]]
    assert revision.changes["figures"] == [
        ["1. 第 1 張圖片。｜來源：美聯社"],
        ["1. 第 1 張圖片。｜來源：何君健攝"],
    ]


def test_a_save_that_changes_only_the_status_records_no_revision(admin_client):
    article = make_article()
    data = form_data(admin_client.get(change_url(article))) | {"status": "hidden"}
    admin_client.post(change_url(article), data)
    assert not Revision.objects.exists()


def test_history_page_shows_each_change_as_a_diff_and_the_log(admin_client):
    article = make_article(title="舊標題", tags=["普京"])
    data = form_data(admin_client.get(change_url(article)))
    data.update(title="新標題", tag_names=["拜登"])
    admin_client.post(change_url(article), data)
    html = admin_client.get(f"/admin/articles/article/{article.pk}/history/").content.decode()
    assert "<del>－ 舊標題</del>" in html and "<ins>＋ 新標題</ins>" in html
    assert "<del>－ 普京</del>" in html and "<ins>＋ 拜登</ins>" in html
    assert "操作紀錄" in html and "admin" in html


def test_history_escapes_what_was_written(admin_client):
    article = make_article()
    Revision.objects.create(article=article, changes={"title": ["<b>舊</b>", "<script>x</script>"]})
    html = admin_client.get(f"/admin/articles/article/{article.pk}/history/").content.decode()
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_body_diff_shows_changed_lines_with_a_little_context():
    old = "\n".join(f"第{n}段。" for n in range(1, 11))
    new = old.replace("第2段。", "第二段。").replace("第9段。", "第九段。")
    revision = Revision(changes={"body": [old, new]})
    (change,) = revision_diff(revision)
    assert change.label == "內文"
    assert change.lines == [
        Line("same", "第1段。"),
        Line("removed", "第2段。"),
        Line("added", "第二段。"),
        Line("same", "第3段。"),
        Line("gap"),
        Line("same", "第8段。"),
        Line("removed", "第9段。"),
        Line("added", "第九段。"),
        Line("same", "第10段。"),
    ]


def test_tags_diff_lists_removed_and_added_or_a_new_order():
    (change,) = revision_diff(Revision(changes={"tags": [["普京", "拜登"], ["拜登", "烏克蘭"]]}))
    assert change.lines == [Line("removed", "普京"), Line("added", "烏克蘭")]
    (change,) = revision_diff(Revision(changes={"tags": [["普京", "拜登"], ["拜登", "普京"]]}))
    assert change.lines == [Line("removed", "普京、拜登"), Line("added", "拜登、普京")]
