import datetime as dt
from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.encoding import uri_to_iri
from django.views.generic import DetailView, ListView

from . import search
from .models import Article, Author, Section, Tag

PAGE_SIZE = 20


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
        return Article.objects.published().for_list()

    def paginate_queryset(self, queryset, page_size):
        try:
            number = int(self.request.GET.get("page", 1))
        except ValueError:
            raise Http404("不是頁碼") from None
        if number < 1:
            raise Http404("不是頁碼")
        start = (number - 1) * page_size
        rows = list(queryset[start : start + page_size + 1])
        if not rows and number > 1:
            raise Http404("沒有這一頁")
        return None, Page(number, len(rows) > page_size), rows[:page_size], True

    def get_context_data(self, **kwargs):
        return super().get_context_data(heading=self.get_heading(), **kwargs)

    def get_heading(self) -> str:
        return self.heading


class HomeView(ArticleListView):
    template_name = "articles/home.html"
    heading = "最新文章"


class SectionView(ArticleListView):
    def get_queryset(self):
        self.section = get_object_or_404(Section, slug=self.kwargs["slug"])
        return super().get_queryset().filter(section=self.section)

    def get_heading(self):
        return self.section.name


class TagView(ArticleListView):
    def get_queryset(self):
        self.tag = get_object_or_404(Tag, slug=self.kwargs["slug"])
        return super().get_queryset().filter(tagged_items__tag=self.tag)

    def get_heading(self):
        return f"標籤：{self.tag.name}"


class AuthorView(ArticleListView):
    def get_queryset(self):
        self.author = get_object_or_404(Author, slug=self.kwargs["slug"])
        return super().get_queryset().filter(bylines__author=self.author)

    def get_heading(self):
        return self.author.name


class DateArchiveView(ArticleListView):
    """Articles published in a year, a month or on a day (Hong Kong time)."""

    def get_queryset(self):
        year = self.kwargs["year"]
        month = self.kwargs.get("month")
        day = self.kwargs.get("day")
        try:
            start = dt.date(year, month or 1, day or 1)
        except ValueError:
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
        # A page of ids first, then their articles: sorting whole rows would make
        # SQLite read past every match's body to the columns stored after it.
        return Article.objects.published().search(self.query).values_list("pk", flat=True)

    def paginate_queryset(self, queryset, page_size):
        paginator, page, ids, is_paginated = super().paginate_queryset(queryset, page_size)
        # Every field: the excerpt around a match comes from the body.
        found = super().get_queryset().filter(pk__in=ids).defer(None).in_bulk()
        return paginator, page, [found[pk] for pk in ids], is_paginated

    def get_context_data(self, **kwargs):
        context = super().get_context_data(query=self.query, **kwargs)
        context["results"] = search.results(context["articles"], self.query)
        return context

    def get_heading(self):
        return f"搜尋：{self.query}" if self.query else "搜尋"


class ArticleDetailView(DetailView):
    template_name = "articles/article_detail.html"

    def get_object(self, queryset=None):
        return get_object_or_404(
            Article.objects.published()
            .select_related("section")
            .prefetch_related("authors", "tags", "figures", "videos"),
            number=self.kwargs["number"],
        )

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        if request.path != uri_to_iri(self.object.get_absolute_url()):
            # Old links (lost slugs included) land on the canonical address.
            return redirect(self.object, permanent=True)
        context = self.get_context_data(object=self.object, parts=self.object.body_parts())
        return self.render_to_response(context)
