"""The Redis cache, made to fail soft.

The cache holds nothing that is not also somewhere else: sessions are read through it (cached_db: the database has
them), rate-limit counters and presence are best effort. So when Redis is unreachable a request must go on as if
the cache were empty, not fail: a merchant's flag is stored and its notifications wait in the outbox. Short socket
timeouts keep a dead Redis from stalling requests.

Rate-limit counters are the exception to "as if empty": allauth takes a lock in the cache around every counter and
reads a lock it cannot take as "limited", so with Redis gone nobody could log in (password login 429, code requests
refused). Their keys fall back to this process's memory instead: while Redis is unreachable each server process
counts on its own (a limit N times looser with N processes, never none and never a lockout), and after a failure they
stay there for a few seconds without trying Redis, so a Redis that times out costs one timeout, not one per counter.
Only those keys: a session cached in one process's memory would outlive its revocation by another process.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import partial

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_LOG_EVERY_SECONDS = 30
# allauth.core.internal.ratelimit: counters "allauth:rl:<app>:<action>:<rate>:<source>" and their ":lock" keys.
PROCESS_MEMORY_FALLBACK_PREFIXES = ("allauth:rl:",)
PROCESS_MEMORY_RETRY_SECONDS = 5.0
# One store per process (LocMemCache instances of the same name share it), whichever thread's cache object asks.
PROCESS_MEMORY_NAME = "pingan-redis-fallback"


# (server URL, pool options) -> (connection pool, redis.Redis on it), for the whole process (see below).
_SHARED_POOLS: dict[tuple[str, str], tuple] = {}
_SHARED_POOLS_LOCK = threading.Lock()


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, with one connection pool and one ``redis.Redis`` per server for the whole
    process instead of a pool per cache object and a ``redis.Redis`` per command.

    Django keeps a cache object per thread, and under ASGI per asyncio context: daphne made one for every socket
    and request, so every connect opened a new pool and a new TCP connection to Redis (with redis-py's handshake,
    which reads its package metadata from disk): a quarter of a connect's server CPU in a reconnect storm
    (docs/performance.md, issue 10). A pool is thread-safe and starts again after a fork. Building a ``redis.Redis``
    sets up redis-py's ~170 response callbacks, about half the CPU of an authenticated request's two cache reads;
    it holds no connection of its own (the pool does) and is safe to share."""

    def _shared(self, write) -> tuple:
        server = self._servers[self._get_connection_pool_index(write)]
        key = (server, repr(sorted(self._pool_options.items())))
        shared = _SHARED_POOLS.get(key)
        if shared is None:
            with _SHARED_POOLS_LOCK:
                shared = _SHARED_POOLS.get(key)
                if shared is None:
                    pool = self._pool_class.from_url(server, **self._pool_options)
                    shared = _SHARED_POOLS[key] = (pool, self._client(connection_pool=pool))
        return shared

    def _get_connection_pool(self, write):
        return self._shared(write)[0]

    def get_client(self, key=None, *, write=False):
        return self._shared(write)[1]


class ResilientRedisCache(RedisCache):
    _last_logged = 0.0
    _process_memory_until = 0.0  # monotonic time until which fallback keys skip Redis (class-wide: per process)

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
        self._process_memory = LocMemCache(PROCESS_MEMORY_NAME, {"OPTIONS": {"MAX_ENTRIES": 50_000}})

    @staticmethod
    def _falls_back(key) -> bool:
        return isinstance(key, str) and key.startswith(PROCESS_MEMORY_FALLBACK_PREFIXES)

    def _soft(self, operation: str, default, call, *args, key=None, local=None):
        """Run ``call`` on Redis; if Redis is unreachable, answer ``default``, or for a fallback key run ``local``
        (the same operation on this process's memory)."""
        falls_back = local is not None and self._falls_back(key)
        if falls_back and time.monotonic() < ResilientRedisCache._process_memory_until:
            return local()
        try:
            return call(*args)
        except UNREACHABLE as error:
            now = time.monotonic()
            if now - ResilientRedisCache._last_logged > _LOG_EVERY_SECONDS:
                ResilientRedisCache._last_logged = now
                logger.warning("cache unreachable (%s on %s); going on without it", type(error).__name__, operation)
            if falls_back:
                ResilientRedisCache._process_memory_until = now + PROCESS_MEMORY_RETRY_SECONDS
                return local()
            return default

    def get(self, key, default=None, version=None):
        local = partial(self._process_memory.get, key, default, version)
        return self._soft("get", default, super().get, key, default, version, key=key, local=local)

    def get_many(self, keys, version=None):
        return self._soft("get_many", {}, super().get_many, keys, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):  # noqa: A003 - Django's API
        local = partial(self._process_memory.set, key, value, timeout, version)
        return self._soft("set", None, super().set, key, value, timeout, version, key=key, local=local)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        local = partial(self._process_memory.add, key, value, timeout, version)
        return self._soft("add", False, super().add, key, value, timeout, version, key=key, local=local)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._soft("set_many", list(data), super().set_many, data, timeout, version)

    def delete(self, key, version=None):
        local = partial(self._process_memory.delete, key, version)
        return self._soft("delete", False, super().delete, key, version, key=key, local=local)

    def delete_many(self, keys, version=None):
        return self._soft("delete_many", None, super().delete_many, keys, version)

    def has_key(self, key, version=None):
        return self._soft("has_key", False, super().has_key, key, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._soft("touch", False, super().touch, key, timeout, version)

    def incr(self, key, delta=1, version=None):
        return self._soft("incr", delta, super().incr, key, delta, version)
