"""Work that runs after the request that asked for it.

A tag can be on thousands of articles: renaming, merging or deleting it means
writing each one's search document again, which can take longer than a request
may. That work is queued here. In production the queue is the database
(django-tasks-db): the task is written in the same transaction as the change,
and `manage.py db_worker` runs it once it is committed. In development and in
the tests the immediate backend runs it at once.
"""

from collections.abc import Iterable

from django.tasks import task

from . import search

# Articles per task: each task is one transaction in the worker.
CHUNK = 2000


@task
def reindex_articles(article_ids: list[int]) -> int:
    """Write these articles' search documents again; return how many."""
    search.index_articles(article_ids)
    return len(article_ids)


def reindex_later(article_ids: Iterable[int]) -> None:
    """Queue the search documents of these articles to be written again."""
    ids = sorted(set(article_ids))
    for start in range(0, len(ids), CHUNK):
        reindex_articles.enqueue(ids[start : start + CHUNK])
