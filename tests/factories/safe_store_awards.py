"""Safe Store rankings ready to publish, and the steps that publish them, for the award tests.

The ranking computation (``alliance.services.safe_store_rankings``) is written beside these; until the award tests
need a ranking computed from scored events, :func:`ranking_snapshot_make` writes the computed snapshot directly, as that
computation stores it: one ``SafeStoreRanking`` (status computed) and one entry per store, ranked by score (equal
scores share a rank, the next rank skipping, as SQL's ``RANK()``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from accounts.models import Role, User
from alliance.models import Alliance, SafeStoreBadge, SafeStoreRanking, SafeStoreRankingEntry, Store
from alliance.selectors.safe_store_awards import badge_validity, half_year_end
from alliance.services.safe_store_awards import (
    safe_store_entry_hold_back,
    safe_store_entry_release,
    safe_store_ranking_publish,
)
from tests.factories.alliance import MemberRole, member_add, store_make


def ranking_snapshot_make(
    alliance: Alliance, period_start: date, scores: Sequence[tuple[Store, float]]
) -> SafeStoreRanking:
    """The computed (unpublished) ranking of ``alliance`` for the half-year starting ``period_start``, with one
    entry per ``(store, score)``."""
    ranking = SafeStoreRanking.objects.create(
        alliance=alliance,
        period_start=period_start,
        period_end=half_year_end(period_start),
        status=SafeStoreRanking.Status.COMPUTED,
    )
    ordered = sorted(scores, key=lambda pair: -pair[1])
    entries = []
    for position, (store, score) in enumerate(ordered, start=1):
        rank = position if position == 1 or score != ordered[position - 2][1] else entries[-1].rank
        entries.append(
            SafeStoreRankingEntry(
                ranking=ranking,
                store=store,
                rank=rank,
                score=score,
                security_score=score / 2,
                contribution_score=score / 2,
                parts={},
            )
        )
    SafeStoreRankingEntry.objects.bulk_create(entries)
    return ranking


def entry_of(ranking: SafeStoreRanking, store: Store) -> SafeStoreRankingEntry:
    return SafeStoreRankingEntry.objects.select_related("ranking__alliance", "store").get(ranking=ranking, store=store)


def entry_held_back(*, ranking: SafeStoreRanking, store: Store, by: User, reason: str = "消防检查未通过") -> None:
    safe_store_entry_hold_back(entry=entry_of(ranking, store), reason=reason, by=by)


def entry_released(*, ranking: SafeStoreRanking, store: Store, by: User) -> None:
    safe_store_entry_release(entry=entry_of(ranking, store), by=by)


def ranking_published(*, ranking: SafeStoreRanking, by: User) -> SafeStoreRanking:
    return safe_store_ranking_publish(ranking=ranking, by=by)


def badges_of(ranking: SafeStoreRanking) -> list[SafeStoreBadge]:
    return list(SafeStoreBadge.objects.filter(ranking=ranking).select_related("store").order_by("place"))


def merchant_stores_make(alliance: Alliance, user_factory, count: int, *, prefix: str = "平安") -> list[Store]:
    """``count`` stores of ``alliance``, each registered by a merchant member of its own."""
    stores = []
    for number in range(1, count + 1):
        owner = user_factory(roles=[Role.MERCHANT], display_name=f"{prefix}{number}号老板")
        member_add(alliance, owner, MemberRole.MERCHANT)
        stores.append(store_make(owner=owner, alliance=alliance, name=f"{prefix}{number}号店"))
    return stores


def last_period_start(today: date) -> date:
    """The first day of the half-year before the one ``today`` is in: its Safe Stores' badges are shown today."""
    return date(today.year - 1, 7, 1) if today.month <= 6 else date(today.year, 1, 1)


def period_before(period_start: date) -> date:
    return date(period_start.year - 1, 7, 1) if period_start.month == 1 else date(period_start.year, 1, 1)


def badge_make(*, ranking: SafeStoreRanking, store: Store, place: int) -> SafeStoreBadge:
    """A Safe Store badge as publishing writes it, for lists that grow a badge at a time (publishing awards a whole
    ranking at once)."""
    valid_from, valid_until = badge_validity(ranking)
    return SafeStoreBadge.objects.create(
        ranking=ranking, store=store, place=place, valid_from=valid_from, valid_until=valid_until
    )
