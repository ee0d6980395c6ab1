"""Who may do what. The one place permission rules live; REST views and the WebSocket consumer both call it."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from accounts.models import SELF_SERVICE_ROLES, Role, RoleGrant


def user_roles(user) -> frozenset[str]:
    """The user's live roles, cached on the instance for the length of one request or socket session."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_pingan_roles", None)
    if cached is None:
        cached = frozenset(RoleGrant.objects.active().filter(user=user).values_list("role", flat=True))
        user._pingan_roles = cached
    return cached


def forget_cached_roles(user) -> None:
    user.__dict__.pop("_pingan_roles", None)


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def is_police(user) -> bool:
    return has_role(user, Role.OFFICER, Role.POLICE_ADMIN)


def is_police_admin(user) -> bool:
    return has_role(user, Role.POLICE_ADMIN)


def can_grant_roles(actor) -> bool:
    """Only police admins grant roles to others: police roles and mall managers come from nobody else.

    Self-service roles (merchant, volunteer) are the only ones a person takes for themselves
    (:func:`can_take_role_self_service`)."""
    return is_police_admin(actor)


def can_take_role_self_service(role: str) -> bool:
    return role in SELF_SERVICE_ROLES


def can_verify_real_name(actor) -> bool:
    return is_police_admin(actor)


def can_use_admin_site(user) -> bool:
    """The admin site is where police admins run their jurisdiction (every page there is scoped to it), and where
    superusers run everything. The role decides, not ``is_staff``: a revoked police admin is out even if the staff
    flag was left set, and staff without the role see nothing (``is_staff`` merely follows the role)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or is_police_admin(user)


def can_set_escalation_policy(user, access) -> bool:
    """How long a flag waits before it climbs the ladder is the police's call: the police admins whose
    jurisdiction holds the alliance (not its own admins, who are merchants and mall managers)."""
    return access is not None and access.in_jurisdiction and is_police_admin(user)


class IsPoliceAdmin(BasePermission):
    def has_permission(self, request, view) -> bool:
        return is_police_admin(request.user)


class IsPolice(BasePermission):
    def has_permission(self, request, view) -> bool:
        return is_police(request.user)


# --- contact groups (groups app) ----------------------------------------------------------------------------------
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


# --- alliances (alliance app) -------------------------------------------------------------------------------------
# ``access`` is what the viewer has in one alliance (``alliance.selectors.AllianceAccess``): their membership or
# None, and whether the alliance lies in their police jurisdiction (only ever true for police admins). Someone with
# neither cannot see the alliance at all, and the APIs answer 404 so its existence does not leak.

# Alliance roles whose holders respond to incidents and may mark themselves on duty.
ALLIANCE_RESPONDER_ROLES = frozenset({"police_liaison", "mall_manager", "volunteer"})
# Alliance roles that administer the alliance's contact groups.
ALLIANCE_GROUP_ADMIN_ROLES = frozenset({"admin", "police_liaison"})
# Roles an invite may hand out. "admin" is never taken by an invite: an alliance admin appoints admins.
ALLIANCE_INVITE_ROLES = ("police_liaison", "mall_manager", "merchant", "volunteer")


def can_view_alliance(user, access) -> bool:
    return access is not None and (access.membership is not None or access.in_jurisdiction)


def can_manage_alliance(user, access) -> bool:
    """Invites, join requests, member roles and removals, store verification, the alliance's own details: its
    admins, and the police admins whose jurisdiction holds it."""
    if access is None:
        return False
    if access.membership is not None and access.membership.role == "admin":
        return True
    return access.in_jurisdiction and is_police_admin(user)


def can_create_alliance(user, *, station_in_jurisdiction: bool) -> bool:
    return is_police_admin(user) and station_in_jurisdiction


def can_post_station_staff(user, *, station_in_jurisdiction: bool) -> bool:
    """Police admins post officers to the units of their own jurisdiction."""
    return is_police_admin(user) and station_in_jurisdiction


def can_be_posted_to_station(user) -> bool:
    return is_police(user)


def can_hold_alliance_role(user, role: str) -> bool:
    """The platform role that an alliance role needs: merchants and volunteers signed up as such, mall managers
    and police granted by a police admin. Anyone already in the alliance may be appointed its admin."""
    required = {
        "merchant": (Role.MERCHANT,),
        "volunteer": (Role.VOLUNTEER,),
        "mall_manager": (Role.MALL_MANAGER,),
        "police_liaison": (Role.OFFICER, Role.POLICE_ADMIN),
    }
    if role == "admin":
        return True
    return role in required and has_role(user, *required[role])


def can_see_full_phone_numbers(user) -> bool:
    """Member lists show ``138****1234`` to everyone but the police (accounts.presentation.mask_phone)."""
    return is_police(user)


def can_go_on_duty(user, membership) -> bool:
    """Responders (police liaisons, mall managers, volunteers, and police in any alliance role) can be dispatched."""
    return membership is not None and (membership.role in ALLIANCE_RESPONDER_ROLES or is_police(user))


def can_register_store(user, access) -> bool:
    return access is not None and access.membership is not None and has_role(user, Role.MERCHANT)


def can_edit_store(user, store, *, is_store_staff: bool) -> bool:
    return store.owner_id == user.pk or is_store_staff


def can_manage_store_staff(user, store, access) -> bool:
    return store.owner_id == user.pk or can_manage_alliance(user, access)


def can_verify_store(user, access) -> bool:
    return can_manage_alliance(user, access)


# --- dispute flags and incidents (reports app) ---------------------------------------------------------------------
# ``access`` is alliance.selectors.AllianceAccess (None: the user may not see the alliance; callers answer 404).
# ``posted``: the user is police posted (StationStaff) to the alliance's station or office, or a unit under them.


def can_flag_dispute(user, access) -> bool:
    """Any member of the alliance can raise the alarm; merchants most of all."""
    return access is not None and access.membership is not None


def can_respond_to_dispute(user, access, *, posted: bool = False) -> bool:
    """Responders: the alliance's police liaisons, mall managers, volunteers and admins, and the police posted to
    its station or office (the upper rungs of the ladder)."""
    if access is not None and access.membership is not None and access.membership.role in ALLIANCE_RESPONDER_ROLES:
        return True
    if access is not None and access.membership is not None and access.membership.role == "admin":
        return True
    return is_police(user) and (posted or (access is not None and access.in_jurisdiction))


def can_view_case_statistics(user, access, *, posted: bool = False) -> bool:
    """The figures police put in their reports: police of the jurisdiction and the alliance's admins."""
    if access is not None and access.membership is not None and access.membership.role == "admin":
        return True
    return is_police(user) and (posted or (access is not None and access.in_jurisdiction))


