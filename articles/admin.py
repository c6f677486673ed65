"""The editors' admin: articles, their figures and tags, sections and authors.

Who may do what is in the groups (see migrations/0004_groups.py and
docs/admin.md): editors everything on the articles app; contributors write and
edit their own drafts and cannot publish by any route.
"""

from urllib.parse import quote

import taggit.models
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import PAGE_VAR
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from . import history, search, tasks
from .admin_list import (
    ArticleChangeList,
    AuthorFilter,
    CappedPaginator,
    StatusFilter,
    TagFilter,
    YearFilter,
    count_of,
)
from .caching import content_changed_on_commit
from .forms import AuthorForm, FigureForm, figure_thumbnail
from .forms_admin import ArticleAdminForm, TextareaField
from .models import (
    Article,
    Author,
    AuthorAlias,
    Byline,
    Figure,
    Section,
    SectionAlias,
    Tag,
    TagAlias,
    TaggedArticle,
    Video,
)
from .tagging import merge_tags
from .views import ArticleDetailView

admin.site.site_header = "眾新聞檔案・編輯台"
admin.site.site_title = "眾新聞檔案編輯台"
admin.site.index_title = "編輯台"
# taggit registers its own Tag model, which this site does not use (ours is
# articles.Tag): two "標籤" pages would only confuse.
admin.site.unregister(taggit.models.Tag)


# The article form's inlines


class FigureFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        seen: set[int] = set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or data.get("position") is None:
                continue
            if data["position"] in seen:
                raise ValidationError(
                    "兩張圖片的次序都是 %(position)d。內文以次序放置圖片，每張圖片的次序要不同。",
                    params={"position": data["position"]},
                    code="duplicate_position",
                )
            seen.add(data["position"])


class FigureInline(admin.TabularInline):
    """Figures in their order. The image team hooks its upload form and
    thumbnails in through `form` and `readonly_fields`."""

    model = Figure
    form = FigureForm  # uploads: checked, cleaned, with renditions (articles/forms.py)
    formset = FigureFormSet
    fields = ["preview", "position", "caption", "credit", "alt", "image", "image_url"]
    readonly_fields = ["preview"]
    formfield_overrides = {
        models.TextField: {
            "form_class": TextareaField,
            "widget": forms.Textarea(attrs={"rows": 3}),
        },
    }
    extra = 0

    @admin.display(description="圖片")
    def preview(self, figure):
        """The local copy's smallest rendition, else the archived image itself."""
        if figure.image:
            return figure_thumbnail(figure)
        if not figure.image_url:
            return "—"
        archived = format_html(
            '<a href="{0}" target="_blank" rel="noopener">'
            '<img src="{0}" alt="" width="160" loading="lazy" referrerpolicy="no-referrer"></a>',
            figure.image_url,
        )
        if figure.fetch_error:
            return format_html("{}<br>未能下載存檔圖片：{}", archived, figure.fetch_error)
        return archived


class VideoInline(admin.TabularInline):
    model = Video
    fields = ["position", "url", "archived_url"]
    extra = 0


