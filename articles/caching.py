"""Caching for readers' pages, retired the moment the content changes.

Three layers, each keyed so that it never needs to be found and deleted:

- **Pages.** A public page's whole response, per address, is kept under a key
  that carries the *content version*: one number in the cache that any change
  readers can see moves on. One edit can show on many pages (the home page, its
  tag pages, its neighbours' "previous/next"), so rather than track which pages
  an edit touches, an edit retires them all. `PageCacheMiddleware` answers from
  this cache before any other middleware runs, so a cached page costs little
  more than the cache lookup.
- **An article's own part.** The article as a page shows it (header, body with
  its figures and videos, tags, sources, the head's metadata) is kept per
  article change time and *taxonomy version* (moved by any change to a tag,
  section or author, whose names it shows). An edit elsewhere retires the page
  but not this, so the page is rebuilt from it with one query.
- **Links around an article** (related articles, previous and next) are kept
  for `LINKS_CACHE_SECONDS`, not per content version: they may lag an edit by
  that long, which a reader does not notice and the database does.
"""

import functools
import hashlib
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.cache import get_conditional_response, patch_cache_control

CONTENT_VERSION = "newsroom:content-version"
TAXONOMY_VERSION = "newsroom:taxonomy-version"
CACHEABLE = "_newsroom_public_page"


def _version(key: str) -> int:
    version = cache.get(key)
    if version is None:
        # Start from the clock so that a cache restarted empty never reuses a
        # version whose entries another cache server may still hold.
        cache.add(key, time.time_ns() // 1000, timeout=None)
        version = cache.get(key)
    return version


def _move_on(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, time.time_ns() // 1000, timeout=None)


def content_version() -> int:
    return _version(CONTENT_VERSION)


def taxonomy_version() -> int:
    return _version(TAXONOMY_VERSION)


def content_changed() -> None:
    """Retire every cached page. Called after any change readers can see."""
    _move_on(CONTENT_VERSION)


def taxonomy_changed() -> None:
    """Retire every article's cached part too: a tag, section or author changed."""
    _move_on(TAXONOMY_VERSION)
    _move_on(CONTENT_VERSION)


def content_changed_on_commit(**_signal_arguments) -> None:
    """Signal receiver: retire cached pages once the change is committed.

    Retiring them earlier would let a request in between cache the old page.
    """
    transaction.on_commit(content_changed)


def taxonomy_changed_on_commit(**_signal_arguments) -> None:
    transaction.on_commit(taxonomy_changed)


def connect_signals() -> None:
    """Retire cached pages whenever a model readers see is saved or deleted.

    The importer and other bulk writers send no model signals and call
    `content_changed` themselves.
    """
    from .models import Article, Author, Byline, Figure, Section, Tag, TaggedArticle, Video

    for model in (Article, Byline, Figure, TaggedArticle, Video):
        post_save.connect(content_changed_on_commit, sender=model, dispatch_uid=f"page-{model}")
        post_delete.connect(
            content_changed_on_commit, sender=model, dispatch_uid=f"page-del-{model}"
        )
    for model in (Author, Section, Tag):
        post_save.connect(taxonomy_changed_on_commit, sender=model, dispatch_uid=f"tax-{model}")
        post_delete.connect(
            taxonomy_changed_on_commit, sender=model, dispatch_uid=f"tax-del-{model}"
        )
    for through in (TaggedArticle, Byline):
        m2m_changed.connect(
            content_changed_on_commit, sender=through, dispatch_uid=f"page-m2m-{through}"
        )


def remember_for(key: str, build: Callable, timeout: int):
    """A value kept under `key` for `timeout` seconds (0: not kept)."""
    if timeout <= 0:
        return build()
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, timeout)
    return value


def cached_page(view):
    """Mark a view's successful responses as public pages.

    They say how long browsers and proxies may keep them (`PAGE_MAX_AGE`), and
    `PageCacheMiddleware` keeps them for anonymous readers.
    """

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming:
            patch_cache_control(response, public=True, max_age=settings.PAGE_MAX_AGE)
            setattr(response, CACHEABLE, True)
        return response

    return wrapper


class PageCacheMiddleware:
    """Answer anonymous readers from the page cache before anything else runs.

    It stands near the top of the middleware, so a cached response is stored
    as it finally left (security headers, policy, ETag included) and served
    without the rest of the stack. Editors (anyone with a session) always get
    fresh pages. Conditional requests are answered with 304 from the stored
    ETag and Last-Modified.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = self.key(request)
        if key is not None:
            response = cache.get(key)
            if response is not None:
                return get_conditional_response(
                    request,
                    etag=response.get("ETag"),
                    last_modified=_timestamp(response.get("Last-Modified")),
                    response=response,
                )
        response = self.get_response(request)
        if (
            key is not None
            and request.method == "GET"
            and getattr(response, CACHEABLE, False)
            and response.status_code == 200
            and settings.PAGE_CACHE_SECONDS > 0
        ):
            cache.set(key, response, settings.PAGE_CACHE_SECONDS)
        return response

    @staticmethod
    def key(request) -> str | None:
        if request.method not in ("GET", "HEAD") or settings.SESSION_COOKIE_NAME in request.COOKIES:
            return None
        # Pages carry absolute addresses (canonical link, feeds), so the scheme
        # and host are part of what makes a page.
        address = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
        digest = hashlib.sha256(address.encode()).hexdigest()
        return f"newsroom:{content_version()}:page:{digest}"


def _timestamp(http_date: str | None) -> int | None:
    from django.utils.http import parse_http_date_safe

    return parse_http_date_safe(http_date) if http_date else None
