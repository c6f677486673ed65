import datetime as dt
import functools
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.safestring import mark_safe
from django.views import View
from django.views.generic import ListView

from . import search
from .caching import (
    ArticlePages,
    for_readers,
    links_seconds,
    published_article,
    remember_for,
    request_site,
    request_versions,
    static_release,
    taxonomy_version,
)
from .models import (
    MOST_ROWS,
    Article,
    Author,
    AuthorAlias,
    Byline,
    Section,
    SectionAlias,
    Tag,
    TagAlias,
    TaggedArticle,
    prefetch_for_list,
    year_of_dates,
)

PAGE_SIZE = 20
# What a card shows of an article (templates/articles/_card.html) besides its
# bylines and figures.
CARD_FIELDS = ("number", "slug", "title", "section", "published_at", "modified_at", "excerpt")


def card_key(article: Article, site_version: int) -> str:
    """The key under which templates/articles/_card.html keeps an article's card:
    `{% cache … card article.pk article.modified_at.timestamp site_version %}`,
    `site_version` being the taxonomy version."""
    return make_template_fragment_key(
        "card", [article.pk, article.modified_at.timestamp(), site_version]
    )


def prefetch_for_cards(articles: list[Article]) -> None:
    """Find the cards already kept, and read bylines and figures for the others.

    A list page's cards are kept as fragments, so after an edit has retired
    the page it is rebuilt mostly from them: they are read here in one go and
    handed to the template as `article.kept_card`, and the bylines and figures
    they show are read only for the cards that must be rendered.
    """
    if not articles:
        return
    if settings.ARTICLE_CACHE_SECONDS > 0:
        version = taxonomy_version()
        keys = {card_key(article, version): article for article in articles}
        for key, card in cache.get_many(keys).items():
            keys.pop(key).kept_card = card
        articles = list(keys.values())
    prefetch_for_list(articles)


@dataclass(frozen=True)
class Page:
    """A page of a list that knows whether another follows without counting them all."""

    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


class ArticleListView(ListView):
    """Published articles, newest first, a page at a time.

    Pages are cut by fetching one article more than fits: with 49,000 articles,
    counting them for every page view would cost more than showing them.
    """

    template_name = "articles/article_list.html"
    context_object_name = "articles"
    paginate_by = PAGE_SIZE
    heading = ""

    def get_queryset(self):
        return Article.objects.published().for_cards()

    def paginate_queryset(self, queryset, page_size):
        try:
            number = int(self.request.GET.get("page", 1))
        except ValueError:
            raise Http404("不是頁碼") from None
        if number < 1:
            raise Http404("不是頁碼")
        start = (number - 1) * page_size
        if start + page_size + 1 > MOST_ROWS:  # past any database's rows
            raise Http404("沒有這一頁")
        rows = self.rows(queryset, start, start + page_size + 1)
        if not rows and number > 1:
            raise Http404("沒有這一頁")
        return None, Page(number, len(rows) > page_size), self.shown(rows[:page_size]), True

    def rows(self, queryset, start: int, stop: int) -> list:
        return list(queryset[start:stop])

    def shown(self, rows: list) -> list[Article]:
        """A page's articles, ready for their cards."""
        prefetch_for_cards(rows)
        return rows

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            heading=self.get_heading(), feeds=self.get_feeds(), **kwargs
        )

    def get_heading(self) -> str:
        return self.heading

    def get_feeds(self) -> tuple[str, str] | None:
        """RSS and Atom addresses of this list, when it has its own feeds."""
        return None


class HomeView(ArticleListView):
    template_name = "articles/home.html"
    heading = "最新文章"


class OldSlugRedirectMixin:
    """Answer the old slug of a renamed or merged tag, section or author with a
    permanent redirect to its page now (see the admin's `KeepsOldSlugs`)."""

    alias_model = None

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except Http404:
            alias = (
                self.alias_model.objects.select_related("target")
                .filter(slug=kwargs["slug"])
                .first()
            )
            if alias is None:
                raise
            query = request.GET.urlencode()
            url = alias.target.get_absolute_url()
            return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)


class SectionView(OldSlugRedirectMixin, ArticleListView):
    alias_model = SectionAlias

    def get_queryset(self):
        self.section = get_object_or_404(Section, slug=self.kwargs["slug"])
        return super().get_queryset().filter(section=self.section)

    def get_heading(self):
        return self.section.name

    def get_feeds(self):
        slug = {"slug": self.section.slug}
        return reverse("section-rss", kwargs=slug), reverse("section-atom", kwargs=slug)


