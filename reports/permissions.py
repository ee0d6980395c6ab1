"""Who may do what with dispute flags, incidents, escalation policies and case statistics. Rules about accounts
are in ``accounts.permissions``, about alliances in ``alliance.permissions``."""

from __future__ import annotations

from accounts.permissions import is_police, is_police_admin
from alliance.permissions import ALLIANCE_RESPONDER_ROLES


def can_set_escalation_policy(user, access) -> bool:
    """How long a flag waits before it climbs the ladder is the police's call: the police admins whose
    jurisdiction holds the alliance (not its own admins, who are merchants and mall managers)."""
    return access is not None and access.in_jurisdiction and is_police_admin(user)


# --- dispute flags and incidents (reports app) ---------------------------------------------------------------------
# ``access`` is selectors.alliances.AllianceAccess (None: the user may not see the alliance; callers answer 404).
# ``posted``: the user is police posted (StationStaff) to the alliance's station or office, or a unit under them.


def _is_alliance_responder(access) -> bool:
    return (
        access is not None
        and access.membership is not None
        and (access.membership.role in ALLIANCE_RESPONDER_ROLES or access.membership.role == "admin")
    )


def _is_police_for(user, access, *, posted: bool) -> bool:
    """Officers and police admins posted to the alliance's station or office (or a unit under them), and police
    admins whose jurisdiction holds it."""
    return is_police(user) and (posted or (access is not None and access.in_jurisdiction))


def _is_reporter(user, incident) -> bool:
    return incident.reporter_id is not None and incident.reporter_id == user.pk


def can_flag_dispute(user, access) -> bool:
    """Any member of the alliance can raise the alarm; merchants most of all."""
    return access is not None and access.membership is not None


def can_respond_to_dispute(user, access, *, posted: bool = False) -> bool:
    """Responders: the alliance's police liaisons, mall managers, volunteers and admins, and the police posted to
    its station or office (the upper rungs of the ladder)."""
    return _is_alliance_responder(access) or _is_police_for(user, access, posted=posted)


def can_view_case_statistics(user, access, *, posted: bool = False) -> bool:
    """The figures police put in their reports: police of the jurisdiction and the alliance's admins."""
    if access is not None and access.membership is not None and access.membership.role == "admin":
        return True
    return _is_police_for(user, access, posted=posted)


# --- incidents (reports app) ---------------------------------------------------------------------------------------
# ``access`` and ``posted`` as for dispute flags. ``in_team``: the user is in the team group the incident is assigned
# to. Who may see an incident at all is :func:`can_view_incident` (``reports.selectors.incidents_visible_to`` is the
# same rule as a query); anyone else gets 404. Someone who sees it but may not take a step gets 403.


def can_report_incident(user, access) -> bool:
    """Any member of the alliance reports; it is not an emergency, so no role is needed."""
    return access is not None and access.membership is not None


def can_handle_incident(user, access, *, posted: bool = False) -> bool:
    """The police queue: accept, assign, reject, merge and close. Officers and police admins posted to the
    alliance's station or office (or a unit under them), and police admins whose jurisdiction holds it."""
    return _is_police_for(user, access, posted=posted)


def can_view_incident(user, incident, access, *, posted: bool = False, in_team: bool = False) -> bool:
    """The reporter, the alliance's responders (responder roles and admins), the police who handle it, and whoever
    it is assigned to (the person, or the members of the team group)."""
    if _is_reporter(user, incident):
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
    is_reporter = _is_reporter(user, incident)
    return is_reporter or can_handle_incident(user, access, posted=posted)


def can_reopen_incident(user, incident) -> bool:
    """Only the reporter says "this is not fixed" (within the reopen window, which the service checks)."""
    return _is_reporter(user, incident)


def can_rate_incident(user, incident) -> bool:
    return _is_reporter(user, incident)


def can_comment_on_incident(user, incident, access, *, posted: bool = False, in_team: bool = False) -> bool:
    """Everyone who may see the case may talk about it."""
    return can_view_incident(user, incident, access, posted=posted, in_team=in_team)


def can_see_incident_duplicates(user, incident, access, *, posted: bool = False) -> bool:
    """Possible duplicates are shown to the reporter ("someone already reported this") and to the police, who
    merge them. They never name the other reports' reporters."""
    is_reporter = _is_reporter(user, incident)
    return is_reporter or can_handle_incident(user, access, posted=posted)


def can_see_incident_reporter(user, incident) -> bool:
    """Who reported it (id, name, phone). An anonymous report hides the reporter from everyone except police admins
    and the reporter themself: responders and officers on the street see "anonymous"."""
    if not incident.is_anonymous:
        return True
    if _is_reporter(user, incident):
        return True
    return is_police_admin(user)


# --- patrol statistics (the patrol tables are groups'; their figures are reports') ----------------------------------


def can_view_patrol_statistics(user, access, *, posted: bool = False, leads_team: bool = False) -> bool:
    """Whoever sees the alliance's case statistics (its admins, the police of its jurisdiction) and, for a team's
    own figures, the team's leaders (``leads_team``)."""
    return leads_team or can_view_case_statistics(user, access, posted=posted)
