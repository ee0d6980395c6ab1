"""Scanning a checkpoint's QR code on the route: proof that a checked-in volunteer passed there, once per round.

Accepted when the code is ours, current and on this shift's route, when the phone is within the checkpoint's radius
(allowing for its reported accuracy: a photographed code scanned elsewhere is refused), inside the shift's window,
and when this checkpoint was not yet scanned in this round. The client counts the rounds (``round``, 1 to
``MAX_ROUNDS``). Every try is recorded.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from config.errors import ApplicationError
from config.geo import distance_metres
from groups.checkpoint_codes import checkpoint_from_code
from groups.error_codes import GroupErrorCode as Code
from groups.models import CheckpointScan, PatrolAttempt, Shift, ShiftSignup
from groups.patrol_refusals import PatrolRefused
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

MAX_ROUNDS = 20


def _scan_refusal(fix: PhoneFix, signup: ShiftSignup, checkpoint, round_number: int) -> PatrolRefused | None:
    if signup.attendance != ShiftSignup.Attendance.ON_DUTY:
        return PatrolRefused(Code.NOT_CHECKED_IN)
    refusal = phone_refusal(fix) or window_refusal(signup.shift, fix.event_time)
    if refusal:
        return refusal
    away = distance_metres(fix.latitude, fix.longitude, checkpoint.latitude, checkpoint.longitude)
    if away > checkpoint.radius_metres + (fix.accuracy_metres or 0):
        return PatrolRefused(
            Code.TOO_FAR_FROM_CHECKPOINT, {"metres_away": round(away), "radius_metres": checkpoint.radius_metres}
        )
    if CheckpointScan.objects.filter(signup=signup, checkpoint=checkpoint, round=round_number).exists():
        return PatrolRefused(Code.ALREADY_SCANNED, {"round": round_number})
    return None


def checkpoint_scan(
    *,
    user,
    shift: Shift | int,
    code: str,
    latitude: float,
    longitude: float,
    coordinate_system: str = "wgs84",
    accuracy_metres: float | None,
    device_time: datetime,
    mock_location: bool = False,
    round: int = 1,  # noqa: A002 - the word of the domain and of the API
    client_id: str = "",
    offline: bool = False,
    received_at: datetime | None = None,
) -> PatrolAttempt:
    """Record a scan. Returns the accepted attempt (``attempt.scan`` the CheckpointScan); raises
    :class:`PatrolRefused` after recording a refused one; a stored ``client_id`` answers with its first outcome."""
    if not 1 <= round <= MAX_ROUNDS:
        raise ApplicationError.invalid("round", _("Send a round from 1 to %(max)s.") % {"max": MAX_ROUNDS})
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
    shift_id = shift.pk if isinstance(shift, Shift) else int(shift)
    checkpoint = None
    try:
        with transaction.atomic():
            signup = signup_locked(user=user, shift_id=shift_id)
            if signup is None:
                shift_visible_or_404(user=user, shift_id=shift_id)
                refusal = PatrolRefused(Code.NOT_SIGNED_UP)
            else:
                try:
                    checkpoint = checkpoint_from_code(code, route_id=signup.shift.route_id)
                    refusal = _scan_refusal(fix, signup, checkpoint, round)
                except PatrolRefused as bad_code:
                    refusal = bad_code
            attempt = attempt_record(
                fix=fix,
                user=user,
                kind=PatrolAttempt.Kind.SCAN,
                shift_id=shift_id,
                signup=signup,
                refusal=refusal,
                checkpoint_id=checkpoint.pk if checkpoint else None,
            )
            if refusal is None:
                attempt.scan = CheckpointScan.objects.create(
                    signup=signup,
                    checkpoint=checkpoint,
                    round=round,
                    scanned_at=fix.event_time,
                    latitude=fix.latitude,
                    longitude=fix.longitude,
                    attempt=attempt,
                )
                signup_seen(signup, fix)
                signup.save(update_fields=list(SEEN_FIELDS))
    except SentTwice as error:
        return answer_sent_twice(error)
    if refusal is not None:
        refusal.attempt = attempt
        raise refusal
    return attempt
