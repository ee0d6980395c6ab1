"""Who is on duty, live, against a real daphne process: a volunteer's check-in and check-out over HTTP reach the
police client's open socket as ``on_duty`` events, and the on-duty list follows."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone
from websockets.sync.client import connect

from config.times import api_datetime
from tests.factories.patrol import FENGMING_CENTRE
from tests.groups.patrol_duty_world import build_duty
from tests.servers import http_json, next_event

pytestmark = [pytest.mark.needs_postgres, pytest.mark.slow]


def _fix() -> dict:
    latitude, longitude = FENGMING_CENTRE
    return {"latitude": latitude, "longitude": longitude, "accuracy": 10, "device_time": api_datetime(timezone.now())}


@pytest.mark.django_db(transaction=True)
def test_the_police_see_a_volunteer_come_on_and_go_off_duty_live(ws_url, user_factory, client_factory):
    # given a volunteer with a place on a shift under way, and the community officer's police client online
    duty = build_duty(user_factory, slug="fengming-live")
    officer_token = client_factory().login_with_password(str(duty.street.office_officer.phone))
    volunteer_token = client_factory().login_with_password(str(duty.volunteer.phone))
    base = ws_url.replace("ws://", "http://").removesuffix("/ws/")
    police = connect(f"{ws_url}?token={officer_token}")
    try:
        assert json.loads(police.recv(timeout=5))["type"] == "hello"

        # when the volunteer checks in from the street, through the same server
        status, _answer = http_json(base, "POST", f"/api/v1/shifts/{duty.shift.pk}/check-in", volunteer_token, _fix())
        came = next_event(police, "on_duty")
        _status, listed = http_json(base, "GET", f"/api/v1/alliances/{duty.street.alliance.pk}/on-duty", officer_token)

        # and checks out
        out_status, _answer = http_json(
            base, "POST", f"/api/v1/shifts/{duty.shift.pk}/check-out", volunteer_token, _fix()
        )
        went = next_event(police, "on_duty")
    finally:
        police.close()

    # then the police client saw both changes as they happened, naming the volunteer and where they stood
    assert (status, out_status) == (200, 200)
    assert (came["change"], came["responder"]["user"]["id"]) == ("checked_in", duty.volunteer.pk)
    assert came["responder"]["location"]["latitude"] == pytest.approx(FENGMING_CENTRE[0])
    assert duty.volunteer.pk in [item["user"]["id"] for item in listed["results"]]
    assert (went["change"], went["responder"]["user"]["id"]) == ("checked_out", duty.volunteer.pk)
