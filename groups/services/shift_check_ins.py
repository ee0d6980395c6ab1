"""Check-in and check-out of a shift, verified hours, and the automatic close of a forgotten check-out.

A check-in is accepted only inside the shift's window and inside its zone (allowing for the accuracy the phone
reports), from a phone that does not simulate its location and whose clock is plausible. Every try is recorded
(``PatrolAttempt``), accepted or not. The accepted path is four statements (lock the place with its shift and zone,
insert the attempt, update the place, read who watches the alliance): it carries the shift-start burst (bench/,
docs/performance.md).

Who is on duty follows: each accepted check-in or check-out, and each automatic close, calls
``groups.services.patrol_on_duty.on_duty_changed`` inside the transaction (it publishes on commit). A place checked
out (by the person, the offline batch or the automatic close) scores its hours for the person's stores in the same
transaction and has its points settled after commit (groups/points_evidence.py, groups/store_scores.py).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from groups.error_codes import GroupErrorCode as Code
from groups.events import event_publish, user_topic
from groups.models import PatrolAttempt, PatrolTeamMember, Shift, ShiftSignup
from groups.patrol_geometry import metres_outside
from groups.patrol_refusals import PatrolRefused
from groups.points_evidence import patrol_points_settle_on_commit
from groups.services.patrol_attempts import (
    SEEN_FIELDS,
    PhoneFix,
    SentTwice,
    answer_sent_twice,
    attempt_record,
    phone_fix,
    phone_refusal,
    shift_visible_or_404,
    signup_locked,
    signup_seen,
    stored_answer,
    stored_attempt,
    window_refusal,
)
from groups.services.patrol_on_duty import on_duty_changed
from groups.store_scores import patrol_hours_store_scores_record

Attendance = ShiftSignup.Attendance


def verified_seconds(*, shift: Shift, checked_in_at: datetime, checked_out_at: datetime) -> int:
    """The time on duty that counts: the overlap of [check-in, check-out] with the shift itself (coming early for
    the briefing or staying late is not patrol time the police planned)."""
    start = max(checked_in_at, shift.starts_at)
    end = min(checked_out_at, shift.ends_at)
    return max(0, int((end - start).total_seconds()))


def _verified(signup: ShiftSignup) -> None:
    """A place's time is verified (checked out): its hours count for the person's stores now, and its points
    (hours, completed rounds) are settled once this transaction commits."""
    patrol_hours_store_scores_record(signup=signup, alliance_id=signup.shift.alliance_id)
    patrol_points_settle_on_commit(signup_ids=[signup.pk])


def _shift_id(shift) -> int:
    return shift.pk if isinstance(shift, Shift) else int(shift)


def _check_in_refusal(fix: PhoneFix, signup: ShiftSignup) -> PatrolRefused | None:
    shift = signup.shift
    if shift.status == Shift.Status.CANCELLED:
        return PatrolRefused(Code.SHIFT_CANCELLED)
    if signup.attendance == Attendance.ON_DUTY:
        return PatrolRefused(Code.ALREADY_CHECKED_IN)
    if signup.attendance not in (Attendance.EXPECTED, Attendance.NO_SHOW):
        # Checked out already or closed automatically: a new check-in would rewrite the record. A no-show (marked 15
        # minutes in) who turns up while the shift runs is late, not absent: their check-in replaces the mark.
        return PatrolRefused(Code.ALREADY_CHECKED_OUT)
    refusal = phone_refusal(fix) or window_refusal(shift, fix.event_time)
    if refusal:
        return refusal
    # The fix says "somewhere within accuracy_metres of here": accept when that disc touches the zone.
    outside = metres_outside(shift.zone.boundary, latitude=fix.latitude, longitude=fix.longitude)
    if outside > (fix.accuracy_metres or 0):
        return PatrolRefused(
            Code.OUTSIDE_ZONE, {"metres_outside": round(outside), "accuracy_metres": round(fix.accuracy_metres or 0)}
        )
    return None


def _place_or_refusal(*, user, shift_id: int) -> tuple[ShiftSignup | None, PatrolRefused | None]:
    signup = signup_locked(user=user, shift_id=shift_id)
    if signup is None:
        shift_visible_or_404(user=user, shift_id=shift_id)  # 404 for a shift the person may not see
        return None, PatrolRefused(Code.NOT_SIGNED_UP)
    return signup, None


def shift_check_in(
    *,
    user,
    shift: Shift | int,
    latitude: float,
    longitude: float,
    coordinate_system: str = "wgs84",
    accuracy_metres: float | None,
    device_time: datetime,
    mock_location: bool = False,
    client_id: str = "",
    offline: bool = False,
    received_at: datetime | None = None,
) -> PatrolAttempt:
    """Check the person in. Returns the accepted attempt (``attempt.signup`` is their place, now on duty); raises
    :class:`PatrolRefused` (422) after recording a refused one. A ``client_id`` already stored answers with the first
    outcome (``attempt.duplicate`` True, or the first refusal again). ``offline``: ``device_time`` is when it
    happened; else it is only checked against our clock."""
    fix = phone_fix(
        latitude=latitude,
        longitude=longitude,
        coordinate_system=coordinate_system,
        accuracy_metres=accuracy_metres,
        device_time=device_time,
        mock_location=mock_location,
        client_id=client_id,
        offline=offline,
        received_at=received_at,
    )
    # No lookup of the client id first (the burst's path): a resend finds its id taken at the attempt's INSERT, rolls
    # back to the savepoint and answers with the stored attempt (SentTwice), whatever the checks said this time.
    shift_id = _shift_id(shift)
    try:
        with transaction.atomic():
            signup, refusal = _place_or_refusal(user=user, shift_id=shift_id)
            if signup is not None:
                refusal = _check_in_refusal(fix, signup)
            attempt = attempt_record(
                fix=fix, user=user, kind=PatrolAttempt.Kind.CHECK_IN, shift_id=shift_id, signup=signup, refusal=refusal
            )
            if refusal is None:
                signup.attendance = Attendance.ON_DUTY
                signup.checked_in_at = fix.event_time
                signup_seen(signup, fix)
                signup.save(update_fields=["attendance", "checked_in_at", *SEEN_FIELDS])
                on_duty_changed(signup=signup, change="checked_in")
    except SentTwice as error:
        return answer_sent_twice(error)
    if refusal is not None:
        refusal.attempt = attempt  # committed: the refusal stays on record
        raise refusal
    return attempt


def _check_out_refusal(fix: PhoneFix, signup: ShiftSignup) -> PatrolRefused | None:
    if signup.attendance == Attendance.EXPECTED:
        return PatrolRefused(Code.NOT_CHECKED_IN)
    if signup.attendance != Attendance.ON_DUTY:
        return PatrolRefused(Code.ALREADY_CHECKED_OUT)
    # No zone rule (one may leave the zone to go home), and no accuracy rule; the position is recorded all the same.
    # The clock rules stay: the check-out time decides the hours.
    refusal = phone_refusal(fix, needs_accuracy=False)
    if refusal is None and fix.event_time < signup.checked_in_at:
        return PatrolRefused(Code.DEVICE_TIME_IMPLAUSIBLE, {"in_future": False, "minutes_off": 0})
    return refusal


def shift_check_out(
    *,
    user,
    shift: Shift | int,
    latitude: float,
    longitude: float,
    coordinate_system: str = "wgs84",
    accuracy_metres: float | None = None,
    device_time: datetime,
    mock_location: bool = False,
    client_id: str = "",
    offline: bool = False,
    received_at: datetime | None = None,
) -> PatrolAttempt:
    """Check the person out: attendance done, ``verified_seconds`` the overlap of their time with the shift.
    Answers like :func:`shift_check_in`."""
    fix = phone_fix(
        latitude=latitude,
        longitude=longitude,
        coordinate_system=coordinate_system,
        accuracy_metres=accuracy_metres,
        device_time=device_time,
        mock_location=mock_location,
        client_id=client_id,
        offline=offline,
        received_at=received_at,
    )
    stored = stored_attempt(user=user, client_id=fix.client_id)
    if stored is not None:
        return stored_answer(stored)
    shift_id = _shift_id(shift)
    try:
        with transaction.atomic():
            signup, refusal = _place_or_refusal(user=user, shift_id=shift_id)
            if signup is not None:
                refusal = _check_out_refusal(fix, signup)
            attempt = attempt_record(
                fix=fix, user=user, kind=PatrolAttempt.Kind.CHECK_OUT, shift_id=shift_id, signup=signup, refusal=refusal
            )
            if refusal is None:
                signup.attendance = Attendance.DONE
                signup.checked_out_at = fix.event_time
                signup.verified_seconds = verified_seconds(
                    shift=signup.shift, checked_in_at=signup.checked_in_at, checked_out_at=fix.event_time
                )
                signup_seen(signup, fix)
                signup.save(update_fields=["attendance", "checked_out_at", "verified_seconds", *SEEN_FIELDS])
                on_duty_changed(signup=signup, change="checked_out")
                _verified(signup)
    except SentTwice as error:
        return answer_sent_twice(error)
    if refusal is not None:
        refusal.attempt = attempt
        raise refusal
    return attempt


# --- the automatic close -------------------------------------------------------------------------------------------


def shifts_due_for_close(*, now=None) -> list[int]:
    now = now or timezone.now()
    return list(Shift.objects.filter(close_at__lte=now).order_by("close_at").values_list("pk", flat=True)[:500])


def shift_close_if_due(*, shift_id: int, now=None) -> int:
    """Close the forgotten check-outs of one shift whose ``close_at`` passed: each place still on duty is checked out
    at the shift's end, its hours capped there and flagged for the leader, who is told. Exactly once: the shift is
    locked (a second worker skips it) and ``close_at``, checked again under the lock, is cleared in the same
    transaction. Returns how many places were closed."""
    now = now or timezone.now()
    with transaction.atomic():
        shift = (
            Shift.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=shift_id, close_at__lte=now)
            .first()
        )
        if shift is None:
            return 0  # not due any more, or another worker has it
        closed = []
        for signup in shift.signups.select_for_update().filter(attendance=Attendance.ON_DUTY).order_by("pk"):
            signup.shift = shift
            signup.attendance = Attendance.CLOSED_AUTOMATICALLY
            signup.checked_out_at = shift.ends_at
            signup.verified_seconds = verified_seconds(
                shift=shift, checked_in_at=signup.checked_in_at, checked_out_at=shift.ends_at
            )
            signup.needs_review = True
            signup.save(update_fields=["attendance", "checked_out_at", "verified_seconds", "needs_review"])
            on_duty_changed(signup=signup, change="closed")
            _verified(signup)
            closed.append(signup)
        shift.close_at = None
        shift.save(update_fields=["close_at"])
        if closed:
            _tell_leaders(shift, closed)
    return len(closed)


def _tell_leaders(shift: Shift, closed: list[ShiftSignup]) -> None:
    leader_ids = list(
        PatrolTeamMember.objects.filter(team_id=shift.team_id, role=PatrolTeamMember.Role.LEADER).values_list(
            "user_id", flat=True
        )
    )
    event_publish(
        topics=[user_topic(user_id) for user_id in leader_ids],
        event={
            "type": "check_out_needed_review",
            "shift": {"id": shift.pk, "name": shift.name, "ends_at": shift.ends_at},
            "places": [
                {"id": signup.pk, "user": signup.user_id, "verified_seconds": signup.verified_seconds}
                for signup in closed
            ],
        },
        durable=True,
    )


def shifts_close_due(*, now=None) -> int:
    now = now or timezone.now()
    return sum(shift_close_if_due(shift_id=shift_id, now=now) for shift_id in shifts_due_for_close(now=now))