class ArticlePreviewView(ArticleDetailView):
    """The article as readers will see it, whatever its status.

    The reader's view renders the page; this one finds the article by id,
    drafts included, skips the redirect to the public address and keeps
    nothing.
    """

    template_name = "admin/articles/article/preview.html"

    def get(self, request, pk):
        article = get_object_or_404(Article.objects.select_related("section"), pk=pk)
        page = self.render_page(article)
        response = HttpResponse(page.before + self.render_links(article) + page.after)
        response["X-Robots-Tag"] = "noindex"
        return response


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    form = ArticleAdminForm
    list_per_page = 50
    list_display = [
        "title",
        "number",
        "section",
        "byline",
        "published_at",
        "status_label",
        "figure_count",
        "tag_names",
    ]
    list_filter = [StatusFilter, "section", AuthorFilter, YearFilter, TagFilter]
    list_select_related = ["section"]
    date_hierarchy = "published_at"
    search_fields = ["=number", "title"]  # see get_search_results
    search_help_text = "輸入文章編號，或標題、內文、標籤中的字詞。"
    show_full_result_count = False
    autocomplete_fields = ["section"]
    prepopulated_fields = {"slug": ["title"]}
    radio_fields = {"status": admin.HORIZONTAL}
    inlines = [FigureInline, VideoInline]
    actions = ["publish", "unpublish", "hide"]
    object_history_template = "admin/articles/article/object_history.html"
    fieldsets = [
        (None, {"fields": ["title", "slug", "number", "section", "byline", "tag_names", "body"]}),
        ("發佈", {"fields": ["status", "published_at", "last_updated", "version"]}),
        (
            "來源",
            {
                "classes": ["collapse"],
                "fields": [
                    "wayback_link",
                    "original_link",
                    "source_path",
                    "source_hash",
                    "imported_at",
                    "edited_at",
                    "created_by",
                    "created_at",
                    "modified_at",
                ],
            },
        ),
    ]
    readonly_fields = [
        "wayback_link",
        "original_link",
        "source_path",
        "source_hash",
        "imported_at",
        "edited_at",
        "created_by",
        "created_at",
        "modified_at",
    ]

    # Permissions: who cannot publish may change only their own drafts.

    def has_publish_permission(self, request) -> bool:
        """Publishing, unpublishing and hiding: editors, not contributors."""
        return request.user.has_perm("articles.publish_article")

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.may_alter(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self.may_alter(request, obj)

    def may_alter(self, request, obj) -> bool:
        if obj is None or self.has_publish_permission(request):
            return True
        return obj.created_by_id == request.user.pk and obj.status == Article.Status.DRAFT

    # The list

    def get_changelist(self, request, **kwargs):
        return ArticleChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        try:
            page = max(int(request.GET.get(PAGE_VAR, 1)), 1)
        except ValueError:
            page = 1
        return CappedPaginator(
            queryset, per_page, orphans, allow_empty_first_page, page_number=page
        )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isdecimal():
            return queryset.filter(number=int(term)), False
        return self.search_index(queryset, term), False

    def search_index(self, queryset, term: str):
        """The articles of `queryset` whose title, body, captions or tags contain
        every word of `term`, found through the site's search index.

        A filter by id, unranked: the list keeps its own filters and order, and
        no match is scored only for the list to sort by date instead.
        """
        return queryset.matching(term)

    def action_checkbox(self, article):
        # Django renders a widget template for each row's checkbox: a third of
        # the list's time. Written out, it costs next to nothing.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            admin.helpers.ACTION_CHECKBOX_NAME,
            article.pk,
            f"選擇「{article.title}」",
        )

    @admin.display(description="作者")
    def byline(self, article):
        names = getattr(article, "listed_authors", None)
        if names is None:  # the read-only form of one article
            names = article.bylines.values_list("author__name", flat=True)
        return self.filter_links(AuthorFilter.parameter_name, names)

    @admin.display(description="狀態", ordering="status")
    def status_label(self, article):
        if (
            article.status == Article.Status.PUBLISHED
            and article.published_at
            and article.published_at > timezone.now()
        ):
            return "已排程"
        return article.get_status_display()

    @admin.display(description="圖片")
    def figure_count(self, article):
        return article.figure_count

    @admin.display(description="標籤")
    def tag_names(self, article):
        names = getattr(article, "listed_tags", None)
        if names is None:
            names = article.tagged_items.order_by("position", "id").values_list(
                "tag__name", flat=True
            )
        return self.filter_links(TagFilter.parameter_name, names)

    def filter_links(self, parameter: str, names) -> str:
        """Each name as a link to the list of articles filtered by it."""
        url = reverse("admin:articles_article_changelist")
        return format_html_join(
            "、",
            '<a href="{}?{}={}">{}</a>',
            ((url, parameter, quote(name), name) for name in names),
        )

    @admin.display(description="Wayback 存檔網址")
    def wayback_link(self, article):
        return link(article.url)

    @admin.display(description="原網址")
    def original_link(self, article):
        return link(article.original_url)

    # Bulk actions

    @admin.action(description="發佈所選文章", permissions=["publish"])
    def publish(self, request, queryset):
        self.set_status(request, queryset, Article.Status.PUBLISHED)

    @admin.action(description="取消發佈所選文章（改回草稿）", permissions=["publish"])
    def unpublish(self, request, queryset):
        self.set_status(request, queryset, Article.Status.DRAFT)

    @admin.action(description="隱藏所選文章（例如失敗的存檔）", permissions=["publish"])
    def hide(self, request, queryset):
        self.set_status(request, queryset, Article.Status.HIDDEN)

    def set_status(self, request, queryset, status: str) -> None:
        """Give the articles this status, marked as edited, each with a log entry."""
        now = timezone.now()
        changing = queryset.exclude(status=status)
        with transaction.atomic():
            logged = list(changing.select_related(None).only("pk", "title"))
            if status == Article.Status.PUBLISHED:
                # Written here, never dated: it is published now. An imported
                # article without a date stays undated, as in the archive.
                changing.filter(published_at__isnull=True, imported_at__isnull=True).update(
                    published_at=now
                )
            count = mark_edited(changing, status=status)
            LogEntry.objects.log_actions(
                request.user.pk,
                logged,
                CHANGE,
                change_message=[{"changed": {"fields": ["狀態"]}}],
            )
        label = Article.Status(status).label
        self.message_user(request, f"{count} 篇文章已改為「{label}」。", messages.SUCCESS)

    # The form

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.can_create_tags = request.user.has_perm("articles.add_tag")
        return form

    def get_fieldsets(self, request, obj=None):
        if obj is None or self.has_change_permission(request, obj):
            return self.fieldsets
        # Read only: there is nothing to save, so no version to check.
        return [
            (title, {**options, "fields": [f for f in options["fields"] if f != "version"]})
            for title, options in self.fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = [*self.readonly_fields]
        if obj is not None:
            fields.append("number")  # it is the article's address
        if not self.has_publish_permission(request):
            fields.append("status")
        return fields

    def view_on_site(self, article):
        if Article.objects.published().filter(pk=article.pk).exists():
            return article.get_absolute_url()
        return None

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        if obj.status != Article.Status.DRAFT and not self.has_publish_permission(request):
            raise PermissionDenied("只有編輯可以發佈或隱藏文章。")
        if (
            obj.status == Article.Status.PUBLISHED
            and obj.published_at is None
            and obj.imported_at is None
        ):
            obj.published_at = timezone.now()
        form.snapshot = history.snapshot(obj) if change else None
        # An untouched form does not save: opening and saving an article
        # changes nothing, and does not mark it as edited.
        if not change or form.has_changed():
            obj.save()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        article = form.instance
        if change and not form.has_changed() and any(f.has_changed() for f in formsets):
            # Only figures or videos changed: the article still counts as edited.
            # Saved after its figures, it indexes their captions too.
            article.save()
        elif not change or form.has_changed():
            # save_model indexed the article before its tags and figures were
            # saved: its search document is written again with them.
            search.index_articles([article.pk])
        history.record(article, form.snapshot, history.snapshot(article), user=request.user)

    def response_add(self, request, obj, post_url_continue=None):
        if "_preview" in request.POST:
            return redirect("admin:articles_article_preview", obj.pk)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_preview" in request.POST:
            return redirect("admin:articles_article_preview", obj.pk)
        return super().response_change(request, obj)

    # Preview and history

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)
        return [
            path("<path:object_id>/preview/", preview, name="articles_article_preview"),
            *super().get_urls(),
        ]

    def preview_view(self, request, object_id):
        article = self.get_object(request, unquote(object_id))
        if article is None:
            raise Http404("沒有這篇文章")
        if not self.has_view_or_change_permission(request, article):
            raise PermissionDenied
        return ArticlePreviewView.as_view()(request, pk=article.pk)

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        context = getattr(response, "context_data", None)
        if context and "object" in context:
            revisions = context["object"].revisions.select_related("user")[:100]
            context["revisions"] = [
                (revision, history.revision_diff(revision)) for revision in revisions
            ]
        return response