class TagView(OldSlugRedirectMixin, ArticleListView):
    alias_model = TagAlias

    def get_queryset(self):
        self.tag = get_object_or_404(Tag, slug=self.kwargs["slug"])
        return super().get_queryset().filter(tagged_items__tag=self.tag)

    def get_heading(self):
        return f"標籤：{self.tag.name}"

    def get_feeds(self):
        slug = {"slug": self.tag.slug}
        return reverse("tag-rss", kwargs=slug), reverse("tag-atom", kwargs=slug)


class AuthorView(OldSlugRedirectMixin, ArticleListView):
    alias_model = AuthorAlias

    def get_queryset(self):
        self.author = get_object_or_404(Author, slug=self.kwargs["slug"])
        return super().get_queryset().filter(bylines__author=self.author)

    def get_heading(self):
        return self.author.name

    def get_feeds(self):
        slug = {"slug": self.author.slug}
        return reverse("author-rss", kwargs=slug), reverse("author-atom", kwargs=slug)

    def get_context_data(self, **kwargs):
        return super().get_context_data(author=self.author, **kwargs)


class DateArchiveView(ArticleListView):
    """Articles published in a year, a month or on a day (Hong Kong time)."""

    def get_queryset(self):
        year = self.kwargs["year"]
        month = self.kwargs.get("month")
        day = self.kwargs.get("day")
        if not year_of_dates(year):
            raise Http404("沒有這個日期")
        try:
            start = dt.date(year, month or 1, day or 1)
        except (ValueError, OverflowError):  # no such day, or a number past any
            raise Http404("沒有這個日期") from None
        if day:
            end = start + dt.timedelta(days=1)
            self.heading = f"{year}年{month}月{day}日"
        elif month:
            end = dt.date(year + month // 12, month % 12 + 1, 1)
            self.heading = f"{year}年{month}月"
        else:
            end = dt.date(year + 1, 1, 1)
            self.heading = f"{year}年"
        zone = timezone.get_current_timezone()
        return (
            super()
            .get_queryset()
            .filter(
                published_at__gte=dt.datetime.combine(start, dt.time.min, zone),
                published_at__lt=dt.datetime.combine(end, dt.time.min, zone),
            )
        )


class UndatedView(ArticleListView):
    heading = "未有日期的文章"

    def get_queryset(self):
        return super().get_queryset().filter(published_at__isnull=True)


class SearchView(ArticleListView):
    """Published articles matching `?q=`, best matches first, with the matched
    words marked in an excerpt (articles/search.py). No query, no results."""

    template_name = "articles/search.html"

    def get_queryset(self):
        self.query = self.request.GET.get("q", "").strip()[: search.MAX_QUERY]
        if not self.query:
            return Article.objects.none()
        return Article.objects.published()

    def rows(self, queryset, start: int, stop: int) -> list[int]:
        # A page of ids first, then their articles: sorting whole rows would make
        # SQLite read past every match's body to the columns stored after it.
        return search.ranked_ids(queryset, self.query, start, stop)

    def shown(self, rows: list[int]) -> list[Article]:
        # The cards' fields, and the body: the excerpt around a match comes
        # from it (or else from a caption). The ids are of published articles
        # already; filtering on publication again would make SQLite walk its
        # list index rather than look up the ids.
        found = (
            Article.objects.select_related("section")
            .only(*CARD_FIELDS, "body_html")
            .filter(pk__in=rows)
            .order_by()
            .in_bulk()
        )
        articles = [found[pk] for pk in rows]
        prefetch_for_cards(articles)
        return articles

    def get_context_data(self, **kwargs):
        context = super().get_context_data(query=self.query, **kwargs)
        context["results"] = search.results(context["articles"], self.query)
        return context

    def get_heading(self):
        return f"搜尋：{self.query}" if self.query else "搜尋"


@dataclass(frozen=True)
class ArticlePage:
    """An article's page as rendered once and kept (see caching.py), around
    the place of the links to other articles, which are kept apart."""

    before: str
    after: str


# Where the links go in a rendered article page: sanitised bodies carry no comments.
LINKS_SLOT = "<!-- newsroom:links -->"
# The largest article number a database row can hold (a 64-bit integer).
MAX_NUMBER = 2**63 - 1


class ArticleDetailView(View):
    """An article with its figures and videos in place, related articles and neighbours.

    The article's row (`caching.published_article`, one query, no model)
    decides whether it may be shown, whether the address is its own and
    whether the reader's copy is still good (ETag and Last-Modified), so a
    conditional request costs one query. Anonymous readers are mostly served
    the page as kept by `caching.ArticlePages` and never reach the view. Here
    the page is put together from two kept strings, the article's page and
    the links around it (`caching.py`), and the article is loaded only to
    render one of them again.
    """

    template_name = "articles/article_detail.html"
    related_count = 5

    def get(self, request, number, slug=None):
        number = int(number)
        if number > MAX_NUMBER:
            raise Http404("沒有這篇文章")
        row = published_article(request, number)
        if row is None:
            raise Http404("沒有這篇文章")
        canonical = ArticlePages.path.match(request.path_info)
        if canonical is None or canonical[2] != row.slug:
            # Old links (lost slugs included) land on the canonical address.
            # (Compared as the kept pages' check does: reversing the address
            # for every request took longer than the rest of the check.)
            return HttpResponsePermanentRedirect(
                reverse("article", kwargs={"number": number, "slug": row.slug})
            )
        versions = request_versions(request)
        changed = row.modified_at.timestamp()
        etag = f'W/"{number}-{changed:.6f}-{versions.content}"'
        response = get_conditional_response(request, etag=etag, last_modified=int(changed))
        if response is None:

            @functools.cache
            def article() -> Article:
                found = Article.objects.select_related("section").filter(pk=row.id).first()
                if found is None:  # deleted since its row was read
                    raise Http404("沒有這篇文章")
                return found

            readers = for_readers(request)
            page = remember_for(
                f"newsroom:article-page-part:{row.id}:{changed:.6f}:{versions.taxonomy}:"
                f"{static_release()}:{request_site(request)}",
                lambda: self.render_page(article()),
                settings.ARTICLE_CACHE_SECONDS if readers else 0,
            )
            around = remember_for(
                f"newsroom:article-links-html:{row.id}:{versions.links}",
                lambda: self.render_links(article()),
                links_seconds if readers else 0,
            )
            response = HttpResponse(page.before + around + page.after)
        response.headers.setdefault("ETag", etag)
        response.headers.setdefault("Last-Modified", http_date(int(changed)))
        return response

    def render_page(self, article: Article) -> ArticlePage:
        prefetch_related_objects(
            [article],
            Prefetch("bylines", Byline.objects.select_related("author")),
            Prefetch("tagged_items", TaggedArticle.objects.select_related("tag")),
            "figures",
            "videos",
        )
        tags = [item.tag for item in article.tagged_items.all()]
        context = {
            "article": article,
            "parts": article.body_parts(),
            "tags": tags,
            "json_ld": json_ld(news_article(article, tags, self.request)),
            "has_videos": bool(article.videos.all()),
            "links": mark_safe(LINKS_SLOT),  # a constant
        }
        html = render_to_string(self.template_name, context, self.request)
        # The last one: only the template's own text follows the links.
        before, _, after = html.rpartition(LINKS_SLOT)
        return ArticlePage(before, after)

    def render_links(self, article: Article) -> str:
        return render_to_string(
            "articles/_links.html",
            {
                "related": article.related(self.related_count),
                "previous_article": article.neighbour(newer=False),
                "next_article": article.neighbour(newer=True),
            },
        )


def news_article(article: Article, tags: list[Tag], request) -> dict:
    """schema.org NewsArticle for search engines and link previews."""
    figure = next((f for f in article.figures.all() if f.src), None)
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "url": request.build_absolute_uri(article.get_absolute_url()),
        "mainEntityOfPage": request.build_absolute_uri(article.get_absolute_url()),
        "inLanguage": "zh-Hant-HK",
        "description": article.excerpt,
        "author": [
            {
                "@type": "Person",
                "name": author.name,
                "url": request.build_absolute_uri(author.get_absolute_url()),
            }
            for author in article.byline_authors
        ],
        "publisher": {"@type": "Organization", "name": "眾新聞", "url": "https://www.hkcnews.com/"},
        "keywords": [tag.name for tag in tags],
    }
    if article.published_at:
        data["datePublished"] = timezone.localtime(article.published_at).isoformat()
    if article.last_updated or article.published_at:
        modified = article.last_updated or article.published_at
        data["dateModified"] = timezone.localtime(modified).isoformat()
    if article.section:
        data["articleSection"] = article.section.name
    if article.original_url:
        data["isBasedOn"] = article.original_url
    if figure:
        image = {"@type": "ImageObject", "url": request.build_absolute_uri(figure.src)}
        if figure.caption:
            image["caption"] = figure.caption
        if figure.credit:
            image["creditText"] = figure.credit
        data["image"] = [image]
    return data


def json_ld(data: dict) -> str:
    """JSON for a `<script type="application/ld+json">`, escaped as `json_script` does."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # Safe to mark: the only characters that could end the script element are escaped.
    return mark_safe(text.translate(JSON_ESCAPES))


JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def robots_txt(request):
    sitemap = request.build_absolute_uri(reverse("sitemap-index"))
    lines = [
        "User-agent: *",
        f"Disallow: /{settings.ADMIN_PATH}",
        "Disallow: /search/",
        f"Sitemap: {sitemap}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
