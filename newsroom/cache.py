"""The cache backends of settings.CACHES, without memcached's key checks.

Django warns about keys memcached would refuse (longer than 250 characters,
spaces, control characters) by reading every character of every key on every
call, whatever the backend. A page served from the cache took four keys (three
version numbers and the page), and the checks were a tenth of the time one
process spent serving it (15 of 144 µs). Redis and process memory take any
key, and Newsroom's keys are hashes and fixed names, so these backends leave
the check out, as Django's documentation suggests for backends that accept a
wider range of keys.

Each backend also names what it raises when its server fails
(`server_errors`), for the code that would rather go on without the cache
(`articles.caching.PageCacheApplication`).
"""

import redis as redis_client
from django.core.cache.backends import locmem, redis


class _AnyKey:
    def validate_key(self, key):
        """Any key is fine for this backend: nothing to check."""


class RedisCache(_AnyKey, redis.RedisCache):
    """Django's Redis backend (production: one cache for every app server)."""

    server_errors = (redis_client.RedisError,)


class LocMemCache(_AnyKey, locmem.LocMemCache):
    """Django's process-memory backend (development and tests): no server."""

    server_errors = ()
