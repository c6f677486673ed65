"""The cache backends take any key without reading it for memcached's rules (newsroom/cache.py)."""

import warnings

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.base import CacheKeyWarning
from django.core.cache.backends.locmem import LocMemCache as DjangoLocMemCache

from newsroom.cache import LocMemCache, RedisCache

# Spaces, a control character, and longer than memcached's 250 characters.
KEY = "newsroom:頁 \x07" + "x" * 300


def test_settings_use_the_project_backends():
    assert settings.CACHES["default"]["BACKEND"] == "newsroom.cache.LocMemCache"
    assert isinstance(caches["default"], LocMemCache)


def test_djangos_backend_reads_every_key_for_memcached():
    with pytest.warns(CacheKeyWarning):
        DjangoLocMemCache("django", {}).set(KEY, "page")


@pytest.mark.parametrize("backend", [LocMemCache, RedisCache])
def test_the_project_backends_take_any_key_silently(backend):
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        backend("redis://127.0.0.1:6379/0" if backend is RedisCache else "test", {}).validate_key(
            KEY
        )
        cache.set(KEY, "page")
        assert cache.get(KEY) == "page"
    cache.delete(KEY)
