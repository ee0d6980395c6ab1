"""What check-in, check-out and checkpoint scans share: the phone's position report read at the edge (converted to
WGS-84), the rules about the phone itself (mock location, accuracy, clock), the shift's window, and the attempt row
that records every try, accepted or refused.

A refused attempt is stored and committed before the refusal is raised: the service writes it inside its own
``transaction.atomic`` block and raises only after the block, so the 4xx answer does not roll the record back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.selectors.alliances import alliance_access_for
from config.coordinates import COORDINATE_SYSTEMS, to_wgs84
from config.errors import ApplicationError
from groups.error_codes import GroupErrorCode as Code
from groups.models import PatrolAttempt, Shift, ShiftSignup
from groups.patrol_refusals import PatrolRefused

CLIENT_ID_MAX = 64


@dataclass(frozen=True)
class PhoneFix:
    """One report from the phone: where (WGS-84 already), how sure, when by its clock, and how it was sent."""

    latitude: float
    longitude: float
    coordinate_system: str
    accuracy_metres: float | None
    device_time: datetime
    mock_location: bool
    client_id: str
    offline: bool
    received_at: datetime

    @property
    def event_time(self) -> datetime:
        """When it happened: the phone's clock for an item captured offline (checked for plausibility by
        :func:`phone_refusal`), else our own clock."""
        return self.device_time if self.offline else self.received_at


def phone_fix(
    *,
    latitude: float,
    longitude: float,
    coordinate_system: str = "wgs84",
    accuracy_metres: float | None,
    device_time: datetime,
    mock_location: bool = False,
    client_id: str = "",
    offline: bool = False,
    received_at: datetime | None = None,
) -> PhoneFix:
    """The position converted to WGS-84 at the edge; bad input is a 400 naming the field (the API's serializers
    check the same, so this guards the other callers: the batch, the shell, the benchmarks)."""
    if coordinate_system not in COORDINATE_SYSTEMS:
        raise ApplicationError.invalid("coordinate_system", _("Choose wgs84 or gcj02."))
    for field, value, limit in (("latitude", latitude, 90), ("longitude", longitude, 180)):
        if value is None or not math.isfinite(value) or not -limit <= value <= limit:
            raise ApplicationError.invalid(field, _("Send a number from -%(limit)s to %(limit)s.") % {"limit": limit})
    if accuracy_metres is not None and (not math.isfinite(accuracy_metres) or accuracy_metres < 0):
        raise ApplicationError.invalid("accuracy", _("Send the accuracy in metres (0 or more)."))
    if device_time is None or timezone.is_naive(device_time):
        raise ApplicationError.invalid("device_time", _("Send the phone's time with its offset (ISO 8601)."))
    if len(client_id or "") > CLIENT_ID_MAX:
        raise ApplicationError.invalid("client_id", _("Keep the client id under 64 characters."))
    wgs_latitude, wgs_longitude = to_wgs84(latitude, longitude, coordinate_system)
    return PhoneFix(
        latitude=wgs_latitude,
        longitude=wgs_longitude,
        coordinate_system=coordinate_system,
        accuracy_metres=accuracy_metres,
        device_time=device_time,
        mock_location=bool(mock_location),
        client_id=client_id or "",
        offline=offline,
        received_at=received_at or timezone.now(),
    )


def _minutes(delta: timedelta) -> int:
    """Whole minutes, rounded up: "too early by 1 minute" rather than by 0 for 20 seconds."""
    return max(1, math.ceil(delta.total_seconds() / 60))


def phone_refusal(fix: PhoneFix, *, needs_accuracy: bool = True) -> PatrolRefused | None:
    """The rules about the phone itself: a simulated location, a fix too vague to prove anything, a clock that lies.
    Online, the phone's clock must agree with ours; offline, its time is when it happened and cannot be ahead."""
    if fix.mock_location:
        return PatrolRefused(Code.MOCK_LOCATION)
    limit = settings.PATROL_MAX_ACCURACY_METRES
    if needs_accuracy and (fix.accuracy_metres is None or fix.accuracy_metres > limit):
        return PatrolRefused(
            Code.ACCURACY_TOO_POOR,
            {"accuracy_metres": round(fix.accuracy_metres or 0), "max_accuracy_metres": limit},
        )
    tolerance = timedelta(minutes=settings.PATROL_DEVICE_CLOCK_TOLERANCE_MINUTES)
    off = fix.device_time - fix.received_at
    if fix.offline:
        if off > tolerance:
            return PatrolRefused(Code.DEVICE_TIME_IMPLAUSIBLE, {"in_future": True, "minutes_off": _minutes(off)})
    elif abs(off) > tolerance:
        figures = {"in_future": off > timedelta(0), "minutes_off": _minutes(abs(off))}
        return PatrolRefused(Code.DEVICE_TIME_IMPLAUSIBLE, figures)
    return None


