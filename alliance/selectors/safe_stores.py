"""Reads of the Safe Store ranking: the live preview of the current half-year, a store's breakdown with what would
raise its score, the final rankings and their entries, a store's inspections.

Who sees what (``alliance.permissions``): every member of the alliance sees the ranks and store names (of the stores
they can see: verified ones and their own); the score and its parts are for the store's own people, the alliance's
admins and its police. A final ranking is shown to members once the police publish it; before that, to the admins
and police only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alliance.models import (
    SafeStoreRanking,
    SafeStoreRankingEntry,
    Store,
    StoreInspection,
    StoreScorePart,
)
from alliance.models.safe_stores import CONTRIBUTION_PARTS, SECURITY_PARTS
from alliance.permissions import can_see_safe_store_details, can_see_store_safety_record
from alliance.selectors.alliances import AllianceAccess, StoreAccess, store_access_or_404, stores_for_user
from alliance.selectors.safe_store_scores import StoreScoreRow, safe_store_period, safe_store_scores
from config.errors import ApplicationError

# What one more unit of a part is, said as what the store does (or what happens to it).
PART_ACTIONS = {
    StoreScorePart.INCIDENT_NEARBY: gettext_lazy("An incident at or near the store (per point of severity)"),
    StoreScorePart.HIDDEN_DANGER_FIXED: gettext_lazy("Fix hidden dangers on time"),
    StoreScorePart.HIDDEN_DANGER_OVERDUE: gettext_lazy("A hidden danger fixed late or left unfixed"),
    StoreScorePart.INSPECTION_PASSED: gettext_lazy("Pass a police inspection"),
    StoreScorePart.INSPECTION_FAILED: gettext_lazy("A failed police inspection"),
    StoreScorePart.REPORT_ACCEPTED: gettext_lazy("Have a report accepted by the police"),
    StoreScorePart.FLAG_HANDLED_WELL: gettext_lazy("Handle a dispute flag well"),
    StoreScorePart.PATROL_HOURS: gettext_lazy("Patrol for an hour"),
    StoreScorePart.ALERT_ACKNOWLEDGED: gettext_lazy("Acknowledge an alert"),
    StoreScorePart.GROUP_PARTICIPATION: gettext_lazy("Take part in the alliance's groups on a day"),
}


def safe_store_current_period(today: date | None = None) -> tuple[date, date]:
    return safe_store_period(today or timezone.localdate())


# --- the live preview ---------------------------------------------------------------------------------------------


@dataclass
class PreviewRow:
    position: int
    rank: int
    store_id: int
    store_name: str
    details: StoreScoreRow | None  # None when the viewer may see only the rank and name


def safe_store_preview(*, user, access: AllianceAccess, today: date | None = None) -> list[PreviewRow]:
    """The current half-year's ranking of the alliance, computed now with the final ranking's statement. Admins
    and police see every store with its score; other members the stores they can see, with the score of their own
    only. Three queries (the weights, the statement, the stores the viewer sees)."""
    start, end = safe_store_current_period(today)
    rows = safe_store_scores(alliance_id=access.alliance.pk, period_start=start, period_end=end)
    if can_see_safe_store_details(user, access):
        return [PreviewRow(r.position, r.rank, r.store_id, r.store_name, r) for r in rows]
    visible = set(stores_for_user(user=user).filter(alliance=access.alliance).values_list("pk", flat=True))
    own = set(_own_store_ids(user=user, alliance_id=access.alliance.pk))
    return [
        PreviewRow(r.position, r.rank, r.store_id, r.store_name, r if r.store_id in own else None)
        for r in rows
        if r.store_id in visible
    ]


def _own_store_ids(*, user, alliance_id: int) -> QuerySet:
    return (
        Store.objects.filter(alliance_id=alliance_id)
        .filter(Q(owner=user) | Q(staff__user=user))
        .values_list("pk", flat=True)
        .distinct()
    )


# --- a store's breakdown ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartScore:
    part: str
    label: str
    quantity: float
    weight: float
    score: float


@dataclass(frozen=True)
class ScoreAdvice:
    part: str
    change: float  # what one more unit adds (negative: what it costs)
    message: str


@dataclass
class StoreBreakdown:
    period_start: date
    period_end: date
    rank: int
    store_count: int
    score: float
    security_score: float
    contribution_score: float
    security_parts: list[PartScore] = field(default_factory=list)
    contribution_parts: list[PartScore] = field(default_factory=list)
    advice: list[ScoreAdvice] = field(default_factory=list)


def store_safe_store_breakdown(*, store_access: StoreAccess, today: date | None = None) -> StoreBreakdown:
    """The store's score in the current half-year split into its parts, its rank among the alliance's stores, and
    what one more unit of each part would change, what helps most first. The caller checked
    ``can_see_store_safety_record``."""
    store = store_access.store
    start, end = safe_store_current_period(today)
    rows = safe_store_scores(alliance_id=store.alliance_id, period_start=start, period_end=end)
    [mine] = [row for row in rows if row.store_id == store.pk]

    def parts(names) -> list[PartScore]:
        return [
            PartScore(
                part=part.value,
                label=str(part.label),
                quantity=mine.parts[part.value]["quantity"],
                weight=mine.parts[part.value]["weight"],
                score=mine.parts[part.value]["score"],
            )
            for part in names
        ]

    return StoreBreakdown(
        period_start=start,
        period_end=end,
        rank=mine.rank,
        store_count=len(rows),
        score=mine.score,
        security_score=mine.security_score,
        contribution_score=mine.contribution_score,
        security_parts=parts(SECURITY_PARTS),
        contribution_parts=parts(CONTRIBUTION_PARTS),
        advice=safe_store_advice(weights={part: values["weight"] for part, values in mine.parts.items()}),
    )


def safe_store_advice(*, weights: dict[str, float]) -> list[ScoreAdvice]:
    """For each part with a weight, what one more unit changes ("Fix hidden dangers on time: +3 each"), the
    biggest gain first and the biggest cost last; parts weighing nothing are left out."""
    advice = [
        ScoreAdvice(
            part=part,
            change=weight,
            message=_("%(action)s: %(change)s each") % {"action": PART_ACTIONS[part], "change": f"{weight:+g}"},
        )
        for part, weight in weights.items()
        if weight and part in PART_ACTIONS
    ]
    return sorted(advice, key=lambda item: (-item.change, item.part))


# --- final rankings -----------------------------------------------------------------------------------------------


def safe_store_rankings_for(*, user, access: AllianceAccess) -> QuerySet[SafeStoreRanking]:
    """The alliance's final rankings: published ones for its members, every one for its admins and police."""
    rankings = SafeStoreRanking.objects.filter(alliance=access.alliance).select_related("alliance")
    if not can_see_safe_store_details(user, access):
        rankings = rankings.filter(status=SafeStoreRanking.Status.PUBLISHED)
    return rankings


