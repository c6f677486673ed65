"""Tags as editors handle them: names typed on an article, and merges.

A tag's name is unique without regard to case, and a tag merged into another
or renamed leaves a `TagAlias`: its old name still means the tag it became,
and its old address redirects there.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from . import tasks
from .caching import content_changed_on_commit
from .models import Article, Revision, Tag, TagAlias, TaggedArticle

WHITESPACE = re.compile(r"\s+")


def clean_tag_names(names: Iterable[str]) -> list[str]:
    """Names as the importer would keep them: trimmed, NFC, one per tag regardless of case."""
    cleaned: dict[str, str] = {}
    for raw in names:
        name = unicodedata.normalize("NFC", WHITESPACE.sub(" ", raw).strip())
        if name:
            cleaned.setdefault(name.casefold(), name)
    return list(cleaned.values())


def find_tags(names: Iterable[str]) -> dict[str, Tag]:
    """The existing tags these names mean, by lower-cased name.

    A name is a tag's name in any case, or the old name of a tag that was
    renamed or merged (an alias); a tag's own name wins over an alias.
    """
    keys = {name.lower() for name in names}
    if not keys:
        return {}
    found = {tag.key: tag for tag in Tag.objects.annotate(key=Lower("name")).filter(key__in=keys)}
    missing = keys - found.keys()
    if missing:
        aliases = (
            TagAlias.objects.annotate(key=Lower("name"))
            .filter(key__in=missing)
            .select_related("target")
        )
        found.update((alias.key, alias.target) for alias in aliases)
    return found


def set_article_tags(article: Article, names: list[str]) -> None:
    """Give the article exactly these tags, in this order, creating new ones.

    A tag the article keeps keeps its spelling (the source file's case); a tag
    added here is spelled as typed. Positions follow the order given.
    """
    found = find_tags(names)
    wanted: dict[int, tuple[Tag, str]] = {}
    for name in names:
        tag = found.get(name.lower())
        if tag is None:
            tag = found[name.lower()] = Tag.objects.create(name=name)
        wanted.setdefault(tag.pk, (tag, name))
    current = {row.tag_id: row for row in TaggedArticle.objects.filter(content_object=article)}
    new, changed = [], []
    for position, (tag, spelling) in enumerate(wanted.values(), start=1):
        row = current.pop(tag.pk, None)
        if row is None:
            new.append(
                TaggedArticle(content_object=article, tag=tag, position=position, spelling=spelling)
            )
        elif row.position != position:
            row.position = position
            changed.append(row)
    if current:
        TaggedArticle.objects.filter(pk__in=[row.pk for row in current.values()]).delete()
    if changed:
        TaggedArticle.objects.bulk_update(changed, ["position"])
    if new:
        TaggedArticle.objects.bulk_create(new)


@dataclass(frozen=True)
class Merge:
    kept: Tag
    merged: list[str]
    articles: int


@transaction.atomic
def merge_tags(*, keep: Tag, tags: Iterable[Tag], user=None) -> Merge:
    """Move every article of `tags` to `keep`; the others become its aliases.

    An article that had several of the tags keeps one row, at the position of
    the first of them in its list; its spelling is the article's own spelling
    of the kept tag if it had it, else the kept tag's name (the names that
    were merged away no longer stand for a tag of their own). Each article
    changed is marked as edited, so a re-import does not undo the merge, gets a
    revision in its history, and has its search document written again.
    """
    others = [tag for tag in tags if tag.pk != keep.pk]
    ids = [keep.pk, *(tag.pk for tag in others)]
    names = {tag.pk: tag.name for tag in [keep, *others]}
    rows: dict[int, list[TaggedArticle]] = {}
    for row in TaggedArticle.objects.filter(tag_id__in=ids).order_by("position", "id"):
        rows.setdefault(row.content_object_id, []).append(row)

    survivors, doomed, revisions = [], [], []
    now = timezone.now()
    for article_id, group in rows.items():
        if all(row.tag_id == keep.pk for row in group):
            continue
        row = next((row for row in group if row.tag_id == keep.pk), None)
        if row is None:
            row = group[0]
            row.spelling = keep.name
        row.position = group[0].position
        row.tag_id = keep.pk
        survivors.append(row)
        doomed += [other.pk for other in group if other is not row]
        before = [names[other.tag_id] for other in group]
        revisions.append(
            Revision(
                article_id=article_id,
                user=user,
                created_at=now,
                note="合併標籤",
                changes={"tags": [before, [keep.name]]},
            )
        )
    # Rows are removed before the survivors move, so that no article holds the
    # kept tag twice, even for a moment (the unique constraint would refuse).
    if doomed:
        TaggedArticle.objects.filter(pk__in=doomed).delete()
    TaggedArticle.objects.bulk_update(survivors, ["tag", "position", "spelling"], batch_size=500)
    Revision.objects.bulk_create(revisions, batch_size=500)
    changed = [revision.article_id for revision in revisions]
    for start in range(0, len(changed), 500):
        Article.objects.filter(pk__in=changed[start : start + 500]).update(
            edited_at=now, modified_at=now
        )
    # Their search documents hold the names of the tags they had.
    tasks.reindex_later(changed)

    TagAlias.objects.filter(target__in=others).update(target=keep)
    # An alias whose slug a tag has taken since (it was shadowed) gives way.
    TagAlias.objects.filter(slug__in=[keep.slug, *(tag.slug for tag in others)]).delete()
    TagAlias.objects.bulk_create(
        [TagAlias(target=keep, slug=tag.slug, name=tag.name) for tag in others]
    )
    Tag.objects.filter(pk__in=[tag.pk for tag in others]).delete()
    content_changed_on_commit()
    return Merge(kept=keep, merged=[tag.name for tag in others], articles=len(changed))