def link(url: str):
    if not url:
        return "—"
    return format_html('<a href="{0}" target="_blank" rel="noopener">{0}</a>', url)


# Tags, sections and authors


class ChangesArticles:
    """A model admin whose objects' deletion changes articles (their tags,
    section or byline): those articles are marked as edited first, so that a
    re-import reports a conflict rather than undo the change. If their search
    documents hold the object's name (`in_search_documents`), they are written
    again without it."""

    article_link: str  # the lookup from Article to this model, e.g. "section"
    in_search_documents = False

    def delete_model(self, request, obj):
        articles = Article.objects.filter(**{self.article_link: obj})
        ids = self.indexed_ids(articles)
        mark_edited(articles)
        super().delete_model(request, obj)
        if ids:
            tasks.reindex_later(ids)

    def delete_queryset(self, request, queryset):
        articles = Article.objects.filter(**{f"{self.article_link}__in": queryset})
        # The delete_selected action runs outside the admin's transactions.
        with transaction.atomic():
            ids = self.indexed_ids(articles)
            mark_edited(articles)
            super().delete_queryset(request, queryset)
            if ids:
                tasks.reindex_later(ids)

    def indexed_ids(self, articles) -> list[int]:
        """Ids of the articles whose search documents will need writing again."""
        if not self.in_search_documents:
            return []
        return list(articles.order_by().values_list("pk", flat=True).distinct())


