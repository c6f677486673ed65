"""Forms of the editors' admin: the article form, its tag and byline fields."""

import datetime as dt

from django import forms
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.html import format_html

from . import markup
from .models import Article, Author, Byline, Tag, TaggedArticle
from .tagging import clean_tag_names, find_tags, set_article_tags

TAG_NAME_LENGTH = Tag._meta.get_field("name").max_length


class TextareaField(forms.CharField):
    """Text as typed, with a browser's CRLF line ends made LF.

    Browsers send a textarea's lines ended with CRLF; without this, opening and
    saving an untouched article would count as a change to its body.
    """

    def __init__(self, *, strip=False, **kwargs):
        super().__init__(strip=strip, **kwargs)

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n").replace("\r", "\n")


class OrderedChoicesMixin:
    """A multiple choice whose order matters: reordering is a change."""

    def has_changed(self, initial, data):
        if self.disabled:
            return False
        return [str(value) for value in initial or []] != [str(value) for value in data or []]


class TagSelect(AutocompleteSelectMultiple):
    """Select2 in tags mode: existing tags by name as you type, and new ones."""

    url_name = "%s:articles_tag_names"

    def __init__(self, admin_site=admin.site, attrs=None):
        attrs = {"data-tags": "true", "data-token-separators": '[",", "，"]', **(attrs or {})}
        super().__init__(Article._meta.get_field("tags"), admin_site, attrs=attrs)

    def optgroups(self, name, value, attr=None):
        # The values are the names themselves, already in order: nothing to look up.
        options = [
            self.create_option(name, tag, tag, True, index) for index, tag in enumerate(value)
        ]
        return [(None, options, 0)]


class TagNamesField(OrderedChoicesMixin, forms.MultipleChoiceField):
    """Tag names, in order; names of tags that do not exist yet are new tags."""

    widget = TagSelect

    def valid_value(self, value):
        return True

    def clean(self, value):
        names = clean_tag_names(super().clean(value) or [])
        too_long = [name for name in names if len(name) > TAG_NAME_LENGTH]
        if too_long:
            raise ValidationError(
                "標籤「%(name)s」太長：最多 %(limit)d 個字。",
                params={"name": too_long[0], "limit": TAG_NAME_LENGTH},
                code="tag_too_long",
            )
        return names


class BylineSelect(AutocompleteSelectMultiple):
    """Author autocomplete that shows the chosen authors in byline order."""

    def __init__(self, admin_site=admin.site, attrs=None):
        super().__init__(Article._meta.get_field("authors"), admin_site, attrs=attrs)

    def optgroups(self, name, value, attr=None):
        groups = super().optgroups(name, value, attr)
        order = {str(pk): index for index, pk in enumerate(value)}
        options = sorted(groups[0][1], key=lambda option: order.get(str(option["value"]), 0))
        for index, option in enumerate(options):
            option["index"] = str(index)
        return [(None, options, 0)]


class BylineField(OrderedChoicesMixin, forms.ModelMultipleChoiceField):
    """Authors in the order chosen: the byline's order."""

    widget = BylineSelect

    def clean(self, value):
        authors = {str(author.pk): author for author in super().clean(value)}
        return list(
            {str(pk): authors[str(pk)] for pk in value or [] if str(pk) in authors}.values()
        )


