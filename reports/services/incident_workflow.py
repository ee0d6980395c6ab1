"""What happens to an incident report in the non-urgent queue the police work through:

    submitted -> accepted -> assigned (a person or a team) -> in progress -> resolved -> closed
    submitted / accepted / assigned -> rejected (with a reason)
    resolved / closed -> assigned again when the reporter reopens it within 7 days of the resolution
    any open case -> closed, merged into another report of the same thing (police)

Every step is one transaction that locks the case, checks who may take the step and that the case's status allows
it (409 ``invalid_transition`` naming the status otherwise), writes the case and its timeline (:class:`CaseEvent`),
redraws the case card in the contact group and tells the reporter and the assignee through the outbox. The reporter
of an anonymous report still gets every update about it; nobody else learns who they are (the card has no sender).

The steps that make or unmake evidence (accept; reject or merge after acceptance; reopen; resolve a hidden danger)
record or remove the Safe Store scores in the same transaction (reports/store_scores.py) and have the reporter's
points settled after commit (reports/points_evidence.py).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from accounts.models import User
from alliance.selectors.alliances import alliance_access_for
from config.errors import ApplicationError
from groups.models import ContactGroup
from groups.services.contact_groups import card_update
from reports.error_codes import ReportsErrorCode
from reports.models import CaseEvent, Incident
from reports.permissions import (
    can_be_assigned_incident,
    can_close_incident,
    can_handle_incident,
    can_rate_incident,
    can_reopen_incident,
    can_view_incident,
    can_work_incident,
)
from reports.points_evidence import incident_points_settle_on_commit
from reports.presentation import incident_card
from reports.selectors.incidents import IncidentStanding, incident_standing, incident_team_member_ids
from reports.selectors.police import police_posted_to_alliance
from reports.services.incident_updates import incident_notify, timeline_record
from reports.store_scores import (
    incident_accepted_store_scores,
    incident_reopened_store_scores,
    incident_resolved_store_scores,
    incident_withdrawn_store_scores,
)

Status = Incident.Status

REOPEN_WINDOW = timedelta(days=7)

# Where each step may start from. Anything else is a 409 naming the case's current status.
ACCEPTABLE = (Status.SUBMITTED,)
ASSIGNABLE = (Status.ACCEPTED, Status.ASSIGNED, Status.IN_PROGRESS)  # assigned/in progress: handing it over
STARTABLE = (Status.ASSIGNED,)
RESOLVABLE = (Status.IN_PROGRESS,)
CLOSABLE = (Status.RESOLVED,)
REJECTABLE = (Status.SUBMITTED, Status.ACCEPTED, Status.ASSIGNED)  # before anyone has started on it
REOPENABLE = (Status.RESOLVED, Status.CLOSED)
RATABLE = (Status.RESOLVED, Status.CLOSED)
MERGEABLE = (Status.SUBMITTED, Status.ACCEPTED, Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED)

# "The case is <status>: it cannot be <action> now." One message, the action named in each language.
ACTIONS = {
    "accept": pgettext_lazy("incident action", "accepted"),
    "assign": pgettext_lazy("incident action", "assigned"),
    "start": pgettext_lazy("incident action", "started"),
    "resolve": pgettext_lazy("incident action", "resolved"),
    "close": pgettext_lazy("incident action", "closed"),
    "reject": pgettext_lazy("incident action", "rejected"),
    "reopen": pgettext_lazy("incident action", "reopened"),
    "rate": pgettext_lazy("incident action", "rated"),
    "merge": pgettext_lazy("incident action", "merged"),
}


# --- helpers -------------------------------------------------------------------------------------------------------


def _invalid_transition(incident: Incident, action: str) -> ApplicationError:
    return ApplicationError(
        ReportsErrorCode.INVALID_TRANSITION,
        _("The case is “%(status)s”: it cannot be %(action)s now.")
        % {"status": incident.get_status_display(), "action": ACTIONS[action]},
        status_code=409,
    )


def _require_status(incident: Incident, allowed: tuple, action: str) -> None:
    if incident.status not in allowed:
        raise _invalid_transition(incident, action)


def _move(incident: Incident, to: str, actor, kind: str = CaseEvent.Kind.STATUS_CHANGED, **data) -> None:
    """Change the status and write the timeline step (``from``/``to`` in every step that moves the case)."""
    timeline_record(incident, kind, actor, **{"from": incident.status, "to": to, **data})
    incident.status = to


def _refresh_card(incident: Incident) -> None:
    if incident.card_message_id:
        card_update(message=incident.card_message, card=incident_card(incident))


def _locked(incident: Incident) -> Incident:
    return (
        Incident.objects.select_for_update(of=("self",))
        .select_related("alliance", "card_message__group", "assignee", "assigned_team", "source_message")
        .get(pk=incident.pk)
    )


def _standing_or_404(user, incident: Incident) -> IncidentStanding:
    """The caller's standing in the case; 404 when they may not even see it."""
    standing = incident_standing(user=user, incident=incident)
    if not can_view_incident(user, incident, standing.access, posted=standing.posted, in_team=standing.in_team):
        raise ApplicationError.not_found()
    return standing


