"""What each change in the admin did to an article: recorded, and shown as a diff.

The admin log says who changed which fields and when; a `Revision` keeps the
title, body, tags and figures before and after, so the history page can show
what the change was.
"""

import difflib
from dataclasses import dataclass, field

from .models import Article, Figure, Revision, TaggedArticle

LABELS = {"title": "標題", "body": "內文", "tags": "標籤", "figures": "圖片"}


def snapshot(article: Article) -> dict[str, str | list[str]]:
    """The article's tracked fields as they are in the database now."""
    title, body = Article.objects.filter(pk=article.pk).values_list("title", "body").get()
    tags = TaggedArticle.objects.filter(content_object=article).order_by("position", "id")
    figures = Figure.objects.filter(article=article).order_by("position", "id")
    return {
        "title": title,
        "body": body,
        "tags": list(tags.values_list("tag__name", flat=True)),
        "figures": [describe_figure(figure) for figure in figures],
    }


def describe_figure(figure: Figure) -> str:
    """A figure as one line of its history: position, caption, credit, alt text, image."""
    parts = [f"{figure.position}. {figure.caption}".rstrip(), f"來源：{figure.credit}"]
    if figure.alt:
        parts.append(f"替代文字：{figure.alt}")
    if figure.image:
        parts.append(f"檔案：{figure.image.name}")
    return "｜".join(parts)


def record(
    article: Article, before: dict | None, after: dict, *, user=None, note: str = ""
) -> Revision | None:
    """Keep what changed between two snapshots; nothing when nothing did.

    A new article (no `before`) is recorded against empty values, so its first
    revision shows what it was written with.
    """
    before = before or {"title": "", "body": "", "tags": [], "figures": []}
    changes = {name: [before[name], after[name]] for name in LABELS if before[name] != after[name]}
    if not changes:
        return None
    return Revision.objects.create(article=article, user=user, note=note, changes=changes)


@dataclass
class Line:
    kind: str  # "removed", "added", "same" or "gap"
    text: str = ""


@dataclass
class Change:
    label: str
    lines: list[Line] = field(default_factory=list)


def revision_diff(revision: Revision, context: int = 1) -> list[Change]:
    """A revision's changes as lines to show: removed, added and a little context."""
    shown = []
    for name, label in LABELS.items():
        if name not in revision.changes:
            continue
        old, new = revision.changes[name]
        if name == "tags":
            lines = [Line("removed", tag) for tag in old if tag not in new]
            lines += [Line("added", tag) for tag in new if tag not in old]
            if not lines:  # the same tags in another order
                lines = [Line("removed", "、".join(old)), Line("added", "、".join(new))]
        else:
            old_lines = old.splitlines() if isinstance(old, str) else old
            new_lines = new.splitlines() if isinstance(new, str) else new
            lines = _diff(old_lines, new_lines, context)
        shown.append(Change(label, lines))
    return shown


def _diff(old: list[str], new: list[str], context: int) -> list[Line]:
    lines: list[Line] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for n, group in enumerate(matcher.get_grouped_opcodes(context)):
        if n:
            lines.append(Line("gap"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [Line("same", text) for text in old[i1:i2]]
                continue
            lines += [Line("removed", text) for text in old[i1:i2]]
            lines += [Line("added", text) for text in new[j1:j2]]
    return [line for line in lines if line.kind != "same" or line.text.strip()]
