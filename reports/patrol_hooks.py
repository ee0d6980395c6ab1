"""A hidden danger logged on patrol becomes an incident report in the police queue (groups/patrol_hooks.py), made
by the one incident service, with the volunteer as its reporter, the entry's position and photo."""

from __future__ import annotations

from decimal import Decimal

from groups.patrol_hooks import hidden_danger_reporter_register
from reports.models import Incident
from reports.services.incidents import incident_report


def _coordinate(value: float) -> Decimal:
    return Decimal(str(round(value, 6)))


@hidden_danger_reporter_register
def hidden_danger_incident(entry, photo) -> int:
    signup = entry.signup
    incident = incident_report(
        reporter=signup.user,
        alliance=signup.shift.alliance,
        category=Incident.Category.HIDDEN_DANGER,
        description=entry.note,
        latitude=_coordinate(entry.latitude),
        longitude=_coordinate(entry.longitude),
        occurred_at=entry.device_time or entry.created_at,
        photos=[photo] if photo is not None else [],
        client_id=f"patrol-log-{entry.pk}",
    )
    return incident.pk
