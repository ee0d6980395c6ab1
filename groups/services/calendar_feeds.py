"""The personal shift calendar (iCalendar) at a secret address, since calendar apps cannot send a session token.

The secret is shown once, when the address is made; only its SHA-256 is kept, so a database read does not give
anybody's calendar away. Making a new address revokes the old one; revoking leaves none. The calendar carries the
Asia/Shanghai VTIMEZONE, so every calendar app shows the shift at the hour the team meant.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import icalendar
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.queries import unique_row
from groups.models import CalendarFeed, ShiftSignup
from groups.services.shifts import PATROL_TIME_ZONE

CALENDAR_PAST_DAYS = 30
CALENDAR_UID_DOMAIN = "pingan.patrol"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_feed_create(*, user, now: datetime | None = None) -> str:
    """A new secret for ``user``'s calendar (any previous one stops working); returns the token, shown once."""
    now = now or timezone.now()
    CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.create(user=user, token_hash=_hash(token), created_at=now)
    return token


def calendar_feed_revoke(*, user, now: datetime | None = None) -> int:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now or timezone.now())


def calendar_feed_user(*, token: str):
    """The user whose live feed ``token`` opens, or None (unknown, revoked, or an account since deactivated)."""
    if not token or len(token) > 100:
        return None
    feed = unique_row(
        CalendarFeed.objects.select_related("user").filter(token_hash=_hash(token), revoked_at__isnull=True)
    )
    if feed is None or not feed.user.is_active:
        return None
    return feed.user


def calendar_for_user(*, user, now: datetime | None = None) -> bytes:
    """The person's held places (confirmed and offered) on scheduled shifts from 30 days ago to the horizon."""
    now = now or timezone.now()
    signups = (
        ShiftSignup.objects.filter(
            user=user,
            status__in=[ShiftSignup.Status.CONFIRMED, ShiftSignup.Status.OFFERED],
            shift__status="scheduled",
            shift__starts_at__gte=now - timedelta(days=CALENDAR_PAST_DAYS),
            shift__starts_at__lte=now + timedelta(days=settings.PATROL_SHIFT_HORIZON_DAYS + 1),
        )
        .select_related("shift__zone", "shift__route", "shift__team")
        .order_by("shift__starts_at", "id")
    )
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Pingan//Patrol shifts//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "平安巡逻排班")
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    for signup in signups:
        shift = signup.shift
        event = icalendar.Event()
        event.add("uid", f"signup-{signup.pk}@{CALENDAR_UID_DOMAIN}")
        event.add("dtstamp", now)
        event.add("dtstart", timezone.localtime(shift.starts_at, PATROL_TIME_ZONE))
        event.add("dtend", timezone.localtime(shift.ends_at, PATROL_TIME_ZONE))
        event.add("summary", f"{shift.name} · {shift.zone.name} · {signup.get_role_display()}")
        event.add("location", shift.zone.name + (f" / {shift.route.name}" if shift.route_id else ""))
        event.add("description", shift.team.name)
        if signup.status == ShiftSignup.Status.OFFERED:
            event.add("status", "TENTATIVE")
        else:
            event.add("status", "CONFIRMED")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    if not calendar.timezones:
        # An empty calendar still names its time zone, so an app subscribing to it starts right.
        calendar.add_component(icalendar.Timezone.from_tzid("Asia/Shanghai"))
    return calendar.to_ical()
