"""Page caching that forgets everything the moment the content changes.

Every cached value's key carries the *content version*, one number in the cache
that any change to articles, figures, tags, sections or authors moves on. One
change can show on many pages (the home page, its tag pages, its neighbours'
"previous/next"), so rather than track which pages an edit touches, an edit
retires them all; for an archive that is read far more than it is written, the
cache stays warm almost all the time.
"""

import functools
import hashlib
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.cache import patch_cache_control

VERSION_KEY = "newsroom:content-version"


def content_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        # Start from the clock so that a cache restarted empty never reuses a
        # version whose pages another cache server may still hold.
        cache.add(VERSION_KEY, time.time_ns() // 1000, timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def content_changed() -> None:
    """Retire every cached page. Called after any change readers can see."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, time.time_ns() // 1000, timeout=None)


def content_changed_on_commit(**_signal_arguments) -> None:
    """Signal receiver: retire cached pages once the change is committed.

    Retiring them earlier would let a request in between cache the old page.
    """
    transaction.on_commit(content_changed)


def connect_signals() -> None:
    """Retire cached pages whenever a model readers see is saved or deleted.

    The importer writes rows without model signals and calls
    `content_changed_on_commit` itself.
    """
    from .models import Article, Author, Byline, Figure, Section, Tag, TaggedArticle, Video

    for model in (Article, Author, Byline, Figure, Section, Tag, TaggedArticle, Video):
        post_save.connect(content_changed_on_commit, sender=model, dispatch_uid=f"page-{model}")
        post_delete.connect(
            content_changed_on_commit, sender=model, dispatch_uid=f"page-del-{model}"
        )
    for through in (TaggedArticle, Byline):
        m2m_changed.connect(
            content_changed_on_commit, sender=through, dispatch_uid=f"page-m2m-{through}"
        )


def remember(name: str, build: Callable, timeout: int | None = None):
    """A value built once per content version (e.g. the list of sections)."""
    key = f"newsroom:{content_version()}:{name}"
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, timeout if timeout is not None else settings.PAGE_CACHE_SECONDS)
    return value


def cached_page(view):
    """Cache a public page's whole response per address and content version.

    Only anonymous GET and HEAD requests are served from or stored in the cache,
    and only successful responses are stored. The response says how long
    browsers and proxies may keep it (`PAGE_MAX_AGE`).
    """

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        cacheable = request.method in ("GET", "HEAD") and not request.COOKIES.get(
            settings.SESSION_COOKIE_NAME
        )
        address = hashlib.sha256(request.get_full_path().encode()).hexdigest()
        key = f"newsroom:{content_version()}:page:{address}"
        if cacheable:
            response = cache.get(key)
            if response is not None:
                return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming:
            patch_cache_control(response, public=True, max_age=settings.PAGE_MAX_AGE)
            if cacheable:
                if hasattr(response, "render") and callable(response.render):
                    response.render()
                cache.set(key, response, settings.PAGE_CACHE_SECONDS)
        return response

    return wrapper
