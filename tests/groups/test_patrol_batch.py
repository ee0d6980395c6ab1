"""The offline batch: items judged against the time they happened, in that order, answered one by one, each stored
once however often the phone resends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from config.times import api_datetime
from groups.checkpoint_codes import checkpoint_code_for
from groups.models import CheckpointScan, PatrolAttempt, PatrolLogEntry, ShiftSignup
from tests.factories.patrol import FENGMING_CENTRE, offset_position
from tests.groups.patrol_duty_world import build_duty

URL = "/api/v1/me/patrol-batch"


@pytest.fixture
def duty(db, user_factory):
    return build_duty(user_factory)


def item(duty, kind: str, client_id: str, minutes_ago: float, position=FENGMING_CENTRE, **fields) -> dict:
    body = {
        "kind": kind,
        "client_id": client_id,
        "shift": duty.shift.pk,
        "device_time": api_datetime(timezone.now() - timedelta(minutes=minutes_ago)),
        "latitude": position[0],
        "longitude": position[1],
        **fields,
    }
    if kind in ("check_in", "scan"):
        body.setdefault("accuracy", 10)
    return body


def offline_shift(duty):
    """What the phone captured in a basement without signal: a check-in 8 minutes ago, a scan of the first
    checkpoint, a scan from 2 km away (a photographed code) and a flyers entry; sent out of order."""
    first = duty.checkpoint(1)
    far = offset_position(*FENGMING_CENTRE, north_metres=2000)
    return [
        item(duty, "scan", "s-1", 6, (first.latitude, first.longitude), code=checkpoint_code_for(first)),
        item(duty, "scan", "s-2", 5, far, code=checkpoint_code_for(duty.checkpoint(2))),
        item(duty, "log", "l-1", 4, log_kind="flyers", flyers=30, people_reached=12),
        item(duty, "check_in", "c-1", 8),
    ]


@pytest.mark.django_db
def test_a_batch_partly_succeeds_in_the_order_things_happened(login, duty):
    # given the volunteer back online with what they did offline
    client = login(duty.volunteer)

    # when the batch is sent
    response = client.post_json(URL, {"items": offline_shift(duty)})

    # then answered item by item in the order sent: the check-in first processed, so the scan after it counted
    assert response.status_code == 200, response.content
    answers = {answer["client_id"]: answer for answer in response.json()["items"]}
    assert [answer["client_id"] for answer in response.json()["items"]] == ["s-1", "s-2", "l-1", "c-1"]
    assert answers["c-1"]["status"] == "accepted"
    assert answers["s-1"]["status"] == "accepted"
    assert answers["s-2"]["status"] == "refused" and answers["s-2"]["code"] == "too_far_from_checkpoint"
    assert answers["l-1"]["status"] == "accepted"
    # and the check-in time is when it happened on the phone, not when it arrived
    signup = ShiftSignup.objects.get(pk=duty.signup.pk)
    assert timezone.now() - signup.checked_in_at > timedelta(minutes=7)
    assert PatrolAttempt.objects.filter(offline=True).count() == 3
    assert CheckpointScan.objects.count() == 1
    assert PatrolLogEntry.objects.get().flyers == 30


@pytest.mark.django_db
def test_a_resent_batch_answers_duplicate_with_the_first_outcome_and_stores_nothing_twice(login, duty):
    client = login(duty.volunteer)
    items = offline_shift(duty)
    client.post_json(URL, {"items": items})

    again = client.post_json(URL, {"items": items})

    answers = {answer["client_id"]: answer for answer in again.json()["items"]}
    assert {answer["status"] for answer in answers.values()} == {"duplicate"}
    assert answers["s-2"]["outcome"] == "refused" and answers["s-2"]["code"] == "too_far_from_checkpoint"
    assert answers["c-1"]["outcome"] == "accepted"
    assert PatrolAttempt.objects.count() == 3
    assert PatrolLogEntry.objects.count() == 1


@pytest.mark.django_db
def test_an_item_from_the_future_or_before_the_window_is_refused(login, duty):
    client = login(duty.volunteer)
    items = [
        item(duty, "check_in", "future", -30),  # 30 minutes ahead of our clock
        item(duty, "check_in", "early", 60),  # 60 minutes ago: before the shift's window opened
    ]

    answers = client.post_json(URL, {"items": items}).json()["items"]

    assert [answer["code"] for answer in answers] == ["device_time_implausible", "too_early"]
    assert ShiftSignup.objects.get(pk=duty.signup.pk).attendance == "expected"


@pytest.mark.django_db
def test_a_field_of_another_kind_or_a_missing_one_refuses_the_batch(login, duty):
    client = login(duty.volunteer)

    stray = client.post_json(URL, {"items": [item(duty, "check_in", "a", 1, code="PA1:x")]})
    missing = client.post_json(URL, {"items": [item(duty, "scan", "b", 1)]})
    unknown = client.post_json(URL, {"items": [item(duty, "check_in", "c", 1, colour="red")]})
    too_many = client.post_json(URL, {"items": [item(duty, "check_in", f"i-{n}", 1) for n in range(201)]})

    assert stray.status_code == 400 and "items.0.code" in stray.json()["fields"]
    assert missing.status_code == 400 and "items.0.code" in missing.json()["fields"]
    assert unknown.status_code == 400 and "items.0.colour" in unknown.json()["fields"]
    assert too_many.status_code == 400
    assert not PatrolAttempt.objects.exists()


@pytest.mark.django_db
def test_an_item_for_another_alliances_shift_is_refused_alone(login, duty, user_factory):
    # given a second volunteer's place elsewhere: an item naming a shift the sender may not see
    from tests.groups.patrol_duty_world import build_duty as build

    elsewhere = build(user_factory, name="别处联盟", slug="elsewhere")
    client = login(duty.volunteer)
    items = [item(duty, "check_in", "mine", 1), {**item(duty, "check_in", "theirs", 1), "shift": elsewhere.shift.pk}]

    answers = client.post_json(URL, {"items": items}).json()["items"]

    assert [(answer["status"], answer["code"]) for answer in answers] == [("accepted", ""), ("refused", "not_found")]
