"""Check-in, check-out, verified hours and the automatic close of a forgotten check-out."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.personal_data import personal_data_erase
from config.coordinates import wgs84_to_gcj02
from config.times import api_datetime
from groups.models import OutboxEvent, PatrolAttempt, Shift, ShiftSignup
from groups.services.shift_check_ins import shift_check_in, shift_close_if_due, shifts_close_due
from groups.tasks import close_forgotten_check_outs_task
from tests.factories.patrol import FENGMING_CENTRE, offset_position, shift_make, signup_make
from tests.groups.patrol_duty_world import build_duty, centre_body, position_body


@pytest.fixture
def duty(db, user_factory):
    return build_duty(user_factory)


def check_in(client, duty, body):
    return client.post_json(f"/api/v1/shifts/{duty.shift.pk}/check-in", body)


@pytest.mark.django_db
def test_a_volunteer_inside_the_zone_is_checked_in(login, duty):
    # given the volunteer at the street's centre, ten minutes into the shift
    client = login(duty.volunteer)

    # when they check in
    response = check_in(client, duty, centre_body())

    # then they are on duty, seen where they stood, and the attempt is recorded as accepted
    assert response.status_code == 200, response.content
    assert response.json()["place"]["attendance"] == "on_duty"
    signup = ShiftSignup.objects.get(pk=duty.signup.pk)
    assert signup.attendance == "on_duty" and signup.checked_in_at is not None
    assert signup.last_latitude == pytest.approx(FENGMING_CENTRE[0])
    assert PatrolAttempt.objects.get().accepted


@pytest.mark.django_db
def test_2_km_away_is_refused_naming_the_distance_and_the_refusal_is_recorded(login, duty):
    # given the volunteer 2 km north of the street (the zone reaches 300 m north of its centre)
    client = login(duty.volunteer)
    far = offset_position(*FENGMING_CENTRE, north_metres=2000)

    # when they check in
    response = check_in(client, duty, position_body(*far))

    # then refused with the distance outside the zone, and the refused attempt is kept
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "outside_zone"
    assert body["figures"]["metres_outside"] == pytest.approx(1700, abs=2)
    assert "1700" in body["message"] or "1699" in body["message"] or "1701" in body["message"]
    attempt = PatrolAttempt.objects.get()
    assert not attempt.accepted and attempt.refusal_code == "outside_zone"
    assert ShiftSignup.objects.get(pk=duty.signup.pk).attendance == "expected"


@pytest.mark.django_db
def test_just_outside_the_zone_is_accepted_within_the_reported_accuracy(login, duty):
    # given a position 20 m outside the zone's north edge, from a phone accurate to 30 m
    client = login(duty.volunteer)
    just_outside = offset_position(*FENGMING_CENTRE, north_metres=320)

    # when they check in with 30 m, then with 10 m accuracy (another volunteer's place would be needed: one try each)
    vague = check_in(client, duty, position_body(*just_outside, accuracy=10))
    precise_enough = check_in(client, duty, position_body(*just_outside, accuracy=30))

    # then 10 m cannot reach the zone, 30 m can
    assert vague.status_code == 422 and vague.json()["figures"]["metres_outside"] == 20
    assert precise_enough.status_code == 200


@pytest.mark.django_db
def test_a_mock_location_is_refused(login, duty):
    response = check_in(login(duty.volunteer), duty, centre_body(mock_location=True))

    assert response.status_code == 422 and response.json()["code"] == "mock_location"
    assert PatrolAttempt.objects.get().mock_location is True


@pytest.mark.django_db
def test_too_early_is_refused_by_the_minutes_to_wait(login, duty):
    # given a shift starting in an hour (check-in opens 15 minutes before)
    duty.shift.starts_at = timezone.now() + timedelta(hours=1)
    duty.shift.ends_at = duty.shift.starts_at + timedelta(hours=4)
    duty.shift.save()

    # when the volunteer checks in now
    response = check_in(login(duty.volunteer), duty, centre_body())

    # then too early by 45 minutes
    assert response.status_code == 422
    assert response.json()["code"] == "too_early"
    assert response.json()["figures"]["minutes_early"] == 45
    assert "45" in response.json()["message"]


@pytest.mark.django_db
def test_after_the_shift_is_too_late(login, duty):
    duty.shift.starts_at = timezone.now() - timedelta(hours=5)
    duty.shift.ends_at = timezone.now() - timedelta(hours=1)
    duty.shift.save()

    response = check_in(login(duty.volunteer), duty, centre_body())

    assert response.json()["code"] == "too_late" and response.json()["figures"]["minutes_late"] == 60


@pytest.mark.django_db
def test_a_gcj02_position_of_a_point_inside_is_accepted(login, duty):
    # given a point inside the zone as Amap reports it (GCJ-02: some 500 m off its WGS-84 position here)
    inside = offset_position(*FENGMING_CENTRE, east_metres=100)
    gcj = wgs84_to_gcj02(*inside)

    # when sent as gcj02 it is accepted, and stored as WGS-84
    response = check_in(login(duty.volunteer), duty, position_body(*gcj, coordinate_system="gcj02"))

    assert response.status_code == 200, response.content
    attempt = PatrolAttempt.objects.get()
    assert attempt.coordinate_system == "gcj02"
    assert attempt.latitude == pytest.approx(inside[0], abs=1e-6)
    assert attempt.longitude == pytest.approx(inside[1], abs=1e-6)


@pytest.mark.django_db
def test_the_same_gcj02_numbers_sent_as_wgs84_are_outside(login, duty):
    gcj = wgs84_to_gcj02(*offset_position(*FENGMING_CENTRE, east_metres=100))

    response = check_in(login(duty.volunteer), duty, position_body(*gcj))

    assert response.json()["code"] == "outside_zone"


@pytest.mark.django_db
def test_poor_accuracy_is_refused(login, duty):
    response = check_in(login(duty.volunteer), duty, centre_body(accuracy=250))

    assert response.status_code == 422
    assert response.json()["code"] == "accuracy_too_poor"
    assert response.json()["figures"] == {"accuracy_metres": 250, "max_accuracy_metres": 100}


@pytest.mark.django_db
def test_a_phone_clock_far_from_ours_is_refused(login, duty):
    body = centre_body(device_time=api_datetime(timezone.now() - timedelta(hours=2)))

    response = check_in(login(duty.volunteer), duty, body)

    assert response.json()["code"] == "device_time_implausible"


@pytest.mark.django_db
def test_checking_in_twice_is_refused_and_someone_without_a_place_is_told_so(login, duty, user_factory):
    # given the volunteer checked in, and a member of the alliance without a place on the shift
    client = login(duty.volunteer)
    assert check_in(client, duty, centre_body()).status_code == 200
    stranger = user_factory()
    from tests.factories.alliance import MemberRole, member_add

    member_add(duty.street.alliance, stranger, MemberRole.VOLUNTEER)

    # when each checks in
    again = check_in(client, duty, centre_body())
    no_place = check_in(login(stranger), duty, centre_body())

    # then refused, each recorded
    assert again.json()["code"] == "already_checked_in"
    assert no_place.status_code == 422 and no_place.json()["code"] == "not_signed_up"
    assert PatrolAttempt.objects.filter(accepted=False).count() == 2


@pytest.mark.django_db
def test_another_alliances_shift_is_not_found(login, duty, other_street):
    # given a merchant of another street
    response = check_in(login(other_street.merchant), duty, centre_body())

    assert response.status_code == 404
    assert not PatrolAttempt.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"latitude": 91},
        {"longitude": "east"},
        {"latitude": "NaN"},
        {"coordinate_system": "bd09"},
        {"accuracy": -1},
        {"device_time": "yesterday"},
        {"device_time": "0001-01-01T00:00:00"},  # DRF's own field answered 500 to a naive year 1
        {"device_time": "0001-01-01T00:00:00+08:00"},
        {"mock": True},
    ],
)
def test_bad_input_answers_400(login, duty, change):
    response = check_in(login(duty.volunteer), duty, centre_body(**change))

    assert response.status_code == 400
    assert not PatrolAttempt.objects.exists()


@pytest.mark.django_db
def test_a_resent_check_in_answers_the_first_outcome(login, duty):
    client = login(duty.volunteer)

    first = check_in(client, duty, centre_body(client_id="ci-1"))
    again = check_in(client, duty, centre_body(client_id="ci-1"))

    assert first.status_code == again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["attempt"] == first.json()["attempt"]
    assert PatrolAttempt.objects.count() == 1


@pytest.mark.django_db
def test_the_accepted_check_in_takes_three_statements(duty, django_assert_num_queries):
    # given the shift-start burst's path (bench/): the service itself, as the view calls it
    # then: lock the place with its shift and zone, insert the attempt, update the place, and for the on-duty event
    # the alliance's watchers (the event is published after commit, no outbox row) (+ the test's savepoint pair
    # around the service's transaction)
    with django_assert_num_queries(6):
        attempt = shift_check_in(
            user=duty.volunteer,
            shift=duty.shift.pk,
            latitude=FENGMING_CENTRE[0],
            longitude=FENGMING_CENTRE[1],
            coordinate_system="wgs84",
            accuracy_metres=10,
            device_time=timezone.now(),
            mock_location=False,
        )
    assert attempt.accepted


def test_a_check_in_with_a_client_id_is_not_looked_up_first(duty, django_assert_num_queries):
    # given the app's check-in, which carries its own id so that a resend is stored once
    # then the same statements, the attempt's INSERT inside a savepoint (its unique key answers a resend), and no
    # SELECT of that id beforehand
    with django_assert_num_queries(8):
        attempt = shift_check_in(
            user=duty.volunteer,
            shift=duty.shift.pk,
            latitude=FENGMING_CENTRE[0],
            longitude=FENGMING_CENTRE[1],
            accuracy_metres=10,
            device_time=timezone.now(),
            client_id="phone-7-check-in-1",
        )
    assert attempt.accepted


def test_a_check_in_sent_again_after_its_answer_was_lost_answers_the_first(duty):
    # given a check-in accepted, whose answer the phone never got
    fix = {"latitude": FENGMING_CENTRE[0], "longitude": FENGMING_CENTRE[1], "accuracy_metres": 10}
    first = shift_check_in(
        user=duty.volunteer, shift=duty.shift.pk, device_time=timezone.now(), client_id="phone-7-ci", **fix
    )

    # when the phone sends it again, with the same id
    again = shift_check_in(
        user=duty.volunteer, shift=duty.shift.pk, device_time=timezone.now(), client_id="phone-7-ci", **fix
    )

    # then the answer is the first attempt, marked as a repeat, and nothing more is stored
    assert (again.pk, again.duplicate) == (first.pk, True)
    assert PatrolAttempt.objects.count() == 1


# --- check-out and verified hours ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_check_out_verifies_the_time_on_duty_within_the_shift(login, duty):
    # given the volunteer checked in 5 minutes before the shift started (early, for the briefing)
    start = duty.shift.starts_at
    signup = duty.signup
    signup.attendance, signup.checked_in_at = "on_duty", start - timedelta(minutes=5)
    signup.save()
    client = login(duty.volunteer)

    # when they check out now, 10 minutes into the shift, from outside the zone (on the way home)
    far = offset_position(*FENGMING_CENTRE, north_metres=2000)
    response = client.post_json(f"/api/v1/shifts/{duty.shift.pk}/check-out", position_body(*far))

    # then the verified time counts from the shift's start, not from the early check-in
    assert response.status_code == 200, response.content
    place = response.json()["place"]
    assert place["attendance"] == "done"
    assert 595 <= place["verified_seconds"] <= 605
    attempt = PatrolAttempt.objects.get(kind="check_out")
    assert attempt.latitude == pytest.approx(far[0])


@pytest.mark.django_db
def test_check_out_without_check_in_is_refused(login, duty):
    response = login(duty.volunteer).post_json(f"/api/v1/shifts/{duty.shift.pk}/check-out", centre_body())

    assert response.status_code == 422 and response.json()["code"] == "not_checked_in"


# --- the automatic close -------------------------------------------------------------------------------------------


def _forgotten(duty, user_factory):
    """The volunteer checked in an hour into a shift that has ended, and never checked out; a second place on the
    same shift checked out properly."""
    shift = duty.shift
    shift.starts_at = timezone.now() - timedelta(hours=5)
    shift.ends_at = timezone.now() - timedelta(hours=1)
    shift.close_at = shift.ends_at + timedelta(minutes=30)
    shift.save()
    ShiftSignup.objects.filter(pk=duty.signup.pk).update(
        attendance="on_duty", checked_in_at=shift.starts_at + timedelta(hours=1)
    )
    other = signup_make(shift=shift, user=user_factory())
    ShiftSignup.objects.filter(pk=other.pk).update(
        attendance="done",
        checked_in_at=shift.starts_at,
        checked_out_at=shift.ends_at,
        verified_seconds=4 * 3600,
    )
    return shift


@pytest.mark.django_db
def test_a_forgotten_check_out_is_closed_once_with_hours_capped_and_the_leader_told(duty, user_factory):
    # given a forgotten check-out whose close is due
    shift = _forgotten(duty, user_factory)

    # when the sweep runs twice
    first = close_forgotten_check_outs_task()
    second = shifts_close_due()

    # then the place is closed once, its hours capped at the shift's end (3 of its 4 hours), flagged for review
    assert (first, second) == (1, 0)
    signup = ShiftSignup.objects.get(pk=duty.signup.pk)
    assert signup.attendance == "closed" and signup.needs_review
    assert signup.checked_out_at == shift.ends_at
    assert signup.verified_seconds == 3 * 3600
    shift.refresh_from_db()
    assert shift.close_at is None
    # the one who checked out is untouched
    assert ShiftSignup.objects.filter(attendance="done", needs_review=False).count() == 1
    # and the leader is told (one event, through the outbox)
    events = [event for event in OutboxEvent.objects.all() if "check_out_needed_review" in event.payload]
    assert len(events) == 1 and events[0].topics == [f"user.{duty.leader.pk}"]


@pytest.mark.django_db
def test_a_shift_not_yet_due_is_not_closed(duty, user_factory):
    shift = _forgotten(duty, user_factory)
    shift.close_at = timezone.now() + timedelta(minutes=5)
    shift.save()

    assert shifts_close_due() == 0
    assert ShiftSignup.objects.get(pk=duty.signup.pk).attendance == "on_duty"


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_closing_at_once_close_exactly_once(duty, user_factory):
    # given a forgotten check-out, and two workers sweeping the same shift at the same moment
    shift = _forgotten(duty, user_factory)
    barrier = threading.Barrier(2)
    results = []

    def worker():
        barrier.wait()
        results.append(shift_close_if_due(shift_id=shift.pk))
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then one closed it, the other found nothing to do
    assert sorted(results) == [0, 1]
    assert ShiftSignup.objects.filter(attendance="closed").count() == 1
    assert sum("check_out_needed_review" in event.payload for event in OutboxEvent.objects.all()) == 1


@pytest.mark.django_db
def test_a_shift_without_close_at_is_never_swept(duty, user_factory):
    other_shift = shift_make(team=duty.shift.team, zone=duty.zone, starts_at=timezone.now() - timedelta(hours=9))
    Shift.objects.filter(pk=other_shift.pk).update(close_at=None)  # made before the generator set the timers
    signup = signup_make(shift=other_shift, user=user_factory())
    ShiftSignup.objects.filter(pk=signup.pk).update(attendance="on_duty", checked_in_at=other_shift.starts_at)

    assert shifts_close_due() == 0


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_check_in_sent_twice_at_once_is_stored_once(duty):
    # given the phone retrying a check-in whose answer it lost, both requests arriving together
    barrier = threading.Barrier(2)
    answers = []

    def send():
        barrier.wait()
        attempt = shift_check_in(
            user=duty.volunteer,
            shift=duty.shift.pk,
            latitude=FENGMING_CENTRE[0],
            longitude=FENGMING_CENTRE[1],
            accuracy_metres=10,
            device_time=timezone.now(),
            client_id="retry-1",
        )
        answers.append((attempt.pk, attempt.duplicate))
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then one attempt, accepted; the other request answered with it as a duplicate
    assert PatrolAttempt.objects.count() == 1
    stored = PatrolAttempt.objects.get()
    assert stored.accepted
    assert sorted(answers) == [(stored.pk, False), (stored.pk, True)]


@pytest.mark.django_db
def test_the_export_has_the_attempts_and_deleting_the_account_drops_where_they_stood(login, duty):
    # given a check-in accepted and one refused from 2 km away
    client = login(duty.volunteer)
    check_in(client, duty, position_body(*offset_position(*FENGMING_CENTRE, north_metres=2000)))
    check_in(client, duty, centre_body())

    # when the volunteer asks for their data, then deletes their account
    exported = client.get("/api/v1/me/export").json()["patrol_attempts"]
    personal_data_erase(user=duty.volunteer)

    # then the export listed both tries; after deletion the attempts stay for the shift's figures, without positions
    assert [(a["accepted"], a["refusal_code"]) for a in exported] == [(False, "outside_zone"), (True, "")]
    assert PatrolAttempt.objects.count() == 2
    assert not PatrolAttempt.objects.filter(latitude__isnull=False).exists()


@pytest.mark.django_db
def test_a_volunteer_marked_a_no_show_who_arrives_late_is_checked_in(login, duty):
    # given the no-show check already ran (15 minutes in) and marked the volunteer, still inside the shift
    ShiftSignup.objects.filter(pk=duty.signup.pk).update(attendance=ShiftSignup.Attendance.NO_SHOW)

    # when they arrive and check in from the street
    response = check_in(login(duty.volunteer), duty, centre_body())

    # then the late arrival counts: on duty, the no-show gone
    assert response.status_code == 200, response.content
    assert ShiftSignup.objects.get(pk=duty.signup.pk).attendance == "on_duty"
