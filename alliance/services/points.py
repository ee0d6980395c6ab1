"""The points ledger's writes: the one way an entry is written (:func:`points_entry_write`, shared by corrections and
reward redemptions), the rules in force, and the settling of evidence in batches (:func:`points_settle`). The
police's own entries (corrections, merchant contributions) are in ``points_corrections``."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from alliance.models import PointsAccount, PointsEntry, PointsReason, PointsRule
from alliance.points_evidence import PointsClaim, points_claims_for

# A re-award after a reversal (an incident accepted, rejected, accepted again) is a new entry: its key is the
# claim's key with "#2", "#3"... so the first award and its reversal stay in the ledger as they were.
REAWARD_SEPARATOR = "#"
REVERSAL_PREFIX = "reversal:"


def points_account_lock(*, user_id: int, alliance_id: int) -> PointsAccount:
    """The person's account in the alliance, made on first use, locked (``FOR UPDATE``) until the transaction
    ends: every write of points or holds goes through this lock, so concurrent ones queue and none overdraws.
    Call inside ``transaction.atomic``. (``ignore_conflicts``: ``INSERT ... ON CONFLICT DO NOTHING``, no savepoint.)"""
    PointsAccount.objects.bulk_create([PointsAccount(user_id=user_id, alliance_id=alliance_id)], ignore_conflicts=True)
    return PointsAccount.objects.select_for_update().get(user_id=user_id, alliance_id=alliance_id)


def points_entry_write(
    *,
    account: PointsAccount,
    amount: int,
    reason: str,
    unique_key: str,
    earned_on: date,
    source_type: str = "",
    source_id: int | None = None,
    note: str = "",
    reverses: PointsEntry | None = None,
    created_by=None,
) -> PointsEntry:
    """Append one entry and move the account's balance by it, in the caller's transaction. Precondition: ``account``
    was locked by :func:`points_account_lock` in this transaction and no entry has ``unique_key`` yet."""
    entry = PointsEntry.objects.create(
        user_id=account.user_id,
        alliance_id=account.alliance_id,
        amount=amount,
        reason=reason,
        unique_key=unique_key,
        earned_on=earned_on,
        source_type=source_type,
        source_id=source_id,
        note=note,
        reverses=reverses,
        created_by=created_by,
    )
    PointsAccount.objects.filter(pk=account.pk).update(balance=F("balance") + amount, updated_at=timezone.now())
    account.balance += amount
    return entry


# --- rules ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    amount: int
    daily_cap: int | None


def points_rules_for(*, alliance_ids) -> dict[tuple[int, str], Rule]:
    """The rules of these alliances, (alliance id, reason) -> Rule, the settings' defaults where none is set."""
    found = {
        (row.alliance_id, row.reason): Rule(row.amount, row.daily_cap)
        for row in PointsRule.objects.filter(alliance_id__in=set(alliance_ids))
    }
    for alliance_id in set(alliance_ids):
        for reason, default in settings.POINTS_DEFAULT_RULES.items():
            found.setdefault((alliance_id, reason), Rule(default["amount"], default["daily_cap"]))
    return found


def points_for_units(units: float, amount: int) -> int:
    """Half up, not Python's round-half-even: 1.5 hours at 1 point an hour earn 2 points, as people count."""
    return math.floor(units * amount + 0.5)


# --- settling evidence in batches ---------------------------------------------------------------------------------


