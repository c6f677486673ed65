"""What the admin's article list is made of: its filters, its counting, and
the data of its columns, fetched for the page shown and no more."""

import datetime as dt

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import cached_property

from .models import MOST_ROWS, Article, Byline, Figure, TaggedArticle, year_of_dates
from .tagging import find_tags


def count_of(model: type[models.Model], field: str) -> Coalesce:
    """How many `model` rows point at each row through `field`: a subquery, so
    that a page of 50 costs 50 index lookups, not a count of the whole table."""
    rows = (
        model.objects.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0)


def date_span(queryset, field: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first and last dates of `queryset` (local time), by two index lookups.

    One query with both MIN and MAX reads every row on SQLite.
    """
    dates = queryset.filter(**{f"{field}__isnull": False}).values_list(field, flat=True)
    first = dates.order_by(field).first()
    last = dates.order_by(f"-{field}").first()
    if first is None:
        return None, None
    return timezone.localtime(first), timezone.localtime(last)


class CappedPaginator(Paginator):
    """Counts only a few pages past the one asked for.

    Counting 49,000 articles on every view of the list costs more than showing
    a page. Past `limit` rows the count stops, and the list says "more than".
    """

    lookahead = 10

    def __init__(self, object_list, per_page, *args, page_number: int = 1, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        # However far along: counting one past it must be a limit a database takes.
        self.limit = min((page_number + self.lookahead) * per_page, MOST_ROWS - 1)

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by().values("pk")[: self.limit + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.limit


class ArticleChangeList(ChangeList):
    def get_filters(self, request):
        # The date drill-down reads any number as a year, month or day: a
        # period past Python's dates, or whose edges fall outside them, is a
        # lookup that cannot be, as an impossible date is.
        year = self.params.get(f"{self.date_hierarchy}__year") if self.date_hierarchy else None
        if year is not None and not (year.isdecimal() and year_of_dates(int(year))):
            raise IncorrectLookupParameters(f"no year {year!r} to show")
        try:
            return super().get_filters(request)
        except OverflowError as error:  # a month or day past any
            raise IncorrectLookupParameters(error) from error

    def get_results(self, request):
        super().get_results(request)
        # The page's ids first, sorted on the articles' own rows; then those
        # rows with what the columns show. Sorting whole rows, their section
        # joined, costs ~3 µs a match before the LIMIT: on SQLite, 30 ms of a
        # search matching 9,000 articles, 80 ms of one matching nearly all.
        ids = list(self.result_list.values_list("pk", flat=True))
        # For the page only: figures counted per row, authors' and tags' names
        # in one query each, and no bodies.
        rows = (
            self.root_queryset.filter(pk__in=ids)
            .order_by()
            .select_related("section")
            .defer("body", "body_html", "excerpt", "url", "source_path")
            .annotate(figure_count=count_of(Figure, "article"))
        )
        by_id = {article.pk: article for article in rows}
        articles = [by_id[pk] for pk in ids]
        authors = group(
            Byline.objects.filter(article__in=ids)
            .order_by("position", "id")
            .values_list("article_id", "author__name")
        )
        tags = group(
            TaggedArticle.objects.filter(content_object__in=ids)
            .order_by("position", "id")
            .values_list("content_object_id", "tag__name")
        )
        for article in articles:
            article.listed_authors = authors.get(article.pk, [])
            article.listed_tags = tags.get(article.pk, [])
        self.result_list = articles


def group(pairs) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


class StatusFilter(admin.SimpleListFilter):
    title = "狀態"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("draft", "草稿"),
            ("published", "已發佈"),
            ("scheduled", "已排程"),
            ("hidden", "已隱藏"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "published":
            return queryset.published()
        if value == "scheduled":
            return queryset.filter(status=Article.Status.PUBLISHED, published_at__gt=timezone.now())
        if value in {"draft", "hidden"}:
            return queryset.filter(status=value)
        return queryset


class YearFilter(admin.SimpleListFilter):
    """Year of publication (Hong Kong time), and the articles without a date."""

    title = "年份"
    parameter_name = "year"
    undated = "none"

    def lookups(self, request, model_admin):
        first, last = date_span(Article.objects.all(), "published_at")
        years = (
            [(str(year), str(year)) for year in range(last.year, first.year - 1, -1)]
            if first
            else []
        )
        return [*years, (self.undated, "未有日期")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.undated:
            return queryset.filter(published_at__isnull=True)
        if not value:
            return queryset
        try:
            year = int(value)
        except ValueError:
            return queryset.none()
        if not year_of_dates(year):
            return queryset.none()
        start = dt.datetime(year, 1, 1, tzinfo=timezone.get_current_timezone())
        end = start.replace(year=year + 1)
        return queryset.filter(published_at__gte=start, published_at__lt=end)


class NameFilter(admin.ListFilter):
    """A filter typed as a name: with thousands of tags or authors, a list of
    links would be longer than the page."""

    parameter_name = ""
    placeholder = ""
    template = "admin/articles/name_filter.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        values = params.pop(self.parameter_name, [""])
        self.value = values[-1].strip()
        if self.value:
            self.used_parameters[self.parameter_name] = self.value

    def has_output(self):
        return True

    def expected_parameters(self):
        return [self.parameter_name]

    def choices(self, changelist):
        others = [
            (name, value)
            for name, value in changelist.params.items()
            if name != self.parameter_name
        ]
        yield {
            "name": self.parameter_name,
            "value": self.value,
            "placeholder": self.placeholder,
            "others": others,
            "clear": changelist.get_query_string(remove=[self.parameter_name]),
        }

    def queryset(self, request, queryset):
        if "\x00" in self.value:  # no name holds NUL, nor can PostgreSQL's text
            return queryset.none()
        return self.filter(queryset, self.value) if self.value else queryset

    def filter(self, queryset, value):
        raise NotImplementedError


class AuthorFilter(NameFilter):
    title = "作者"
    parameter_name = "author"
    placeholder = "作者名稱"

    def filter(self, queryset, value):
        bylines = Byline.objects.filter(author__name__icontains=value)
        return queryset.filter(pk__in=bylines.values("article_id"))


class TagFilter(NameFilter):
    title = "標籤"
    parameter_name = "tag"
    placeholder = "標籤名稱"

    def filter(self, queryset, value):
        tag = find_tags([value]).get(value.lower())
        if tag is None:
            return queryset.none()
        return queryset.filter(tagged_items__tag=tag)
