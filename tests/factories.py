"""Tiny factories for models, built on setdefault."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from articles import images
from articles.models import Article, Author, Byline, Figure, Section, Tag, TaggedArticle, Video

HONG_KONG = ZoneInfo("Asia/Hong_Kong")
_numbers = itertools.count(1000)


def section(name: str = "眾聞") -> Section:
    return Section.objects.get_or_create(name=name, defaults={"slug": name})[0]


def author(name: str = "眾新聞記者") -> Author:
    return Author.objects.get_or_create(name=name, defaults={"slug": name})[0]


def tag(name: str) -> Tag:
    found = Tag.objects.filter(name__iexact=name).first()
    return found or Tag.objects.create(name=name, slug=name.lower().replace(" ", "-"))


def article(**values) -> Article:
    """A published article; pass tags=[...], authors=[...], figures=N, videos=[urls]."""
    tags = values.pop("tags", [])
    authors = values.pop("authors", ["眾新聞記者"])
    figures = values.pop("figures", 1)
    videos = values.pop("videos", [])
    day = values.pop("day", None)
    values.setdefault("number", next(_numbers))
    values.setdefault("title", f"文章{values['number']}")
    values.setdefault("status", Article.Status.PUBLISHED)
    values.setdefault("section", section())
    values.setdefault(
        "published_at",
        dt.datetime.combine(day or dt.date(2021, 12, 7), dt.time.min, tzinfo=HONG_KONG),
    )
    refs = "\n\n".join(f"{{{{< figure {n} >}}}}" for n in range(1, figures + 1))
    refs += "\n\n" + "\n\n".join(f"{{{{< video {n} >}}}}" for n in range(1, len(videos) + 1))
    values.setdefault("body", f"第一段，普京與拜登。\n\n{refs}\n\n最後一段。")
    values.setdefault("original_url", f"https://www.hkcnews.com/article/{values['number']}/x")
    values.setdefault("url", f"https://web.archive.org/web/20220118160222/{values['original_url']}")
    created = Article.objects.create(**values)
    for position, name in enumerate(authors, start=1):
        Byline.objects.create(article=created, author=author(name), position=position)
    for position, name in enumerate(tags, start=1):
        TaggedArticle.objects.create(
            content_object=created, tag=tag(name), position=position, spelling=name
        )
    for position in range(1, figures + 1):
        Figure.objects.create(
            article=created,
            position=position,
            image_url=f"https://web.archive.org/web/2022im_/https://www.hkcnews.com/{created.number}-{position}.jpg",
            caption=f"第{position}張圖。",
            credit="美聯社",
        )
    for position, url in enumerate(videos, start=1):
        Video.objects.create(article=created, position=position, url=url)
    return created


# Figures with images of their own (tests of images, fetching, the admin upload).

STAMP = "20220118160222"


def archived_path(name: str) -> str:
    """A Wayback-shaped path, as the archive's figures have: /web/<ts>im_/<original>."""
    return f"/web/{STAMP}im_/https://www.hkcnews.com/news_新聞/2021/12/{name}"


def add_figure(to: Article, **values) -> Figure:
    values.setdefault("position", to.figures.count() + 1)
    values.setdefault(
        "image_url", f"https://web.archive.org{archived_path(f'photo-{values["position"]}.jpg')}"
    )
    values.setdefault("caption", "普京與拜登會面。")
    values.setdefault("credit", "美聯社")
    return Figure.objects.create(article=to, **values)


def with_image(figure: Figure, data: bytes) -> Figure:
    """Give a figure a local image, as a fetch or an upload would."""
    images.save_image(figure, images.process(data))
    figure.save()
    return figure
