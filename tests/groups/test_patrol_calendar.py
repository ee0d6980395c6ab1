"""The personal shift calendar: a secret address, iCalendar with the Asia/Shanghai time zone, revocable."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from urllib.parse import urlparse

import icalendar
import pytest
from django.test import Client
from django.utils import timezone

from groups.models import CalendarFeed
from tests.factories.patrol import shift_make, signup_make
from tests.groups.patrol_roster_fixtures import SHANGHAI

pytestmark = pytest.mark.django_db


def _tonight_at_ten() -> datetime:
    today = timezone.localdate() + timedelta(days=1)
    return datetime.combine(today, time(22, 0), tzinfo=SHANGHAI)


def test_the_feed_shows_a_night_shift_at_its_local_hours_with_the_time_zone(login, patrol):
    # given a volunteer on tomorrow's 22:00-02:00 shift, and on the waitlist of a later one
    shift = shift_make(team=patrol.team, zone=patrol.zone, starts_at=_tonight_at_ten(), slots={"mobile": 1})
    signup = signup_make(shift=shift, user=patrol.volunteers[0])
    other = shift_make(team=patrol.team, zone=patrol.zone, starts_at=_tonight_at_ten() + timedelta(days=1))
    signup_make(shift=other, user=patrol.volunteers[1])
    client = login(patrol.volunteers[0])

    # when they ask for their calendar address and a calendar app reads it without any session
    created = client.post_json("/api/v1/me/calendar-feed", {})
    path = urlparse(created.json()["url"]).path
    response = Client().get(path)

    # then the address is secret (only its hash is kept) and the calendar carries the shift at 22:00-02:00 local
    assert created.status_code == 201
    token = path.removeprefix("/calendar/").removesuffix(".ics")
    assert not CalendarFeed.objects.filter(token_hash=token).exists()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Asia/Shanghai"
    [event] = calendar.walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert (start.hour, start.minute, end.hour, end.minute) == (22, 0, 2, 0)
    assert end.date() == start.date() + timedelta(days=1)
    assert start == shift.starts_at
    assert str(event["UID"]) == f"signup-{signup.pk}@pingan.patrol"
    assert patrol.zone.name in str(event["SUMMARY"]) and patrol.zone.name in str(event["LOCATION"])


def test_a_new_address_revokes_the_old_and_a_revoked_address_answers_404(login, patrol):
    # given a volunteer's calendar address
    client = login(patrol.volunteers[0])
    first = urlparse(client.post_json("/api/v1/me/calendar-feed", {}).json()["url"]).path

    # when they ask for a new one, then revoke it
    second = urlparse(client.post_json("/api/v1/me/calendar-feed", {}).json()["url"]).path
    old_answer = Client().get(first).status_code
    new_answer = Client().get(second).status_code
    revoked = client.delete("/api/v1/me/calendar-feed")

    # then the old address stopped working at once, and the new one when revoked
    assert (old_answer, new_answer) == (404, 200)
    assert revoked.status_code == 204
    assert Client().get(second).status_code == 404
    assert Client().get("/calendar/" + "x" * 43 + ".ics").status_code == 404


def test_the_feed_of_someone_with_no_shifts_still_names_its_time_zone(login, patrol):
    client = login(patrol.merchant)
    path = urlparse(client.post_json("/api/v1/me/calendar-feed", {}).json()["url"]).path

    calendar = icalendar.Calendar.from_ical(Client().get(path).content)

    assert calendar.walk("VEVENT") == [] and len(calendar.walk("VTIMEZONE")) == 1
