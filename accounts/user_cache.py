"""The signed-in user with their roles, read from a short cache instead of two queries on every request.

Every API call and socket authenticates: session -> user row -> live roles. The session already comes from the
cache (cached_db); this keeps the user's fields and roles there too, as a small dict per user (never the password
hash: the instance built from it loads that field from the database if anyone asks).

A change must count on the very next request, in every process: a role granted or revoked, an account deactivated
or deleted, a password changed (which logs the other sessions out). So an entry is only good while it carries the
user's current *version*, a random token in the shared cache that every change to the user or their roles replaces
once it has committed (the ``post_save``/``post_delete`` receivers below; code that writes with ``QuerySet.update``
calls :func:`user_cache_forget` itself). Both are read in one round trip. A request that read the row just before a
change committed stores its entry under the version it started from, which the change has replaced: it is never
served.

Only with a cache that all processes share (Redis): ``USER_CACHE_SECONDS`` is 0 on the embedded default, whose
memory cache another process (a worker, a management command) could not make stale, and the user is read from the
database as before. If Redis is unreachable the cache answers nothing and the user comes from the database; a change
made while Redis was away counts within ``USER_CACHE_SECONDS`` once it is back.
"""

from __future__ import annotations

import secrets
from functools import cache as memoise

from allauth.core.internal.sessionkit import get_session_user
from allauth.headless.internal import sessionkit
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.core.cache import DEFAULT_CACHE_ALIAS, cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils.crypto import constant_time_compare
from django.utils.module_loading import import_string

from accounts.models import RoleGrant, User

# The user's own columns, as the instance needs them; the password stays in the database (deferred).
_FIELDS = tuple(field.attname for field in User._meta.concrete_fields if field.attname != "password")
# An entry outlives no version: a version that is gone (expired, evicted) reads as "no entry".
_VERSION_SECONDS = 24 * 60 * 60


def entry_key(user_id) -> str:
    return f"pingan:user:{user_id}:v1"  # v1: the entry's layout; another layout takes another name


def _version_key(user_id) -> str:
    return f"pingan:user:{user_id}:version"


def _entry_from_database(user_id) -> dict | None:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return None
    entry = {name: getattr(user, name) for name in _FIELDS}
    entry["phone"] = str(user.phone) if user.phone else None
    entry["roles"] = sorted(RoleGrant.objects.active().filter(user_id=user_id).values_list("role", flat=True))
    # What a session stores to prove it was made with the current password (django.contrib.auth.get_user).
    entry["session_auth_hash"] = user.get_session_auth_hash()
    return entry


def user_entry(user_id, *, found: dict | None = None) -> dict | None:
    """The user's fields, live roles and session auth hash, or None when there is no such user. ``found``: the cache's
    answer for this user's keys when the caller has read them already (:func:`session_with_user`)."""
    seconds = settings.USER_CACHE_SECONDS
    if not seconds:
        return _entry_from_database(user_id)
    key, version_key = entry_key(user_id), _version_key(user_id)
    if found is None:
        found = cache.get_many([key, version_key])
    version, entry = found.get(version_key), found.get(key)
    if entry is not None and version is not None and entry.pop("version", None) == version:
        return entry
    if version is None:
        version = secrets.token_hex(8)
        if not cache.add(version_key, version, _VERSION_SECONDS):
            version = None  # a change or another request set one just now: keep nothing this time
    entry = _entry_from_database(user_id)
    if entry is not None and version is not None:
        cache.set(key, {**entry, "version": version}, seconds)
    return entry


def _user_from_entry(entry: dict) -> User:
    user = User.from_db("default", _FIELDS, [entry[name] for name in _FIELDS])
    user._pingan_roles = frozenset(entry["roles"])  # what accounts.permissions.user_roles reads
    return user


def user_for_id(user_id) -> User | None:
    entry = user_entry(user_id)
    return None if entry is None else _user_from_entry(entry)


@memoise
def _loads_users_as_model_backend(backend_path: str) -> bool:
    return import_string(backend_path).get_user is ModelBackend.get_user


