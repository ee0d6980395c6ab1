"""The patrol log: what a volunteer did on the shift (a hidden danger found, a dispute mediated, a person helped,
flyers handed out and people reached), written while checked in or shortly after checking out.

A hidden danger becomes an incident report in the police queue, with the photo and position, through the hook in
groups/patrol_hooks.py (the reports app makes it with its incident service).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import ApplicationError
from config.images import PreparedImage
from groups.error_codes import GroupErrorCode as Code
from groups.models import PatrolLogEntry, Shift, ShiftSignup
from groups.patrol_hooks import hidden_danger_report
from groups.patrol_refusals import PatrolRefused
from groups.services.patrol_attempts import (
    SEEN_FIELDS,
    phone_fix,
    shift_visible_or_404,
    signup_locked,
    signup_seen,
)

# Volunteers often write the log on the way home: it stays open this long after checking out.
LOG_AFTER_CHECK_OUT = timedelta(hours=2)
MAX_COUNT = 100_000
MAX_NOTE = 1000

Attendance = ShiftSignup.Attendance


def _may_log(signup: ShiftSignup, now: datetime) -> bool:
    if signup.attendance == Attendance.ON_DUTY:
        return True
    finished = signup.attendance in (Attendance.DONE, Attendance.CLOSED_AUTOMATICALLY)
    return finished and signup.checked_out_at is not None and now <= signup.checked_out_at + LOG_AFTER_CHECK_OUT


def patrol_log_add(
    *,
    user,
    shift: Shift | int,
    kind: str,
    note: str = "",
    flyers: int = 0,
    people_reached: int = 0,
    latitude: float | None = None,
    longitude: float | None = None,
    coordinate_system: str = "wgs84",
    photo: PreparedImage | None = None,
    client_id: str = "",
    device_time: datetime | None = None,
    received_at: datetime | None = None,
) -> PatrolLogEntry:
    """Add an entry for the person's place on the shift (checked in, or checked out within LOG_AFTER_CHECK_OUT).
    A hidden danger needs a note and a position (the last one seen on the shift when none is sent) and becomes an
    incident (``entry.incident_id``). A ``client_id`` already stored for the place returns the stored entry
    (``entry.duplicate`` True)."""
    now = received_at or timezone.now()
    if kind not in PatrolLogEntry.Kind.values:
        raise ApplicationError.invalid("kind", _("Choose one of the patrol log kinds."))
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ApplicationError.invalid("note", _("Keep the note under %(max)s characters.") % {"max": MAX_NOTE})
    for field, value in (("flyers", flyers), ("people_reached", people_reached)):
        if not 0 <= value <= MAX_COUNT:
            raise ApplicationError.invalid(field, _("Send a number from 0 to %(max)s.") % {"max": MAX_COUNT})
    if (latitude is None) != (longitude is None):
        raise ApplicationError.invalid("latitude", _("Send both latitude and longitude, or neither."))
    tolerance = timedelta(minutes=settings.PATROL_DEVICE_CLOCK_TOLERANCE_MINUTES)
    if device_time is not None and device_time > now + tolerance:
        raise PatrolRefused(Code.DEVICE_TIME_IMPLAUSIBLE, {"in_future": True, "minutes_off": 0})
    fix = None
    if latitude is not None:
        fix = phone_fix(
            latitude=latitude,
            longitude=longitude,
            coordinate_system=coordinate_system,
            accuracy_metres=None,
            device_time=device_time or now,
            offline=device_time is not None,
            received_at=now,
        )
    if kind == PatrolLogEntry.Kind.HIDDEN_DANGER and not note:
        raise ApplicationError.invalid("note", _("Describe the hidden danger."))

    shift_id = shift.pk if isinstance(shift, Shift) else int(shift)
    try:
        with transaction.atomic():
            signup = signup_locked(user=user, shift_id=shift_id)
            if signup is None:
                shift_visible_or_404(user=user, shift_id=shift_id)
                raise PatrolRefused(Code.NOT_SIGNED_UP)
            if client_id:
                stored = PatrolLogEntry.objects.filter(signup=signup, client_id=client_id).first()
                if stored is not None:
                    stored.duplicate = True
                    return stored
            if not _may_log(signup, now):
                raise PatrolRefused(Code.NOT_CHECKED_IN)
            entry_latitude = fix.latitude if fix else signup.last_latitude
            entry_longitude = fix.longitude if fix else signup.last_longitude
            if kind == PatrolLogEntry.Kind.HIDDEN_DANGER and entry_latitude is None:
                raise ApplicationError.invalid("latitude", _("Send the position of the hidden danger."))
            with transaction.atomic(savepoint=bool(client_id)):
                entry = PatrolLogEntry.objects.create(
                    signup=signup,
                    kind=kind,
                    note=note,
                    flyers=flyers,
                    people_reached=people_reached,
                    latitude=entry_latitude,
                    longitude=entry_longitude,
                    client_id=client_id,
                    device_time=device_time,
                    created_at=now,
                )
            if kind == PatrolLogEntry.Kind.HIDDEN_DANGER:
                entry.incident_id = hidden_danger_report(entry, photo)
                if entry.incident_id is not None:
                    entry.save(update_fields=["incident_id"])
            if fix is not None and signup.attendance == Attendance.ON_DUTY:
                signup_seen(signup, fix)
                signup.save(update_fields=list(SEEN_FIELDS))
    except IntegrityError:
        # The same client id raced in on another connection and was stored there.
        stored = PatrolLogEntry.objects.filter(
            signup__shift_id=shift_id, signup__user=user, client_id=client_id
        ).first()
        if not client_id or stored is None:
            raise
        stored.duplicate = True
        return stored
    entry.duplicate = False
    return entry
