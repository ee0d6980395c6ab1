"""Incident reports: the non-urgent queue the police work through.

    submitted -> accepted -> assigned (a person or a team) -> in progress -> resolved -> closed
    submitted / accepted / assigned -> rejected (with a reason)
    resolved / closed -> assigned again when the reporter reopens it within 7 days of the resolution
    any open case -> closed, merged into another report of the same thing (police)

Every step is one transaction that locks the case, checks who may take the step and that the case's status allows
it (409 ``invalid_transition`` naming the status otherwise), writes the case and its timeline (:class:`CaseEvent`),
redraws the case card in the contact group and tells the reporter and the assignee through the outbox. The reporter
of an anonymous report still gets every update about it; nobody else learns who they are (the card has no sender).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from accounts.models import User
from accounts.permissions import (
    can_be_assigned_incident,
    can_close_incident,
    can_comment_on_incident,
    can_handle_incident,
    can_rate_incident,
    can_reopen_incident,
    can_report_incident,
    can_view_incident,
    can_work_incident,
)
from alliance.models import Alliance, Store
from alliance.selectors import AllianceAccess, alliance_access_for
from config.errors import ApplicationError
from config.images import PreparedImage
from config.times import api_datetime
from groups.events import event_publish, user_topic
from groups.models import ContactGroup, GroupMembership, Message
from groups.services import card_post, card_update
from reports.error_codes import ReportsErrorCode
from reports.models import CaseEvent, Incident, IncidentComment
from reports.presentation import already_reported_error, incident_card, incident_event
from reports.selectors.incidents import (
    IncidentStanding,
    incident_standing,
    incident_team_member_ids,
    incidents_visible_to,
)
from reports.selectors.police import police_posted_to_alliance

Status = Incident.Status

REOPEN_WINDOW = timedelta(days=7)
# Phones' clocks drift; a report "from the future" beyond this is a client bug. Reports of long-past events are
# refused too: the queue is for what happened recently, older matters go to the police station directly.
OCCURRED_AT_FUTURE_TOLERANCE = timedelta(minutes=10)
OCCURRED_AT_MAX_AGE = timedelta(days=365)
MAX_DESCRIPTION = 2000
MAX_COMMENT = 2000

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


def _record(incident: Incident, kind: str, actor=None, **data) -> CaseEvent:
    return CaseEvent.objects.create(incident=incident, kind=kind, actor=actor, data=data)


def _move(incident: Incident, to: str, actor, kind: str = CaseEvent.Kind.STATUS_CHANGED, **data) -> None:
    """Change the status and write the timeline step (``from``/``to`` in every step that moves the case)."""
    _record(incident, kind, actor, **{"from": incident.status, "to": to, **data})
    incident.status = to


def _followers(incident: Incident, *, extra_user_ids=()) -> list[int]:
    """The reporter (anonymous or not: it is their own case), the assignee and the members of the assigned team."""
    following = {incident.reporter_id, incident.assignee_id, *extra_user_ids}
    following.update(incident_team_member_ids(incident=incident))
    following.discard(None)
    return sorted(following)


def _notify(incident: Incident, *, extra_user_ids=()) -> None:
    recipients = _followers(incident, extra_user_ids=extra_user_ids)
    event_publish(topics=[user_topic(user_id) for user_id in recipients], event=incident_event(incident), durable=True)


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


def _finish(incident: Incident, *, card: bool = True, extra_user_ids=()) -> Incident:
    incident.save()
    if card:
        _refresh_card(incident)
    _notify(incident, extra_user_ids=extra_user_ids)
    return incident


# --- reporting -----------------------------------------------------------------------------------------------------


def _check_occurred_at(occurred_at, now):
    if occurred_at is None:
        return now
    if occurred_at > now + OCCURRED_AT_FUTURE_TOLERANCE:
        raise ApplicationError.invalid("occurred_at", _("The time it happened cannot be in the future."))
    if occurred_at < now - OCCURRED_AT_MAX_AGE:
        raise ApplicationError.invalid("occurred_at", _("Report only what happened within the last year."))
    return occurred_at


@transaction.atomic
def incident_report(
    *,
    reporter,
    alliance: Alliance,
    category: str,
    description: str,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    occurred_at=None,
    is_anonymous: bool = False,
    photos: list[PreparedImage] | None = None,
    source_message: Message | None = None,
    client_id: str = "",
    access: AllianceAccess | None = None,
) -> Incident:
    """A member reports an incident for the police queue. The case card goes to the alliance's contact group (or,
    for a report made from a group message, back to that message's group).

    Without a location the reporter's store in the alliance is used, except for anonymous reports: a store's
    position names its owner. A repeated ``client_id`` from the same reporter returns the stored report.
    ``access``: the reporter's access to the alliance when the caller has already looked it up."""
    if access is None or access.alliance.pk != alliance.pk:
        access = alliance_access_for(user=reporter, alliance=alliance)
    if access is None:
        raise ApplicationError.not_found()
    if not can_report_incident(reporter, access):
        raise ApplicationError.permission_denied(_("Only members of this alliance can report incidents."))
    if client_id:
        existing = Incident.objects.filter(reporter=reporter, client_id=client_id).first()
        if existing is not None:
            return existing  # the phone resent a report whose answer it lost
    if category not in Incident.Category.values:
        raise ApplicationError.invalid("category", _("Choose one of the incident categories."))
    description = (description or "").strip()
    if not description:
        raise ApplicationError.invalid("description", _("Describe what happened."))
    if len(description) > MAX_DESCRIPTION:
        raise ApplicationError.invalid(
            "description", _("Keep the description under %(max)s characters.") % {"max": MAX_DESCRIPTION}
        )
    now = timezone.now()
    occurred_at = _check_occurred_at(occurred_at, now)
    if (latitude is None) != (longitude is None):
        raise ApplicationError.invalid("latitude", _("Send both latitude and longitude, or neither."))
    if latitude is None:
        if is_anonymous:
            raise ApplicationError(
                ReportsErrorCode.LOCATION_REQUIRED,
                _("Send the location: an anonymous report does not use your store's position, which would name you."),
                fields={"latitude": [_("This field is required.")]},
            )
        store = Store.objects.filter(alliance=alliance, owner=reporter).order_by("id").first()
        if store is None:
            raise ApplicationError(
                ReportsErrorCode.LOCATION_REQUIRED,
                _("Send the location: you have no store in this alliance to default to."),
                fields={"latitude": [_("This field is required.")]},
            )
        latitude, longitude = store.latitude, store.longitude

    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                alliance=alliance,
                reporter=reporter,
                is_anonymous=is_anonymous,
                category=category,
                description=description,
                latitude=latitude,
                longitude=longitude,
                occurred_at=occurred_at,
                created_at=now,
                source_message=source_message,
                client_id=client_id,
            )
    except IntegrityError:
        # The same client_id raced in on a second connection; the first one stored it. (The same message racing in
        # is incident_from_message's to answer: the stored case may not be this reporter's to see.)
        existing = Incident.objects.filter(reporter=reporter, client_id=client_id).first() if client_id else None
        if existing is None:
            raise
        return existing
    for photo in photos or []:
        incident.photos.create(image=photo.image, thumbnail=photo.thumbnail or photo.image, uploaded_by=reporter)
    _record(incident, CaseEvent.Kind.REPORTED, reporter, category=category, anonymous=is_anonymous)

    if source_message is not None:
        group = source_message.group
    else:
        group = ContactGroup.objects.filter(alliance=alliance, kind=ContactGroup.Kind.MAIN).first()
    if group is not None:
        sender = None if is_anonymous else reporter
        incident.card_message = card_post(group=group, sender=sender, card=incident_card(incident))
        incident.save(update_fields=["card_message"])
    _notify(incident)
    return incident


