"""How a case looks on a card in the contact group (what every member sees) and in a live event (what the people
following the case see)."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from config.errors import ApplicationError
from config.times import api_datetime
from groups.models import GroupMembership
from reports.error_codes import ReportsErrorCode
from reports.models import Dispute, Incident


def dispute_card(dispute: Dispute) -> dict:
    """The group's view: what happened where and how it is going. No parties, notes or photos.

    The labels are in the service's language (zh-hans) whoever posted, because every member reads the same card;
    apps that show another language translate the codes."""
    with translation.override(settings.LANGUAGE_CODE):
        return _dispute_card(dispute)


def _dispute_card(dispute: Dispute) -> dict:
    return {
        "card": "dispute",
        "dispute_id": dispute.pk,
        "category": dispute.category,
        "category_label": dispute.get_category_display(),
        "status": dispute.status,
        "status_label": dispute.get_status_display(),
        "level": dispute.level,
        "level_label": dispute.get_level_display(),
        "store": {"id": dispute.store_id, "name": dispute.store.name} if dispute.store_id else None,
        "flagged_at": api_datetime(dispute.flagged_at),
        "outcome": dispute.outcome,
    }


def dispute_event(dispute: Dispute) -> dict:
    """A live update to the reporter and responders: enough to redraw the case screen without a request."""
    return {
        "type": "case",
        "case": "dispute",
        "dispute": {
            **dispute_card(dispute),
            "note": dispute.note,
            "people_involved": dispute.people_involved,
            "location": {"latitude": float(dispute.latitude), "longitude": float(dispute.longitude)},
            "acknowledged_at": api_datetime(dispute.acknowledged_at),
            "arrived_at": api_datetime(dispute.arrived_at),
            "resolved_at": api_datetime(dispute.resolved_at),
            "escalate_at": api_datetime(dispute.escalate_at),
        },
    }


# --- incidents ------------------------------------------------------------------------------------------------------
# Neither view names the reporter: the card is read by the whole group and the live event also goes to the assignee,
# and an anonymous report must not reveal its reporter to either (the card of an anonymous report has no sender).


def incident_card(incident: Incident) -> dict:
    """The group's view: what kind of case, when, and how far along. No description, place, photos or people."""
    source = incident.source_message
    return {
        "card": "incident",
        "incident_id": incident.pk,
        "category": incident.category,
        "category_label": incident.get_category_display(),
        "status": incident.status,
        "status_label": incident.get_status_display(),
        "is_anonymous": incident.is_anonymous,
        "occurred_at": api_datetime(incident.occurred_at),
        "reported_at": api_datetime(incident.created_at),
        "merged_into": incident.merged_into_id,
        "source": {"group": source.group_id, "seq": source.seq} if source is not None else None,
    }


def incident_event(incident: Incident) -> dict:
    """A live update to the reporter and whoever the case is assigned to: enough to redraw the case screen."""
    assignee = incident.assignee
    team = incident.assigned_team
    return {
        "type": "case",
        "case": "incident",
        "incident": {
            **incident_card(incident),
            "description": incident.description,
            "location": {"latitude": float(incident.latitude), "longitude": float(incident.longitude)},
            "accepted_at": api_datetime(incident.accepted_at),
            "resolved_at": api_datetime(incident.resolved_at),
            "closed_at": api_datetime(incident.closed_at),
            "rejection_reason": incident.rejection_reason,
            "resolution_notes": incident.resolution_notes,
            "assignee": {"id": assignee.pk, "display_name": assignee.display_name} if assignee else None,
            "assigned_team": {"id": team.pk, "name": team.name} if team else None,
            "satisfaction": incident.satisfaction,
            "awaiting_rating": incident_awaiting_rating(incident),
        },
    }


def incident_awaiting_rating(incident: Incident) -> bool:
    """The reporter is asked to rate once the case is resolved or closed, until they have."""
    return (
        incident.status in (Incident.Status.RESOLVED, Incident.Status.CLOSED)
        and incident.resolved_at is not None
        and incident.satisfaction is None
        and incident.reporter_id is not None
    )


def already_reported_error(*, case, user) -> ApplicationError:
    """The answer to someone who turns a group message into a case when it already is one they may not see: that it
    exists, and where its card is when they are in that group (they can see the card there anyway). Nothing of the
    case itself: its description, reporter and notes are for those who may see the case."""
    card = case.card_message
    visible_card = card is not None and GroupMembership.objects.filter(group_id=card.group_id, user=user).exists()
    return ApplicationError(
        ReportsErrorCode.ALREADY_REPORTED,
        _("This message has already been turned into a case."),
        status_code=409,
        extra={"card": {"group": card.group_id, "seq": card.seq} if visible_card else None},
    )
