"""Writes on patrol teams (街巡队, 义警队, 警商联动队) and who is in them.

A team has its own contact group (kind "team"), made through the team-group service, and membership of that group
follows the team: joining the team joins the group, leaving leaves it, leaders are the group's admins.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from config.errors import ApplicationError
from groups.error_codes import GroupErrorCode
from groups.models import GroupMembership, PatrolTeam, PatrolTeamMember
from groups.permissions import can_manage_patrol_teams, can_serve_on_patrol
from groups.selectors.patrol_rosters import TeamAccess, alliance_membership_of
from groups.services.contact_groups import group_member_add, group_member_remove, team_group_create


def _require_leader(team_access: TeamAccess) -> None:
    if not team_access.may_lead:
        raise ApplicationError.permission_denied(
            _("Only the team's leaders and the alliance's admins manage the team.")
        )


def require_patrol_eligible(*, alliance, user_id: int, field: str = "user"):
    """The alliance member ``user_id`` if they may serve on a patrol; a clear 400 otherwise (someone outside the
    alliance reads as "not a member", never as someone who exists elsewhere)."""
    membership = alliance_membership_of(user_id=user_id, alliance_id=alliance.pk)
    if membership is None:
        raise ApplicationError(
            GroupErrorCode.NOT_ALLIANCE_MEMBERS,
            _("Only members of the alliance can serve on its patrols."),
            fields={field: [_("Not a member of this alliance.")]},
        )
    if not can_serve_on_patrol(membership.user, membership):
        raise ApplicationError(
            GroupErrorCode.NOT_PATROL_ELIGIBLE,
            _("Only volunteers, mall managers, police liaisons and police serve on patrols."),
            fields={field: [_("This member's role does not patrol.")]},
        )
    return membership.user


@transaction.atomic
def patrol_team_create(*, actor, access, name: str, kind: str, leader_ids: list[int] = ()) -> PatrolTeam:
    """A team in the alliance of ``access`` with its contact group; ``leader_ids`` join as its leaders."""
    if not can_manage_patrol_teams(actor, access):
        raise ApplicationError.permission_denied(
            _("Only the alliance's admins and the police admins of its jurisdiction create patrol teams.")
        )
    leaders = [require_patrol_eligible(alliance=access.alliance, user_id=i, field="leaders") for i in leader_ids]
    group = team_group_create(actor=actor, access=access, name=name, member_ids=[])
    team = PatrolTeam.objects.create(alliance=access.alliance, name=name, kind=kind, contact_group=group)
    for leader in dict.fromkeys(leaders):
        _member_join(team=team, user=leader, role=PatrolTeamMember.Role.LEADER)
    return team


@transaction.atomic
def patrol_team_update(*, actor, team_access: TeamAccess, **changes) -> PatrolTeam:
    """``name``, ``kind``, ``is_archived``: renaming renames the team's contact group too."""
    if not can_manage_patrol_teams(actor, team_access.access):
        raise ApplicationError.permission_denied(_("Only the alliance's admins change its patrol teams."))
    team = team_access.team
    for field, value in changes.items():
        setattr(team, field, value)
    team.save(update_fields=list(changes) or None)
    if "name" in changes and team.contact_group is not None:
        team.contact_group.name = team.name
        team.contact_group.save(update_fields=["name"])
    return team


def _member_join(*, team: PatrolTeam, user, role: str) -> PatrolTeamMember:
    member, created = PatrolTeamMember.objects.get_or_create(team=team, user=user, defaults={"role": role})
    if not created and member.role != role:
        member.role = role
        member.save(update_fields=["role"])
    if team.contact_group is not None:
        group_role = GroupMembership.Role.ADMIN if role == PatrolTeamMember.Role.LEADER else None
        group_member_add(group=team.contact_group, user=user, role=group_role)
        if group_role is None and not created:
            GroupMembership.objects.filter(group=team.contact_group, user=user).update(role=GroupMembership.Role.MEMBER)
    return member


@transaction.atomic
def patrol_team_member_add(
    *, actor, team_access: TeamAccess, user_id: int, role: str = PatrolTeamMember.Role.MEMBER
) -> PatrolTeamMember:
    """Idempotent; adding someone already in the team sets their role."""
    _require_leader(team_access)
    team = team_access.team
    if team.is_archived:
        raise ApplicationError(GroupErrorCode.TEAM_ARCHIVED, _("This team is archived."), status_code=409)
    user = require_patrol_eligible(alliance=team.alliance, user_id=user_id)
    return _member_join(team=team, user=user, role=role)


@transaction.atomic
def patrol_team_member_set_role(*, actor, team_access: TeamAccess, user_id: int, role: str) -> PatrolTeamMember:
    _require_leader(team_access)
    member = PatrolTeamMember.objects.select_related("user").filter(team=team_access.team, user_id=user_id).first()
    if member is None:
        raise ApplicationError.not_found()
    return _member_join(team=team_access.team, user=member.user, role=role)


@transaction.atomic
def patrol_team_member_remove(*, actor, team_access: TeamAccess, user_id: int) -> None:
    """Leaders remove members; anyone may leave. Places already held on shifts stay (the leader removes them from
    a shift by hand): leaving a team is not dropping out of tonight's patrol."""
    if user_id != actor.pk:
        _require_leader(team_access)
    member = PatrolTeamMember.objects.select_related("user").filter(team=team_access.team, user_id=user_id).first()
    if member is None:
        raise ApplicationError.not_found()
    member.delete()
    if team_access.team.contact_group is not None:
        group_member_remove(group=team_access.team.contact_group, user=member.user)
