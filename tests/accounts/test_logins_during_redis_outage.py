"""With Redis (the production cache) stopped, people still log in: rate limits degrade to per-process counters."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from accounts import sms
from config.cache import PROCESS_MEMORY_NAME, ResilientRedisCache
from tests.servers import redis_server, use_production_cache

AUTH = "/_allauth/app/v1/auth"


@pytest.fixture
def cache_on_a_private_redis(settings):
    """The production cache configuration (config.cache.ResilientRedisCache, cached_db sessions) on a redis-server
    of the test's own, which the test may kill. Yields the function that stops it."""
    with redis_server() as (url, _start, stop):
        use_production_cache(settings, url)
        yield stop
    # The per-process fallback counters and the "Redis is down" mark must not leak into the next test.
    LocMemCache(PROCESS_MEMORY_NAME, {}).clear()
    ResilientRedisCache._process_memory_until = 0.0


@pytest.mark.needs_redis
@pytest.mark.django_db
def test_with_redis_stopped_people_log_in_by_password_and_by_code(
    cache_on_a_private_redis, client_factory, user_factory
):
    # given two registered people, and the cache's Redis killed
    by_password, by_code = user_factory(), user_factory()
    cache_on_a_private_redis()

    # when one logs in with a password and the other asks for a code, confirms it, then asks again at once
    password_login = client_factory().post_json(
        f"{AUTH}/login", {"phone": str(by_password.phone), "password": "Pingan-test-2026"}
    )
    client = client_factory()
    requested = client.post_json(f"{AUTH}/code/request", {"phone": str(by_code.phone)})
    token = requested.json()["meta"]["session_token"]
    confirmed = client.post_json(f"{AUTH}/code/confirm", {"code": sms.outbox[-1].code}, HTTP_X_SESSION_TOKEN=token)
    requested_again = client_factory().post_json(f"{AUTH}/code/request", {"phone": str(by_code.phone)})

    # then both are in, and the SMS limit still holds (in this process's memory)
    assert password_login.status_code == 200, password_login.content
    assert requested.status_code == 401, requested.content
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["data"]["user"]["id"] == by_code.pk
    assert requested_again.status_code == 429
    me = client_factory()
    me.credentials(HTTP_X_SESSION_TOKEN=password_login.json()["meta"]["session_token"])
    assert me.get("/api/v1/me").json()["id"] == by_password.pk


@pytest.mark.needs_redis
@pytest.mark.django_db
def test_with_redis_stopped_wrong_passwords_are_still_limited(cache_on_a_private_redis, client_factory, user_factory):
    owner = user_factory()
    cache_on_a_private_redis()

    answers = [
        client_factory().post_json(f"{AUTH}/login", {"phone": str(owner.phone), "password": f"guess-{n}"})
        for n in range(6)
    ]

    assert [answer.json()["errors"][0]["code"] for answer in answers] == ["phone_password_mismatch"] * 5 + [
        "too_many_login_attempts"
    ]


@pytest.mark.needs_redis
def test_only_rate_limit_counters_fall_back_to_process_memory(cache_on_a_private_redis):
    # given the cache's Redis killed
    cache = caches["default"]
    cache_on_a_private_redis()

    # when a rate-limit counter and a session are written
    cache.set("allauth:rl:allauth.account:login:30/60/ip:192.0.2.1", [1.0], 60)
    cache.set("django.contrib.sessions.cached_db" + "abc", {"user": 1}, 60)

    # then the counter is kept in this process, the session is not (another process may revoke it meanwhile)
    assert cache.get("allauth:rl:allauth.account:login:30/60/ip:192.0.2.1") == [1.0]
    assert cache.get("django.contrib.sessions.cached_db" + "abc") is None
