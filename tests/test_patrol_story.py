"""Issue 11's story in the demo city, end to end through the API, as the phones and the police clients do it.

A volunteer signs up for tonight's Fengming Golden Street shift, checks in from inside the zone (refused from 2 km
away and with a mock location), scans the route's checkpoints (a replayed scan refused), logs a hidden danger (an
incident report the police see), is on duty for the police, gets a merchant's flag nearby first, and checks out with
verified hours.

The clock is moved by patching ``django.utils.timezone.now``: every service reads the time through it, and the story
needs 22:00 in Asia/Shanghai whatever the hour of the test run.
"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command

from accounts.models import User
from alliance.management.commands.seed_demo import DEMO_PASSWORD, FENGMING
from alliance.models import Alliance, Store
from config.times import api_datetime
from groups.demo_patrol import TEAM, tonight_starts
from groups.models import PatrolRoute, Shift, ShiftSignup
from reports.models import CaseEvent, Incident
from tests.conftest import PinganClient
from tests.factories.patrol import offset_position

VOLUNTEER = "+8613800000036"  # 义警小刘: not on tonight's roster in the demo, signs up from the app
POLICE_ADMIN = "+8613800000001"
MERCHANT = "+8613800000116"  # 李老板 of 花漾花店


def _client(phone: str) -> PinganClient:
    client = PinganClient()
    client.login_with_password(phone, DEMO_PASSWORD)
    return client


def _at(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def _fix(latitude: float, longitude: float, moment, **extra) -> dict:
    return {
        "latitude": latitude,
        "longitude": longitude,
        "accuracy": 10,
        "device_time": api_datetime(moment),
        "mock_location": False,
        **extra,
    }


@pytest.mark.django_db
def test_a_volunteers_night_on_fengming_golden_street():
    # given the demo city
    call_command("seed_demo", verbosity=0)
    alliance = Alliance.objects.get(slug=FENGMING)
    shift = Shift.objects.get(team__name=TEAM, starts_at=tonight_starts())
    route = PatrolRoute.objects.get(pk=shift.route_id)
    checkpoints = list(route.checkpoints.order_by("position"))
    store = Store.objects.get(alliance=alliance, name="花漾花店")
    street = (float(store.latitude), float(store.longitude))
    volunteer = User.objects.get(phone=VOLUNTEER)
    phone, police, merchant = _client(VOLUNTEER), _client(POLICE_ADMIN), _client(MERCHANT)

    # when the volunteer signs up in the afternoon for a mobile place
    with _at(shift.starts_at - timedelta(hours=5)):
        signed_up = phone.post_json(f"/api/v1/shifts/{shift.pk}/signups", {"role": "mobile"})
    assert signed_up.status_code == 201, signed_up.content
    assert ShiftSignup.objects.get(shift=shift, user=volunteer).status == "confirmed"

    # and tries to check in at 22:05 from 2 km away, then with a mock location, then from the street
    moment = shift.starts_at + timedelta(minutes=5)
    with _at(moment):
        far = phone.post_json(
            f"/api/v1/shifts/{shift.pk}/check-in", _fix(*offset_position(*street, north_metres=2000), moment)
        )
        mocked = phone.post_json(f"/api/v1/shifts/{shift.pk}/check-in", _fix(*street, moment, mock_location=True))
        checked_in = phone.post_json(f"/api/v1/shifts/{shift.pk}/check-in", _fix(*street, moment))
        on_duty = police.get(f"/api/v1/alliances/{alliance.pk}/on-duty")

    # then the first two are refused with their reasons, the third accepted, and the police see the volunteer on duty
    assert (far.status_code, far.json()["code"]) == (422, "outside_zone")
    assert far.json()["figures"]["metres_outside"] > 1000
    assert (mocked.status_code, mocked.json()["code"]) == (422, "mock_location")
    assert checked_in.status_code == 200, checked_in.content
    assert on_duty.status_code == 200, on_duty.content
    assert volunteer.pk in [item["user"]["id"] for item in _items(on_duty.json())]

    # when they walk the main line scanning each checkpoint (the codes printed by the police), and scan one again
    scans = []
    for number, checkpoint in enumerate(checkpoints):
        code = police.get(f"/api/v1/checkpoints/{checkpoint.pk}/code").json()["payload"]
        moment = shift.starts_at + timedelta(minutes=20 + 5 * number)
        with _at(moment):
            body = {**_fix(checkpoint.latitude, checkpoint.longitude, moment), "code": code}
            scans.append(phone.post_json(f"/api/v1/shifts/{shift.pk}/scans", body))
    with _at(moment):
        replayed = phone.post_json(f"/api/v1/shifts/{shift.pk}/scans", body)

    # then every checkpoint counts once and the replay is refused
    assert [scan.status_code for scan in scans] == [201] * len(checkpoints), [s.content for s in scans]
    assert (replayed.status_code, replayed.json()["code"]) == (422, "already_scanned")

    # when they log a hidden danger by the florist's
    moment = shift.starts_at + timedelta(minutes=50)
    with _at(moment):
        logged = phone.post_json(
            f"/api/v1/shifts/{shift.pk}/log",
            {"kind": "hidden_danger", "note": "花店门口电线裸露", "latitude": street[0], "longitude": street[1]},
        )

    # then it is an incident report the police can read
    assert logged.status_code == 201, logged.content
    incident = Incident.objects.get(pk=logged.json()["incident"])
    assert police.get(f"/api/v1/incidents/{incident.pk}").status_code == 200

    # when the florist flags a quarrel at the shop, 30 m from the volunteer's last position
    moment = shift.starts_at + timedelta(minutes=55)
    with _at(moment):
        here = offset_position(*street, east_metres=30)
        flagged = merchant.post_json(
            f"/api/v1/alliances/{alliance.pk}/disputes",
            {"category": "quarrel", "store": store.pk, "latitude": round(here[0], 6), "longitude": round(here[1], 6)},
        )

    # then the volunteer on patrol is the first told at level 1, with the distance
    assert flagged.status_code == 201, flagged.content
    notified = CaseEvent.objects.filter(dispute_id=flagged.json()["id"], kind=CaseEvent.Kind.NOTIFIED).first()
    assert notified.data["user_ids"][0] == volunteer.pk
    assert notified.data["distance_metres"][0] < 200

    # when they check out at 01:50
    moment = shift.ends_at - timedelta(minutes=10)
    with _at(moment):
        checked_out = phone.post_json(f"/api/v1/shifts/{shift.pk}/check-out", _fix(*street, moment))
        after = police.get(f"/api/v1/alliances/{alliance.pk}/on-duty")

    # then 3 h 45 min are verified (22:05 to 01:50) and they are off duty
    assert checked_out.status_code == 200, checked_out.content
    place = ShiftSignup.objects.get(shift=shift, user=volunteer)
    assert (place.attendance, place.verified_seconds) == ("done", 3 * 3600 + 45 * 60)
    assert volunteer.pk not in [item["user"]["id"] for item in _items(after.json())]


def _items(answer):
    return answer["results"] if isinstance(answer, dict) else answer
