"""The timers of a shift before and at its start: reminders to the people on it, and the no-show check once
check-in has closed. (The automatic check-out at its end is the check-in work's, on ``Shift.close_at``.)

Each timer is a deadline column on the shift read by a periodic sweep (groups/tasks.py), the escalation ladder's
pattern: one shift at a time under ``SELECT ... FOR UPDATE SKIP LOCKED`` with the deadline checked again under the
lock and cleared in the same transaction, so a timer fires exactly once with any number of workers and survives
restarts.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from groups.events import event_publish, user_topic
from groups.models import Shift, ShiftSignup
from groups.selectors.patrol_rosters import team_leader_ids

SWEEP_BATCH = 500


def _locked_due(*, shift_id: int, column: str, now: datetime) -> Shift | None:
    return Shift.objects.select_for_update(skip_locked=True).filter(pk=shift_id, **{f"{column}__lte": now}).first()


def shift_remind_if_due(*, shift_id: int, now: datetime) -> bool:
    """Reminds the people confirmed on the shift (event ``shift_reminder``) and clears ``remind_at``."""
    with transaction.atomic():
        shift = _locked_due(shift_id=shift_id, column="remind_at", now=now)
        if shift is None:
            return False  # not due any more, or another worker has it
        signups = list(
            ShiftSignup.objects.filter(shift=shift, status=ShiftSignup.Status.CONFIRMED, reminded_at__isnull=True).only(
                "id", "user_id", "role"
            )
        )
        if shift.status == Shift.Status.SCHEDULED and signups:
            ShiftSignup.objects.filter(pk__in=[s.pk for s in signups]).update(reminded_at=now)
            for signup in signups:
                event_publish(
                    topics=[user_topic(signup.user_id)],
                    event={
                        "type": "shift_reminder",
                        "signup": signup.pk,
                        "shift": shift.pk,
                        "name": shift.name,
                        "role": signup.role,
                        "starts_at": shift.starts_at,
                        "ends_at": shift.ends_at,
                        "zone": shift.zone_id,
                    },
                    durable=True,
                )
        shift.remind_at = None
        shift.save(update_fields=["remind_at"])
    return True


def shift_no_shows_if_due(*, shift_id: int, now: datetime) -> bool:
    """Confirmed people still expected and not checked in become no-shows; the team's leaders are told (event
    ``no_show``, one per shift with everyone missing). Clears ``no_show_check_at``."""
    with transaction.atomic():
        shift = _locked_due(shift_id=shift_id, column="no_show_check_at", now=now)
        if shift is None:
            return False
        missing = list(
            ShiftSignup.objects.select_for_update()
            .filter(
                shift=shift,
                status=ShiftSignup.Status.CONFIRMED,
                attendance=ShiftSignup.Attendance.EXPECTED,
                checked_in_at__isnull=True,
            )
            .values_list("pk", "user_id")
        )
        if shift.status == Shift.Status.SCHEDULED and missing:
            ShiftSignup.objects.filter(pk__in=[pk for pk, _user in missing]).update(
                attendance=ShiftSignup.Attendance.NO_SHOW
            )
            event_publish(
                topics=[user_topic(user_id) for user_id in team_leader_ids(team_id=shift.team_id)],
                event={
                    "type": "no_show",
                    "shift": shift.pk,
                    "name": shift.name,
                    "starts_at": shift.starts_at,
                    "signups": [pk for pk, _user in missing],
                    "users": [user_id for _pk, user_id in missing],
                },
                durable=True,
            )
        shift.no_show_check_at = None
        shift.save(update_fields=["no_show_check_at"])
    return True


def shifts_remind_due(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = Shift.objects.filter(remind_at__lte=now).order_by("remind_at").values_list("pk", flat=True)[:SWEEP_BATCH]
    return sum(shift_remind_if_due(shift_id=shift_id, now=now) for shift_id in list(due))


def shifts_check_no_shows_due(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = (
        Shift.objects.filter(no_show_check_at__lte=now)
        .order_by("no_show_check_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    return sum(shift_no_shows_if_due(shift_id=shift_id, now=now) for shift_id in list(due))
