"""The points ledger's writes. (The settling of evidence is filled in by the ledger's helper; the two functions
below are the one way an entry is written, shared by awards, corrections and reward redemptions.)"""

from __future__ import annotations

from datetime import date

from django.db.models import F
from django.utils import timezone

from alliance.models import PointsAccount, PointsEntry


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


def points_settle(*, source: str, ids: list[int]) -> int:
    """Make the ledger match the evidence of these rows: write the missing entries, reverse those whose evidence
    is gone. Returns the number of entries written."""
    raise NotImplementedError
