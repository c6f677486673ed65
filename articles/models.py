import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Count, F, JSONField, Max, Q, Value
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from taggit.managers import TaggableManager
from taggit.models import ItemBase, TagBase

from . import markup
from .pieces import MAX_WORD
from .videos import VideoInfo, describe

URL_LENGTH = 2048
# No database holds more rows than a 64-bit integer counts: neither limits
# nor offsets go past it (the databases refuse them).
MOST_ROWS = 2**63 - 1


def year_of_dates(year: int) -> bool:
    """Whether a year's edges, in Hong Kong time and in UTC, are dates Python
    holds: every year it holds but the first and the last."""
    return dt.MINYEAR < year < dt.MAXYEAR


def unicode_slug(text: str, max_length: int = 100, fallback: str = "") -> str:
    """A slug that keeps Chinese, cut at a hyphen when it is too long."""
    slug = slugify(text, allow_unicode=True)
    if len(slug) > max_length:
        cut = slug.rfind("-", 0, max_length + 1)
        slug = slug[: cut if cut > max_length // 2 else max_length]
    return slug.strip("-_") or fallback


class Section(models.Model):
    name = models.CharField("名稱", max_length=100, unique=True)
    slug = models.SlugField("網址代號", max_length=100, unique=True, allow_unicode=True)
    description = models.TextField("簡介", blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "欄目"
        verbose_name_plural = "欄目"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("section", kwargs={"slug": self.slug})


class Author(models.Model):
    name = models.CharField("名稱", max_length=200, unique=True)
    slug = models.SlugField("網址代號", max_length=200, unique=True, allow_unicode=True)
    bio = models.TextField("簡介", blank=True)
    avatar = models.ImageField("頭像", upload_to="authors/", blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "作者"
        verbose_name_plural = "作者"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("author", kwargs={"slug": self.slug})


class Tag(TagBase):
    """A tag whose name is unique without regard to case: Putin is putin."""

    class Meta:
        ordering = ["name"]
        verbose_name = "標籤"
        verbose_name_plural = "標籤"
        constraints = [
            models.UniqueConstraint(Lower("name"), name="articles_tag_name_ci_unique"),
        ]

    def get_absolute_url(self):
        return reverse("tag", kwargs={"slug": self.slug})


class TaggedArticle(ItemBase):
    content_object = models.ForeignKey(
        "Article", on_delete=models.CASCADE, related_name="tagged_items"
    )
    # Indexed with the article (Meta.indexes): a tag's articles are read from the index alone.
    tag = models.ForeignKey(
        Tag, on_delete=models.CASCADE, related_name="tagged_articles", db_index=False
    )
    # The tag as the article's source file listed it: where, and in which case
    # ("putin" on an article whose tag is Putin), so the file can be written back.
    position = models.PositiveSmallIntegerField(default=0)
    spelling = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "文章標籤"
        verbose_name_plural = "文章標籤"
        constraints = [
            models.UniqueConstraint(
                fields=["content_object", "tag"], name="articles_taggedarticle_unique"
            ),
        ]
        indexes = [models.Index(fields=["tag", "content_object"], name="articles_tag_article")]


@dataclass(frozen=True)
class BodyPart:
    """A piece of an article as a reader sees it: sanitised HTML, a figure or a video."""

    html: str = ""
    figure: "Figure | None" = None
    video: "Video | None" = None


def _list_prefetches() -> tuple[models.Prefetch, ...]:
    return (
        models.Prefetch("bylines", Byline.objects.select_related("author")),
        models.Prefetch("figures", Figure.objects.order_by("position", "id")),
    )


def prefetch_for_list(articles: list["Article"]) -> None:
    """Bylines and figures of these articles, as `for_list()` reads them."""
    models.prefetch_related_objects(articles, *_list_prefetches())


# What other articles' links show of an article or find it by, besides its
# tags and whether it is published: see `Article.changes_links`.
LINKED_FIELDS = ("title", "slug", "number", "published_at")
_LINKS_READ = frozenset(("status", *LINKED_FIELDS))
# Compares unequal to anything: what an article looked like before is not known.
_UNKNOWN = object()


class ArticleQuerySet(models.QuerySet):
    def published(self):
        """Articles a reader may see: published, and not scheduled for later."""
        return self.filter(status=Article.Status.PUBLISHED).filter(
            Q(published_at__isnull=True) | Q(published_at__lte=timezone.now())
        )

    def for_list(self):
        """What a list of articles shows, in two more queries whatever its length:
        section, bylines and figures (for the lead picture), without the bodies."""
        return self.for_cards().prefetch_related(*_list_prefetches())

    def for_cards(self):
        """`for_list()` without its bylines and figures, for pages whose cards
        are kept as fragments: `prefetch_for_list` then reads them only for the
        cards it must render (see articles.views.prefetch_for_cards)."""
        return self.select_related("section").defer(
            "body", "body_html", "url", "source_path", "source_hash"
        )

    def search(self, query: str):
        """Articles matching a reader's search query, best matches first, annotated
        with `search_score` (see articles/search.py). An empty query matches nothing."""
        from . import search

        return search.search_articles(self, query)

    def matching(self, query: str):
        """Articles matching a search query, unranked, in this queryset's own order:
        for lists sorted by their own columns (the admin). An empty query matches nothing."""
        from . import search

        return search.matching_articles(self, query)


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "已發佈"
        HIDDEN = "hidden", "已隱藏"

    number = models.PositiveIntegerField(
        "編號",
        unique=True,
        blank=True,
        help_text="文章網址中的編號，與原網站相同。新文章留空即自動取下一個編號。",
    )
    title = models.CharField("標題", max_length=255)
    slug = models.SlugField(
        "網址代號", max_length=255, allow_unicode=True, blank=True, help_text="留空即按標題產生。"
    )
    section = models.ForeignKey(
        Section,
        verbose_name="欄目",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
    )
    authors = models.ManyToManyField(
        Author, verbose_name="作者", through="Byline", related_name="articles", blank=True
    )
    published_at = models.DateTimeField("發佈時間", null=True, blank=True, db_index=True)
    last_updated = models.DateTimeField("最後更新", null=True, blank=True)
    body = models.TextField(
        "內文",
        blank=True,
        help_text=(
            "Markdown。以獨立一行的 {{< figure 1 >}} 或 {{< video 1 >}} "
            "放置第幾張圖片或第幾段影片。"
        ),
    )
    body_html = models.TextField(editable=False, blank=True)
    excerpt = models.CharField(max_length=300, editable=False, blank=True)
    status = models.CharField(
        "狀態", max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    tags = TaggableManager(verbose_name="標籤", through=TaggedArticle, blank=True)

    url = models.URLField("Wayback 存檔網址", max_length=URL_LENGTH, blank=True)
    original_url = models.URLField("原網址", max_length=URL_LENGTH, blank=True)
    source_path = models.CharField("來源檔案", max_length=500, blank=True)
    source_hash = models.CharField("來源檔案雜湊", max_length=64, blank=True, db_index=True)
    imported_at = models.DateTimeField("匯入時間", null=True, blank=True)
    edited_at = models.DateTimeField(
        "編輯時間", null=True, blank=True, help_text="在匯入以外修改的時間；重新匯入時不會覆蓋。"
    )
    created_at = models.DateTimeField("建立時間", auto_now_add=True)
    modified_at = models.DateTimeField("修改時間", auto_now=True)
    # Who wrote the article in the admin: a contributor may edit only their own
    # drafts. Imported articles have no creator.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="建立者",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = [models.F("published_at").desc(nulls_last=True), "-number"]
        verbose_name = "文章"
        verbose_name_plural = "文章"
        # On PostgreSQL with NULLS LAST on published_at, as `ordering` (migration 0010).
        indexes = [models.Index(fields=["status", "-published_at", "-number"])]
        permissions = [("publish_article", "可以發佈、取消發佈及隱藏文章")]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        """Render the body and mark the article as edited outside the importer.

        The importer writes in bulk and never calls this, so an article saved
        here is one a person changed, and a later import will not overwrite it.
        Its search document is updated too; figures or tags saved after it need
        `search.index_articles([article.pk])`.
        """
        self.body_html = markup.render_body(self.body)
        self.excerpt = markup.excerpt(self.body_html)
        self.slug = self.slug or unicode_slug(self.title, fallback="article")
        self.edited_at = timezone.now()
        if self.number is not None:
            return self._save_and_index(*args, **kwargs)
        # A new article takes the next free number; if another save took it
        # first, the unique constraint says so and the next one is tried.
        for attempt in range(5):
            self.number = (Article.objects.aggregate(last=Max("number"))["last"] or 0) + 1
            try:
                with transaction.atomic():
                    return self._save_and_index(*args, **kwargs)
            except IntegrityError:
                taken = Article.objects.filter(number=self.number).exists()
                self.number = None
                if not taken or attempt == 4:
                    raise
        return None

    def get_absolute_url(self):
        return reverse("article", kwargs={"number": self.number, "slug": self.slug})

    @classmethod
    def from_db(cls, db, field_names, values, *, fetch_mode=None):
        article = super().from_db(db, field_names, values, fetch_mode=fetch_mode)
        if not _LINKS_READ.issubset(field_names):
            article._linked_as = _UNKNOWN  # not loaded, and not read for every list
        else:
            article._linked_as = article._as_linked()
        return article

    def _as_linked(self) -> tuple | None:
        """How other articles' links see this one; None if they cannot show it."""
        if self.status != self.Status.PUBLISHED:
            return None
        return tuple(getattr(self, name) for name in LINKED_FIELDS)

    @property
    def changes_links(self) -> bool:
        """Whether saving it as it is now changes what other articles' links
        show (related articles, previous and next): it appears or disappears
        for readers, moves in time, or changes its title or address. Bodies,
        excerpts and sources do not. Scheduled articles count as published;
        an article built in Python and never saved was not shown anywhere."""
        before = getattr(self, "_linked_as", None if self._state.adding else _UNKNOWN)
        return before != self._as_linked()

    @property
    def is_published(self) -> bool:
        """Whether readers may see it now: what `ArticleQuerySet.published()` selects."""
        return self.status == self.Status.PUBLISHED and (
            self.published_at is None or self.published_at <= timezone.now()
        )

    def _save_and_index(self, *args, **kwargs):
        # Readers' search changes with the article, in the same transaction.
        from . import search

        with transaction.atomic():
            super().save(*args, **kwargs)
            search.index_articles([self.pk])
        # Saved: later saves compare with what the database now holds.
        self._linked_as = self._as_linked()

    @property
    def lead_figure(self) -> "Figure | None":
        """The first figure (use `for_list()` or prefetch `figures`)."""
        return next(iter(self.figures.all()), None)

    def neighbour(self, *, newer: bool) -> "Article | None":
        """The published article just before or after this one in time.

        Articles of the same day are ordered by number; the comparison is on the
        pair (publication time, number), which the list index answers directly.
        """
        if self.published_at is None:
            return None
        position = Tuple(F("published_at"), F("number"))
        here = (self.published_at, self.number)
        # The list index's order, read one way or the other; where NULL would
        # go matters only to match it, as undated articles are never compared.
        if newer:
            after = TupleGreaterThan(position, here)
            order = [F("published_at").asc(nulls_first=True), "number"]
        else:
            after = TupleLessThan(position, here)
            order = [F("published_at").desc(nulls_last=True), "-number"]
        return (
            Article.objects.published()
            .filter(after)
            .order_by(*order)
            .only("number", "slug", "title", "published_at")
            .first()
        )

    def related(self, count: int = 5) -> list["Article"]:
        """Published articles sharing the most tags with this one, newest first among equals.

        Candidates are counted from the (tag, article) index alone, and only
        the best few are then looked up as articles.
        """
        tag_ids = [item.tag_id for item in self.tagged_items.all()]
        if not tag_ids:
            return []
        candidates = dict(
            TaggedArticle.objects.filter(tag_id__in=tag_ids)
            .exclude(content_object_id=self.pk)
            .values("content_object_id")
            .annotate(shared=Count("*"))
            .order_by("-shared", "-content_object_id")
            .values_list("content_object_id", "shared")[: count * 4]
        )
        # Looked up by primary key and checked here: with the publication filter
        # in SQL, SQLite's planner walks the whole list index instead.
        articles = Article.objects.filter(pk__in=candidates)
        articles = articles.only("number", "slug", "title", "published_at", "status")
        return sorted(
            (article for article in articles if article.is_published),
            key=lambda a: (
                -candidates[a.pk],
                -(a.published_at.timestamp() if a.published_at else 0),
            ),
        )[:count]

    @property
    def byline_authors(self) -> list["Author"]:
        """The article's authors in byline order (prefetch `bylines__author`)."""
        return [byline.author for byline in self.bylines.all()]

    def body_parts(self) -> list[BodyPart]:
        """The body with each figure and video in its place.

        Figures are looked up by position in `self.figures` (prefetch them); one
        that the body does not place is shown after it, so a figure an editor
        adds is never invisible.
        """
        figures = {figure.position: figure for figure in self.figures.all()}
        videos = {video.position: video for video in self.videos.all()}
        parts = []
        for part in markup.split_body(self.body_html):
            if part.kind == "figure":
                if part.position in figures:
                    parts.append(BodyPart(figure=figures.pop(part.position)))
            elif part.kind == "video":
                if part.position in videos:
                    parts.append(BodyPart(video=videos.pop(part.position)))
            else:
                parts.append(BodyPart(html=part.html))
        parts += [BodyPart(figure=figure) for figure in figures.values()]
        parts += [BodyPart(video=video) for video in videos.values()]
        return parts


class Byline(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="bylines")
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="bylines")
    position = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["article", "author"], name="articles_byline_unique"),
        ]

    def __str__(self):
        return f"{self.article_id}: {self.author_id}"


class Figure(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="figures")
    position = models.PositiveSmallIntegerField("次序")
    image_url = models.URLField(
        "存檔圖片網址", max_length=URL_LENGTH, blank=True, help_text="Wayback Machine 上的圖片。"
    )
    original_image_url = models.URLField("原圖片網址", max_length=URL_LENGTH, blank=True)
    alt = models.CharField("替代文字", max_length=500, blank=True)
    caption = models.TextField("圖片說明", blank=True)
    credit = models.CharField(
        "來源", max_length=200, blank=True, help_text="例如：何君健攝、美聯社"
    )
    # Width and height are set from the image when it is stored
    # (articles/images.py), not through width_field/height_field, which would
    # read the file back whenever a figure is loaded without them.
    image = models.ImageField("圖片檔案", upload_to="figures/%Y/%m/", blank=True)
    width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # The local image's smaller copies, made once when the image is stored
    # (articles/images.py): [{"name", "width", "height", "format"}, ...]. Kept
    # on the row so that a page lists them without a query per figure. The
    # database defaults cover the importer, which inserts plain rows.
    renditions = models.JSONField(
        "縮放版本", default=list, db_default=Value([], JSONField()), blank=True, editable=False
    )
    fetch_error = models.CharField(
        "下載失敗原因",
        max_length=500,
        default="",
        db_default="",
        blank=True,
        editable=False,
        help_text="存檔圖片無法下載的原因；fetch_figures --retry-failed 會再試。",
    )

    class Meta:
        ordering = ["article", "position", "id"]
        verbose_name = "圖片"
        verbose_name_plural = "圖片"
        indexes = [models.Index(fields=["article", "position"])]

    def __str__(self):
        return f"{self.article_id}/{self.position}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # The article's page changed with its figure: its Last-Modified must move.
        Article.objects.filter(pk=self.article_id).update(modified_at=timezone.now())

    @property
    def src(self) -> str:
        return self.image.url if self.image else self.image_url


class Video(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="videos")
    position = models.PositiveSmallIntegerField("次序")
    url = models.URLField(
        "嵌入網址", max_length=URL_LENGTH, help_text="例如 https://www.youtube.com/embed/…"
    )
    archived_url = models.CharField("存檔網址", max_length=URL_LENGTH, blank=True)

    class Meta:
        ordering = ["article", "position", "id"]
        verbose_name = "影片"
        verbose_name_plural = "影片"
        indexes = [models.Index(fields=["article", "position"])]

    def __str__(self):
        return f"{self.article_id}/{self.position}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        Article.objects.filter(pk=self.article_id).update(modified_at=timezone.now())

    @property
    def info(self) -> VideoInfo:
        return describe(self.url)


# Editing in the admin: old addresses kept after a rename or a merge, and what
# each save changed.


class SlugAlias(models.Model):
    """An old address and name of a renamed or merged tag, section or author.

    Its public page answers the old slug with a permanent redirect to `target`,
    and the importer reads the old name, in a seed file, as `target` (a rename
    that kept the address leaves an alias without a slug).
    """

    created_at = models.DateTimeField("建立時間", auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["slug"]

    def __str__(self):
        return self.slug or self.name


class TagAlias(SlugAlias):
    target = models.ForeignKey(
        Tag, verbose_name="標籤", on_delete=models.CASCADE, related_name="aliases"
    )
    slug = models.SlugField(
        "舊網址代號", max_length=100, unique=True, null=True, blank=True, allow_unicode=True
    )
    # Typed as a tag on an article, or read from a seed file, it means the target.
    name = models.CharField("舊名稱", max_length=100)

    class Meta(SlugAlias.Meta):
        verbose_name = "標籤別名"
        verbose_name_plural = "標籤別名"
        indexes = [models.Index(Lower("name"), name="articles_tagalias_name_ci")]


class SectionAlias(SlugAlias):
    target = models.ForeignKey(
        Section, verbose_name="欄目", on_delete=models.CASCADE, related_name="aliases"
    )
    slug = models.SlugField(
        "舊網址代號", max_length=100, unique=True, null=True, blank=True, allow_unicode=True
    )
    name = models.CharField("舊名稱", max_length=100, blank=True, db_index=True)

    class Meta(SlugAlias.Meta):
        verbose_name = "欄目舊網址"
        verbose_name_plural = "欄目舊網址"


class AuthorAlias(SlugAlias):
    target = models.ForeignKey(
        Author, verbose_name="作者", on_delete=models.CASCADE, related_name="aliases"
    )
    slug = models.SlugField(
        "舊網址代號", max_length=200, unique=True, null=True, blank=True, allow_unicode=True
    )
    name = models.CharField("舊名稱", max_length=200, blank=True, db_index=True)

    class Meta(SlugAlias.Meta):
        verbose_name = "作者舊網址"
        verbose_name_plural = "作者舊網址"


class Revision(models.Model):
    """What one change in the admin did to an article.

    `changes` maps each field that changed (title, body, tags, figures) to its
    value before and after: `{"title": ["舊標題", "新標題"]}`.
    """

    article = models.ForeignKey(
        Article, verbose_name="文章", on_delete=models.CASCADE, related_name="revisions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="使用者",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField("時間", default=timezone.now)
    note = models.CharField("說明", max_length=200, blank=True)
    changes = models.JSONField("修改", default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "修訂"
        verbose_name_plural = "修訂"
        indexes = [models.Index(fields=["article", "-created_at"])]

    def __str__(self):
        return f"{self.article_id} @ {self.created_at:%Y-%m-%d %H:%M}"


class SearchDocument(models.Model):
    """An article as search sees it: the search pieces of each field (articles/search.py).

    On SQLite this table is an FTS5 virtual table whose rowid is the article's
    id; on PostgreSQL a plain table with a GIN-indexed tsvector of the pieces.
    Both are made by migration 0005_search, not from these fields: a change here
    needs a hand-written migration that recreates the table, then
    `manage.py rebuild_search_index`.
    """

    article = models.OneToOneField(
        Article,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="search_document",
        db_column="rowid",
    )
    title = models.TextField(blank=True)
    tags = models.TextField(blank=True)
    captions = models.TextField(blank=True)
    body = models.TextField(blank=True)

    class Meta:
        verbose_name = "搜尋文件"
        verbose_name_plural = "搜尋文件"

    def __str__(self):
        return str(self.article_id)

    @classmethod
    def text_fields(cls) -> list[models.Field]:
        return [cls._meta.get_field(name) for name in ("title", "tags", "captions", "body")]


class TitlePiece(models.Model):
    """A search piece of an article's title, a row for each distinct one
    (articles/search.py): which articles hold a piece in the title, read from
    a narrow index alone, for a search of many terms to count how many of them
    each title holds. Written beside the article's `SearchDocument`, from its
    `title`, and deleted with the article.
    """

    pk = models.CompositePrimaryKey("piece", "article")
    piece = models.CharField(max_length=MAX_WORD)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = "標題搜尋片段"
        verbose_name_plural = "標題搜尋片段"

    def __str__(self):
        return f"{self.article_id} {self.piece}"
