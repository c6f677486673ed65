"""Small factories for the admin tests, and the change form as a browser posts it."""

import datetime as dt
from itertools import count

from django import forms
from django.contrib.auth.models import Group, User
from django.utils import timezone

from articles import search
from articles.models import Article, Author, Byline, Figure, Section, Tag, TaggedArticle

_numbers = count(1000)


def make_article(*, tags=(), authors=(), figures=0, imported=True, **fields) -> Article:
    """An article as the importer leaves it (published, not edited), unless told otherwise."""
    fields.setdefault("number", next(_numbers))
    fields.setdefault("title", f"文章 {fields['number']}")
    fields.setdefault("body", "美國總統拜登和俄羅斯總統普京周二晚舉行視像會議。")
    fields.setdefault("status", Article.Status.PUBLISHED)
    fields.setdefault("published_at", dt.datetime(2021, 12, 7, tzinfo=dt.UTC))
    article = Article(**fields)
    article.save()
    # Saved through the model, it counts as edited: make it look imported.
    if imported:
        Article.objects.filter(pk=article.pk).update(edited_at=None, imported_at=timezone.now())
        article.refresh_from_db()
    for position, name in enumerate(tags, start=1):
        tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
        TaggedArticle.objects.create(
            content_object=article, tag=tag, position=position, spelling=name
        )
    for position, name in enumerate(authors, start=1):
        author = Author.objects.get_or_create(name=name, defaults={"slug": slug_for(name)})[0]
        Byline.objects.create(article=article, author=author, position=position)
    for position in range(1, figures + 1):
        Figure.objects.create(
            article=article,
            position=position,
            image_url=f"https://web.archive.org/web/2022im_/https://www.hkcnews.com/{position}.jpg",
            caption=f"第 {position} 張圖片。",
            credit="美聯社",
        )
    if tags or figures:
        # As the importer does: the document holds the tags and captions too.
        search.index_articles([article.pk])
    return article


def make_section(name="眾聞", slug=None) -> Section:
    return Section.objects.get_or_create(name=name, defaults={"slug": slug or slug_for(name)})[0]


def slug_for(name: str) -> str:
    from articles.models import unicode_slug

    return unicode_slug(name, fallback="x")


def make_user(username: str, group: str | None = None, **fields) -> User:
    fields.setdefault("is_staff", True)
    user = User.objects.create_user(username, password="secret-password-1", **fields)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def form_data(response) -> dict:
    """The values of an admin change form and its inlines, as a browser would post them."""
    data = {}
    _add_form(data, response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        _add_form(data, formset.management_form)
        for form in formset.forms:
            _add_form(data, form)
    return data


def _add_form(data: dict, form) -> None:
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        value = form[name].value()
        if isinstance(field, forms.SplitDateTimeField):
            if value:
                local = timezone.localtime(value)
                data[f"{key}_0"], data[f"{key}_1"] = f"{local:%Y-%m-%d}", f"{local:%H:%M:%S}"
            else:
                data[f"{key}_0"] = data[f"{key}_1"] = ""
        elif isinstance(field, forms.FileField):
            continue
        elif isinstance(field, forms.BooleanField):
            if value:
                data[key] = "on"
        elif isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
            data[key] = [str(item) for item in value or []]
        else:
            data[key] = "" if value is None else str(value)
