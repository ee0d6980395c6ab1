"""A hidden danger logged on patrol becomes an incident report in the police queue, with its photo and position,
through the incident service (groups offers the hook, reports registers into it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from groups.models import PatrolLogEntry, ShiftSignup
from reports.models import Incident
from tests.factories.patrol import FENGMING_CENTRE, offset_position
from tests.groups.patrol_duty_world import build_duty
from tests.world import png


@pytest.fixture
def duty(db, user_factory):
    built = build_duty(user_factory)
    ShiftSignup.objects.filter(pk=built.signup.pk).update(attendance="on_duty", checked_in_at=timezone.now())
    return built


def log_url(duty) -> str:
    return f"/api/v1/shifts/{duty.shift.pk}/log"


@pytest.mark.django_db
def test_a_hidden_danger_with_a_photo_becomes_an_incident_the_police_see(login, duty):
    # given the volunteer on patrol, 50 m east of the street's centre, in front of a blocked fire exit
    client = login(duty.volunteer)
    here = offset_position(*FENGMING_CENTRE, east_metres=50)

    # when they log the hidden danger with a photo (multipart)
    response = client.post(
        log_url(duty),
        {
            "kind": "hidden_danger",
            "note": "消防通道被电动车堵住",
            "latitude": here[0],
            "longitude": here[1],
            "client_id": "log-1",
            "photo": png("red"),
        },
        format="multipart",
    )

    # then the entry names the incident, which the volunteer reported with the photo and the position
    assert response.status_code == 201, response.content
    incident_id = response.json()["incident"]
    incident = Incident.objects.get(pk=incident_id)
    assert incident.reporter == duty.volunteer and incident.category == "hidden_danger"
    assert incident.description == "消防通道被电动车堵住"
    assert float(incident.latitude) == pytest.approx(here[0], abs=1e-6)
    assert incident.photos.count() == 1
    assert PatrolLogEntry.objects.get().incident_id == incident_id
    # and the police admin of the jurisdiction sees it through the incidents API
    seen = login(duty.police_admin).get(f"/api/v1/incidents/{incident_id}")
    assert seen.status_code == 200 and seen.json()["category"] == "hidden_danger"


@pytest.mark.django_db
def test_a_resent_hidden_danger_makes_one_incident(login, duty):
    client = login(duty.volunteer)
    latitude, longitude = FENGMING_CENTRE
    body = {"kind": "hidden_danger", "note": "井盖缺失", "latitude": latitude, "longitude": longitude}

    first = client.post_json(log_url(duty), {**body, "client_id": "log-7"})
    again = client.post_json(log_url(duty), {**body, "client_id": "log-7"})

    assert first.status_code == again.status_code == 201
    assert again.json()["duplicate"] is True and again.json()["incident"] == first.json()["incident"]
    assert Incident.objects.count() == 1


@pytest.mark.django_db
def test_a_hidden_danger_without_a_position_uses_the_last_one_seen_and_needs_a_note(login, duty):
    ShiftSignup.objects.filter(pk=duty.signup.pk).update(
        last_latitude=FENGMING_CENTRE[0], last_longitude=FENGMING_CENTRE[1]
    )
    client = login(duty.volunteer)

    no_note = client.post_json(log_url(duty), {"kind": "hidden_danger"})
    logged = client.post_json(log_url(duty), {"kind": "hidden_danger", "note": "路灯不亮"})

    assert no_note.status_code == 400 and "note" in no_note.json()["fields"]
    assert logged.status_code == 201
    assert float(Incident.objects.get().latitude) == pytest.approx(FENGMING_CENTRE[0], abs=1e-6)


@pytest.mark.django_db
def test_flyers_are_logged_without_an_incident(login, duty):
    response = login(duty.volunteer).post_json(
        log_url(duty), {"kind": "flyers", "flyers": 40, "people_reached": 25, "note": "反诈宣传"}
    )

    assert response.status_code == 201 and response.json()["incident"] is None
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_the_log_closes_two_hours_after_check_out_and_is_not_for_others(login, duty, other_street):
    ShiftSignup.objects.filter(pk=duty.signup.pk).update(
        attendance="done", checked_out_at=timezone.now() - timedelta(hours=3)
    )
    body = {"kind": "person_helped", "note": "帮老人找到家"}

    late = login(duty.volunteer).post_json(log_url(duty), body)
    stranger = login(other_street.merchant).post_json(log_url(duty), body)

    assert late.status_code == 422 and late.json()["code"] == "not_checked_in"
    assert stranger.status_code == 404
    assert not PatrolLogEntry.objects.exists()


@pytest.mark.django_db
def test_a_photo_that_is_not_an_image_is_refused(login, duty):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("danger.jpg", b"not an image", content_type="image/jpeg")
    body = {"kind": "hidden_danger", "note": "x", "latitude": 30.918, "longitude": 121.474, "photo": fake}

    response = login(duty.volunteer).post(log_url(duty), body, format="multipart")

    assert response.status_code == 400
    assert not Incident.objects.exists() and not PatrolLogEntry.objects.exists()
