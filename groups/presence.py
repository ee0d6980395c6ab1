"""Who is online: one cache key per connected person, kept alive by the server while any of their sockets is open.

The cache is Redis in production (shared by every process) and process memory in the embedded default (one
process). A person connected to two processes who closes one socket may show offline for up to one refresh
(PRESENCE_TTL / 2) until the other process refreshes the key: good enough for "who is around", not for billing.
"""

from __future__ import annotations

from django.core.cache import cache

PRESENCE_TTL = 90


def _key(user_id: int) -> str:
    return f"presence:{user_id}"


def presence_mark_online(user_id: int) -> None:
    # One SET with its expiry: set_many sends MSET and an EXPIRE per key in a pipeline, about twice the CPU of a
    # connecting socket's other cache reads (docs/performance.md, reconnect storm).
    cache.set(_key(user_id), 1, timeout=PRESENCE_TTL)


def presence_mark_offline(user_id: int) -> None:
    cache.delete(_key(user_id))


def users_online(user_ids: list[int]) -> set[int]:
    found = cache.get_many([_key(user_id) for user_id in user_ids])
    return {int(key.split(":", 1)[1]) for key in found}
