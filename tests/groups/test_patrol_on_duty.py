"""Who is on duty now, nearest first: volunteers checked in to a shift covering now, police and mall managers on
duty by the switch (with the position they send), the on-duty list for the police, and the live ``on_duty`` events.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from alliance.models import AllianceMembership
from config.coordinates import gcj02_to_wgs84, wgs84_to_gcj02
from config.times import ApiJSONEncoder
from groups.models import ShiftSignup
from groups.selectors.patrol_on_duty import responders_on_duty
from groups.services import patrol_on_duty
from groups.services.patrol_on_duty import on_duty_changed
from tests.factories.alliance import MemberRole, member_add
from tests.factories.patrol import FENGMING_CENTRE, offset_position, shift_make, signup_make, team_make, zone_make

pytestmark = pytest.mark.django_db


def _shift(alliance, *, zone=None, started_hours_ago: float = 1, hours: float = 4):
    zone = zone or zone_make(alliance=alliance)
    team = team_make(alliance=alliance)
    return shift_make(team=team, zone=zone, starts_at=timezone.now() - timedelta(hours=started_hours_ago), hours=hours)


def _checked_in(shift, user, *, north_metres: float | None = None, minutes_ago: float = 30, attendance="on_duty"):
    """``user`` signed up and checked in ``minutes_ago``, last seen ``north_metres`` north of the street's centre
    (None: no position yet), as the check-in service leaves the sign-up."""
    signup = signup_make(shift=shift, user=user)
    signup.attendance = attendance
    signup.checked_in_at = timezone.now() - timedelta(minutes=minutes_ago)
    if north_metres is not None:
        signup.last_latitude, signup.last_longitude = offset_position(*FENGMING_CENTRE, north_metres=north_metres)
    signup.save()
    return signup


def _volunteer(user_factory, alliance, name: str):
    user = user_factory(roles=[Role.VOLUNTEER], display_name=name)
    member_add(alliance, user, MemberRole.VOLUNTEER)
    return user


def _liaison(user_factory, alliance, name: str = "巡逻民警"):
    officer = user_factory(roles=[Role.OFFICER], display_name=name)
    member_add(alliance, officer, MemberRole.POLICE_LIAISON)
    return officer


def _duty(client, alliance, body: dict):
    return client.put(f"/api/v1/alliances/{alliance.pk}/duty", body, format="json")


# --- the selector -------------------------------------------------------------------------------------------------


def test_volunteers_checked_in_come_nearest_first_with_their_distance(street, user_factory):
    # given three volunteers checked in to tonight's shift: 500 m, 100 m away, and one not located yet; and the
    # street's mall manager on duty without a position
    shift = _shift(street.alliance)
    far, near, unknown = (_volunteer(user_factory, street.alliance, name) for name in ("远", "近", "未定位"))
    _checked_in(shift, far, north_metres=500)
    _checked_in(shift, near, north_metres=100)
    _checked_in(shift, unknown, minutes_ago=60)

    # when the responders near the street's centre are asked for
    responders = responders_on_duty(alliance_id=street.alliance.pk, near=FENGMING_CENTRE)

    # then the located come nearest first with their distance, then the others longest on duty first
    assert [r.user_id for r in responders] == [near.pk, far.pk, unknown.pk, street.mall_manager.pk]
    assert [r.distance_metres for r in responders[:2]] == [pytest.approx(100, abs=2), pytest.approx(500, abs=2)]
    assert responders[2].distance_metres is None and responders[3].distance_metres is None
    assert responders[0].kind == "volunteer" and responders[0].shift_id == shift.pk
    assert responders[0].zone_id == shift.zone_id and responders[3].kind == "mall_manager"


def test_only_volunteers_checked_in_now_to_this_alliance_count(street, other_street, user_factory):
    # given volunteers: checked in here (the one who counts), checked in to another alliance's shift, checked out,
    # signed up but not checked in, checked in to a shift that ended hours ago (never closed), and one whose
    # volunteer membership carries the old manual on-duty flag
    here = _shift(street.alliance)
    elsewhere = _shift(other_street.alliance)
    over = _shift(street.alliance, started_hours_ago=8, hours=4)
    counted, foreign, done, expected, stale, manual = (
        _volunteer(user_factory, street.alliance, name) for name in ("在岗", "外盟", "已签退", "未签到", "过时", "手动")
    )
    _checked_in(here, counted, north_metres=10)
    _checked_in(elsewhere, foreign, north_metres=10)
    _checked_in(here, done, north_metres=10, attendance=ShiftSignup.Attendance.DONE)
    signup_make(shift=here, user=expected)
    _checked_in(over, stale, north_metres=10, minutes_ago=400)
    AllianceMembership.objects.filter(alliance=street.alliance, user=manual).update(
        on_duty=True, on_duty_since=timezone.now()
    )

    # when the alliance's responders are read
    volunteers = [r.user_id for r in responders_on_duty(alliance_id=street.alliance.pk) if r.kind == "volunteer"]

    # then only the one checked in now to this alliance's shift is there
    assert volunteers == [counted.pk]


def test_a_zone_narrows_the_volunteers_and_the_reporter_is_left_out(street, user_factory):
    # given a volunteer on a shift in each of two zones, and a police liaison on duty
    red = zone_make(alliance=street.alliance, name="红区")
    blue = zone_make(alliance=street.alliance, name="蓝区", centre=offset_position(*FENGMING_CENTRE, east_metres=900))
    in_red, in_blue = _volunteer(user_factory, street.alliance, "红"), _volunteer(user_factory, street.alliance, "蓝")
    _checked_in(_shift(street.alliance, zone=red), in_red, north_metres=10)
    _checked_in(_shift(street.alliance, zone=blue), in_blue, north_metres=10)

    # when the red zone is asked for, leaving out the mall manager (as a flag leaves out its reporter)
    responders = responders_on_duty(
        alliance_id=street.alliance.pk, zone_id=red.pk, exclude_user_ids=[street.mall_manager.pk]
    )

    # then only the red zone's volunteer; police are on no zone (none here), the mall manager left out
    assert [r.user_id for r in responders] == [in_red.pk]


def test_the_lookup_costs_one_query_however_many_are_on_duty(street, user_factory, django_assert_num_queries):
    # given 12 volunteers checked in and the mall manager on duty
    shift = _shift(street.alliance)
    for number in range(12):
        _checked_in(shift, _volunteer(user_factory, street.alliance, f"志愿者{number}"), north_metres=10 * number)

    # when the responders are read, then one query: the check-ins and the duty switch together
    with django_assert_num_queries(1):
        responders = responders_on_duty(alliance_id=street.alliance.pk, near=FENGMING_CENTRE)
    assert len(responders) == 13


# --- the duty switch with a position ------------------------------------------------------------------------------


def test_police_on_duty_send_a_position_in_gcj02_and_come_in_distance_order(street, user_factory, login):
    # given two officers going on duty, one 300 m north sending Amap's GCJ-02, one 50 m north sending GPS
    far_officer, near_officer = _liaison(user_factory, street.alliance, "远"), _liaison(user_factory, street.alliance)
    far_wgs = offset_position(*FENGMING_CENTRE, north_metres=300)
    far_gcj = wgs84_to_gcj02(*far_wgs)
    near_wgs = offset_position(*FENGMING_CENTRE, north_metres=50)

    # when they go on duty with their positions
    far = _duty(
        login(far_officer),
        street.alliance,
        {
            "on_duty": True,
            "position": {"latitude": far_gcj[0], "longitude": far_gcj[1], "coordinate_system": "gcj02"},
        },
    )
    near = _duty(
        login(near_officer),
        street.alliance,
        {"on_duty": True, "position": {"latitude": near_wgs[0], "longitude": near_wgs[1]}},
    )

    # then the GCJ-02 position is stored as WGS-84, and they come nearest first before the unlocated mall manager
    assert far.status_code == 200 and near.status_code == 200, (far.content, near.content)
    stored = AllianceMembership.objects.get(alliance=street.alliance, user=far_officer)
    assert stored.duty_latitude == pytest.approx(far_wgs[0], abs=1e-6)
    assert stored.duty_longitude == pytest.approx(far_wgs[1], abs=1e-6)
    responders = responders_on_duty(alliance_id=street.alliance.pk, near=FENGMING_CENTRE)
    assert [r.user_id for r in responders] == [near_officer.pk, far_officer.pk, street.mall_manager.pk]
    assert [r.distance_metres for r in responders[:2]] == [pytest.approx(50, abs=2), pytest.approx(300, abs=2)]
    assert responders[0].kind == "police_liaison"


def test_a_new_position_while_on_duty_moves_it_and_going_off_duty_forgets_it(street, user_factory, login):
    # given an officer on duty at one place
    officer = _liaison(user_factory, street.alliance)
    client = login(officer)
    first = _duty(client, street.alliance, {"on_duty": True, "position": {"latitude": 30.9, "longitude": 121.4}})

    # when they send another position, then go off duty, then send a position while off duty
    moved = _duty(client, street.alliance, {"on_duty": True, "position": {"latitude": 30.95, "longitude": 121.45}})
    stored_moved = AllianceMembership.objects.get(alliance=street.alliance, user=officer)
    off = _duty(client, street.alliance, {"on_duty": False})
    stored_off = AllianceMembership.objects.get(alliance=street.alliance, user=officer)
    position_while_off = _duty(
        client, street.alliance, {"on_duty": False, "position": {"latitude": 30.95, "longitude": 121.45}}
    )

    # then the position moved and the time on duty stayed; off duty it is gone; a position needs being on duty
    assert moved.json()["on_duty_since"] == first.json()["on_duty_since"]
    assert (stored_moved.duty_latitude, stored_moved.duty_longitude) == (30.95, 121.45)
    assert off.status_code == 200
    assert (stored_off.duty_latitude, stored_off.duty_longitude, stored_off.duty_position_at) == (None, None, None)
    assert position_while_off.status_code == 400
    assert position_while_off.json()["code"] == "position_when_on_duty"


@pytest.mark.parametrize(
    "position",
    [
        {"latitude": 91, "longitude": 121.4},
        {"latitude": 30.9, "longitude": -181},
        {"latitude": "NaN", "longitude": 121.4},
        {"latitude": 30.9, "longitude": 121.4, "coordinate_system": "bd09"},
        {"latitude": 30.9},
        {"latitude": 30.9, "longitude": 121.4, "accuracy": 5},
    ],
)
def test_a_bad_duty_position_is_refused_with_the_field_named(street, user_factory, login, position):
    officer = _liaison(user_factory, street.alliance)

    response = _duty(login(officer), street.alliance, {"on_duty": True, "position": position})

    assert response.status_code == 400
    assert all(field.startswith("position.") for field in response.json()["fields"])
    assert not AllianceMembership.objects.get(alliance=street.alliance, user=officer).on_duty


def test_a_volunteer_cannot_switch_on_duty_by_hand_but_can_switch_off(street, user_factory, login):
    # given a volunteer whose membership still carries an old manual on-duty flag
    volunteer = _volunteer(user_factory, street.alliance, "志愿者")
    AllianceMembership.objects.filter(user=volunteer).update(on_duty=True, on_duty_since=timezone.now())
    client = login(volunteer)

    # when they switch on, then off
    on = _duty(client, street.alliance, {"on_duty": True})
    off = _duty(client, street.alliance, {"on_duty": False})

    # then on is refused with the reason (check in to a shift instead), off clears the old flag
    assert on.status_code == 403 and on.json()["code"] == "volunteer_duty_by_check_in"
    assert off.status_code == 200 and off.json()["on_duty"] is False


# --- the on-duty list ---------------------------------------------------------------------------------------------


def test_the_office_officer_reads_who_is_on_duty_nearest_first(street, user_factory, login):
    # given a volunteer checked in 200 m north of the centre and a police liaison on duty 20 m north
    volunteer = _volunteer(user_factory, street.alliance, "志愿者")
    _checked_in(_shift(street.alliance), volunteer, north_metres=200)
    officer = _liaison(user_factory, street.alliance)
    here = offset_position(*FENGMING_CENTRE, north_metres=20)
    _duty(login(officer), street.alliance, {"on_duty": True, "position": {"latitude": here[0], "longitude": here[1]}})
    near = wgs84_to_gcj02(*FENGMING_CENTRE)

    # when the officer posted to the alliance's office (not a member) asks near the centre, in GCJ-02
    response = login(street.office_officer).get(
        f"/api/v1/alliances/{street.alliance.pk}/on-duty",
        {"near": f"{near[0]},{near[1]}", "coordinate_system": "gcj02"},
    )

    # then everyone on duty, nearest first, with distances measured from the converted position
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 3
    rows = body["results"]
    assert [row["user"]["id"] for row in rows] == [officer.pk, volunteer.pk, street.mall_manager.pk]
    assert [row["distance_metres"] for row in rows] == [pytest.approx(20, abs=1), pytest.approx(200, abs=1), None]
    assert rows[1]["kind"] == "volunteer" and rows[1]["shift"] is not None and rows[1]["location"] is not None
    assert rows[2]["location"] is None


def test_the_on_duty_list_is_for_the_police_admins_and_responders_only(street, other_street, login, user_factory):
    url = f"/api/v1/alliances/{street.alliance.pk}/on-duty"

    merchant = login(street.merchant).get(url)
    other_officer = login(other_street.office_officer).get(url)
    other_merchant = login(other_street.merchant).get(url)
    manager = login(street.mall_manager).get(url)
    station_officer = login(street.station_officer).get(url)

    assert merchant.status_code == 403  # a member, who is not told where the patrol is
    assert other_officer.status_code == 404 and other_merchant.status_code == 404
    assert manager.status_code == 200 and station_officer.status_code == 200


@pytest.mark.parametrize(
    "query",
    [{"near": "30.9"}, {"near": "abc,121"}, {"near": "95,121"}, {"near": "nan,121"}, {"limit": 0}, {"zone": "x"}],
)
def test_bad_on_duty_queries_are_refused(street, login, query):
    response = login(street.office_officer).get(f"/api/v1/alliances/{street.alliance.pk}/on-duty", query)

    assert response.status_code == 400
    assert set(query) <= set(response.json()["fields"])


def test_another_alliances_zone_is_not_found(street, other_street, login):
    zone = zone_make(alliance=other_street.alliance)

    response = login(street.office_officer).get(f"/api/v1/alliances/{street.alliance.pk}/on-duty", {"zone": zone.pk})

    assert response.status_code == 404


# --- live -------------------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def published(monkeypatch):
    """Every on_duty event the service hands to ``event_publish`` (topics, event), which still publishes it: the
    event is not an outbox row (a lost one is redrawn by the list), so the test reads it where it is sent."""
    sent = []
    publish = patrol_on_duty.event_publish

    def recording(*, topics, event, **options):
        if topics:  # an event for nobody is not sent (event_publish returns at once)
            sent.append((set(topics), json.loads(json.dumps(event, cls=ApiJSONEncoder)), options))
        publish(topics=topics, event=event, **options)

    monkeypatch.setattr(patrol_on_duty, "event_publish", recording)
    return sent


def _on_duty_events(published) -> list[tuple[set[str], dict]]:
    assert all(options == {} for _topics, _event, options in published)  # published on commit, kept if that fails
    return [(topics, event) for topics, event, _options in published if event.get("type") == "on_duty"]


def test_a_check_in_reaches_the_police_of_the_office_and_station_after_commit(
    street, user_factory, django_capture_on_commit_callbacks, published
):
    # given a volunteer checking in on a shift of the alliance
    volunteer = _volunteer(user_factory, street.alliance, "志愿者")
    signup = _checked_in(_shift(street.alliance), volunteer, north_metres=30)

    # when the check-in service announces it inside its transaction
    with django_capture_on_commit_callbacks() as callbacks:
        on_duty_changed(signup=signup, change="checked_in")

    # then one event, after commit, to the officers of the office and the station, with the responder as the list shows
    events = _on_duty_events(published)
    assert len(events) == 1 and callbacks
    topics, event = events[0]
    assert topics == {f"user.{street.office_officer.pk}", f"user.{street.station_officer.pk}"}
    assert event["alliance"] == street.alliance.pk and event["change"] == "checked_in"
    assert event["responder"]["user"]["id"] == volunteer.pk and event["responder"]["kind"] == "volunteer"
    assert event["responder"]["shift"] == signup.shift_id and event["responder"]["location"] is not None


def test_police_going_on_and_off_duty_are_announced_and_a_volunteers_switch_is_not(
    street, user_factory, login, published
):
    # given an officer who is a police liaison, and the alliance's admin
    officer = _liaison(user_factory, street.alliance)
    admin = user_factory(roles=[Role.MERCHANT], display_name="联盟管理员")
    member_add(street.alliance, admin, MemberRole.ADMIN)
    volunteer = _volunteer(user_factory, street.alliance, "志愿者")
    AllianceMembership.objects.filter(user=volunteer).update(on_duty=True, on_duty_since=timezone.now())

    # when the officer goes on duty, moves, goes off duty; and the volunteer switches off the old flag
    client = login(officer)
    _duty(client, street.alliance, {"on_duty": True, "position": {"latitude": 30.9, "longitude": 121.4}})
    _duty(client, street.alliance, {"on_duty": True, "position": {"latitude": 30.91, "longitude": 121.4}})
    _duty(client, street.alliance, {"on_duty": False})
    _duty(login(volunteer), street.alliance, {"on_duty": False})

    # then three events, on / moved / off, to the office and station officers and the admin; none for the volunteer
    events = _on_duty_events(published)
    assert [event["change"] for _, event in events] == ["on", "moved", "off"]
    watchers = {f"user.{user.pk}" for user in (street.office_officer, street.station_officer, admin)}
    assert all(topics == watchers for topics, _ in events)
    assert events[0][1]["responder"]["kind"] == "police_liaison"
    assert events[1][1]["responder"]["location"] == {"latitude": 30.91, "longitude": 121.4}
    assert events[2][1]["responder"]["location"] is None


def test_gcj02_round_trip_used_by_these_tests_is_sub_millimetre():
    # the conversions the tests rely on agree with each other (config/coordinates.py has the known points)
    wgs = offset_position(*FENGMING_CENTRE, north_metres=300)
    back = gcj02_to_wgs84(*wgs84_to_gcj02(*wgs))
    assert back == pytest.approx(wgs, abs=1e-8)


def test_a_limit_keeps_the_nearest_and_counts_everyone(street, user_factory, login):
    # given three volunteers checked in at 300, 30 and 150 m, and the mall manager on duty without a position
    shift = _shift(street.alliance)
    people = {}
    for metres in (300, 30, 150):
        people[metres] = _volunteer(user_factory, street.alliance, f"{metres}米")
        _checked_in(shift, people[metres], north_metres=metres)

    # when the office officer asks for the 2 nearest to the centre
    response = login(street.office_officer).get(
        f"/api/v1/alliances/{street.alliance.pk}/on-duty",
        {"near": f"{FENGMING_CENTRE[0]},{FENGMING_CENTRE[1]}", "limit": 2},
    )

    # then the two nearest, chosen by the database, and the count of all four on duty
    body = response.json()
    assert [row["user"]["id"] for row in body["results"]] == [people[30].pk, people[150].pk]
    assert body["count"] == 4
