"""A person's audience keys come from the shared cache while nothing that places them changed; any change that does
counts on the next call (alliance/alert_audience_cache.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alliance.alert_audience_cache import person_audience_keys_cached
from alliance.selectors.alerts import inbox_for
from alliance.services.members import alliance_member_remove
from tests.factories.alerts import alert_make
from tests.factories.alliance import MemberRole, member_add
from tests.factories.patrol import zone_make
from tests.servers import use_production_cache

pytestmark = pytest.mark.needs_redis


@pytest.fixture
def keys_cache(settings):
    use_production_cache(settings, settings.TEST_REDIS_URL)
    settings.ALERT_KEYS_CACHE_SECONDS = 300


@pytest.fixture
def street(ledger_street):
    return ledger_street


def _statements(user) -> int:
    with CaptureQueriesContext(connection) as captured:
        person_audience_keys_cached(user=user)
    return len(captured)


def test_the_keys_are_read_once_then_from_the_cache(keys_cache, street):
    # given the keys worked out once
    first = person_audience_keys_cached(user=street.merchant)

    # then the next call reads no database at all, and answers the same
    assert _statements(street.merchant) == 0
    assert person_audience_keys_cached(user=street.merchant) == first


def test_without_the_setting_the_keys_are_worked_out_every_time(street, settings):
    assert settings.ALERT_KEYS_CACHE_SECONDS == 0
    person_audience_keys_cached(user=street.merchant)

    assert _statements(street.merchant) > 0


def test_a_person_who_leaves_the_alliance_loses_its_alerts_at_once(
    keys_cache, street, django_capture_on_commit_callbacks
):
    # given an alert to the alliance, in the merchant's inbox with the keys cached
    alert = alert_make(actor=street.police_admin, station=street.station, audience={"alliances": [street.alliance.pk]})
    assert [each.pk for each in inbox_for(user=street.other_merchant).alerts] == [alert.pk]

    # when they leave (their membership row goes, after commit)
    with django_capture_on_commit_callbacks(execute=True):
        alliance_member_remove_as_admin(street, street.other_merchant)

    # then their next inbox has nothing
    assert list(inbox_for(user=street.other_merchant).alerts) == []


def alliance_member_remove_as_admin(street, user) -> None:
    from alliance.models import AllianceMembership
    from alliance.selectors.alliances import alliance_access_for

    membership = AllianceMembership.objects.get(alliance=street.alliance, user=user)
    alliance_member_remove(
        actor=street.police_admin,
        access=alliance_access_for(user=street.police_admin, alliance=street.alliance),
        membership=membership,
    )


def test_a_new_zone_over_a_store_counts_on_the_next_call(keys_cache, street, django_capture_on_commit_callbacks):
    # given the merchant's keys cached, no zone yet
    before = person_audience_keys_cached(user=street.merchant)
    assert not any(key.startswith("zone:") for key in before)

    # when a zone is drawn over the street (the store inside it)
    with django_capture_on_commit_callbacks(execute=True):
        store = street.store
        zone = zone_make(
            alliance=street.alliance, by=street.police_admin, centre=(float(store.latitude), float(store.longitude))
        )

    # then the next call knows the merchant is in it
    after = person_audience_keys_cached(user=street.merchant)
    assert f"zone:{zone.pk}" in after and f"zone:{zone.pk}:merchant" in after


def test_joining_another_alliance_counts_on_the_next_call(
    keys_cache, street, other_street, django_capture_on_commit_callbacks
):
    person_audience_keys_cached(user=street.merchant)

    with django_capture_on_commit_callbacks(execute=True):
        member_add(other_street.alliance, street.merchant, MemberRole.MERCHANT)

    assert f"alliance:{other_street.alliance.pk}" in person_audience_keys_cached(user=street.merchant)
