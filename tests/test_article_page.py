from collections import Counter

import pytest

from articles.importer import import_seeds
from articles.models import Article

from .seedfiles import seed_text, write_seed
from .xss import VECTORS, dangerous

pytestmark = pytest.mark.django_db


@pytest.fixture
def article(sample):
    import_seeds([sample])
    return Article.objects.get()


@pytest.mark.parametrize(
    "path",
    [
        "/article/48691/",
        "/article/48691",
        "/article/48691/old-slug/",
        "/article/48691/%EF%BF%BD%EF%BF%BD-48691/%EF%BF%BD%EF%BF%BD%EF%BF%BD",
    ],
)
def test_every_old_address_redirects_permanently_to_the_canonical_one(client, article, path):
    response = client.get(path)
    assert response.status_code == 301
    assert response["Location"] == article.get_absolute_url()


def test_article_page_shows_figures_with_captions_and_credits(client, article):
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "拜登、普京第二次峰會　謀化解烏克蘭危機" in html
    assert html.count("<figure") == 4
    assert '<span class="credit">美聯社</span>' in html
    assert "{{&lt;" not in html and "{{<" not in html


def test_unknown_article_is_404(client, article):
    assert client.get("/article/1/").status_code == 404


def test_edited_caption_is_what_readers_see(client, article, django_capture_on_commit_callbacks):
    client.get(article.get_absolute_url())  # cached now
    figure = article.figures.get(position=2)
    figure.caption = "編輯改寫的說明。"
    figure.credit = "何君健攝"
    modified = Article.objects.get().modified_at
    with django_capture_on_commit_callbacks(execute=True):
        figure.save()
    assert Article.objects.get().modified_at > modified  # Last-Modified moves with it
    html = client.get(article.get_absolute_url()).content.decode()
    assert "編輯改寫的說明。" in html and '<span class="credit">何君健攝</span>' in html


def page_with(client, seeds_dir, vector: str) -> str:
    text = seed_text(
        1,
        title="標題" + vector[:200],
        author=vector[:200],
        tags=[vector[:100]],
        body=f"內文。\n\n{vector}\n\n<figure><img src=\"https://example.com/a.jpg\" alt='{vector}'>"
        f"<figcaption>{vector}</figcaption></figure>",
    )
    Article.objects.all().delete()
    report = import_seeds([write_seed(seeds_dir, text=text)])
    assert report.files[0].status == "created", report.files[0].messages
    response = client.get(Article.objects.get().get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("vector", VECTORS)
def test_vectors_in_title_author_tags_and_body_are_harmless_on_the_page(client, seeds_dir, vector):
    # The page's own markup (meta tags, its scripts) is the same for a harmless
    # article; anything dangerous beyond that came from the article.
    baseline = Counter(dangerous(page_with(client, seeds_dir, "無害的文字")))
    injected = Counter(dangerous(page_with(client, seeds_dir, vector))) - baseline
    assert not injected
