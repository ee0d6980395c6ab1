"""A dispute flag's first rung goes to who is really on duty, nearest first: volunteers checked in to a patrol
shift and police on duty with a position before the mall manager on duty without one; the timeline and the live
event carry each one's distance."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from alliance.models import AllianceMembership
from groups.models import OutboxEvent
from reports.models import CaseEvent
from tests.factories.alliance import MemberRole, member_add
from tests.factories.patrol import offset_position, shift_make, signup_make, team_make, zone_make
from tests.factories.reports import dispute_make

pytestmark = pytest.mark.django_db


def _store_position(street) -> tuple[float, float]:
    return float(street.store.latitude), float(street.store.longitude)


def _checked_in_volunteer(street, user_factory, shift, *, name: str, north_metres: float):
    volunteer = user_factory(roles=[Role.VOLUNTEER], display_name=name)
    member_add(street.alliance, volunteer, MemberRole.VOLUNTEER)
    signup = signup_make(shift=shift, user=volunteer)
    signup.attendance = "on_duty"
    signup.checked_in_at = timezone.now() - timedelta(minutes=20)
    signup.last_latitude, signup.last_longitude = offset_position(*_store_position(street), north_metres=north_metres)
    signup.save()
    return volunteer


@pytest.fixture
def patrol_shift(street):
    zone = zone_make(alliance=street.alliance, centre=_store_position(street))
    return shift_make(
        team=team_make(alliance=street.alliance), zone=zone, starts_at=timezone.now() - timedelta(hours=1)
    )


def _level_one(dispute) -> dict:
    return dispute.events.get(kind=CaseEvent.Kind.NOTIFIED, data__level=1).data


def test_a_flag_near_a_volunteer_reaches_them_first_with_distances(street, user_factory, patrol_shift):
    # given volunteers checked in 800 m and 60 m from the merchant's store, and the mall manager on duty (no
    # position: after them)
    far = _checked_in_volunteer(street, user_factory, patrol_shift, name="远处志愿者", north_metres=800)
    near = _checked_in_volunteer(street, user_factory, patrol_shift, name="附近志愿者", north_metres=60)

    # when the merchant flags a quarrel at their store
    dispute = dispute_make(reporter=street.merchant, alliance=street.alliance, category="quarrel")

    # then level 1 goes to the nearest first, and the timeline says how far each was
    notified = _level_one(dispute)
    assert notified["user_ids"] == [near.pk, far.pk, street.mall_manager.pk]
    assert notified["distance_metres"][0] == pytest.approx(60, abs=2)
    assert notified["distance_metres"][1] == pytest.approx(800, abs=5)
    assert notified["distance_metres"][2] is None
    # and the live case event to each of them carries the same list, so each reads their own distance
    live = [json.loads(row.payload) for row in OutboxEvent.objects.all()]
    case = next(event for event in live if event.get("type") == "case")
    assert case["notified"] == notified
    topics = next(row.topics for row in OutboxEvent.objects.all() if json.loads(row.payload).get("type") == "case")
    assert {f"user.{near.pk}", f"user.{far.pk}", f"user.{street.mall_manager.pk}"} <= set(topics)


def test_an_officer_on_duty_nearer_than_the_volunteer_comes_first(street, user_factory, patrol_shift, login):
    # given a volunteer 300 m away and a police liaison on duty 100 m away
    volunteer = _checked_in_volunteer(street, user_factory, patrol_shift, name="志愿者", north_metres=300)
    officer = user_factory(roles=[Role.OFFICER], display_name="巡逻民警")
    member_add(street.alliance, officer, MemberRole.POLICE_LIAISON)
    latitude, longitude = offset_position(*_store_position(street), east_metres=100)
    login(officer).put(
        f"/api/v1/alliances/{street.alliance.pk}/duty",
        {"on_duty": True, "position": {"latitude": latitude, "longitude": longitude}},
        format="json",
    )

    # when a flag is raised at the store
    dispute = dispute_make(reporter=street.merchant, alliance=street.alliance, category="quarrel")

    # then the officer first, the volunteer next, the unlocated mall manager last
    assert _level_one(dispute)["user_ids"] == [officer.pk, volunteer.pk, street.mall_manager.pk]


def test_a_volunteer_who_flags_is_not_told_of_their_own_flag(street, user_factory, patrol_shift):
    # given a volunteer checked in right at the spot, who raises the flag themselves
    volunteer = _checked_in_volunteer(street, user_factory, patrol_shift, name="志愿者", north_metres=5)
    position = offset_position(*_store_position(street), north_metres=5)

    # when they flag
    dispute = dispute_make(
        reporter=volunteer, alliance=street.alliance, category="quarrel", latitude=position[0], longitude=position[1]
    )

    # then the flag goes to the others on duty only
    assert _level_one(dispute)["user_ids"] == [street.mall_manager.pk]


def test_a_volunteer_whose_shift_is_over_is_not_dispatched_and_the_ladder_climbs(street, user_factory):
    # given nobody on duty but a volunteer checked in to a shift that ended hours ago, and the manager off duty
    zone = zone_make(alliance=street.alliance, centre=_store_position(street))
    ended = shift_make(
        team=team_make(alliance=street.alliance), zone=zone, starts_at=timezone.now() - timedelta(hours=9)
    )
    _checked_in_volunteer(street, user_factory, ended, name="过时志愿者", north_metres=10)
    AllianceMembership.objects.filter(user=street.mall_manager).update(on_duty=False, on_duty_since=None)

    # when a flag is raised
    dispute = dispute_make(reporter=street.merchant, alliance=street.alliance, category="quarrel")

    # then level 1 had nobody: the flag went straight to the community police office
    dispute.refresh_from_db()
    assert dispute.level == 2
    assert dispute.events.get(kind=CaseEvent.Kind.NOTIFIED).data["user_ids"] == [street.office_officer.pk]


def test_level_one_goes_to_the_nearest_few_only(street, user_factory, patrol_shift, monkeypatch):
    # given four volunteers checked in at 400, 40, 200 and 100 m from the store, and level 1 kept to the 2 nearest
    monkeypatch.setattr("reports.selectors.disputes.LEVEL_ONE_NEAREST", 2)
    volunteers = {
        metres: _checked_in_volunteer(street, user_factory, patrol_shift, name=f"{metres}米", north_metres=metres)
        for metres in (400, 40, 200, 100)
    }

    # when the merchant flags
    dispute = dispute_make(reporter=street.merchant, alliance=street.alliance, category="quarrel")

    # then only the two nearest were told at level 1
    assert _level_one(dispute)["user_ids"] == [volunteers[40].pk, volunteers[100].pk]
