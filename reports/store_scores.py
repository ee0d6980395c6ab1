"""The cases' share of the Safe Store score (alliance.models.safe_stores), recorded in the transaction of the step
that establishes the evidence, and removed by key when the evidence is taken back.

The store's security status:
- ``incident_nearby``: an incident the police accepted within ``NEARBY_METRES`` of a store of its alliance (each such
  store), its value the category's severity; and a flag at a store (``Dispute.store``) resolved as anything but a
  false alarm. Removed when the report is rejected after acceptance or merged away as a duplicate.
- ``hidden_danger_fixed`` / ``hidden_danger_overdue``: a hidden danger near a store resolved within
  ``settings.SAFE_STORE_HIDDEN_DANGER_FIX_DAYS`` of its acceptance, or later. Recorded on resolution; one never
  resolved is found overdue by a sweep once its days have passed; reopening it ("not fixed") removes it until it
  is resolved again.

The merchant's contribution:
- ``report_accepted``: an accepted report whose reporter owns or staffs stores of the alliance, +1 for each. Not for
  an anonymous report: the ranking and its parts are published to the alliance, and a store's count rising the day
  an anonymous report was accepted would name its reporter.
- ``flag_handled_well``: a flag at a store, raised by the store's owner or staff, resolved mediated or settled on
  site, +1 for that store.

Events are dated by the step that confirmed them (acceptance, resolution), so a period's ranking, once computed,
never gains events dated inside it by a later step.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from alliance.models import StoreScoreEvent, StoreScorePart
from alliance.selectors.store_scores import stores_near
from alliance.services.store_scores import (
    StoreScore,
    store_score_events_record,
    store_score_events_remove,
    store_scores_record_for_person,
)
from reports.models import Dispute, Incident

# How close to a store a case counts as "at or near" it.
NEARBY_METRES = 50

# How much an incident near a store weighs on its security status, by category: property crime and fraud most,
# a dispute less, a suspicious person, traffic or anything else least. A hidden danger scores as fixed or overdue
# instead (its own parts), and lost and found says nothing about the store's security (0: not recorded).
INCIDENT_SEVERITY = {
    Incident.Category.THEFT: 3,
    Incident.Category.FRAUD: 3,
    Incident.Category.DISPUTE: 2,
    Incident.Category.SUSPICIOUS: 1,
    Incident.Category.TRAFFIC: 1,
    Incident.Category.HIDDEN_DANGER: 0,
    Incident.Category.LOST_FOUND: 0,
    Incident.Category.OTHER: 1,
}
# The same scale for a flag raised at a store: theft and fraud in progress as their incidents, a quarrel and a fire
# as a dispute, a medical emergency not at all (nothing about the store's security).
DISPUTE_SEVERITY = {
    Dispute.Category.QUARREL: 2,
    Dispute.Category.THEFT: 3,
    Dispute.Category.FRAUD: 3,
    Dispute.Category.SUSPICIOUS: 1,
    Dispute.Category.MEDICAL: 0,
    Dispute.Category.FIRE: 2,
    Dispute.Category.OTHER: 1,
}
HANDLED_WELL = (Dispute.Outcome.MEDIATED, Dispute.Outcome.SETTLED)

_NEARBY = StoreScorePart.INCIDENT_NEARBY.value
_REPORT = StoreScorePart.REPORT_ACCEPTED.value
_FIXED = StoreScorePart.HIDDEN_DANGER_FIXED.value
_OVERDUE = StoreScorePart.HIDDEN_DANGER_OVERDUE.value
_HANDLED = StoreScorePart.FLAG_HANDLED_WELL.value


def _near(incident: Incident) -> list[int]:
    return stores_near(
        alliance_id=incident.alliance_id,
        latitude=incident.latitude,
        longitude=incident.longitude,
        metres=NEARBY_METRES,
    )


def incident_accepted_store_scores(*, incident: Incident) -> None:
    """The police accepted the report (``accepted_at`` set)."""
    severity = INCIDENT_SEVERITY.get(incident.category, 1)
    if severity > 0:
        store_score_events_record(
            scores=[
                StoreScore(
                    store_id=store_id,
                    alliance_id=incident.alliance_id,
                    part=_NEARBY,
                    value=severity,
                    occurred_at=incident.accepted_at,
                    unique_key=f"{_NEARBY}:incident:{incident.pk}:store:{store_id}",
                )
                for store_id in _near(incident)
            ]
        )
    if incident.reporter_id is not None and not incident.is_anonymous:
        store_scores_record_for_person(
            user_id=incident.reporter_id,
            alliance_id=incident.alliance_id,
            part=_REPORT,
            value=1,
            occurred_at=incident.accepted_at,
            key_head=f"{_REPORT}:incident:{incident.pk}:store:",
        )


def incident_withdrawn_store_scores(*, incident_id: int) -> None:
    """The report was rejected after acceptance, or merged away into another: none of its scores stand."""
    store_score_events_remove(
        key_prefixes=[f"{part}:incident:{incident_id}:" for part in (_NEARBY, _REPORT, _FIXED, _OVERDUE)]
    )


def incident_resolved_store_scores(*, incident: Incident) -> None:
    """A hidden danger near stores was resolved: fixed on time, or late."""
    if incident.category != Incident.Category.HIDDEN_DANGER or incident.accepted_at is None:
        return
    deadline = incident.accepted_at + timedelta(days=settings.SAFE_STORE_HIDDEN_DANGER_FIX_DAYS)
    part = _FIXED if incident.resolved_at <= deadline else _OVERDUE
    store_score_events_record(
        scores=[
            StoreScore(
                store_id=store_id,
                alliance_id=incident.alliance_id,
                part=part,
                value=1,
                occurred_at=incident.resolved_at,
                unique_key=f"{part}:incident:{incident.pk}:store:{store_id}",
            )
            for store_id in _near(incident)
        ]
    )


# A hidden danger being dealt with: accepted, not yet resolved.
_OPEN = (Incident.Status.ACCEPTED, Incident.Status.ASSIGNED, Incident.Status.IN_PROGRESS)


def hidden_dangers_overdue_record(*, now=None) -> int:
    """Hidden dangers still open past their days allowed count as overdue for the stores near them
    (``hidden_dangers_overdue_task``, every ten minutes). Once: the key is the one a late resolution writes, so
    fixing it afterwards adds nothing, and a second sweep finds its rows there. Dated by the sweep that confirmed
    it, like every event here. Returns how many hidden dangers were newly found overdue."""
    now = now or timezone.now()
    due = now - timedelta(days=settings.SAFE_STORE_HIDDEN_DANGER_FIX_DAYS)
    overdue = Incident.objects.filter(
        category=Incident.Category.HIDDEN_DANGER, status__in=_OPEN, accepted_at__lte=due, resolved_at__isnull=True
    )
    found = 0
    # Few at a time (the hidden dangers left open too long), each two reads by index and at most one INSERT.
    for incident in overdue.order_by("pk").iterator():
        keys = {store_id: f"{_OVERDUE}:incident:{incident.pk}:store:{store_id}" for store_id in _near(incident)}
        if not keys or StoreScoreEvent.objects.filter(unique_key__in=keys.values()).exists():
            continue  # near no store, or counted by an earlier sweep
        store_score_events_record(
            scores=[
                StoreScore(
                    store_id=store_id,
                    alliance_id=incident.alliance_id,
                    part=_OVERDUE,
                    value=1,
                    occurred_at=now,
                    unique_key=key,
                )
                for store_id, key in keys.items()
            ]
        )
        found += 1
    return found


def incident_reopened_store_scores(*, incident_id: int) -> None:
    """ "It is not fixed": a hidden danger counts as neither until it is resolved again."""
    store_score_events_remove(key_prefixes=[f"{part}:incident:{incident_id}:" for part in (_FIXED, _OVERDUE)])


def dispute_resolved_store_scores(*, dispute: Dispute) -> None:
    """A flag at a store was resolved (a resolved flag never changes again)."""
    if dispute.store_id is None or dispute.outcome == Dispute.Outcome.FALSE_ALARM:
        return
    severity = DISPUTE_SEVERITY.get(dispute.category, 1)
    if severity > 0:
        store_score_events_record(
            scores=[
                StoreScore(
                    store_id=dispute.store_id,
                    alliance_id=dispute.alliance_id,
                    part=_NEARBY,
                    value=severity,
                    occurred_at=dispute.resolved_at,
                    unique_key=f"{_NEARBY}:dispute:{dispute.pk}:store:{dispute.store_id}",
                )
            ]
        )
    if dispute.outcome in HANDLED_WELL and dispute.reporter_id is not None:
        # Only when the one who raised it owns or works in that store: a passer-by's flag is not the store's merit.
        store_scores_record_for_person(
            user_id=dispute.reporter_id,
            alliance_id=dispute.alliance_id,
            part=_HANDLED,
            value=1,
            occurred_at=dispute.resolved_at,
            key_head=f"{_HANDLED}:dispute:{dispute.pk}:store:",
            store_id=dispute.store_id,
        )
