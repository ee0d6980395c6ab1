"""A person's audience keys (``alliance/alert_audience.py``) from the shared cache, as ``accounts/user_cache.py``
keeps the user.

Every inbox call (the page, the badge's counts, an alert opened, read or acknowledged) starts from the person's keys.
Working them out is cheap for the database (three indexed statements: memberships, and the zone and group kinds'
one each) but not for Python: building those statements costs about ten times their run (docs/performance.md,
"A person's inbox"). So the keys are kept in the cache, good only while they carry two *versions*:
- the person's own, replaced (after commit) by whatever changes which places they are in: their memberships, the
  stores they staff, their contact groups and patrol teams (the owning apps call :func:`alert_keys_follow`);
- the city's, replaced by what moves many people at once: a police unit's place in the hierarchy, an alliance's
  units, a store (its position, its owner), a zone's boundary or archiving, a team's templates and shifts, a group
  archived.
Both versions and the entry are read in one round trip. Code that writes those rows with ``QuerySet.update`` or
``bulk_create`` sends no signal: the entry then lives at most ``ALERT_KEYS_CACHE_SECONDS`` (five minutes). A person
removed from an alliance loses its alerts at once (their membership row is deleted, which is a signal).

Only with a cache that all processes share (Redis): ``ALERT_KEYS_CACHE_SECONDS`` is 0 on the embedded default, as
``USER_CACHE_SECONDS`` is, and the keys are worked out every time.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from alliance.alert_audience import person_audience_keys

CITY_VERSION_KEY = "pingan:alert-keys:city-version"
_VERSION_SECONDS = 24 * 60 * 60


def _entry_key(user_id: int) -> str:
    return f"pingan:alert-keys:{user_id}:v1"


def _person_version_key(user_id: int) -> str:
    return f"pingan:alert-keys:{user_id}:version"


def _version(key: str, found: dict) -> str | None:
    """The version found, or a new one if there was none (None when a change set one at the same moment)."""
    version = found.get(key)
    if version is None:
        version = secrets.token_hex(8)
        if not cache.add(key, version, _VERSION_SECONDS):
            return None
    return version


def person_audience_keys_cached(*, user) -> dict[str, int]:
    """:func:`alliance.alert_audience.person_audience_keys`, from the cache while both versions hold."""
    seconds = settings.ALERT_KEYS_CACHE_SECONDS
    if not seconds:
        return person_audience_keys(user=user)
    entry_key, person_key = _entry_key(user.pk), _person_version_key(user.pk)
    found = cache.get_many([entry_key, person_key, CITY_VERSION_KEY])
    entry = found.get(entry_key)
    if (
        entry is not None
        and entry.get("person") == found.get(person_key)
        and entry.get("city") == found.get(CITY_VERSION_KEY)
    ):
        return entry["keys"]
    # The versions are read (or made) before the keys are worked out: a change committed in between replaces a
    # version this entry then does not carry, so it is never served.
    person, city = _version(person_key, found), _version(CITY_VERSION_KEY, found)
    keys = person_audience_keys(user=user)
    if person is not None and city is not None:
        cache.set(entry_key, {"person": person, "city": city, "keys": keys}, seconds)
    return keys


def alert_keys_forget_person(user_id: int) -> None:
    """After commit: the person's places changed."""
    transaction.on_commit(lambda: cache.set(_person_version_key(user_id), secrets.token_hex(8), _VERSION_SECONDS))


def alert_keys_forget_city() -> None:
    """After commit: places changed for many people at once."""
    transaction.on_commit(lambda: cache.set(CITY_VERSION_KEY, secrets.token_hex(8), _VERSION_SECONDS))


def alert_keys_follow(model, *, person_field: str | None = None) -> None:
    """Replace a version whenever a row of ``model`` is saved or deleted: the person's named by ``person_field``
    (``"user_id"``), else the city's. Called from an ``AppConfig.ready()``."""

    def changed(sender, instance, **kwargs) -> None:
        if not settings.ALERT_KEYS_CACHE_SECONDS:
            return
        if person_field is None:
            alert_keys_forget_city()
        else:
            alert_keys_forget_person(getattr(instance, person_field))

    uid = f"alert-keys:{model._meta.label}"
    post_save.connect(changed, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(changed, sender=model, weak=False, dispatch_uid=uid)
