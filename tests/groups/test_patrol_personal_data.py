"""A patrol volunteer's data: the export holds their places, attempts, scans and log; account deletion ends their
team places and future places, drops their positions and keeps the hours they did for the team's records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from groups.models import (
    CalendarFeed,
    CheckpointScan,
    PatrolAttempt,
    PatrolLogEntry,
    PatrolTeamMember,
    ShiftSignup,
    ShiftSwapRequest,
)
from tests.factories.patrol import offset_position, route_make, shift_make, signup_make, team_make, zone_make


def _delete_account(client, user):
    return client.generic(
        "DELETE", "/api/v1/me", data=f'{{"confirm_phone": "{user.phone}"}}', content_type="application/json"
    )


@pytest.fixture
def patrol(street, user_factory):
    """A volunteer who patrolled last night (checked in, scanned, logged a hidden danger, checked out with 3.5 h),
    is signed up for tomorrow night, asked a swap and has a calendar feed; another volunteer beside them."""
    volunteer = user_factory(roles=[Role.VOLUNTEER], display_name="义警小刘")
    other = user_factory(roles=[Role.VOLUNTEER], display_name="张大姐")
    zone = zone_make(alliance=street.alliance)
    route = route_make(alliance=street.alliance, zone=zone)
    team = team_make(alliance=street.alliance, members=(volunteer, other))
    now = timezone.now()
    last_night = shift_make(team=team, zone=zone, route=route, starts_at=now - timedelta(days=1))
    tomorrow = shift_make(team=team, zone=zone, route=route, starts_at=now + timedelta(days=1))

    past = signup_make(shift=last_night, user=volunteer)
    past.attendance = ShiftSignup.Attendance.DONE
    past.checked_in_at, past.checked_out_at = last_night.starts_at, last_night.starts_at + timedelta(hours=3.5)
    past.verified_seconds = 12600
    past.last_latitude, past.last_longitude = 30.9181, 121.4741
    past.save()
    checkpoint = route.checkpoints.first()
    scanned_at = offset_position(checkpoint.latitude, checkpoint.longitude, north_metres=12)
    PatrolAttempt.objects.create(
        shift=last_night,
        signup=past,
        user=volunteer,
        kind="check_in",
        accepted=True,
        latitude=30.918,
        longitude=121.474,
        accuracy_metres=8,
        device_time=last_night.starts_at,
    )
    PatrolAttempt.objects.create(
        shift=last_night,
        user=volunteer,
        kind="check_in",
        accepted=False,
        refusal_code="mock_location",
        latitude=31.2,
        longitude=121.5,
        mock_location=True,
    )
    scan_attempt = PatrolAttempt.objects.create(
        shift=last_night,
        signup=past,
        user=volunteer,
        kind="scan",
        checkpoint=checkpoint,
        accepted=True,
        latitude=scanned_at[0],
        longitude=scanned_at[1],
    )
    CheckpointScan.objects.create(
        signup=past,
        checkpoint=checkpoint,
        round=1,
        scanned_at=last_night.starts_at + timedelta(minutes=20),
        latitude=scanned_at[0],
        longitude=scanned_at[1],
        attempt=scan_attempt,
    )
    PatrolLogEntry.objects.create(
        signup=past,
        kind=PatrolLogEntry.Kind.HIDDEN_DANGER,
        note="消防通道被电动车堵住",
        latitude=30.9182,
        longitude=121.4742,
    )
    future = signup_make(shift=tomorrow, user=volunteer)
    others_place = signup_make(shift=tomorrow, user=other)
    ShiftSwapRequest.objects.create(signup=future, to_user=other)
    ShiftSwapRequest.objects.create(
        signup=others_place, to_user=volunteer, status=ShiftSwapRequest.Status.REJECTED, decided_at=now
    )
    CalendarFeed.objects.create(user=volunteer, token_hash="a" * 64)
    return volunteer, other, past, future, others_place, checkpoint


@pytest.mark.django_db
def test_the_export_holds_the_volunteers_places_attempts_scans_log_and_feeds(login, patrol):
    # given a volunteer who patrolled
    volunteer, other, past, future, *_ = patrol

    # when they download their data
    data = login(volunteer).get("/api/v1/me/export").json()

    # then every patrol table that names them is there, with attendance, verified time and positions
    assert [m["team"] for m in data["patrol_team_memberships"]] == ["凤鸣金街义警队"]
    signups = {s["id"]: s for s in data["shift_signups"]}
    assert set(signups) == {past.pk, future.pk}
    assert signups[past.pk]["attendance"] == "done" and signups[past.pk]["verified_seconds"] == 12600
    assert signups[past.pk]["last_latitude"] == 30.9181
    assert sorted((a["kind"], a["accepted"], a["refusal_code"]) for a in data["patrol_attempts"]) == [
        ("check_in", False, "mock_location"),
        ("check_in", True, ""),
        ("scan", True, ""),
    ]
    assert any(a["latitude"] == 31.2 and a["mock_location"] for a in data["patrol_attempts"])
    assert [(s["checkpoint"], s["round"]) for s in data["checkpoint_scans"]] == [("凤鸣金街主线 1号巡更点", 1)]
    assert [(e["kind"], e["note"]) for e in data["patrol_log_entries"]] == [("hidden_danger", "消防通道被电动车堵住")]
    assert sorted((r["direction"], r["status"]) for r in data["shift_swap_requests"]) == [
        ("made", "pending"),
        ("received", "rejected"),
    ]
    # the feed's dates only, never its secret
    assert list(data["calendar_feeds"][0]) == ["created_at", "revoked_at"]
    assert "a" * 64 not in str(data)
    # and nothing of the other volunteer's own place
    assert other.display_name not in str(data)


@pytest.mark.django_db
def test_deletion_ends_team_places_and_future_places_and_keeps_the_verified_hours(login, patrol):
    # given a volunteer who patrolled and is signed up for tomorrow
    volunteer, other, past, future, others_place, checkpoint = patrol

    # when they delete their account
    response = _delete_account(login(volunteer), volunteer)

    # then they leave the team, tomorrow's place is freed and their pending swap withdrawn
    assert response.status_code == 204
    assert not PatrolTeamMember.objects.filter(user=volunteer).exists()
    assert PatrolTeamMember.objects.filter(user=other).exists()
    future.refresh_from_db()
    assert future.status == ShiftSignup.Status.CANCELLED and future.cancelled_at
    assert ShiftSwapRequest.objects.get(signup=future).status == ShiftSwapRequest.Status.WITHDRAWN
    # the decided swap stays as decided; the other volunteer's place is theirs
    assert ShiftSwapRequest.objects.get(signup=others_place).status == ShiftSwapRequest.Status.REJECTED
    others_place.refresh_from_db()
    assert others_place.status == ShiftSignup.Status.CONFIRMED
    # last night's hours stay on the team's records, without a position
    past.refresh_from_db()
    assert past.status == ShiftSignup.Status.CONFIRMED and past.verified_seconds == 12600
    assert past.last_latitude is None and past.last_longitude is None
    # the attempts stay counted, their positions gone; the scan keeps the checkpoint's position, not the phone's
    attempts = PatrolAttempt.objects.filter(user=volunteer)
    assert attempts.count() == 3
    assert not attempts.filter(latitude__isnull=False).exists()
    assert not attempts.filter(accuracy_metres__isnull=False).exists()
    scan = CheckpointScan.objects.get(signup=past)
    assert (scan.latitude, scan.longitude) == (checkpoint.latitude, checkpoint.longitude)
    entry = PatrolLogEntry.objects.get(signup=past)
    assert entry.kind == PatrolLogEntry.Kind.HIDDEN_DANGER and entry.latitude is None
    assert not CalendarFeed.objects.filter(user=volunteer).exists()


@pytest.mark.django_db
def test_deletion_during_a_shift_closes_the_place_for_the_leaders_review(login, street, user_factory):
    # given a volunteer checked in to a shift that started an hour ago
    volunteer = user_factory(roles=[Role.VOLUNTEER])
    zone = zone_make(alliance=street.alliance)
    shift = shift_make(
        team=team_make(alliance=street.alliance), zone=zone, starts_at=timezone.now() - timedelta(hours=1)
    )
    signup = signup_make(shift=shift, user=volunteer)
    signup.attendance, signup.checked_in_at = ShiftSignup.Attendance.ON_DUTY, shift.starts_at
    signup.last_latitude, signup.last_longitude = 30.918, 121.474
    signup.save()

    # when they delete their account
    _delete_account(login(volunteer), volunteer)

    # then they are no longer on duty: the place is closed with the hour done, flagged for the leader
    signup.refresh_from_db()
    assert signup.attendance == ShiftSignup.Attendance.CLOSED_AUTOMATICALLY and signup.needs_review
    assert 3590 <= signup.verified_seconds <= 3700
    assert signup.last_latitude is None


@pytest.mark.django_db
def test_deleting_an_account_offers_its_future_place_to_the_first_waiting(login, street, user_factory):
    # given tomorrow night's only mobile place held by a volunteer, and another volunteer waiting for it
    holder = user_factory(roles=[Role.VOLUNTEER], display_name="义警小刘")
    waiting = user_factory(roles=[Role.VOLUNTEER], display_name="义警小陈")
    zone = zone_make(alliance=street.alliance)
    tomorrow = shift_make(
        team=team_make(alliance=street.alliance),
        zone=zone,
        starts_at=timezone.now() + timedelta(days=1),
        slots={"mobile": 1},
    )
    held = signup_make(shift=tomorrow, user=holder)
    queued = signup_make(shift=tomorrow, user=waiting)
    assert (held.status, queued.status) == ("confirmed", "waitlisted")

    # when the holder deletes their account
    response = _delete_account(login(holder), holder)

    # then their place is given up and offered to the one waiting, as a cancellation in the app would
    assert response.status_code == 204, response.content
    held.refresh_from_db()
    queued.refresh_from_db()
    assert held.status == ShiftSignup.Status.CANCELLED
    assert queued.status == ShiftSignup.Status.OFFERED