def mark_edited(articles, **changes) -> int:
    """Write `changes` to the articles in bulk and mark them as edited.

    A bulk update sends no model signals: whatever follows every change of an
    article (such as retiring cached pages) is to be called here.
    """
    now = timezone.now()
    updated = articles.update(edited_at=now, modified_at=now, **changes)
    content_changed_on_commit()
    return updated


class KeepsOldSlugs:
    """A model admin whose objects have public pages by slug and are named in
    seed files: a changed slug or name leaves an alias (`alias_model`). The old
    address redirects to the new, and the importer reads the old name as this
    object, so that a re-import does not bring it back."""

    alias_model: type[models.Model]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        old_name = form.initial.get("name", "")
        renamed = change and self.other_name(old_name, obj.name)
        if change and "slug" in form.changed_data:
            self.alias_model.objects.update_or_create(
                slug=form.initial["slug"], defaults={"target": obj, "name": old_name}
            )
        elif renamed:
            self.alias_model.objects.create(target=obj, slug=None, name=old_name)
        # The new address may be one that redirected: it is a page again.
        self.alias_model.objects.filter(slug=obj.slug).delete()

    @staticmethod
    def other_name(old: str, new: str) -> bool:
        """Whether a seed file naming `old` would no longer find the object."""
        return old != new


class AliasInline(admin.TabularInline):
    fields = ["name", "slug", "created_at"]
    readonly_fields = ["created_at"]
    extra = 0
    verbose_name = "別名"
    verbose_name_plural = "別名（舊名稱與舊網址：匯入時舊名稱指向這裏，舊網址會轉到現在的網址）"


class TagAliasInline(AliasInline):
    model = TagAlias


class SectionAliasInline(AliasInline):
    model = SectionAlias


class AuthorAliasInline(AliasInline):
    model = AuthorAlias


class MergeForm(forms.Form):
    keep = forms.ModelChoiceField(
        queryset=Tag.objects.none(),
        label="保留哪一個標籤",
        widget=forms.RadioSelect,
        help_text="其他標籤的文章都會改用這個標籤；其他標籤變成它的別名，舊網址會轉到它的頁面。",
    )

    def __init__(self, *args, tags, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].queryset = tags
        self.fields["keep"].label_from_instance = lambda tag: (
            f"{tag.name}（{tag.article_count} 篇文章）"
        )