def _require_handler(user, incident: Incident) -> IncidentStanding:
    standing = _standing_or_404(user, incident)
    if not can_handle_incident(user, standing.access, posted=standing.posted):
        raise ApplicationError.permission_denied(_("Only the police handling this alliance can do this."))
    return standing


def _evidence_withdrawn(incident: Incident) -> None:
    """An accepted report no longer stands (rejected, or merged away): its store scores go now, and the settle after
    commit reverses its reporter's points."""
    incident_withdrawn_store_scores(incident_id=incident.pk)
    incident_points_settle_on_commit(incident_ids=[incident.pk])


def _finish(incident: Incident, *, card: bool = True, extra_user_ids=()) -> Incident:
    incident.save()
    if card:
        _refresh_card(incident)
    incident_notify(incident, extra_user_ids=extra_user_ids)
    return incident


# --- the police queue ----------------------------------------------------------------------------------------------


@transaction.atomic
def incident_accept(*, actor, incident: Incident) -> Incident:
    incident = _locked(incident)
    _require_handler(actor, incident)
    _require_status(incident, ACCEPTABLE, "accept")
    _move(incident, Status.ACCEPTED, actor)
    incident.accepted_at = timezone.now()
    incident_accepted_store_scores(incident=incident)
    incident_points_settle_on_commit(incident_ids=[incident.pk])
    return _finish(incident)


@transaction.atomic
def incident_assign(
    *, actor, incident: Incident, assignee_id: int | None = None, team_id: int | None = None
) -> Incident:
    """To one responder or police officer of the alliance, or to one of its team groups (a patrol team). Assigning
    again hands the case over; the new assignee starts it afresh."""
    if (assignee_id is None) == (team_id is None):
        raise ApplicationError.invalid("assignee", _("Assign to one person or one team."))
    incident = _locked(incident)
    _require_handler(actor, incident)
    _require_status(incident, ASSIGNABLE, "assign")
    assignee = team = None
    if assignee_id is not None:
        assignee = User.objects.filter(pk=assignee_id, is_active=True).first()
        access = alliance_access_for(user=assignee, alliance=incident.alliance) if assignee else None
        posted = police_posted_to_alliance(user=assignee, alliance=incident.alliance) if assignee else False
        if assignee is None or not can_be_assigned_incident(assignee, access, posted=posted):
            # Unknown or not a responder here: the same answer, so ids tell nothing about who exists.
            raise ApplicationError.invalid("assignee", _("This person does not respond to incidents in this alliance."))
    else:
        team = ContactGroup.objects.filter(
            pk=team_id, alliance_id=incident.alliance_id, kind=ContactGroup.Kind.TEAM, is_archived=False
        ).first()
        if team is None:
            raise ApplicationError.invalid("team", _("Choose one of this alliance's team groups."))
    previous = [incident.assignee_id, *incident_team_member_ids(incident=incident)]
    _move(
        incident,
        Status.ASSIGNED,
        actor,
        kind=CaseEvent.Kind.ASSIGNED,
        assignee=assignee.pk if assignee else None,
        team=team.pk if team else None,
    )
    incident.assignee, incident.assigned_team = assignee, team
    # Whoever had it before is told it moved on (their app drops it from their list).
    return _finish(incident, extra_user_ids=previous)


