"""The points benchmark's evidence source, imported by its Celery worker (PINGAN_POINTS_EVIDENCE_MODULES, with
``bench/`` on PYTHONPATH) and by its setup shell.

Evidence id ``i`` is a verified patrol of ``1``, ``1.5`` or ``2`` hours by bench person ``i % people`` in that
person's alliance (person ``n`` belongs to alliance ``n % alliances``), on day ``i // people`` after the first: ten
claims a person over ten days, under the daily cap, so each claim writes one entry. The people and alliances are
read once per process (one query each), so the source costs the settling nothing per batch; a real source reads its
rows (one query a batch)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from celery import shared_task
from django.db import transaction

from alliance.points_evidence import PointsClaim, points_claims_for, points_evidence_register

SOURCE = "bench_patrol"
FIRST_DAY = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
PHONE_BASE = 13_900_000_000
_world: dict = {}


def _people_and_alliances() -> tuple[list[int], list[int]]:
    if not _world:
        from accounts.models import User
        from alliance.models import Alliance

        _world["people"] = list(
            User.objects.filter(display_name__startswith="points bench ").order_by("phone").values_list("pk", flat=True)
        )
        _world["alliances"] = list(
            Alliance.objects.filter(slug__startswith="points-bench-").order_by("slug").values_list("pk", flat=True)
        )
    return _world["people"], _world["alliances"]


def bench_claims_for(ids: list[int]) -> list[PointsClaim]:
    people, alliances = _people_and_alliances()
    claims = []
    for evidence_id in ids:
        person = evidence_id % len(people)
        claims.append(
            PointsClaim(
                user_id=people[person],
                alliance_id=alliances[person % len(alliances)],
                reason="patrol_hour",
                units=1 + (evidence_id % 3) / 2,
                unique_key=f"{SOURCE}:{evidence_id}",
                source_type="bench.patrol",
                source_id=evidence_id,
                happened_at=FIRST_DAY + timedelta(days=evidence_id // len(people)),
            )
        )
    return claims


points_evidence_register(SOURCE, bench_claims_for, recent_ids=lambda since: [])


@shared_task(acks_late=True, reject_on_worker_lost=True)
def bench_naive_award_task(evidence_id: int) -> int:
    """The naive way, for comparison: one task and one transaction per claim, written through points_entry_write
    (lock the account, look for the key, append the entry, move the balance), no cap."""
    from alliance.models import PointsEntry
    from alliance.services.points import points_account_lock, points_entry_write, points_for_units, points_rules_for

    [claim] = points_claims_for(SOURCE, [evidence_id])
    with transaction.atomic():
        account = points_account_lock(user_id=claim.user_id, alliance_id=claim.alliance_id)
        if PointsEntry.objects.filter(unique_key=claim.unique_key).exists():
            return 0
        rule = points_rules_for(alliance_ids=[claim.alliance_id])[(claim.alliance_id, claim.reason)]
        points_entry_write(
            account=account,
            amount=points_for_units(claim.units, rule.amount),
            reason=claim.reason,
            unique_key=claim.unique_key,
            earned_on=claim.happened_at.date(),
            source_type=claim.source_type,
            source_id=claim.source_id,
        )
    return 1