@admin.register(Tag)
class TagAdmin(ChangesArticles, KeepsOldSlugs, admin.ModelAdmin):
    alias_model = TagAlias
    article_link = "tagged_items__tag"
    in_search_documents = True
    list_display = ["name", "slug", "article_count"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TagAliasInline]
    actions = ["merge"]
    names_per_page = 20

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(article_count=count_of(TaggedArticle, "tag"))

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(name__icontains=term) | Q(pk__in=aliased(term))), False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Its articles' search documents hold its name as search folds it: a
        # change of case or width alone leaves them as they are, and a tag can
        # be on thousands of articles.
        if change and search.fold(form.initial.get("name", "")) != search.fold(obj.name):
            tasks.reindex_later(obj.tagged_articles.values_list("content_object_id", flat=True))

    @staticmethod
    def other_name(old: str, new: str) -> bool:
        return old.lower() != new.lower()  # a tag is found whatever the case

    @admin.display(description="文章", ordering="article_count")
    def article_count(self, tag):
        return tag.article_count

    @admin.action(description="合併所選標籤", permissions=["change", "delete"])
    def merge(self, request, queryset):
        tags = queryset.order_by("-article_count", "name")
        if len(tags) < 2:
            self.message_user(request, "請選擇最少兩個標籤來合併。", messages.WARNING)
            return None
        form = MergeForm(request.POST if "keep" in request.POST else None, tags=tags)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": "合併標籤",
                "opts": self.opts,
                "form": form,
                "tags": tags,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/articles/tag/merge.html", context)
        keep = form.cleaned_data["keep"]
        others = [tag for tag in tags if tag.pk != keep.pk]
        with transaction.atomic():
            self.log_deletions(request, others)
            result = merge_tags(keep=keep, tags=others, user=request.user)
            self.log_change(request, keep, f"合併了 {'、'.join(result.merged)}")
        self.message_user(
            request,
            f"已把 {'、'.join(result.merged)} 合併到「{keep.name}」，"
            f"{result.articles} 篇文章改用了「{keep.name}」。",
            messages.SUCCESS,
        )
        return None

    def get_urls(self):
        names = self.admin_site.admin_view(self.names_view)
        return [path("names/", names, name="articles_tag_names"), *super().get_urls()]

    def names_view(self, request):
        """Tag names for the article form's tag field, as Select2 reads them:
        those that begin with what was typed first, then those that contain it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        term = request.GET.get("term", "").strip()
        try:
            page = max(int(request.GET.get("page") or 1), 1)
        except ValueError:
            page = 1
        tags = Tag.objects.order_by(Lower("name"))
        if term:
            tags = (
                tags.filter(Q(name__icontains=term) | Q(pk__in=aliased(term)))
                .alias(later=models.Case(models.When(name__istartswith=term, then=0), default=1))
                .order_by("later", Lower("name"))
            )
        start = (page - 1) * self.names_per_page
        names = list(tags.values_list("name", flat=True)[start : start + self.names_per_page + 1])
        return JsonResponse(
            {
                "results": [{"id": name, "text": name} for name in names[: self.names_per_page]],
                "pagination": {"more": len(names) > self.names_per_page},
            }
        )


def aliased(term: str):
    """Ids of the tags with an old name (alias) that contains `term`."""
    return TagAlias.objects.filter(name__icontains=term).values("target_id")


@admin.register(Section)
class SectionAdmin(ChangesArticles, KeepsOldSlugs, admin.ModelAdmin):
    alias_model = SectionAlias
    article_link = "section"
    list_display = ["name", "slug", "article_count"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [SectionAliasInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(article_count=count_of(Article, "section"))

    @admin.display(description="文章", ordering="article_count")
    def article_count(self, section):
        return section.article_count


@admin.register(Author)
class AuthorAdmin(ChangesArticles, KeepsOldSlugs, admin.ModelAdmin):
    form = AuthorForm
    alias_model = AuthorAlias
    article_link = "bylines__author"
    list_display = ["name", "slug", "article_count", "has_avatar"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "bio", "avatar", "avatar_preview"]
    readonly_fields = ["avatar_preview"]
    inlines = [AuthorAliasInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(article_count=count_of(Byline, "author"))

    @admin.display(description="文章", ordering="article_count")
    def article_count(self, author):
        return author.article_count

    @admin.display(description="頭像", boolean=True)
    def has_avatar(self, author):
        return bool(author.avatar)

    @admin.display(description="現在的頭像")
    def avatar_preview(self, author):
        if not author.avatar:
            return "—"
        return format_html('<img src="{}" alt="" width="96">', author.avatar.url)
