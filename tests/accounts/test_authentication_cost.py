"""What authenticating a request costs, and that the cached user never outlives a change to the account.

A request with an ``X-Session-Token`` reads its session once (one cache read with Redis) and the user with their
roles from a short cache (accounts/user_cache.py) that every change to the account or its roles makes stale, in
every process at once: a role revoked, an account deactivated or a password changed counts on the very next request.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from unittest import mock

import pytest
import redis
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers

from accounts import user_cache
from accounts.apis import MeOutput, _me_data
from accounts.models import Role, User
from tests.factories.accounts import DEMO_PASSWORD
from tests.servers import use_production_cache

ME = "/api/v1/me"


@contextmanager
def redis_commands():
    """The Redis commands sent meanwhile, as (name, first key) pairs, whichever cache client sent them; a
    ("new client", "") entry for every ``redis.Redis`` built (each costs redis-py's response-callback set-up)."""
    sent: list[tuple[str, str]] = []
    original_execute, original_init = redis.Redis.execute_command, redis.Redis.__init__

    def recording(client, *args, **options):
        sent.append((str(args[0]).upper(), args[1].decode() if isinstance(args[1], bytes) else str(args[1])))
        return original_execute(client, *args, **options)

    def building(client, *args, **kwargs):
        sent.append(("new client", ""))
        original_init(client, *args, **kwargs)

    with (
        mock.patch.object(redis.Redis, "execute_command", recording),
        mock.patch.object(redis.Redis, "__init__", building),
    ):
        yield sent


@pytest.fixture
def redis_cache(settings):
    """The production layout: the Redis cache (config.cache.ResilientRedisCache), cached_db sessions, the user
    cache on."""
    use_production_cache(settings, settings.TEST_REDIS_URL)
    settings.USER_CACHE_SECONDS = 60
    yield
    caches["default"].clear()


@pytest.fixture(params=["redis", "memory"])
def user_cache_on(request, settings):
    """The user cache on, over Redis (as in production) and over this process's memory (a one-process stand-in that
    runs where Redis does not)."""
    if request.param == "redis":
        if not settings.REDIS_AVAILABLE:
            pytest.skip(f"Redis not reachable at {settings.TEST_REDIS_URL}")
        request.getfixturevalue("redis_cache")
    else:
        settings.USER_CACHE_SECONDS = 60
    return request.param


@pytest.mark.needs_redis
@pytest.mark.django_db
def test_me_reads_the_session_once_and_the_user_with_roles_from_the_cache(redis_cache, login, user_factory):
    user = user_factory(roles=[Role.MERCHANT])
    client = login(user)
    token = client._credentials["HTTP_X_SESSION_TOKEN"]
    assert client.get(ME).status_code == 200  # the first request fills the user cache

    with redis_commands() as sent, CaptureQueriesContext(connection) as queries:
        response = client.get(ME)

    assert response.status_code == 200 and response.json()["roles"] == ["merchant"]
    assert len(queries) == 0, [q["sql"] for q in queries]
    on_the_session = [command for command in sent if token in command[1]]
    assert [name for name, _key in on_the_session] == ["MGET"], sent  # not EXISTS and then GET
    # the session with the user and its version (this process knows the token's user): one round trip, on the
    # client the cache keeps (config.cache)
    assert [name for name, _key in sent] == ["MGET"], sent


@pytest.mark.django_db
def test_a_token_seen_for_the_first_time_reads_the_session_then_the_user(redis_cache, login, user_factory):
    user = user_factory(roles=[Role.MERCHANT])
    client = login(user)
    token = client._credentials["HTTP_X_SESSION_TOKEN"]
    assert client.get(ME).status_code == 200  # fills the user cache
    user_cache._SESSION_USERS.clear()  # as in another process, which has not seen this token

    with redis_commands() as sent:
        assert client.get(ME).status_code == 200
        assert client.get(ME).status_code == 200

    assert [name for name, _key in sent] == ["GET", "MGET", "MGET"], sent
    assert token in sent[0][1] and token in sent[2][1]


@pytest.mark.django_db
def test_a_deleted_session_is_refused_at_once_though_the_process_knows_its_user(redis_cache, login, user_factory):
    user = user_factory(roles=[Role.MERCHANT])
    client = login(user)
    token = client._credentials["HTTP_X_SESSION_TOKEN"]
    assert client.get(ME).status_code == 200 and client.get(ME).status_code == 200
    assert user_cache._SESSION_USERS[token] == user.pk

    SessionStore(session_key=token).delete()  # what logging out or ending the session from another device does

    assert client.get(ME).status_code == 401


@pytest.mark.django_db
def test_without_the_user_cache_me_reads_session_user_and_roles_once_each(login, user_factory, settings):
    """The embedded default (no Redis): database sessions, no user cache, one statement for each."""
    assert settings.USER_CACHE_SECONDS == 0
    client = login(user_factory(roles=[Role.VOLUNTEER]))

    with CaptureQueriesContext(connection) as queries:
        response = client.get(ME)

    assert response.status_code == 200 and response.json()["roles"] == ["volunteer"]
    assert len(queries) == 3, [q["sql"] for q in queries]  # session, user, roles: no "does it exist" first


@pytest.mark.django_db(transaction=True)
def test_a_role_granted_or_revoked_counts_on_the_next_request(user_cache_on, login, user_factory):
    admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER])
    officer = user_factory(roles=[Role.OFFICER])
    as_admin, as_officer = login(admin), login(officer)
    assert as_officer.get(ME).json()["roles"] == ["officer"]

    assert as_admin.delete(f"/api/v1/users/{officer.pk}/roles/officer").status_code == 204
    assert as_officer.get(ME).json()["roles"] == []
    assert as_officer.get("/api/v1/role-grants").status_code == 403

    assert as_admin.post_json(f"/api/v1/users/{officer.pk}/roles", {"role": "mall_manager"}).status_code == 201
    assert as_officer.get(ME).json()["roles"] == ["mall_manager"]

    # and the person's own changes, through the same cache
    assert as_officer.post_json("/api/v1/me/roles", {"role": "volunteer"}).status_code == 201
    assert as_officer.get(ME).json()["roles"] == ["mall_manager", "volunteer"]
    assert as_officer.delete("/api/v1/me/roles/volunteer").status_code == 200
    assert as_officer.get(ME).json()["roles"] == ["mall_manager"]