@transaction.atomic
def incident_reject(*, actor, incident: Incident, reason: str) -> Incident:
    """Not a matter for the alliance or the police (or not true). The reporter is told why."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError.invalid("reason", _("Say why the report is rejected."))
    incident = _locked(incident)
    _require_handler(actor, incident)
    _require_status(incident, REJECTABLE, "reject")
    _move(incident, Status.REJECTED, actor, reason=reason)
    incident.rejection_reason = reason
    if incident.accepted_at is not None:
        _evidence_withdrawn(incident)
    return _finish(incident)


@transaction.atomic
def incident_close(*, actor, incident: Incident) -> Incident:
    """After resolution, by the police or by the reporter. The reporter is asked to rate the handling."""
    incident = _locked(incident)
    standing = _standing_or_404(actor, incident)
    if not can_close_incident(actor, incident, standing.access, posted=standing.posted):
        raise ApplicationError.permission_denied(_("Only the police or the reporter can close this case."))
    _require_status(incident, CLOSABLE, "close")
    incident.closed_at = timezone.now()
    rating_requested = incident.satisfaction is None and incident.reporter_id is not None
    _move(incident, Status.CLOSED, actor, rating_requested=rating_requested)
    return _finish(incident)


@transaction.atomic
def incident_merge(*, actor, duplicate: Incident, primary: Incident) -> Incident:
    """The police fold a duplicate report into the primary one: the duplicate is closed with ``merged_into`` set,
    both timelines say so, and reports merged into the duplicate earlier now point at the primary too."""
    if duplicate.pk == primary.pk:
        raise ApplicationError.invalid("into", _("A case cannot be merged into itself."))
    # Lock both rows in id order, so two merges of the same pair the other way round cannot deadlock.
    first, second = sorted([duplicate, primary], key=lambda case: case.pk)
    first, second = _locked(first), _locked(second)
    duplicate, primary = (first, second) if first.pk == duplicate.pk else (second, first)
    _require_handler(actor, duplicate)
    if primary.alliance_id != duplicate.alliance_id:
        raise ApplicationError.not_found(into=[_("Not found.")])
    _require_status(duplicate, MERGEABLE, "merge")  # a merged report is closed, so it cannot be merged again
    if primary.merged_into_id is not None or primary.status == Status.REJECTED:
        raise ApplicationError(
            ReportsErrorCode.INVALID_MERGE,
            _("Merge into a case that is itself neither merged nor rejected."),
            status_code=409,
            fields={"into": [_("This case cannot take duplicates.")]},
        )
    now = timezone.now()
    _move(duplicate, Status.CLOSED, actor, kind=CaseEvent.Kind.MERGED, into=primary.pk)
    duplicate.merged_into = primary
    duplicate.closed_at = now
    Incident.objects.filter(merged_into=duplicate).update(merged_into=primary)
    timeline_record(primary, CaseEvent.Kind.MERGED, actor, merged=duplicate.pk)
    if duplicate.accepted_at is not None:
        _evidence_withdrawn(duplicate)  # the primary report carries the evidence now
    _finish(primary)
    return _finish(duplicate)


# --- the assignee's work -------------------------------------------------------------------------------------------


def _require_worker(user, incident: Incident) -> None:
    standing = _standing_or_404(user, incident)
    if not can_work_incident(user, incident, in_team=standing.in_team):
        raise ApplicationError.permission_denied(_("Only the person or team this case is assigned to can do this."))


@transaction.atomic
def incident_start(*, actor, incident: Incident) -> Incident:
    incident = _locked(incident)
    _require_worker(actor, incident)
    _require_status(incident, STARTABLE, "start")
    _move(incident, Status.IN_PROGRESS, actor)
    return _finish(incident)


@transaction.atomic
def incident_resolve(*, actor, incident: Incident, notes: str = "") -> Incident:
    incident = _locked(incident)
    _require_worker(actor, incident)
    _require_status(incident, RESOLVABLE, "resolve")
    _move(incident, Status.RESOLVED, actor, kind=CaseEvent.Kind.RESOLVED)
    incident.resolved_at = timezone.now()
    incident.resolution_notes = notes
    incident_resolved_store_scores(incident=incident)
    return _finish(incident)


# --- the reporter --------------------------------------------------------------------------------------------------


@transaction.atomic
def incident_reopen(*, actor, incident: Incident, reason: str = "") -> Incident:
    """ "It is not fixed": the reporter sends the case back to whoever had it, within 7 days of its resolution. The
    rating they gave (kept in the timeline) is cleared so they rate the new outcome."""
    incident = _locked(incident)
    _standing_or_404(actor, incident)
    if not can_reopen_incident(actor, incident):
        raise ApplicationError.permission_denied(_("Only the reporter can reopen a case."))
    _require_status(incident, REOPENABLE, "reopen")
    if incident.merged_into_id is not None:
        raise ApplicationError(
            ReportsErrorCode.INVALID_TRANSITION,
            _("This report was merged into case #%(id)s; follow that case instead.") % {"id": incident.merged_into_id},
            status_code=409,
        )
    ended_at = incident.resolved_at or incident.closed_at
    if ended_at is None or timezone.now() - ended_at > REOPEN_WINDOW:
        raise ApplicationError(
            ReportsErrorCode.REOPEN_WINDOW_PASSED,
            _("A case can be reopened only within 7 days of its resolution. Please report it again."),
            status_code=409,
        )
    back_to = Status.ASSIGNED if incident.assignee_id or incident.assigned_team_id else Status.ACCEPTED
    _move(incident, back_to, actor, kind=CaseEvent.Kind.REOPENED, reason=(reason or "").strip())
    incident.resolved_at = incident.closed_at = None
    incident.satisfaction = None
    incident.satisfaction_comment = ""
    incident_reopened_store_scores(incident_id=incident.pk)
    incident_points_settle_on_commit(incident_ids=[incident.pk])
    return _finish(incident)


@transaction.atomic
def incident_rate(*, actor, incident: Incident, satisfaction: int, comment: str = "") -> Incident:
    """Once per resolution, by the reporter. Nothing on the group's card changes, so the card is left alone."""
    if not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5:
        raise ApplicationError.invalid("satisfaction", _("Rate from 1 to 5."))
    incident = _locked(incident)
    _standing_or_404(actor, incident)
    if not can_rate_incident(actor, incident):
        raise ApplicationError.permission_denied(_("Only the reporter can rate the handling of a case."))
    # A merged duplicate is closed but was never resolved: there is no handling of it to rate.
    if incident.status not in RATABLE or incident.resolved_at is None or incident.merged_into_id is not None:
        raise _invalid_transition(incident, "rate")
    if incident.satisfaction is not None:
        raise ApplicationError(ReportsErrorCode.ALREADY_RATED, _("You have already rated this case."), status_code=409)
    incident.satisfaction = satisfaction
    incident.satisfaction_comment = comment
    timeline_record(incident, CaseEvent.Kind.RATED, actor, satisfaction=satisfaction)
    return _finish(incident, card=False)
