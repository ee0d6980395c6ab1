"""The reports app's share of the personal-data export (accounts/personal_data.py).

Cases stay when their reporter deletes the account (the police need the record); they then point at the
anonymised row, so nothing in them names the person any more.
"""

from __future__ import annotations

from accounts.personal_data import PersonalDataPart, personal_data_left_out, personal_data_part_register
from config.times import api_datetime
from reports.models import CaseEvent, CasePhoto, Dispute, DisputeResponder, Incident, IncidentComment


def _dispute_flags(user) -> list[dict]:
    return [
        {
            "id": d.pk,
            "category": d.category,
            "note": d.note,
            "flagged_at": api_datetime(d.flagged_at),
            "status": d.status,
        }
        for d in Dispute.objects.filter(reporter=user).order_by("id")
    ]


def _disputes_responded(user) -> list[dict]:
    return [
        {
            "dispute": r.dispute_id,
            "acknowledged_at": api_datetime(r.acknowledged_at),
            "eta_minutes": r.eta_minutes,
            "arrived_at": api_datetime(r.arrived_at),
        }
        for r in DisputeResponder.objects.filter(responder=user).order_by("id")
    ]


def _incident_reports(user) -> list[dict]:
    return [
        {
            "id": i.pk,
            "category": i.category,
            "description": i.description,
            "is_anonymous": i.is_anonymous,
            "reported_at": api_datetime(i.created_at),
            "satisfaction": i.satisfaction,
            "satisfaction_comment": i.satisfaction_comment,
        }
        for i in Incident.objects.filter(reporter=user).order_by("id")
    ]


def _incident_comments(user) -> list[dict]:
    return [
        {"incident": c.incident_id, "body": c.body, "written_at": api_datetime(c.created_at)}
        for c in IncidentComment.objects.filter(author=user).order_by("id")
    ]


def _case_photos(user) -> list[dict]:
    # The file names, not the files: the export is one JSON document; each photo is served by its case's view.
    return [
        {
            "dispute": p.dispute_id,
            "incident": p.incident_id,
            "file": p.image.name,
            "uploaded_at": api_datetime(p.created_at),
        }
        for p in CasePhoto.objects.filter(uploaded_by=user).order_by("id")
    ]


def _case_actions(user) -> list[dict]:
    return [
        {"dispute": e.dispute_id, "incident": e.incident_id, "what": e.kind, "at": api_datetime(e.at)}
        for e in CaseEvent.objects.filter(actor=user).order_by("id")
    ]


personal_data_part_register(PersonalDataPart("dispute_flags", _dispute_flags, covers=("reports.Dispute.reporter",)))
personal_data_part_register(
    PersonalDataPart("disputes_responded", _disputes_responded, covers=("reports.DisputeResponder.responder",))
)
personal_data_part_register(
    PersonalDataPart("incident_reports", _incident_reports, covers=("reports.Incident.reporter",))
)
personal_data_part_register(
    PersonalDataPart("incident_comments", _incident_comments, covers=("reports.IncidentComment.author",))
)
personal_data_part_register(PersonalDataPart("case_photos", _case_photos, covers=("reports.CasePhoto.uploaded_by",)))
personal_data_part_register(PersonalDataPart("case_actions", _case_actions, covers=("reports.CaseEvent.actor",)))
personal_data_left_out(
    "reports.Incident.assignee", why="the officer a case is assigned to: police work on somebody else's report"
)
personal_data_left_out(
    "reports.EscalationPolicy.updated_by", why="the police admin who set an alliance's escalation times: an audit trail"
)
