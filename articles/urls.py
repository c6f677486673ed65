from django.contrib.sitemaps import views as sitemap_views
from django.urls import path, re_path, register_converter
from django.urls.converters import StringConverter

from . import feeds, views
from .caching import cached_page
from .sitemaps import SITEMAPS


class TextConverter(StringConverter):
    """A path segment as text: anything but a slash, or NUL, which no slug
    holds and PostgreSQL's text cannot (asked for one, it fails the query)."""

    regex = r"[^/\x00]+"


register_converter(TextConverter, "text")


def page(view):
    """A public page: cached per content version, with Cache-Control."""
    return cached_page(view.as_view())


article = cached_page(views.ArticleDetailView.as_view())

urlpatterns = [
    path("", page(views.HomeView), name="home"),
    path("article/<int:number>/<text:slug>/", article, name="article"),
    path("search/", page(views.SearchView), name="search"),
    # Any other address of an article — no slug, an old or lost one, the
    # original site's two-part paths — is redirected to the one above.
    re_path(r"^article/(?P<number>\d+)(?:/.*)?$", views.ArticleDetailView.as_view()),
    path("section/<text:slug>/", page(views.SectionView), name="section"),
    path("tag/<text:slug>/", page(views.TagView), name="tag"),
    path("author/<text:slug>/", page(views.AuthorView), name="author"),
    path("archive/undated/", page(views.UndatedView), name="undated"),
    path("archive/<int:year>/", page(views.DateArchiveView), name="year"),
    path("archive/<int:year>/<int:month>/", page(views.DateArchiveView), name="month"),
    path(
        "archive/<int:year>/<int:month>/<int:day>/",
        page(views.DateArchiveView),
        name="day",
    ),
    path("feed/rss/", cached_page(feeds.view(feeds.ArticleFeed)), name="feed-rss"),
    path("feed/atom/", cached_page(feeds.view(feeds.atom(feeds.ArticleFeed))), name="feed-atom"),
    path(
        "section/<text:slug>/feed/rss/",
        cached_page(feeds.view(feeds.SectionFeed)),
        name="section-rss",
    ),
    path(
        "section/<text:slug>/feed/atom/",
        cached_page(feeds.view(feeds.atom(feeds.SectionFeed))),
        name="section-atom",
    ),
    path("tag/<text:slug>/feed/rss/", cached_page(feeds.view(feeds.TagFeed)), name="tag-rss"),
    path(
        "tag/<text:slug>/feed/atom/",
        cached_page(feeds.view(feeds.atom(feeds.TagFeed))),
        name="tag-atom",
    ),
    path(
        "author/<text:slug>/feed/rss/", cached_page(feeds.view(feeds.AuthorFeed)), name="author-rss"
    ),
    path(
        "author/<text:slug>/feed/atom/",
        cached_page(feeds.view(feeds.atom(feeds.AuthorFeed))),
        name="author-atom",
    ),
    path(
        "sitemap.xml",
        cached_page(sitemap_views.index),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap-section"},
        name="sitemap-index",
    ),
    path(
        "sitemap-<section>.xml",
        cached_page(sitemap_views.sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap-section",
    ),
    path("robots.txt", cached_page(views.robots_txt), name="robots"),
]
