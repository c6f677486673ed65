"""The article list's date drill-down (years, then months, then days).

Django's `date_hierarchy` finds the years, months or days that occur by
truncating the date of every article in the list: 0.6 s for 49,000 articles on
SQLite, on every view of the list. Here the choices run from the first to the
last date of the archive in the year or month chosen (two index lookups, and
no more with filters or a search, which would each read every match): in an
archive published every day, the same choices.
"""

import datetime as dt

from django import template
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from articles.admin_list import date_span

register = template.Library()


@register.inclusion_tag("admin/date_hierarchy.html")
def article_date_hierarchy(cl):
    field = cl.date_hierarchy
    names = {part: f"{field}__{part}" for part in ("year", "month", "day")}
    try:
        chosen = {part: int(cl.params[name]) for part, name in names.items() if name in cl.params}
    except ValueError:
        chosen = {}

    def link(**parts) -> str:
        return cl.get_query_string(
            {names[part]: value for part, value in parts.items()}, [f"{field}__"]
        )

    year, month, day = chosen.get("year"), chosen.get("month"), chosen.get("day")
    first, last = date_span(within(cl.model._default_manager.all(), field, year, month), field)
    if not year and first and first.year == last.year:
        # As Django does: a list within one year (or month) opens at it.
        year = first.year
        if first.month == last.month:
            month = first.month
    context = {"show": True, "field_name": cl.opts.get_field(field).verbose_name}
    if year and month and day:
        date = dt.date(year, month, day)
        back = {
            "link": link(year=year, month=month),
            "title": date_format(date, "YEAR_MONTH_FORMAT"),
        }
        choices = [{"title": date_format(date, "MONTH_DAY_FORMAT")}]
    elif year and month:
        back = {"link": link(year=year), "title": str(year)}
        days = range(first.day, last.day + 1) if first else []
        choices = [
            {
                "link": link(year=year, month=month, day=n),
                "title": date_format(dt.date(year, month, n), "MONTH_DAY_FORMAT"),
            }
            for n in days
        ]
    elif year:
        back = {"link": link(), "title": _("All dates")}
        months = range(first.month, last.month + 1) if first else []
        choices = [
            {
                "link": link(year=year, month=n),
                "title": date_format(dt.date(year, n, 1), "YEAR_MONTH_FORMAT"),
            }
            for n in months
        ]
    else:
        back = None
        years = range(first.year, last.year + 1) if first else []
        choices = [{"link": link(year=n), "title": str(n)} for n in years]
    return {**context, "back": back, "choices": choices}


def date_format(date: dt.date, format_name: str) -> str:
    return capfirst(formats.date_format(date, format_name))


def within(queryset, field: str, year: int | None, month: int | None):
    """The rows of `queryset` in the year or month chosen (local time)."""
    if not year:
        return queryset
    zone = timezone.get_current_timezone()
    start = dt.datetime(year, month or 1, 1, tzinfo=zone)
    end = (
        start.replace(year=year + month // 12, month=month % 12 + 1)
        if month
        else start.replace(year=year + 1)
    )
    return queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end})