@pytest.mark.django_db(transaction=True)
def test_a_deactivated_account_is_refused_on_the_next_request(user_cache_on, login, user_factory):
    user = user_factory()
    client = login(user)
    assert client.get(ME).status_code == 200

    user.is_active = False
    user.save()  # as the admin site does

    assert client.get(ME).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_password_change_logs_the_other_sessions_out_at_once(user_cache_on, client_factory, user_factory):
    user = user_factory()
    this_phone, other_phone = client_factory(), client_factory()
    this_phone.login_with_password(str(user.phone))
    other_phone.login_with_password(str(user.phone))
    assert this_phone.get(ME).status_code == 200 and other_phone.get(ME).status_code == 200

    changed = this_phone.post_json(
        "/_allauth/app/v1/account/password/change",
        {"current_password": DEMO_PASSWORD, "new_password": "a-New-pass-2026!"},
    )

    assert changed.status_code == 200, changed.content
    assert other_phone.get(ME).status_code == 401
    # the phone that changed it stays logged in, under the new token allauth hands it (the session key is cycled)
    this_phone.credentials(HTTP_X_SESSION_TOKEN=changed.json()["meta"]["session_token"])
    assert this_phone.get(ME).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_profile_changes_show_on_the_next_request(user_cache_on, login, user_factory):
    client = login(user_factory(display_name="老王"))
    assert client.get(ME).json()["display_name"] == "老王"

    assert client.patch(ME, {"display_name": "王师傅"}, format="json").status_code == 200

    assert client.get(ME).json()["display_name"] == "王师傅"


@pytest.mark.django_db(transaction=True)
def test_a_read_that_overlaps_a_change_is_not_kept(user_cache_on, user_factory):
    """A request that read the user's row just before another committed a change must not cache the old row for
    the next ones: its entry carries the version it started from, which the change replaced."""
    user = user_factory(roles=[Role.OFFICER])
    read_from_the_database = user_cache._entry_from_database

    def read_then_concurrent_revoke(user_id):
        entry = read_from_the_database(user_id)  # the old row: still an officer
        grant = user.role_grants.get(role=Role.OFFICER)  # meanwhile another request revokes the role and commits
        grant.revoked_at = timezone.now()
        grant.save()
        return entry

    with mock.patch.object(user_cache, "_entry_from_database", read_then_concurrent_revoke):
        assert user_cache.user_entry(user.pk)["roles"] == [Role.OFFICER]  # what that request saw

    assert user_cache.user_entry(user.pk)["roles"] == []


@pytest.mark.django_db
def test_the_cached_user_is_a_small_dict_without_the_password_hash(user_cache_on, user_factory):
    user = user_factory(roles=[Role.MERCHANT])

    cached = user_cache.user_for_id(user.pk)
    stored = caches["default"].get(user_cache.entry_key(user.pk))

    assert isinstance(stored, dict) and stored["roles"] == ["merchant"]
    assert "password" not in stored and user.password not in repr(stored)
    assert "password" in cached.get_deferred_fields()  # never saved over by accident: a save writes loaded fields
    assert cached.password == User.objects.get(pk=user.pk).password  # read from the database when needed


@pytest.mark.django_db
def test_me_binds_its_answer_fields_once_not_per_request(redis_cache, login, user_factory):
    """DRF deep-copies and binds a serializer's declared fields for every instance: for /me a sixth of the request's
    CPU. MeOutput's are bound once (config.serializers.SharedFieldsOutputSerializer) and answer the same."""
    user = user_factory(roles=[Role.MERCHANT])
    client = login(user)
    assert client.get(ME).status_code == 200

    with mock.patch("copy.deepcopy", wraps=copy.deepcopy) as deepcopy:
        response = client.get(ME)

    assert response.status_code == 200
    copied = [call for call in deepcopy.call_args_list if call.args and call.args[0] is MeOutput._declared_fields]
    assert copied == []
    # the same answer DRF's own (per-instance) fields give
    expected = serializers.Serializer.to_representation(_PlainMeOutput(), _me_data(User.objects.get(pk=user.pk)))
    assert response.json() == expected and response.json()["roles"] == ["merchant"]


# MeOutput's fields, bound per instance as DRF does.
_PlainMeOutput = type("_PlainMeOutput", (serializers.Serializer,), dict(MeOutput._declared_fields))
