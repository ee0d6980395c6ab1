"""The conversation on an incident: anyone who may see the case may comment, and those following it are told."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from config.errors import ApplicationError
from config.times import api_datetime
from groups.events import event_publish, user_topic
from reports.models import CaseEvent, Incident, IncidentComment
from reports.permissions import can_comment_on_incident
from reports.selectors.incidents import incident_standing
from reports.services.incident_updates import incident_followers, timeline_record

MAX_COMMENT = 2000


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
    timeline_record(incident, CaseEvent.Kind.COMMENTED, author, comment=comment.pk)
    by_reporter = author.pk == incident.reporter_id
    hide = by_reporter and incident.is_anonymous
    event_publish(
        topics=[user_topic(user_id) for user_id in incident_followers(incident) if user_id != author.pk],
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