class ArticleAdminForm(forms.ModelForm):
    """The article form: tags and byline in order, and no silent overwrites.

    `version` holds the article's modification time when the form was opened;
    saving an article that changed since then (another editor, an import, a
    bulk action) is refused and says who changed it.
    """

    tag_names = TagNamesField(
        label="標籤",
        required=False,
        help_text="輸入時會列出現有標籤；輸入新名稱後按 Enter 或逗號即新增標籤。",
    )
    byline = BylineField(
        label="作者",
        queryset=Author.objects.all(),
        required=False,
        help_text="按作者在署名中的次序選擇；輸入名稱搜尋。",
    )
    version = forms.CharField(widget=forms.HiddenInput, required=False)

    # Set by the admin for each request (see ArticleAdmin.get_form).
    can_create_tags = True

    class Meta:
        model = Article
        fields = [
            "title",
            "slug",
            "number",
            "section",
            "body",
            "status",
            "published_at",
            "last_updated",
        ]
        field_classes = {"body": TextareaField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            rows = TaggedArticle.objects.filter(content_object=self.instance)
            self.initial["tag_names"] = list(
                rows.order_by("position", "id").values_list("tag__name", flat=True)
            )
            self.initial["byline"] = list(
                Byline.objects.filter(article=self.instance).values_list("author_id", flat=True)
            )
            self.initial["version"] = version_of(self.instance.modified_at)

    def clean_body(self):
        body = self.cleaned_data["body"]
        # Saving renders the body (Article.save); one the renderer refuses is
        # said here, on its field, rather than failing the save. Rendered here,
        # deeper in the stack than the save renders it, a body that passes
        # cannot run out of stack there.
        try:
            markup.render_body(body)
        except markup.MarkupError:
            raise ValidationError(
                "內文無法轉換成網頁，未能儲存。通常是清單或引文一層套一層太多層："
                "請減少層數後再儲存。",
                code="unrenderable",
            ) from None
        return body

    def clean_tag_names(self):
        names = self.cleaned_data["tag_names"]
        if not self.can_create_tags:
            known = find_tags(names)
            new = [name for name in names if name.lower() not in known]
            if new:
                raise ValidationError(
                    "你沒有新增標籤的權限，請選擇現有標籤：%(names)s。",
                    params={"names": "、".join(new)},
                    code="new_tag",
                )
        return names

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            self.check_version()
        return cleaned

    def check_version(self):
        # The row stays locked until the admin's transaction ends, so of two
        # editors saving at once the second sees the first one's change.
        current = (
            Article.objects.select_for_update()
            .filter(pk=self.instance.pk)
            .values_list("modified_at", flat=True)
            .first()
        )
        opened = self.data.get(self.add_prefix("version"), "")
        if current is None or version_of(current) == opened:
            return
        raise ValidationError(conflict_message(self.instance, opened, current), code="conflict")

    def _save_m2m(self):
        super()._save_m2m()
        if "tag_names" in self.changed_data:
            set_article_tags(self.instance, self.cleaned_data["tag_names"])
        if "byline" in self.changed_data:
            Byline.objects.filter(article=self.instance).delete()
            Byline.objects.bulk_create(
                Byline(article=self.instance, author=author, position=position)
                for position, author in enumerate(self.cleaned_data["byline"], start=1)
            )


def version_of(modified_at) -> str:
    return modified_at.isoformat() if modified_at else ""


def conflict_message(article: Article, opened: str, changed_at: dt.datetime) -> str:
    """Who changed the article since the form was opened, and what to do now."""
    try:
        since = dt.datetime.fromisoformat(opened)
    except ValueError:
        since = changed_at - dt.timedelta(minutes=1)
    entry = (
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Article),
            object_id=str(article.pk),
            action_time__gt=since,
        )
        .select_related("user")
        .order_by("-action_time")
        .first()
    )
    revision = article.revisions.filter(created_at__gt=since).select_related("user").first()
    when = formats.date_format(timezone.localtime(changed_at), "Y年n月j日 H:i")
    if entry is not None:
        what = entry.get_change_message() or "修改"
        changed = f"{entry.user.get_username()} 於 {when} 修改了這篇文章（{what}）"
    elif revision is not None and revision.user is not None:
        what = revision.note or "修改"
        changed = f"{revision.user.get_username()} 於 {when} 修改了這篇文章（{what}）"
    else:
        changed = f"這篇文章在 {when} 有所修改（例如重新匯入）"
    return format_html(
        "你開啟這篇文章之後，{}。為免蓋掉對方的修改，你的修改未有儲存："
        '請在<a href="" target="_blank">新分頁開啟最新版本</a>，看過後再把你的修改加上去。',
        changed,
    )