def _message_photo(message: Message) -> PreparedImage:
    """A copy of a message's (already re-encoded) image: deleting the message deletes its files, not the case's."""
    name = uuid.uuid4().hex
    with message.image.open("rb") as image:
        full = ContentFile(image.read(), name=f"{name}.jpg")
    thumbnail = None
    if message.thumbnail:
        with message.thumbnail.open("rb") as small:
            thumbnail = ContentFile(small.read(), name=f"{name}-thumb.jpg")
    return PreparedImage(image=full, thumbnail=thumbnail, width=0, height=0)


@transaction.atomic
def incident_from_message(
    *,
    reporter,
    message: Message,
    category: str,
    description: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> tuple[Incident, bool]:
    """Turn a group message ("someone keeps trying car doors on the back street") into an incident in one step:
    its text, location and photo become the report's, and the case card is posted back into that group. Returns the
    incident and whether this call created it.

    The person who turns it into a case becomes its reporter; it cannot be anonymous, since the message already
    shows its sender to the group. A message becomes one incident: doing it again, or another member doing it,
    returns the first report to whoever may see it, and 409 ``already_reported`` to anyone else (a merchant must not
    read another's report by turning the same message)."""
    if not GroupMembership.objects.filter(group_id=message.group_id, user=reporter).exists():
        raise ApplicationError.not_found()
    if message.deleted_at is not None or message.kind == Message.Kind.SYSTEM:
        raise ApplicationError.not_found()
    existing = Incident.objects.filter(source_message=message).first()
    if existing is not None:
        return _shown_again(existing, reporter), False
    if latitude is None and message.latitude is not None:
        latitude, longitude = message.latitude, message.longitude
    try:
        incident = incident_report(
            reporter=reporter,
            alliance=message.group.alliance,
            category=category,
            description=description or message.body[:MAX_DESCRIPTION],
            latitude=latitude,
            longitude=longitude,
            occurred_at=message.created_at,
            photos=[_message_photo(message)] if message.image else [],
            source_message=message,
        )
    except IntegrityError:
        # Another member turned the same message on another connection; the unique index made this insert wait for
        # that one's commit, which is now visible.
        existing = Incident.objects.filter(source_message=message).first()
        if existing is None:
            raise
        return _shown_again(existing, reporter), False
    return incident, True


def _shown_again(incident: Incident, user) -> Incident:
    if not incidents_visible_to(user=user).filter(pk=incident.pk).exists():
        raise already_reported_error(case=incident, user=user)
    return incident


# --- the police queue ----------------------------------------------------------------------------------------------


@transaction.atomic
def incident_accept(*, actor, incident: Incident) -> Incident:
    incident = _locked(incident)
    _require_handler(actor, incident)
    _require_status(incident, ACCEPTABLE, "accept")
    _move(incident, Status.ACCEPTED, actor)
    incident.accepted_at = timezone.now()
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
    _record(primary, CaseEvent.Kind.MERGED, actor, merged=duplicate.pk)
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
    _record(incident, CaseEvent.Kind.RATED, actor, satisfaction=satisfaction)
    return _finish(incident, card=False)


# --- talking about it ----------------------------------------------------------------------------------------------


@transaction.atomic
def incident_comment(*, author, incident: Incident, body: str) -> IncidentComment:
    """Anyone who may see the case may comment; the reporter and the assignee are told. The group's card does not
    change. On an anonymous case the reporter's comments are shown without their name (see the APIs)."""
    body = (body or "").strip()
    if not body:
        raise ApplicationError.invalid("body", _("Write a comment."))
    if len(body) > MAX_COMMENT:
        raise ApplicationError.invalid("body", _("Keep the comment under %(max)s characters.") % {"max": MAX_COMMENT})
    incident = Incident.objects.select_related("alliance").get(pk=incident.pk)
    standing = incident_standing(user=author, incident=incident)
    if not can_comment_on_incident(author, incident, standing.access, posted=standing.posted, in_team=standing.in_team):
        raise ApplicationError.not_found()
    comment = IncidentComment.objects.create(incident=incident, author=author, body=body)
    _record(incident, CaseEvent.Kind.COMMENTED, author, comment=comment.pk)
    by_reporter = author.pk == incident.reporter_id
    hide = by_reporter and incident.is_anonymous
    event_publish(
        topics=[user_topic(user_id) for user_id in _followers(incident) if user_id != author.pk],
        event={
            "type": "case_comment",
            "case": "incident",
            "incident_id": incident.pk,
            "comment": {
                "id": comment.pk,
                "body": comment.body,
                "created_at": api_datetime(comment.created_at),
                "by_reporter": by_reporter,
                "author": None if hide else {"id": author.pk, "display_name": author.display_name},
            },
        },
        durable=True,
    )
    return comment
