"""Who is on duty in an alliance now, nearest first: the one reading that dispatch (a dispute flag's first rung), the
police's on-duty screen and the live on-duty events share.

Two kinds of people are on duty:
- volunteers checked in to a shift of the alliance (``ShiftSignup.attendance == "on_duty"``) whose window covers now,
  from the check-in grace before its start to the same grace after its end (when the close sweep checks them out).
  A volunteer's manual duty switch does not count: check-ins replace it (``alliance_duty_set`` refuses it);
- police and mall managers who went on duty with the alliance's duty switch (``AllianceMembership.on_duty``): the
  police liaisons and mall managers, and police officers holding any other role in the alliance (an officer who is
  also its admin), as ``alliance.permissions.can_go_on_duty`` allows.

One query whatever the size of the city, each half on an index: the sign-ups through the alliance's shifts
starting in a bounded window (``shift_alliance_start``) and the partial ``signup_on_duty`` index; the memberships
through ``membership_on_duty``. Distances are measured in Python over those rows (a few dozen per alliance; see
bench/dispatch_lookup.py for the city-scale figures).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Role, RoleGrant, User
from alliance.models import Alliance, AllianceMembership, StationStaff
from alliance.selectors.alliances import units_under
from config.geo import distance_metres
from groups.models import Shift, ShiftSignup

# A shift lasts at most a day (ShiftTemplate.duration_minutes): the bound that keeps the shift scan on its index.
LONGEST_SHIFT = timedelta(hours=24)
# Alliance roles that go on duty by the switch and are dispatched as such; police in any other role are "police".
SWITCH_RESPONDER_ROLES = (AllianceMembership.Role.POLICE_LIAISON, AllianceMembership.Role.MALL_MANAGER)
POLICE_ROLES = (Role.OFFICER, Role.POLICE_ADMIN)


class ResponderKind:
    POLICE = "police"
    POLICE_LIAISON = "police_liaison"
    MALL_MANAGER = "mall_manager"
    VOLUNTEER = "volunteer"


@dataclass(frozen=True, slots=True)
class OnDutyResponder:
    """One person on duty. ``role``: the alliance role for those on the duty switch, the place on the shift
    (fixed, mobile, vehicle) for volunteers. ``since``: when they went on duty or checked in. The position is
    WGS-84 (None when unknown); ``distance_metres`` is None unless a position was asked about and both are known."""

    user_id: int
    display_name: str
    kind: str
    role: str
    since: datetime | None
    latitude: float | None
    longitude: float | None
    distance_metres: float | None = None
    shift_id: int | None = None
    zone_id: int | None = None


def check_in_grace() -> timedelta:
    """How long before a shift's start check-in opens, and how long after its end the close sweep waits."""
    return timedelta(minutes=getattr(settings, "PATROL_CHECK_IN_GRACE_MINUTES", 15))


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# The one statement: the volunteers checked in (first branch) and the members on duty by the switch (second), in
# the same columns, ordered and cut in the database: nearest first by the local plane (``{order}``: squared degrees
# scaled to the ground; exact distances and the final order follow in Python), those without a position after,
# longest on duty first. The people (names, whether the account is active) are read for the rows kept only: at
# city scale that is 50 lookups instead of 2,500 (a deactivated account among the nearest leaves its place empty).
# ``{in_zone}``, ``{not_excluded_*}``, ``{order}`` and ``{limit}`` add placeholders only.
_ON_DUTY_SQL = """
SELECT kept.user_id, u.display_name, kept.role, kept.since, kept.latitude, kept.longitude, kept.shift_id,
    kept.zone_id, kept.total
FROM (
    SELECT user_id, role, since, latitude, longitude, shift_id, zone_id, COUNT(*) OVER () AS total
    FROM (
        SELECT s.user_id AS user_id, s.role AS role, s.checked_in_at AS since, s.last_latitude AS latitude,
            s.last_longitude AS longitude, s.shift_id AS shift_id, sh.zone_id AS zone_id
        FROM {signup} s JOIN {shift} sh ON sh.id = s.shift_id
        WHERE s.attendance = %s AND sh.alliance_id = %s AND sh.status = %s AND sh.starts_at <= %s
            AND sh.starts_at >= %s AND sh.ends_at >= %s{in_zone}{not_excluded_s}
        UNION ALL
        SELECT m.user_id, m.role, m.on_duty_since, m.duty_latitude, m.duty_longitude, NULL, NULL
        FROM {membership} m
        WHERE m.alliance_id = %s AND m.on_duty = %s AND (m.role IN (%s, %s) OR EXISTS (
            SELECT 1 FROM {grant} g WHERE g.user_id = m.user_id AND g.revoked_at IS NULL AND g.role IN (%s, %s)
        )){not_excluded_m}
    ) on_duty
    ORDER BY CASE WHEN latitude IS NULL OR longitude IS NULL THEN 1 ELSE 0 END, {order}since, user_id{limit}
) kept JOIN {user} u ON u.id = kept.user_id
WHERE u.is_active = %s
"""
_PLANE_ORDER = "(latitude - %s) * (latitude - %s) + (longitude - %s) * (longitude - %s) * %s, "


