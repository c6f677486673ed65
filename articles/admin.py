from django.contrib import admin

from .forms import FigureForm, figure_thumbnail
from .models import Article, Author, Figure, Section, Tag, Video


class FigureInline(admin.StackedInline):
    model = Figure
    extra = 0
    form = FigureForm  # uploads: checked, cleaned, with renditions (articles/forms.py)
    readonly_fields = [figure_thumbnail]


class VideoInline(admin.TabularInline):
    model = Video
    extra = 0


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "number", "section", "published_at", "status"]
    list_filter = ["status", "section"]
    list_select_related = ["section"]
    search_fields = ["=number", "title"]
    readonly_fields = [
        "url",
        "original_url",
        "source_path",
        "source_hash",
        "imported_at",
        "edited_at",
    ]
    inlines = [FigureInline, VideoInline]


admin.site.register(Section)
admin.site.register(Author)
admin.site.register(Tag)
