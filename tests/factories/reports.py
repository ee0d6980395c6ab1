"""Dispute flags, incidents and comments: made through ``reports``' services."""

from __future__ import annotations

from accounts.models import User
from alliance.models import Alliance
from reports.models import Dispute, Incident, IncidentComment
from reports.services.disputes import dispute_acknowledge, dispute_flag
from reports.services.incident_comments import incident_comment
from reports.services.incident_workflow import incident_accept
from reports.services.incidents import incident_report


def dispute_make(*, reporter: User, alliance: Alliance, category: str = "other", **fields) -> Dispute:
    return dispute_flag(reporter=reporter, alliance=alliance, category=category, **fields)


def dispute_acknowledged(*, dispute: Dispute, responder: User) -> Dispute:
    """``responder`` (on duty) says they are on their way."""
    return dispute_acknowledge(responder=responder, dispute=dispute)


def incident_make(
    *, reporter: User, alliance: Alliance, category: str = "theft", description: str = "电动车被偷", **fields
) -> Incident:
    return incident_report(reporter=reporter, alliance=alliance, category=category, description=description, **fields)


def comment_make(*, incident: Incident, author: User, body: str = "已收到") -> IncidentComment:
    return incident_comment(author=author, incident=incident, body=body)


def incident_accepted(*, incident: Incident, by: User) -> Incident:
    """The police admin ``by`` accepts the report into the queue."""
    return incident_accept(actor=by, incident=incident)