def window_refusal(shift: Shift, moment: datetime) -> PatrolRefused | None:
    """Inside the shift's window: from ``PATROL_CHECK_IN_GRACE_MINUTES`` before its start to its end."""
    grace = settings.PATROL_CHECK_IN_GRACE_MINUTES
    opens = shift.starts_at - timedelta(minutes=grace)
    if moment < opens:
        return PatrolRefused(Code.TOO_EARLY, {"minutes_early": _minutes(opens - moment), "grace_minutes": grace})
    if moment > shift.ends_at:
        late = moment - shift.ends_at  # "ended 60 minutes ago", not 61, a few seconds after the hour
        return PatrolRefused(Code.TOO_LATE, {"minutes_late": max(1, int(late.total_seconds() // 60))})
    return None


def signup_locked(*, user, shift_id: int) -> ShiftSignup | None:
    """The person's confirmed place on the shift, with its shift and zone, locked until the transaction ends (so a
    check-in, a scan and the automatic close of one place happen one after the other). The one read of the cheap
    path. Expects a transaction."""
    signup = (
        ShiftSignup.objects.select_for_update(of=("self",))
        .select_related("shift__zone")
        .filter(shift_id=shift_id, user=user, status=ShiftSignup.Status.CONFIRMED)
        .first()
    )
    if signup is not None:
        signup.user = user  # the same person: what follows (the on-duty event's name) need not load them again
    return signup


SEEN_FIELDS = ("last_latitude", "last_longitude", "last_seen_at")


def signup_seen(signup: ShiftSignup, fix: PhoneFix) -> None:
    """Where the person was last seen on the shift (check-in, a scan, a log entry): dispatch measures from here."""
    signup.last_latitude = fix.latitude
    signup.last_longitude = fix.longitude
    signup.last_seen_at = fix.event_time


def shift_visible_or_404(*, user, shift_id: int) -> Shift:
    """For a person without a place on the shift: the shift when they may see its alliance, else 404 (a shift of
    another alliance tells nothing)."""
    shift = Shift.objects.select_related("alliance").filter(pk=shift_id).first()
    if shift is None or alliance_access_for(user=user, alliance=shift.alliance) is None:
        raise ApplicationError.not_found()
    return shift


def stored_attempt(*, user, client_id: str) -> PatrolAttempt | None:
    if not client_id:
        return None
    return PatrolAttempt.objects.filter(user=user, client_id=client_id).first()


def stored_answer(attempt: PatrolAttempt) -> PatrolAttempt:
    """Answer a resent item with what was decided the first time: the stored attempt, or its refusal again."""
    if not attempt.accepted:
        raise PatrolRefused.of_attempt(attempt, duplicate=True)
    attempt.duplicate = True
    return attempt


def attempt_record(
    *,
    fix: PhoneFix,
    user,
    kind: str,
    shift_id: int,
    signup: ShiftSignup | None,
    refusal: PatrolRefused | None,
    checkpoint_id: int | None = None,
) -> PatrolAttempt:
    """Insert the attempt row (one INSERT; a savepoint only when a client id could collide, with the same item sent
    again on another connection). Expects a transaction."""
    attempt = PatrolAttempt(
        shift_id=shift_id,
        signup=signup,
        user=user,
        kind=kind,
        checkpoint_id=checkpoint_id,
        accepted=refusal is None,
        refusal_code=refusal.code if refusal else "",
        refusal_detail=refusal.figures if refusal else {},
        latitude=fix.latitude,
        longitude=fix.longitude,
        coordinate_system=fix.coordinate_system,
        accuracy_metres=fix.accuracy_metres,
        mock_location=fix.mock_location,
        device_time=fix.device_time,
        received_at=fix.received_at,
        client_id=fix.client_id,
        offline=fix.offline,
    )
    attempt.duplicate = False
    if not fix.client_id:
        attempt.save(force_insert=True)
        return attempt
    try:
        with transaction.atomic():
            attempt.save(force_insert=True)
    except IntegrityError:
        raise SentTwice(user=user, client_id=fix.client_id)
    return attempt


class SentTwice(Exception):
    """The same client id raced in on another connection; the caller answers with the stored attempt."""

    def __init__(self, *, user, client_id: str):
        super().__init__(client_id)
        self.user = user
        self.client_id = client_id


def answer_sent_twice(error: SentTwice) -> PatrolAttempt:
    stored = stored_attempt(user=error.user, client_id=error.client_id)
    if stored is None:
        raise ApplicationError.invalid("client_id", _("This client id was already used."))
    return stored_answer(stored)