def safe_store_ranking_entries(*, user, access: AllianceAccess, ranking: SafeStoreRanking):
    """The ranking's entries, best first; for viewers who see only ranks and names, the entries of the stores they
    can see."""
    entries = SafeStoreRankingEntry.objects.filter(ranking=ranking).select_related("store")
    if not can_see_safe_store_details(user, access):
        entries = entries.filter(store__in=stores_for_user(user=user).filter(alliance=access.alliance).values("pk"))
    return entries


def own_store_ids(*, user, alliance_id: int) -> set[int]:
    """The stores of the alliance that ``user`` owns or works in (they see their own score)."""
    return set(_own_store_ids(user=user, alliance_id=alliance_id))


def store_safety_record_access(*, user, store_id: int) -> StoreAccess:
    """The store, if ``user`` may see its score breakdown and inspections (``can_see_store_safety_record``): 404
    for a store they cannot see at all, 403 for one they see but that is not theirs to inspect."""
    found = store_access_or_404(user=user, store_id=store_id)
    if not can_see_store_safety_record(user, found.store, found.access, is_store_staff=found.is_store_staff):
        raise ApplicationError.permission_denied(
            _("Only the store's own people, the alliance's admins and the police see its score and inspections.")
        )
    return found


# --- inspections --------------------------------------------------------------------------------------------------


def store_inspections(*, store: Store) -> QuerySet[StoreInspection]:
    return StoreInspection.objects.filter(store=store).select_related("recorded_by")
