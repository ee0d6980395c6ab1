"""The Redis cache, made to fail soft.

The cache holds nothing that is not also somewhere else: sessions are read through it (cached_db: the database has
them), rate-limit counters and presence are best effort. So when Redis is unreachable a request must go on as if
the cache were empty, not fail: a merchant's flag is stored and its notifications wait in the outbox. Short socket
timeouts keep a dead Redis from stalling requests.
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_LOG_EVERY_SECONDS = 30


class ResilientRedisCache(RedisCache):
    _last_logged = 0.0

    def _soft(self, operation: str, default, call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except UNREACHABLE as error:
            now = time.monotonic()
            if now - ResilientRedisCache._last_logged > _LOG_EVERY_SECONDS:
                ResilientRedisCache._last_logged = now
                logger.warning("cache unreachable (%s on %s); going on without it", type(error).__name__, operation)
            return default

    def get(self, key, default=None, version=None):
        return self._soft("get", default, super().get, key, default, version)

    def get_many(self, keys, version=None):
        return self._soft("get_many", {}, super().get_many, keys, version)

    def set(self, key, value, timeout=None, version=None):  # noqa: A003 - Django's API
        return self._soft("set", None, super().set, key, value, timeout, version)

    def add(self, key, value, timeout=None, version=None):
        return self._soft("add", False, super().add, key, value, timeout, version)

    def set_many(self, data, timeout=None, version=None):
        return self._soft("set_many", list(data), super().set_many, data, timeout, version)

    def delete(self, key, version=None):
        return self._soft("delete", False, super().delete, key, version)

    def delete_many(self, keys, version=None):
        return self._soft("delete_many", None, super().delete_many, keys, version)

    def has_key(self, key, version=None):
        return self._soft("has_key", False, super().has_key, key, version)

    def touch(self, key, timeout=None, version=None):
        return self._soft("touch", False, super().touch, key, timeout, version)

    def incr(self, key, delta=1, version=None):
        return self._soft("incr", delta, super().incr, key, delta, version)
