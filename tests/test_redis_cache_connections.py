"""The Redis cache's connections are the process's, not each cache object's (config/cache.py)."""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async
from django.core.cache import caches

from config.cache import ResilientRedisCache

PARAMS = {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}


def test_cache_objects_of_one_server_share_one_connection_pool():
    # Django makes a cache object per thread and per asyncio context: under daphne one per socket and request.
    first = ResilientRedisCache("redis://127.0.0.1:6379/7", {"OPTIONS": dict(PARAMS["OPTIONS"])})
    second = ResilientRedisCache("redis://127.0.0.1:6379/7", {"OPTIONS": dict(PARAMS["OPTIONS"])})
    assert first is not second
    assert first._cache.get_client() is second._cache.get_client()
    assert first._cache._get_connection_pool(True) is second._cache._get_connection_pool(False)
    elsewhere = ResilientRedisCache("redis://127.0.0.1:6379/8", PARAMS)
    assert elsewhere._cache._get_connection_pool(True) is not first._cache._get_connection_pool(True)


def test_sockets_served_in_their_own_asyncio_contexts_share_the_redis_connections(settings):
    settings.CACHES = {
        "default": {"BACKEND": "config.cache.ResilientRedisCache", "LOCATION": "redis://127.0.0.1:6379/7"}
    }

    def pool_seen_by_this_socket():
        return caches["default"]._cache._get_connection_pool(False)

    async def storm():
        # Each task is a socket's consumer: its database_sync_to_async calls run in a copy of its context.
        return await asyncio.gather(*(asyncio.create_task(sync_to_async(pool_seen_by_this_socket)()) for _ in range(5)))

    pools = asyncio.run(storm())
    assert len({id(pool) for pool in pools}) == 1
