"""RSS and Atom feeds: the whole site, and each section, tag and author."""

import mimetypes

from django.contrib.syndication.views import Feed
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Enclosure

from .models import Article, Author, Section, Tag, TaggedArticle

ITEMS = 30


class ArticleFeed(Feed):
    """The latest published articles (RSS 2.0); subclasses narrow `articles()`."""

    title = "眾新聞檔案"
    description = "眾新聞（2016–2022）的文章檔案"
    language = "zh-hant"

    def link(self, obj=None):
        return reverse("home")

    def articles(self, obj):
        return Article.objects.published()

    def items(self, obj=None):
        tags = Prefetch("tagged_items", TaggedArticle.objects.select_related("tag"))
        return self.articles(obj).for_list().prefetch_related(tags)[:ITEMS]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.excerpt

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.last_updated or item.modified_at

    def item_author_name(self, item):
        return "、".join(author.name for author in item.byline_authors) or None

    def item_categories(self, item):
        return [tagged.tag.name for tagged in item.tagged_items.all()]

    # RSS 2.0 allows one enclosure per item: the lead figure. Atom takes them all.
    enclosures_per_item = 1

    def item_enclosures(self, item):
        # The size of an archived image is not known without fetching it;
        # feeds accept 0 for an unknown length.
        figures = [figure for figure in item.figures.all() if figure.src]
        return [
            Enclosure(
                self.request.build_absolute_uri(figure.src),
                str(figure.image.size) if figure.image else "0",
                mimetypes.guess_type(figure.src)[0] or "image/jpeg",
            )
            for figure in figures[: self.enclosures_per_item]
        ]

    def __call__(self, request, *args, **kwargs):
        # A feed object is made per request (see `view`), so keeping the
        # request for absolute enclosure addresses is safe.
        self.request = request
        return super().__call__(request, *args, **kwargs)


class SectionFeed(ArticleFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Section, slug=slug)

    def title(self, obj):
        return f"{obj.name} | 眾新聞檔案"

    def link(self, obj):
        return obj.get_absolute_url()

    def articles(self, obj):
        return Article.objects.published().filter(section=obj)


class TagFeed(ArticleFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Tag, slug=slug)

    def title(self, obj):
        return f"標籤：{obj.name} | 眾新聞檔案"

    def link(self, obj):
        return obj.get_absolute_url()

    def articles(self, obj):
        return Article.objects.published().filter(tagged_items__tag=obj)


class AuthorFeed(ArticleFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Author, slug=slug)

    def title(self, obj):
        return f"{obj.name} | 眾新聞檔案"

    def link(self, obj):
        return obj.get_absolute_url()

    def articles(self, obj):
        return Article.objects.published().filter(bylines__author=obj)


def atom(feed: type[ArticleFeed]) -> type[ArticleFeed]:
    """The Atom version of a feed."""
    return type(
        f"Atom{feed.__name__}",
        (feed,),
        {"feed_type": Atom1Feed, "subtitle": feed.description, "enclosures_per_item": None},
    )


def view(feed: type[ArticleFeed]):
    """A view that answers each request with a fresh feed object."""

    def feed_view(request, *args, **kwargs):
        response = feed()(request, *args, **kwargs)
        # The feed is written in thousands of small pieces, and a WSGI server
        # sends each piece as a write of its own: send (and cache) it as one.
        response.content = response.content
        return response

    return feed_view
