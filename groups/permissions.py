"""Who may do what in a contact group. Rules about accounts are in ``accounts.permissions``, about alliances in
``alliance.permissions``; REST views and the WebSocket consumer both call these."""

from __future__ import annotations

from accounts.permissions import is_police, is_police_admin
from alliance.permissions import ALLIANCE_RESPONDER_ROLES, can_manage_alliance, can_view_alliance

# ``membership`` is the user's GroupMembership in the group, or None when they are not a member: non-members can do
# nothing, and the APIs answer 404 for them so a group's existence does not leak.


def can_read_group(user, membership) -> bool:
    return membership is not None and membership.user_id == user.pk


def can_post_in_group(user, membership) -> bool:
    if not can_read_group(user, membership):
        return False
    if membership.group.posting_policy == "everyone":
        return True
    return membership.role == "admin" or is_police(user)


def can_post_notice(user, membership) -> bool:
    """Pinned notices come from the police (and group admins, e.g. the mall management running a team group)."""
    return can_read_group(user, membership) and (is_police(user) or membership.role == "admin")


def can_delete_message(user, membership, message) -> bool:
    if not can_read_group(user, membership):
        return False
    return message.sender_id == user.pk or membership.role == "admin" or is_police(user)


def can_manage_team_group(user, membership) -> bool:
    """Team groups (patrol teams, a mall's staff) are run by their admins; the main and prevention groups follow
    alliance membership and nobody adds or removes people there by hand."""
    return can_read_group(user, membership) and membership.group.kind == "team" and membership.role == "admin"


def can_create_team_group(user, access) -> bool:
    """Alliance admins, the police admins of its jurisdiction, and the people who run teams on the street: police
    liaisons and mall managers."""
    if can_manage_alliance(user, access):
        return True
    return (
        access is not None
        and access.membership is not None
        and access.membership.role
        in (
            "police_liaison",
            "mall_manager",
        )
    )


# --- patrol geography ---------------------------------------------------------------------------------------------
# ``access`` is ``alliance.selectors.alliances.AllianceAccess`` (None: the alliance is not visible to the user, so 404).


def can_read_patrol_geography(user, access) -> bool:
    """Zones, grids, routes, checkpoints and support points: every member of the alliance (volunteers patrol them),
    and the police admins whose jurisdiction holds it."""
    return can_view_alliance(user, access)


def can_manage_patrol_geography(user, access) -> bool:
    """Drawing zones and routes is police work: the police admins whose jurisdiction holds the alliance (an alliance
    admin who is not police reads them like any member)."""
    return access is not None and access.in_jurisdiction and is_police_admin(user)


# --- patrol: check-ins and checkpoints ----------------------------------------------------------------------------


def can_see_patrol_attempts(user, access, *, leads_team: bool) -> bool:
    """Every check-in, check-out and scan attempt of a shift, with the reasons for refusals: the leaders of the
    shift's team, and those who run the alliance (its admins, the police admins of its jurisdiction)."""
    return leads_team or can_manage_alliance(user, access)


def can_print_checkpoint_codes(user, access) -> bool:
    """The signed QR codes of a route's checkpoints: those who run the alliance (a code is the proof of presence)."""
    return can_manage_alliance(user, access)


# --- patrol teams and rosters (issue 11) --------------------------------------------------------------------------

# Alliance roles whose holders may serve on a patrol (police hold any alliance role and serve too).
PATROL_SERVICE_ROLES = frozenset({"volunteer", "mall_manager", "police_liaison"})


def can_manage_patrol_teams(user, access) -> bool:
    """Teams are made, archived and given leaders by those who run the alliance: its admins and the police admins
    whose jurisdiction holds it."""
    return can_manage_alliance(user, access)


def can_lead_patrol_team(user, access, team_membership) -> bool:
    """Members, templates, ad-hoc shifts, assignments and swap approvals: the team's leaders, and those who run
    the alliance. ``team_membership``: the user's PatrolTeamMember row in the team, or None."""
    if team_membership is not None and team_membership.role == "leader":
        return True
    return can_manage_patrol_teams(user, access)


def can_serve_on_patrol(user, alliance_membership) -> bool:
    """Who may hold a place on a shift (sign up, be assigned, take a swap): members of the shift's alliance who
    respond on the street (volunteers, mall managers, police liaisons) and police in any alliance role. Team
    membership is not needed: a volunteer of the alliance may fill a gap in any of its teams' shifts."""
    return alliance_membership is not None and (alliance_membership.role in PATROL_SERVICE_ROLES or is_police(user))


def can_see_on_duty(user, access, *, posted_over: bool = False) -> bool:
    """Who is on duty where, and their positions: the police watching the alliance (``posted_over``: posted to its
    office or station or a unit above them; or admins of its jurisdiction), its admins, and its responders (police
    liaisons, mall managers, volunteers, police in any role). Merchants are not told where the patrol is."""
    if posted_over:
        return True
    if access is None:
        return False
    if can_manage_alliance(user, access):
        return True
    membership = access.membership
    return membership is not None and (membership.role in ALLIANCE_RESPONDER_ROLES or is_police(user))