def _on_duty_sql(*, zone: bool, excluded: int, near: bool, limit: bool) -> str:
    """Written out rather than built by the ORM: building and compiling the two querysets cost more CPU than
    PostgreSQL took to answer them (bench/dispatch_lookup.py), on a path every flag takes. Plain SQL that SQLite
    runs too; the tables are the models'."""
    placeholders = ", ".join(["%s"] * excluded)
    return _ON_DUTY_SQL.format(
        signup=_table(ShiftSignup),
        shift=_table(Shift),
        user=_table(User),
        membership=_table(AllianceMembership),
        grant=_table(RoleGrant),
        in_zone=" AND sh.zone_id = %s" if zone else "",
        not_excluded_s=f" AND s.user_id NOT IN ({placeholders})" if excluded else "",
        not_excluded_m=f" AND m.user_id NOT IN ({placeholders})" if excluded else "",
        order=_PLANE_ORDER if near else "",
        limit=" LIMIT %s" if limit else "",
    )


def _moment(value) -> datetime | None:
    """A timestamp as the driver gives it: aware from PostgreSQL, text from SQLite (stored in UTC)."""
    if value is None or isinstance(value, datetime):
        return value
    moment = parse_datetime(value)
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


def _read_on_duty(
    *, alliance_id: int, zone_id: int | None, now: datetime, exclude_user_ids: tuple, near, limit: int | None
) -> tuple[list[OnDutyResponder], int]:
    grace = check_in_grace()
    params = [
        ShiftSignup.Attendance.ON_DUTY.value,
        alliance_id,
        Shift.Status.SCHEDULED.value,
        now + grace,
        now - LONGEST_SHIFT - grace,
        now - grace,
    ]
    if zone_id is not None:
        params.append(zone_id)
    params += [*exclude_user_ids, alliance_id, True, *SWITCH_RESPONDER_ROLES, *POLICE_ROLES, *exclude_user_ids]
    if near is not None:
        latitude, longitude = near
        params += [latitude, latitude, longitude, longitude, math.cos(math.radians(latitude)) ** 2]
    if limit is not None:
        params.append(limit)
    params.append(True)
    sql = _on_duty_sql(
        zone=zone_id is not None, excluded=len(exclude_user_ids), near=near is not None, limit=limit is not None
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    responders = []
    for user_id, name, role, since, latitude, longitude, shift_id, shift_zone_id, _total in rows:
        located = latitude is not None and longitude is not None
        responders.append(
            OnDutyResponder(
                user_id=user_id,
                display_name=name,
                kind=ResponderKind.VOLUNTEER if shift_id is not None else _kind_of_member(role),
                role=role,
                since=_moment(since),
                latitude=latitude,
                longitude=longitude,
                distance_metres=distance_metres(*near, latitude, longitude) if near and located else None,
                shift_id=shift_id,
                zone_id=shift_zone_id,
            )
        )
    return responders, rows[0][-1] if rows else 0


def _kind_of_member(role: str) -> str:
    if role in SWITCH_RESPONDER_ROLES:
        return role
    return ResponderKind.POLICE  # only police in other roles pass the query's filter


def _nearest_first(responders: list[OnDutyResponder]) -> list[OnDutyResponder]:
    """Those with a known distance nearest first, then the others longest on duty first; one entry per person (a
    mall manager also checked in to a shift counts once, at the nearer or longer-standing of the two)."""

    def order(responder: OnDutyResponder):
        unknown = responder.distance_metres is None
        since = responder.since.timestamp() if responder.since else 0.0
        return (unknown, responder.distance_metres or 0.0, since, responder.user_id)

    seen: set[int] = set()
    ordered = []
    for responder in sorted(responders, key=order):
        if responder.user_id not in seen:
            seen.add(responder.user_id)
            ordered.append(responder)
    return ordered


def responders_on_duty_counted(
    *,
    alliance_id: int,
    zone_id: int | None = None,
    near: tuple[float, float] | None = None,
    exclude_user_ids=(),
    limit: int | None = None,
    now: datetime | None = None,
) -> tuple[list[OnDutyResponder], int]:
    """:func:`responders_on_duty`, and how many are on duty in all (before ``limit``). One query."""
    responders, total = _read_on_duty(
        alliance_id=alliance_id,
        zone_id=zone_id,
        now=now or timezone.now(),
        exclude_user_ids=tuple(int(user_id) for user_id in exclude_user_ids),
        near=near,
        limit=limit,
    )
    return _nearest_first(responders), total


def responders_on_duty(
    *,
    alliance_id: int,
    zone_id: int | None = None,
    near: tuple[float, float] | None = None,
    exclude_user_ids=(),
    limit: int | None = None,
    now: datetime | None = None,
) -> list[OnDutyResponder]:
    """Everyone on duty in the alliance now (volunteers of ``zone_id`` only, when given: police are not on a
    zone), nearest to ``near`` (WGS-84 latitude, longitude) first; at most ``limit`` of them (the nearest), chosen
    in the database. One query."""
    return responders_on_duty_counted(
        alliance_id=alliance_id, zone_id=zone_id, near=near, exclude_user_ids=exclude_user_ids, limit=limit, now=now
    )[0]


def on_duty_watchers(*, alliance_id: int) -> list[int]:
    """Who is told live when someone goes on or off duty in the alliance: the officers posted to its community
    police office and its station (levels 2 and 3 of the dispute ladder) and its admins. One plain statement: every
    check-in asks it, and the ORM's union of subqueries cost more to build than PostgreSQL takes to answer it."""
    sql = f"""
        SELECT staff.user_id FROM {_table(StationStaff)} staff
          JOIN {_table(Alliance)} alliance ON alliance.id = %(alliance)s
           AND staff.station_id IN (alliance.station_id, alliance.office_id)
          JOIN {_table(User)} person ON person.id = staff.user_id AND person.is_active
        UNION
        SELECT member.user_id FROM {_table(AllianceMembership)} member
          JOIN {_table(User)} person ON person.id = member.user_id AND person.is_active
         WHERE member.alliance_id = %(alliance)s AND member.role = %(admin)s
    """  # noqa: S608 - our own tables' names; the values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, {"alliance": alliance_id, "admin": AllianceMembership.Role.ADMIN.value})
        return sorted(row[0] for row in cursor.fetchall())


def police_posted_over(*, user, alliance: Alliance) -> bool:
    """``user`` is posted to the alliance's office or station, or to a unit above them. One query."""
    posted = units_under(StationStaff.objects.filter(user=user).values("station_id"))
    return posted.filter(pk__in=[unit for unit in (alliance.station_id, alliance.office_id) if unit]).exists()
