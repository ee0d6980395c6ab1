"""Reads on patrol teams, shift templates, shifts and sign-ups, scoped like every read here: whoever can see the
alliance (its members, the police admins of its jurisdiction) sees its teams and rosters; anything else is 404.

Each ``*_access_or_404`` returns the object with what the viewer has in its alliance (``AllianceAccess``) and their
row in its team, which ``groups.permissions`` reads to decide what they may do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Prefetch, Q, QuerySet

from alliance.models import AllianceMembership
from alliance.selectors.alliances import AllianceAccess, alliance_access_for, alliances_for_user
from config.errors import ApplicationError
from config.queries import unique_row
from groups.models import PatrolTeam, PatrolTeamMember, Shift, ShiftSignup, ShiftSwapRequest, ShiftTemplate
from groups.permissions import can_lead_patrol_team


@dataclass(frozen=True)
class TeamAccess:
    """A patrol team as one viewer (``user``) may act on it: their access to its alliance and their team row."""

    team: PatrolTeam
    access: AllianceAccess
    team_membership: PatrolTeamMember | None
    user: object

    @property
    def may_lead(self) -> bool:
        return can_lead_patrol_team(self.user, self.access, self.team_membership)


def _team_access(*, user, team: PatrolTeam) -> TeamAccess:
    access = alliance_access_for(user=user, alliance=team.alliance)
    if access is None:
        raise ApplicationError.not_found()
    membership = unique_row(PatrolTeamMember.objects.filter(team=team, user=user))
    return TeamAccess(team=team, access=access, team_membership=membership, user=user)


def team_access_or_404(*, user, team_id: int) -> TeamAccess:
    team = unique_row(PatrolTeam.objects.select_related("alliance", "contact_group").filter(pk=team_id))
    if team is None:
        raise ApplicationError.not_found()
    return _team_access(user=user, team=team)


def template_access_or_404(*, user, template_id: int) -> tuple[ShiftTemplate, TeamAccess]:
    template = unique_row(
        ShiftTemplate.objects.select_related("team__alliance", "zone", "route").filter(pk=template_id)
    )
    if template is None:
        raise ApplicationError.not_found()
    return template, _team_access(user=user, team=template.team)


def shift_access_or_404(*, user, shift_id: int) -> tuple[Shift, TeamAccess]:
    shift = unique_row(Shift.objects.select_related("team__alliance", "zone", "route").filter(pk=shift_id))
    if shift is None:
        raise ApplicationError.not_found()
    return shift, _team_access(user=user, team=shift.team)


def signup_access_or_404(*, user, signup_id: int) -> tuple[ShiftSignup, TeamAccess]:
    signup = unique_row(
        ShiftSignup.objects.select_related("shift__team__alliance", "shift__zone", "user").filter(pk=signup_id)
    )
    if signup is None:
        raise ApplicationError.not_found()
    return signup, _team_access(user=user, team=signup.shift.team)


def swap_access_or_404(*, user, swap_id: int) -> tuple[ShiftSwapRequest, TeamAccess]:
    swap = unique_row(
        ShiftSwapRequest.objects.select_related("signup__shift__team__alliance", "signup__user", "to_user").filter(
            pk=swap_id
        )
    )
    if swap is None:
        raise ApplicationError.not_found()
    return swap, _team_access(user=user, team=swap.signup.shift.team)


def alliance_membership_of(*, user_id: int, alliance_id: int) -> AllianceMembership | None:
    return unique_row(
        AllianceMembership.objects.select_related("user").filter(alliance_id=alliance_id, user_id=user_id)
    )


# --- lists --------------------------------------------------------------------------------------------------------


def patrol_teams_for_alliance(*, alliance) -> QuerySet[PatrolTeam]:
    return (
        PatrolTeam.objects.filter(alliance=alliance)
        .annotate(member_count=Count("members", distinct=True))
        .prefetch_related(
            Prefetch(
                "members",
                queryset=PatrolTeamMember.objects.filter(role=PatrolTeamMember.Role.LEADER).select_related("user"),
                to_attr="leaders",
            )
        )
    )


def patrol_team_members(*, team: PatrolTeam) -> QuerySet[PatrolTeamMember]:
    return PatrolTeamMember.objects.filter(team=team).select_related("user")


def shift_templates_for_team(*, team: PatrolTeam) -> QuerySet[ShiftTemplate]:
    return ShiftTemplate.objects.filter(team=team).select_related("zone", "route")


def _with_places(queryset: QuerySet[Shift]) -> QuerySet[Shift]:
    """Each shift with its held places (``held_signups``: confirmed and offered), for filled/capacity per role."""
    held = ShiftSignup.objects.filter(status__in=[ShiftSignup.Status.CONFIRMED, ShiftSignup.Status.OFFERED]).only(
        "id", "shift_id", "role", "status"
    )
    waiting = Count("signups", filter=Q(signups__status=ShiftSignup.Status.WAITLISTED))
    return (
        queryset.select_related("team", "zone", "route")
        .annotate(waitlisted=waiting)
        .prefetch_related(Prefetch("signups", queryset=held, to_attr="held_signups"))
    )


def shifts_for_alliance(
    *, alliance, starts_from: datetime | None, starts_to: datetime | None, zone_id=None, team_id=None
) -> QuerySet[Shift]:
    shifts = Shift.objects.filter(alliance=alliance)
    if starts_from is not None:
        shifts = shifts.filter(ends_at__gt=starts_from)
    if starts_to is not None:
        shifts = shifts.filter(starts_at__lt=starts_to)
    if zone_id is not None:
        shifts = shifts.filter(zone_id=zone_id)
    if team_id is not None:
        shifts = shifts.filter(team_id=team_id)
    return _with_places(shifts)


def shift_roster(*, shift: Shift) -> QuerySet[ShiftSignup]:
    """Everyone who holds or held a place, waitlist order within a role."""
    return ShiftSignup.objects.filter(shift=shift).select_related("user").order_by("role", "created_at", "id")


def shifts_of_user(*, user, since: datetime) -> QuerySet[ShiftSignup]:
    """The person's places (held, and the attendance of past ones) on shifts ending after ``since``, in the
    alliances they can still see."""
    return (
        ShiftSignup.objects.filter(
            user=user,
            status__in=ShiftSignup.HOLDING_STATUSES,
            shift__ends_at__gt=since,
            shift__alliance__in=alliances_for_user(user=user).values("pk"),
        )
        .select_related("shift__team", "shift__zone", "shift__route")
        .annotate(shift_starts_at=F("shift__starts_at"))
        .order_by("shift_starts_at", "id")
    )


def team_leader_ids(*, team_id: int) -> list[int]:
    return list(
        PatrolTeamMember.objects.filter(team_id=team_id, role=PatrolTeamMember.Role.LEADER).values_list(
            "user_id", flat=True
        )
    )
