"""Reads on the Safe Store awards: the half-year periods' names, the badge a store shows now, the alliance's current
Safe Stores, and the ranking, entry and badge an endpoint acts on (scoped: anything else answers 404)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from alliance.models import SafeStoreBadge, SafeStoreRanking, SafeStoreRankingEntry, Store
from alliance.selectors.alliances import AllianceAccess, StoreAccess, alliance_access_or_404, store_access_or_404
from alliance.selectors.safe_store_scores import safe_store_period

CURRENT_BADGES_ATTRIBUTE = "current_safe_store_badges"


# --- half-year periods ----------------------------------------------------------------------------------------------


def period_half(period_start: date) -> int:
    """1 for January-June, 2 for July-December."""
    return 1 if period_start.month <= 6 else 2


def period_label(period_start: date) -> str:
    """The period's name in the API: "2026H1", "2026H2"."""
    return f"{period_start.year}H{period_half(period_start)}"


def half_year_end(day: date) -> date:
    """The last day of the half-year ``day`` falls in."""
    return safe_store_period(day)[1]


def badge_validity(ranking: SafeStoreRanking) -> tuple[date, date]:
    """A badge is shown during the whole period after the ranked one: from the day after the ranked period ends to
    the end of the next half-year."""
    valid_from = ranking.period_end + timedelta(days=1)
    return valid_from, half_year_end(valid_from)


# --- the badge shown with a store ----------------------------------------------------------------------------------


def _current_badge_filter(today: date) -> Q:
    return Q(valid_from__lte=today, valid_until__gte=today)


def stores_with_safe_store_badge(stores: QuerySet[Store]) -> QuerySet[Store]:
    """``stores`` with the badge each shows today prefetched (one query for the whole page, never one per store);
    read it with :func:`store_current_safe_store_badge`."""
    current = (
        SafeStoreBadge.objects.filter(_current_badge_filter(timezone.localdate()))
        .select_related("ranking")
        .order_by("-valid_from", "place")
    )
    return stores.prefetch_related(Prefetch("safe_store_badges", queryset=current, to_attr=CURRENT_BADGES_ATTRIBUTE))


def store_current_safe_store_badge(store: Store) -> SafeStoreBadge | None:
    """The Safe Store badge the store shows today, if any: from the prefetch, or one query for a store read alone
    (the answer of a write)."""
    badges = getattr(store, CURRENT_BADGES_ATTRIBUTE, None)
    if badges is None:
        badges = list(
            SafeStoreBadge.objects.filter(_current_badge_filter(timezone.localdate()), store=store)
            .select_related("ranking")
            .order_by("-valid_from", "place")[:1]
        )
        setattr(store, CURRENT_BADGES_ATTRIBUTE, badges)
    return badges[0] if badges else None


def safe_stores_current(*, alliance) -> QuerySet[SafeStoreBadge]:
    """The alliance's Safe Stores now: the badges valid today, by place."""
    return (
        SafeStoreBadge.objects.filter(_current_badge_filter(timezone.localdate()), ranking__alliance=alliance)
        .select_related("store", "ranking")
        .order_by("-valid_from", "place", "pk")
    )


def safe_store_ranking_badges(*, ranking: SafeStoreRanking) -> QuerySet[SafeStoreBadge]:
    """A published ranking's Safe Stores, by place."""
    return SafeStoreBadge.objects.filter(ranking=ranking).select_related("store", "ranking").order_by("place")


# --- what the endpoints act on ---------------------------------------------------------------------------------------


def safe_store_ranking_or_404(*, access: AllianceAccess, ranking_id: int) -> SafeStoreRanking:
    ranking = (
        SafeStoreRanking.objects.select_related("alliance__station")
        .filter(alliance=access.alliance, pk=ranking_id)
        .first()
    )
    if ranking is None:
        raise Http404
    return ranking


def safe_store_entry_or_404(*, ranking: SafeStoreRanking, entry_id: int) -> SafeStoreRankingEntry:
    entry = SafeStoreRankingEntry.objects.select_related("store").filter(ranking=ranking, pk=entry_id).first()
    if entry is None:
        raise Http404
    entry.ranking = ranking
    return entry


def safe_store_ranking_access_or_404(*, user, alliance_id: int, ranking_id: int) -> SafeStoreRanking:
    """The ranking of an alliance ``user`` can see (whether they may act on it is the services' question)."""
    access = alliance_access_or_404(user=user, alliance_id=alliance_id)
    return safe_store_ranking_or_404(access=access, ranking_id=ranking_id)


@dataclass(frozen=True)
class BadgeAccess:
    badge: SafeStoreBadge
    store_access: StoreAccess


def safe_store_badge_access_or_404(*, user, store_id: int, badge_id: int) -> BadgeAccess:
    """A badge of a store ``user`` can see (whether they may have its certificate is ``alliance.permissions``')."""
    found = store_access_or_404(user=user, store_id=store_id)
    badge = (
        SafeStoreBadge.objects.select_related("ranking__alliance__station")
        .filter(store=found.store, pk=badge_id)
        .first()
    )
    if badge is None:
        raise Http404
    badge.store = found.store
    return BadgeAccess(badge=badge, store_access=found)
