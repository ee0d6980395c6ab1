"""The audience's size counted after an alert goes out (``alert_audience_count``): people, not memberships."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.models import Role
from alliance.alert_audience import AudienceSpec, audience_keys_of_spec
from alliance.models import Alert, AlertAudience
from alliance.services.alerts import alert_audience_count
from tests.factories.alliance import MemberRole, alliance_make, member_add
from tests.fixtures.street import build_street

pytestmark = pytest.mark.django_db


def _sent_alert(*, station, spec: AudienceSpec) -> Alert:
    now = timezone.now()
    alert = Alert.objects.create(
        station=station, kind="anti_fraud", title="警惕冒充公检法诈骗", body="公安机关不会电话办案。",
        audience=spec.as_json(), status=Alert.Status.PUBLISHED, publish_at=now, published_at=now, sent_at=now,
    )  # fmt: skip
    AlertAudience.objects.bulk_create(
        [
            AlertAudience(alert=alert, kind=k, target_id=t, role=r, key=key)
            for k, t, r, key in audience_keys_of_spec(spec)
        ]
    )
    return alert


def test_a_person_in_two_alliances_of_the_audience_counts_once(user_factory):
    # given: the street's three members, and a second alliance under the same station where the merchant and a
    # volunteer are members
    street = build_street(user_factory, name="青果巷联盟", slug="qingguo")
    second = alliance_make(name="南大街联盟", slug="nandajie", station=street.station)
    member_add(second, street.merchant, MemberRole.MERCHANT)
    member_add(second, user_factory(roles=[Role.VOLUNTEER]), MemberRole.VOLUNTEER)
    alert = _sent_alert(station=street.station, spec=AudienceSpec(stations=[street.station.pk]))

    # when
    counted = alert_audience_count(alert_id=alert.pk)

    # then: merchant, other merchant, mall manager, the volunteer; five memberships, four people
    assert counted == 4
    alert.refresh_from_db()
    assert alert.targeted_count == 4
