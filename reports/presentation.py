"""How a case looks on a card in the contact group (what every member sees) and in a live event (what the people
following the case see)."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from reports.models import Dispute


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
        "flagged_at": dispute.flagged_at.isoformat(),
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
            "acknowledged_at": dispute.acknowledged_at.isoformat() if dispute.acknowledged_at else None,
            "arrived_at": dispute.arrived_at.isoformat() if dispute.arrived_at else None,
            "resolved_at": dispute.resolved_at.isoformat() if dispute.resolved_at else None,
            "escalate_at": dispute.escalate_at.isoformat() if dispute.escalate_at else None,
        },
    }