def session_user(session, *, found: tuple | None = None) -> User | None:
    """The session's signed-in user, as ``django.contrib.auth.get_user`` finds them, or None.

    The usual case (a backend that loads users as ModelBackend does, an active user, the session made with the
    current password) is answered from the cache; anything else goes Django's own way, which also rotates sessions
    made under an old SECRET_KEY and ends those made with an old password.
    """
    try:
        user_id = User._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except (KeyError, ValidationError):
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    if _loads_users_as_model_backend(backend_path):
        entry = user_entry(user_id, found=found[1] if found is not None and found[0] == user_id else None)
        if entry is None or not entry["is_active"]:
            return None  # what ModelBackend.get_user answers
        session_hash = session.get(HASH_SESSION_KEY)
        if session_hash and constant_time_compare(session_hash, entry["session_auth_hash"]):
            return _user_from_entry(entry)
    return get_session_user(session)


# The user of each session token this process has authenticated. A session key never changes its user (logging in
# as someone else makes a new key: django.contrib.auth.login), so the user's keys can be read together with the
# session in one round trip. Only a hint: the session that comes back must name the same user, or it is not used.
_SESSION_USERS: dict[str, int] = {}
_SESSION_USERS_MAX = 50_000  # a few MB at most; forgotten all at once when full (each token costs one more round trip)


def _session_read_with_user() -> bool:
    """Whether the session is read through the cache the user entries live in (cached_db on the default cache)."""
    return (
        bool(settings.USER_CACHE_SECONDS)
        and settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
        and settings.SESSION_CACHE_ALIAS == DEFAULT_CACHE_ALIAS
    )


def session_with_user(token: str) -> tuple | None:
    """(session, user) for a session token, None when the session is missing or expired or has no user who may log
    in: allauth's one-load session lookup (accounts/authentication.py) and :func:`session_user`.

    When this process has seen the token before, the session, the user's entry and their version are read in one
    ``MGET`` instead of a ``GET`` and an ``MGET``: one Redis round trip per request. The session comes from the
    cache as cached_db would load it (a session that is not in the cache is loaded the usual way, from the database),
    so a session deleted or expired counts at once, as before."""
    session = sessionkit.session_store(token)
    user_id = _SESSION_USERS.get(token)
    found = None
    if user_id is not None and session.session_key == token and _session_read_with_user():
        session_key, key, version_key = session.cache_key, entry_key(user_id), _version_key(user_id)
        read = cache.get_many([session_key, key, version_key])
        data = read.pop(session_key, None)
        if data is not None:
            session._session_cache = data  # what SessionStore.load would have read from the cache
            found = (user_id, read)
    session.get(SESSION_KEY)  # loads it (when not read above); a missing or expired session clears its key
    if not session.session_key:
        return None
    user = session_user(session, found=found)
    if user is None:
        return None
    if user_id != user.pk and settings.USER_CACHE_SECONDS:
        if len(_SESSION_USERS) >= _SESSION_USERS_MAX:
            _SESSION_USERS.clear()
        _SESSION_USERS[token] = user.pk
    return (session, user)


def user_cache_forget(user_id) -> None:
    """The user's cached entry is stale from now on, in every process: once the current transaction commits (a read
    made before the commit must not be kept under the new version)."""
    if user_id is None:
        return
    transaction.on_commit(lambda: cache.set(_version_key(user_id), secrets.token_hex(8), _VERSION_SECONDS), robust=True)


def _user_changed(sender, instance, **kwargs) -> None:
    user_cache_forget(instance.pk)


def _roles_changed(sender, instance, **kwargs) -> None:
    user_cache_forget(instance.user_id)


def connect_signals() -> None:
    """From AccountsConfig.ready(): every save or delete of a user or a role grant, wherever it is made (services,
    the admin site, allauth's password change)."""
    post_save.connect(_user_changed, sender=User, dispatch_uid="user_cache_user_saved")
    post_delete.connect(_user_changed, sender=User, dispatch_uid="user_cache_user_deleted")
    post_save.connect(_roles_changed, sender=RoleGrant, dispatch_uid="user_cache_roles_saved")
    post_delete.connect(_roles_changed, sender=RoleGrant, dispatch_uid="user_cache_roles_deleted")
