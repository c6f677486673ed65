"""Tiny factories for articles and figures."""

from articles import images
from articles.models import Article, Figure

STAMP = "20220118160222"


def archived_path(name: str) -> str:
    """A Wayback-shaped path, as the archive's figures have: /web/<ts>im_/<original>."""
    return f"/web/{STAMP}im_/https://www.hkcnews.com/news_新聞/2021/12/{name}"


def make_article(**values) -> Article:
    values.setdefault("title", "拜登、普京第二次峰會　謀化解烏克蘭危機")
    values.setdefault(
        "body", "美國總統拜登和俄羅斯總統普京周二晚舉行視像會議。\n\n{{< figure 1 >}}"
    )
    values.setdefault("status", Article.Status.PUBLISHED)
    return Article.objects.create(**values)


def make_figure(article: Article, **values) -> Figure:
    values.setdefault("position", article.figures.count() + 1)
    values.setdefault(
        "image_url", f"https://web.archive.org{archived_path(f'photo-{values["position"]}.jpg')}"
    )
    values.setdefault("caption", "普京與拜登會面。")
    values.setdefault("credit", "美聯社")
    return Figure.objects.create(article=article, **values)


def with_image(figure: Figure, data: bytes) -> Figure:
    """Give a figure a local image, as a fetch or an upload would."""
    images.save_image(figure, images.process(data))
    figure.save()
    return figure