def _lock_accounts(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Make the missing accounts (one INSERT ... ON CONFLICT DO NOTHING) and lock them all in one statement, in id
    order, so two batches sharing people queue rather than deadlock. Returns (user, alliance) -> account id.
    (The statement filters by users and alliances apart, so it may lock a person's account in another alliance of
    the batch too: harmless, and it keeps the statement simple on both databases.)"""
    if not pairs:
        return {}
    if connection.vendor == "postgresql":
        # The ORM's bulk_create prepares a model per row: a third of the batch's time at 1,000 people.
        users, alliances = zip(*sorted(pairs), strict=True)
        table = connection.ops.quote_name(PointsAccount._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (user_id, alliance_id, balance, held, updated_at) "  # noqa: S608 - our own table
                "SELECT made.user_id, made.alliance_id, 0, 0, %s "
                "FROM unnest(%s::bigint[], %s::bigint[]) AS made(user_id, alliance_id) ON CONFLICT DO NOTHING",
                [timezone.now(), list(users), list(alliances)],
            )
    else:
        PointsAccount.objects.bulk_create(
            [PointsAccount(user_id=user_id, alliance_id=alliance_id) for user_id, alliance_id in sorted(pairs)],
            ignore_conflicts=True,
        )
    rows = (
        PointsAccount.objects.select_for_update()
        .filter(user_id__in={user for user, _ in pairs}, alliance_id__in={alliance for _, alliance in pairs})
        .order_by("pk")
        .values_list("pk", "user_id", "alliance_id")
    )
    return {(user_id, alliance_id): pk for pk, user_id, alliance_id in rows}


def _entries_of_rows(source: str, ids: list[int]) -> list[dict]:
    """The awards already in the ledger for these rows of the source, each with whether an entry reverses it (the
    ledger's own reversal or a police correction) and whether that was a police correction. Two plain index reads
    (by evidence id, then the reversals by the awards' ids), the source told apart by the key's prefix in Python:
    a ``LIKE 'source:%'`` in the statement leads PostgreSQL to walk the key index over every entry the source ever
    wrote, and an EXISTS per row is planned as a scan of the whole ledger while its statistics lag behind."""
    prefix = f"{source}:"
    fields = ("pk", "user_id", "alliance_id", "amount", "unique_key", "source_type", "source_id", "earned_on")
    awards = [
        row
        for row in PointsEntry.objects.filter(source_id__in=ids).order_by().values(*fields)
        if row["unique_key"].startswith(prefix)
    ]
    if not awards:
        return awards
    reversed_by: dict[int, set[str]] = defaultdict(set)
    for reversed_id, reason in PointsEntry.objects.filter(
        reverses_id__in=[award["pk"] for award in awards]
    ).values_list("reverses_id", "reason"):
        reversed_by[reversed_id].add(reason)
    for award in awards:
        award["is_reversed"] = award["pk"] in reversed_by
        award["is_corrected"] = PointsReason.CORRECTION in reversed_by.get(award["pk"], ())
    return awards


def _claim_key(unique_key: str) -> str:
    return unique_key.split(REAWARD_SEPARATOR, 1)[0]


def _used_today(claims: list[PointsClaim], rules) -> dict[tuple, int]:
    """What the ledger already holds, per (person, alliance, reason, local day) of the capped claims: the awards of
    that reason on that day net of their reversals (a reversal, or a correction reversing one, is dated the day of
    the award it cancels and counts under that award's reason). One grouped query for the batch."""
    capped = [c for c in claims if rules[(c.alliance_id, c.reason)].daily_cap is not None]
    if not capped:
        return {}
    reasons = {c.reason for c in capped}
    rows = (
        PointsEntry.objects.filter(
            user_id__in={c.user_id for c in capped},
            alliance_id__in={c.alliance_id for c in capped},
            earned_on__in={timezone.localdate(c.happened_at) for c in capped},
        )
        .filter(Q(reason__in=reasons) | Q(reverses__reason__in=reasons))
        .annotate(ruled=Coalesce("reverses__reason", "reason"))
        .order_by()
        .values("user_id", "alliance_id", "ruled", "earned_on")
        .annotate(used=Sum("amount"))
    )
    return {(r["user_id"], r["alliance_id"], r["ruled"], r["earned_on"]): r["used"] for r in rows}


def _balances_move(deltas: dict[int, int]) -> None:
    """Move many balances in one statement: a join with the arrays of ids and amounts on PostgreSQL, a CASE
    elsewhere (SQLite)."""
    deltas = {pk: delta for pk, delta in deltas.items() if delta}
    if not deltas:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(PointsAccount._meta.db_table)
        ids, amounts = zip(*sorted(deltas.items()), strict=True)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS account SET balance = account.balance + moved.delta, updated_at = %s "  # noqa: S608 - our own table
                "FROM unnest(%s::bigint[], %s::integer[]) AS moved(id, delta) WHERE account.id = moved.id",
                [now, list(ids), list(amounts)],
            )
        return
    PointsAccount.objects.filter(pk__in=deltas).update(
        balance=F("balance")
        + Case(*[When(pk=pk, then=Value(delta)) for pk, delta in deltas.items()], output_field=IntegerField()),
        updated_at=now,
    )


def _ledger_writes(source: str, claims: list[PointsClaim], awards: list[dict], rules) -> list[dict]:
    """The entries that make the ledger match ``claims`` (as the columns of :data:`ENTRY_COLUMNS`): the missing
    awards (capped) and the reversals."""
    reversed_ids = {award["pk"] for award in awards if award["is_reversed"]}
    by_claim: dict[str, list[dict]] = defaultdict(list)
    for award in awards:
        by_claim[_claim_key(award["unique_key"])].append(award)
    claimed = {claim.unique_key for claim in claims}
    now = timezone.now()
    writes: list[dict] = []

    # Awards whose evidence is gone (a report rejected after acceptance) are reversed, once each.
    for award in awards:
        if award["pk"] in reversed_ids or _claim_key(award["unique_key"]) in claimed:
            continue
        writes.append(
            {
                "user_id": award["user_id"],
                "alliance_id": award["alliance_id"],
                "amount": -award["amount"],
                "reason": PointsReason.REVERSAL.value,
                "source_type": award["source_type"],
                "source_id": award["source_id"],
                "unique_key": f"{REVERSAL_PREFIX}{award['unique_key']}",
                "note": "",
                "reverses_id": award["pk"],
                # The day of the award it cancels: a month's board then counts neither.
                "earned_on": award["earned_on"],
                "created_at": now,
            }
        )

    pending: dict[str, PointsClaim] = {}
    for claim in sorted(claims, key=lambda c: (c.happened_at, c.unique_key)):
        previous = by_claim.get(claim.unique_key, [])
        if any(award["pk"] not in reversed_ids for award in previous):
            continue  # awarded and standing: a second run changes nothing
        if any(award["is_corrected"] for award in previous):
            continue  # a police admin took this award back: their decision stands while the evidence does
        pending.setdefault(claim.unique_key, claim)  # (a source naming the same evidence twice earns once)
    used = _used_today(list(pending.values()), rules)
    for claim in pending.values():
        previous = by_claim.get(claim.unique_key, [])
        rule = rules[(claim.alliance_id, claim.reason)]
        amount = points_for_units(claim.units, rule.amount)
        earned_on = timezone.localdate(claim.happened_at)
        if rule.daily_cap is not None:
            day = (claim.user_id, claim.alliance_id, claim.reason, earned_on)
            amount = min(amount, max(0, rule.daily_cap - used.get(day, 0)))
            used[day] = used.get(day, 0) + amount
        if amount <= 0:
            continue  # the day's cap is full: no zero entries
        key = claim.unique_key if not previous else f"{claim.unique_key}{REAWARD_SEPARATOR}{len(previous) + 1}"
        writes.append(
            {
                "user_id": claim.user_id,
                "alliance_id": claim.alliance_id,
                "amount": amount,
                "reason": str(claim.reason),
                "source_type": claim.source_type,
                "source_id": claim.source_id,
                "unique_key": key,
                "note": "",
                "reverses_id": None,
                "earned_on": earned_on,
                "created_at": now,
            }
        )
    return writes


# The columns a settled entry fills, with their PostgreSQL array types (created_by stays empty: nobody wrote it).
ENTRY_COLUMNS = {
    "user_id": "bigint",
    "alliance_id": "bigint",
    "amount": "integer",
    "reason": "varchar",
    "source_type": "varchar",
    "source_id": "bigint",
    "unique_key": "varchar",
    "note": "varchar",
    "reverses_id": "bigint",
    "earned_on": "date",
    "created_at": "timestamptz",
}


def _entries_insert(writes: list[dict]) -> None:
    """One INSERT for the batch: on PostgreSQL straight from one array per column (the ORM's bulk_create would
    prepare a model and every field of it per row, the larger part of a batch's time); elsewhere bulk_create."""
    if connection.vendor != "postgresql":
        PointsEntry.objects.bulk_create([PointsEntry(**write) for write in writes])
        return
    table = connection.ops.quote_name(PointsEntry._meta.db_table)
    columns = ", ".join(ENTRY_COLUMNS)
    arrays = ", ".join(f"%s::{kind}[]" for kind in ENTRY_COLUMNS.values())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays})",  # noqa: S608 - our own names
            [[write[column] for write in writes] for column in ENTRY_COLUMNS],
        )


