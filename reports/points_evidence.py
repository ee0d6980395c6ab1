"""The reports' evidence for the points ledger (alliance/points_evidence.py), registered from ReportsConfig.ready().

``incident_accepted``: an incident report the police accepted earns its reporter points while it stays accepted or
further along (assigned, in progress, resolved, closed); rejected after acceptance, or merged away into another
report of the same thing, it earns nothing and the next settle reverses what it earned. A hidden danger earns the
rule "hidden danger confirmed by the police" instead (one source for both: the category decides the reason, and one
settle of an incident covers it; the key stays ``incident_accepted:incident:<id>`` either way). Settled on every
step that can change this: accept, reject, reopen, merge.

An anonymous report earns too: anonymity hides the reporter from the other members and the card, not from the
reporter's own ledger, which only they and the police see; withholding points would punish exactly the cautious
reporters the option is for. (The entry names the incident's id, never shown to anyone else.)

``dispute_resolved``: a flag resolved with any outcome but a false alarm earns each responder who arrived on the
scene (``DisputeResponder.arrived_at``); saying "on my way" alone earns nothing. A resolved flag never changes again.
"""

from __future__ import annotations

from datetime import datetime

from alliance.models import PointsReason
from alliance.points_evidence import PointsClaim, points_evidence_register, points_settle_on_commit
from reports.models import CaseEvent, Dispute, DisputeResponder, Incident

INCIDENT_ACCEPTED = "incident_accepted"
DISPUTE_RESOLVED = "dispute_resolved"

# Accepted, or further along: what a report keeps earning in.
ACCEPTED_OR_FURTHER = (
    Incident.Status.ACCEPTED,
    Incident.Status.ASSIGNED,
    Incident.Status.IN_PROGRESS,
    Incident.Status.RESOLVED,
    Incident.Status.CLOSED,
)
# The timeline steps that can change what an incident earns (accept and reject are status changes).
_EARNING_STEPS = (CaseEvent.Kind.STATUS_CHANGED, CaseEvent.Kind.REOPENED, CaseEvent.Kind.MERGED)


def incident_points_settle_on_commit(*, incident_ids) -> None:
    points_settle_on_commit(source=INCIDENT_ACCEPTED, ids=incident_ids)


def dispute_points_settle_on_commit(*, dispute_ids) -> None:
    points_settle_on_commit(source=DISPUTE_RESOLVED, ids=dispute_ids)


def incident_accepted_claims(ids: list[int]) -> list[PointsClaim]:
    incidents = Incident.objects.filter(
        pk__in=ids,
        status__in=ACCEPTED_OR_FURTHER,
        merged_into__isnull=True,
        reporter__isnull=False,
        accepted_at__isnull=False,
    ).values_list("pk", "reporter_id", "alliance_id", "category", "accepted_at")
    return [
        PointsClaim(
            user_id=reporter_id,
            alliance_id=alliance_id,
            reason=PointsReason.HIDDEN_DANGER_CONFIRMED
            if category == Incident.Category.HIDDEN_DANGER
            else PointsReason.INCIDENT_ACCEPTED,
            units=1,
            unique_key=f"{INCIDENT_ACCEPTED}:incident:{pk}",
            source_type="reports.Incident",
            source_id=pk,
            happened_at=accepted_at,
        )
        for pk, reporter_id, alliance_id, category, accepted_at in incidents
    ]


def incidents_changed_since(since: datetime) -> list[int]:
    return sorted(
        set(
            CaseEvent.objects.filter(at__gte=since, incident__isnull=False, kind__in=_EARNING_STEPS).values_list(
                "incident_id", flat=True
            )
        )
    )


def dispute_resolved_claims(ids: list[int]) -> list[PointsClaim]:
    arrivals = (
        DisputeResponder.objects.filter(
            dispute_id__in=ids,
            arrived_at__isnull=False,
            dispute__status=Dispute.Status.RESOLVED,
        )
        .exclude(dispute__outcome=Dispute.Outcome.FALSE_ALARM)
        .values_list("dispute_id", "responder_id", "dispute__alliance_id", "dispute__resolved_at")
    )
    return [
        PointsClaim(
            user_id=responder_id,
            alliance_id=alliance_id,
            reason=PointsReason.DISPUTE_RESOLVED,
            units=1,
            unique_key=f"{DISPUTE_RESOLVED}:dispute:{dispute_id}:responder:{responder_id}",
            source_type="reports.Dispute",
            source_id=dispute_id,
            happened_at=resolved_at,
        )
        for dispute_id, responder_id, alliance_id, resolved_at in arrivals
    ]


def disputes_resolved_since(since: datetime) -> list[int]:
    return sorted(Dispute.objects.filter(resolved_at__gte=since).values_list("pk", flat=True))


points_evidence_register(INCIDENT_ACCEPTED, incident_accepted_claims, recent_ids=incidents_changed_since)
points_evidence_register(DISPUTE_RESOLVED, dispute_resolved_claims, recent_ids=disputes_resolved_since)
