"""The patrol's evidence for the points ledger (alliance/points_evidence.py), registered from GroupsConfig.ready().

``patrol_hours``: a place (``ShiftSignup``) checked out, by the volunteer or by the automatic close, with verified
time earns its hours (in whole minutes, the unit of the rule). ``route_completed``: each round of the shift's route
in which every checkpoint was scanned earns one completion (the rounds are the client's, kept on the accepted scans;
a checkpoint added to the route later does not undo a round finished before it existed).

Both are settled when the place is checked out (by the person, the offline batch or the automatic close): only then
is its time verified, and no scan is accepted after it, so its rounds are final too. Both read the rows as they are
now, so settling a place again changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from alliance.models import PointsReason
from alliance.points_evidence import PointsClaim, points_evidence_register, points_settle_on_commit
from groups.models import Checkpoint, CheckpointScan, PatrolAttempt, ShiftSignup

PATROL_HOURS = "patrol_hours"
ROUTE_COMPLETED = "route_completed"

CHECKED_OUT = (ShiftSignup.Attendance.DONE, ShiftSignup.Attendance.CLOSED_AUTOMATICALLY)
# The automatic close dates a place's check-out at the shift's end, though it runs later (15 minutes, or longer
# when the workers were down): the catch-up looks back this much further for those.
CLOSE_LATENESS = timedelta(days=1)


def verified_hours(verified_seconds: int) -> float:
    """Hours counted in whole minutes (settings.POINTS_DEFAULT_RULES): 59 seconds earn nothing."""
    return (verified_seconds // 60) / 60


def patrol_points_settle_on_commit(*, signup_ids) -> None:
    """A place was checked out: after commit, its hours and its completed rounds are settled."""
    signup_ids = list(signup_ids)
    points_settle_on_commit(source=PATROL_HOURS, ids=signup_ids)
    points_settle_on_commit(source=ROUTE_COMPLETED, ids=signup_ids)


def patrol_hours_claims(ids: list[int]) -> list[PointsClaim]:
    places = ShiftSignup.objects.filter(pk__in=ids, attendance__in=CHECKED_OUT, verified_seconds__gte=60).values_list(
        "pk", "user_id", "shift__alliance_id", "verified_seconds", "checked_out_at"
    )
    return [
        PointsClaim(
            user_id=user_id,
            alliance_id=alliance_id,
            reason=PointsReason.PATROL_HOUR,
            units=verified_hours(seconds),
            unique_key=f"{PATROL_HOURS}:place:{pk}",
            source_type="groups.ShiftSignup",
            source_id=pk,
            happened_at=checked_out_at,
        )
        for pk, user_id, alliance_id, seconds, checked_out_at in places
    ]


def route_completed_claims(ids: list[int]) -> list[PointsClaim]:
    places = {
        pk: (user_id, alliance_id, route_id)
        for pk, user_id, alliance_id, route_id in ShiftSignup.objects.filter(
            pk__in=ids, attendance__in=CHECKED_OUT, shift__route__isnull=False
        ).values_list("pk", "user_id", "shift__alliance_id", "shift__route_id")
    }
    if not places:
        return []
    route_checkpoints: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    for route_id, checkpoint_id, created_at in Checkpoint.objects.filter(
        route_id__in={route_id for _user, _alliance, route_id in places.values()}
    ).values_list("route_id", "pk", "created_at"):
        route_checkpoints[route_id].append((checkpoint_id, created_at))
    rounds: dict[tuple[int, int], dict[int, datetime]] = defaultdict(dict)
    for signup_id, round_number, checkpoint_id, scanned_at in CheckpointScan.objects.filter(
        signup_id__in=places
    ).values_list("signup_id", "round", "checkpoint_id", "scanned_at"):
        rounds[signup_id, round_number][checkpoint_id] = scanned_at
    claims = []
    for (signup_id, round_number), scanned in sorted(rounds.items()):
        user_id, alliance_id, route_id = places[signup_id]
        finished_at = max(scanned.values())
        # The checkpoints the route had when the round was finished; a scan of another route's is never accepted.
        required = {pk for pk, created_at in route_checkpoints[route_id] if created_at <= finished_at}
        if not required or not required <= scanned.keys():
            continue
        claims.append(
            PointsClaim(
                user_id=user_id,
                alliance_id=alliance_id,
                reason=PointsReason.ROUTE_COMPLETED,
                units=1,
                unique_key=f"{ROUTE_COMPLETED}:place:{signup_id}:round:{round_number}",
                source_type="groups.ShiftSignup",
                source_id=signup_id,
                happened_at=finished_at,
            )
        )
    return claims


def places_checked_out_since(since: datetime) -> list[int]:
    """Places checked out since then: by their check-out time (the automatic close's is the shift's end, up to a day
    before it ran), or by when an offline check-out arrived (its time is the phone's, maybe days earlier)."""
    by_time = ShiftSignup.objects.filter(
        attendance__in=CHECKED_OUT, checked_out_at__gte=since - CLOSE_LATENESS
    ).values_list("pk", flat=True)
    by_arrival = PatrolAttempt.objects.filter(
        kind=PatrolAttempt.Kind.CHECK_OUT, accepted=True, received_at__gte=since, signup__isnull=False
    ).values_list("signup_id", flat=True)
    return sorted({*by_time, *by_arrival})


points_evidence_register(PATROL_HOURS, patrol_hours_claims, recent_ids=places_checked_out_since)
points_evidence_register(ROUTE_COMPLETED, route_completed_claims, recent_ids=places_checked_out_since)
