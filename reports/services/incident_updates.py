"""How every change to an incident is written down and told: the step in the case's timeline, and the live update
to the people following the case (through the outbox). Shared by reporting, the workflow and the comments."""

from __future__ import annotations

from groups.events import event_publish, user_topic
from reports.models import CaseEvent, Incident
from reports.presentation import incident_event
from reports.selectors.incidents import incident_team_member_ids


def timeline_record(incident: Incident, kind: str, actor=None, **data) -> CaseEvent:
    return CaseEvent.objects.create(incident=incident, kind=kind, actor=actor, data=data)


def incident_followers(incident: Incident, *, extra_user_ids=()) -> list[int]:
    """The reporter (anonymous or not: it is their own case), the assignee and the members of the assigned team."""
    following = {incident.reporter_id, incident.assignee_id, *extra_user_ids}
    following.update(incident_team_member_ids(incident=incident))
    following.discard(None)
    return sorted(following)


def incident_notify(incident: Incident, *, extra_user_ids=()) -> None:
    recipients = incident_followers(incident, extra_user_ids=extra_user_ids)
    event_publish(topics=[user_topic(user_id) for user_id in recipients], event=incident_event(incident), durable=True)