def points_settle(*, source: str, ids: list[int]) -> int:
    """Make the ledger match the evidence of these rows: write the missing awards (capped per day), reverse those
    whose evidence is gone. Returns the number of entries written. Running it again changes nothing.

    One transaction with a constant number of statements for the whole batch, whatever its size: the accounts
    involved are made and locked together, the claims read again under the locks (evidence may have changed while
    we waited: an incident rejected meanwhile earns nothing), the ledger's entries for these rows and the day's
    totals for the caps read once, then one INSERT of the entries and one UPDATE of the balances, so the
    invariant of :func:`points_entry_write` (entries and balance move together) holds for the batch."""
    ids = sorted(set(ids))
    if not ids:
        return 0
    with transaction.atomic():
        # Lock the accounts the evidence names now; an award to reverse whose person no longer appears in it is
        # found under the locks, and its account locked in a second round (rare: evidence gone or moved).
        accounts = _lock_accounts({(c.user_id, c.alliance_id) for c in points_claims_for(source, ids)})
        while True:
            claims = points_claims_for(source, ids)
            entries = _entries_of_rows(source, ids)
            more = {(c.user_id, c.alliance_id) for c in claims} | {(e["user_id"], e["alliance_id"]) for e in entries}
            if more <= accounts.keys():
                break
            # The evidence names someone new since the first read: lock them too and read again.
            accounts.update(_lock_accounts(more - accounts.keys()))
        for claim in claims:
            if not claim.unique_key.startswith(f"{source}:"):
                raise ValueError(f"claim key {claim.unique_key!r} does not start with {source!r}:")
        rules = points_rules_for(alliance_ids={c.alliance_id for c in claims})
        writes = _ledger_writes(source, claims, entries, rules)
        if not writes:
            return 0
        _entries_insert(writes)
        deltas: dict[int, int] = defaultdict(int)
        for entry in writes:
            deltas[accounts[(entry["user_id"], entry["alliance_id"])]] += entry["amount"]
        _balances_move(deltas)
    return len(writes)