# --- incidents (reports app) ---------------------------------------------------------------------------------------
# ``access`` and ``posted`` as for dispute flags. ``in_team``: the user is in the team group the incident is assigned
# to. Who may see an incident at all is :func:`can_view_incident` (``reports.selectors.incidents_visible_to`` is the
# same rule as a query); anyone else gets 404. Someone who sees it but may not take a step gets 403.


def _is_alliance_responder(access) -> bool:
    return (
        access is not None
        and access.membership is not None
        and (access.membership.role in ALLIANCE_RESPONDER_ROLES or access.membership.role == "admin")
    )


def can_report_incident(user, access) -> bool:
    """Any member of the alliance reports; it is not an emergency, so no role is needed."""
    return access is not None and access.membership is not None


def can_handle_incident(user, access, *, posted: bool = False) -> bool:
    """The police queue: accept, assign, reject, merge and close. Officers and police admins posted to the
    alliance's station or office (or a unit under them), and police admins whose jurisdiction holds it."""
    return is_police(user) and (posted or (access is not None and access.in_jurisdiction))


def can_view_incident(user, incident, access, *, posted: bool = False, in_team: bool = False) -> bool:
    """The reporter, the alliance's responders (responder roles and admins), the police who handle it, and whoever
    it is assigned to (the person, or the members of the team group)."""
    if incident.reporter_id is not None and incident.reporter_id == user.pk:
        return True
    if incident.assignee_id is not None and incident.assignee_id == user.pk:
        return True
    if in_team:
        return True
    return _is_alliance_responder(access) or can_handle_incident(user, access, posted=posted)


def can_work_incident(user, incident, *, in_team: bool = False) -> bool:
    """Start and resolve: the person the case is assigned to, or any member of the assigned team."""
    if incident.assignee_id is not None and incident.assignee_id == user.pk:
        return True
    return incident.assigned_team_id is not None and in_team


def can_be_assigned_incident(user, access, *, posted: bool = False) -> bool:
    """Cases go to the alliance's responders (police liaisons, mall managers, volunteers, admins) and its police."""
    if not getattr(user, "is_active", False):
        return False
    return _is_alliance_responder(access) or can_handle_incident(user, access, posted=posted)


def can_close_incident(user, incident, access, *, posted: bool = False) -> bool:
    """After resolution the police close the case, or the reporter does (and is asked to rate it)."""
    is_reporter = incident.reporter_id is not None and incident.reporter_id == user.pk
    return is_reporter or can_handle_incident(user, access, posted=posted)


def can_reopen_incident(user, incident) -> bool:
    """Only the reporter says "this is not fixed" (within the reopen window, which the service checks)."""
    return incident.reporter_id is not None and incident.reporter_id == user.pk


def can_rate_incident(user, incident) -> bool:
    return incident.reporter_id is not None and incident.reporter_id == user.pk


def can_comment_on_incident(user, incident, access, *, posted: bool = False, in_team: bool = False) -> bool:
    """Everyone who may see the case may talk about it."""
    return can_view_incident(user, incident, access, posted=posted, in_team=in_team)


def can_see_incident_duplicates(user, incident, access, *, posted: bool = False) -> bool:
    """Possible duplicates are shown to the reporter ("someone already reported this") and to the police, who
    merge them. They never name the other reports' reporters."""
    is_reporter = incident.reporter_id is not None and incident.reporter_id == user.pk
    return is_reporter or can_handle_incident(user, access, posted=posted)


def can_see_incident_reporter(user, incident) -> bool:
    """Who reported it (id, name, phone). An anonymous report hides the reporter from everyone except police admins
    and the reporter themself: responders and officers on the street see "anonymous"."""
    if not incident.is_anonymous:
        return True
    if incident.reporter_id is not None and incident.reporter_id == user.pk:
        return True
    return is_police_admin(user)


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
