"""The alliance app's share of the personal-data export and of account deletion (accounts/personal_data.py)."""

from __future__ import annotations

from django.db.models import Q

from accounts.personal_data import PersonalDataPart, personal_data_left_out, personal_data_part_register
from alliance.models import (
    AlertReceipt,
    AllianceJoinRequest,
    AllianceMembership,
    PointsAccount,
    PointsEntry,
    Redemption,
    SafeStoreBadge,
    SafeStoreRankingEntry,
    StationStaff,
    Store,
    StoreStaff,
)
from alliance.services.members import alliance_ties_end_for_deleted_account
from alliance.services.rewards import redemptions_cancel_for_deleted_account
from config.times import api_datetime


def _memberships(user) -> list[dict]:
    return [
        {
            "alliance": m.alliance.name,
            "role": m.role,
            "joined_at": api_datetime(m.joined_at),
            "on_duty": m.on_duty,
            # The position sent with the duty switch (kept only while on duty).
            "duty_location": None
            if m.duty_latitude is None
            else {
                "latitude": m.duty_latitude,
                "longitude": m.duty_longitude,
                "at": api_datetime(m.duty_position_at),
            },
        }
        for m in AllianceMembership.objects.filter(user=user).select_related("alliance").order_by("id")
    ]


def _join_requests(user) -> list[dict]:
    return [
        {
            "alliance": r.alliance.name,
            "role": r.role,
            "status": r.status,
            "requested_at": api_datetime(r.created_at),
            "decided_at": api_datetime(r.decided_at),
        }
        for r in AllianceJoinRequest.objects.filter(user=user).select_related("alliance").order_by("id")
    ]


def _stores_owned(user) -> list[dict]:
    return [
        {"name": s.name, "address": s.address, "business_licence_number": s.business_licence_number}
        for s in Store.objects.filter(owner=user).order_by("id")
    ]


def _store_posts(user) -> list[str]:
    return [p.store.name for p in StoreStaff.objects.filter(user=user).select_related("store").order_by("id")]


def _station_posts(user) -> list[str]:
    return [p.station.name for p in StationStaff.objects.filter(user=user).select_related("station").order_by("id")]


def _ties_end(user) -> None:
    AllianceJoinRequest.objects.filter(user=user).delete()
    alliance_ties_end_for_deleted_account(user=user)


# Leaving the alliances also ends the store and station posts and the group memberships (one erase for all).
personal_data_part_register(
    PersonalDataPart(
        "alliance_memberships", _memberships, covers=("alliance.AllianceMembership.user",), erase=_ties_end
    )
)
personal_data_part_register(
    PersonalDataPart("join_requests", _join_requests, covers=("alliance.AllianceJoinRequest.user",))
)
# A store stays with its alliance when its owner leaves (it is the shop, not the person); the owner link remains on
# the anonymised row, so nothing names the person any more.
personal_data_part_register(PersonalDataPart("stores_owned", _stores_owned, covers=("alliance.Store.owner",)))


def _own_store_ids(user):
    """The stores the person owns or works in: their Safe Store rankings are about them."""
    return Store.objects.filter(Q(owner=user) | Q(staff__user=user)).values("pk")


def _safe_store_rankings(user) -> list[dict]:
    return [
        {
            "store": e.store.name,
            "alliance": e.ranking.alliance.name,
            "period_start": e.ranking.period_start.isoformat(),
            "period_end": e.ranking.period_end.isoformat(),
            "rank": e.rank,
            "score": e.score,
            "held_back": e.held_back,
            "held_back_reason": e.held_back_reason,
        }
        for e in SafeStoreRankingEntry.objects.filter(store__in=_own_store_ids(user))
        .select_related("store", "ranking__alliance")
        .order_by("-ranking__period_start", "store_id")
    ]


def _safe_store_badges(user) -> list[dict]:
    return [
        {
            "store": b.store.name,
            "place": b.place,
            "valid_from": b.valid_from.isoformat(),
            "valid_until": b.valid_until.isoformat(),
        }
        for b in SafeStoreBadge.objects.filter(store__in=_own_store_ids(user))
        .select_related("store")
        .order_by("-valid_from", "place")
    ]


# A store's ranking and badge are about the shop (they stay with it), but they are the record of its owner's and
# staff's conduct too, so each of them sees them in their export. No foreign key of theirs: nothing to erase.
personal_data_part_register(PersonalDataPart("safe_store_rankings", _safe_store_rankings))
personal_data_part_register(PersonalDataPart("safe_store_badges", _safe_store_badges))
personal_data_part_register(PersonalDataPart("store_posts", _store_posts, covers=("alliance.StoreStaff.user",)))
personal_data_part_register(PersonalDataPart("station_posts", _station_posts, covers=("alliance.StationStaff.user",)))

_OFFICIAL_ACT = "an officer's or admin's act on somebody else's membership, store or request: its audit trail"
for _field in (
    "alliance.StationStaff.granted_by",
    "alliance.Alliance.created_by",
    "alliance.AllianceMembership.added_by",
    "alliance.AllianceInvite.created_by",
    "alliance.AllianceInvite.revoked_by",
    "alliance.AllianceJoinRequest.decided_by",
    "alliance.Store.verified_by",
    "alliance.StoreStaff.added_by",
):
    personal_data_left_out(_field, why=_OFFICIAL_ACT)


# --- rewards ------------------------------------------------------------------------------------------------------


def _redemptions(user) -> list[dict]:
    return [
        {
            "alliance": r.alliance.name,
            "reward": r.reward.name,
            "points": r.points,
            "status": r.status,
            "requested_at": api_datetime(r.requested_at),
            "decided_at": api_datetime(r.decided_at),
            "decision_note": r.decision_note,
            "handed_over_at": api_datetime(r.fulfilled_at),
            "granted_for": r.granted_for,
        }
        for r in Redemption.objects.filter(user=user).select_related("alliance", "reward").order_by("id")
    ]


def _redemptions_end(user) -> None:
    # Undecided requests are cancelled: their held points belong to nobody any more and the units they reserved go
    # back to the others. Decided ones stay on the anonymised person: an approval is a ledger entry (append-only)
    # and a handing-over the alliance's record of what it gave.
    redemptions_cancel_for_deleted_account(user=user)


personal_data_part_register(
    PersonalDataPart("redemptions", _redemptions, covers=("alliance.Redemption.user",), erase=_redemptions_end)
)
personal_data_left_out("alliance.Redemption.decided_by", why=_OFFICIAL_ACT)
personal_data_left_out(
    "alliance.Reward.created_by", why="who put a reward in the alliance's catalogue: the catalogue's audit trail"
)
# Issue 12 (h5): who published a Safe Store ranking and who held a store back from it are police decisions about
# stores, the ranking's audit trail; the winners' property-fee reductions are Redemption rows (the person's own).
for _field in ("alliance.SafeStoreRanking.published_by", "alliance.SafeStoreRankingEntry.held_back_by"):
    personal_data_left_out(_field, why="a police admin's decision on the Safe Store ranking: its audit trail")
# The Safe Store ranking: an inspection recorded by an officer and a weight set by one are acts of their office on
# a store and an alliance, the inspection's and the ranking's audit trail, not the officer's personal data.
_SAFE_STORE_OFFICIAL_ACT = "an officer's act on a store's inspection or an alliance's ranking weights: its audit trail"
for _field in ("alliance.StoreInspection.recorded_by", "alliance.SafeStoreWeight.updated_by"):
    personal_data_left_out(_field, why=_SAFE_STORE_OFFICIAL_ACT)
# --- the points ledger ------------------------------------------------------------------------------------------


def _points_accounts(user) -> list[dict]:
    return [
        {"alliance": a.alliance.name, "balance": a.balance, "held": a.held, "updated_at": api_datetime(a.updated_at)}
        for a in PointsAccount.objects.filter(user=user).select_related("alliance").order_by("id")
    ]


def _points_entries(user) -> list[dict]:
    return [
        {
            "alliance": e.alliance.name,
            "amount": e.amount,
            "reason": e.reason,
            "note": e.note,
            "evidence": {"kind": e.source_type, "id": e.source_id} if e.source_type else None,
            "earned_on": e.earned_on.isoformat(),
            "written_at": api_datetime(e.created_at),
        }
        for e in PointsEntry.objects.filter(user=user).select_related("alliance").order_by("id")
    ]


# On deletion the ledger is kept: it is the alliance's accounting (balances, leaderboards already published, the
# rewards paid for with these points), append-only by design. Its rows stay on the anonymised user row, so they no
# longer name the person.
personal_data_part_register(
    PersonalDataPart("points_accounts", _points_accounts, covers=("alliance.PointsAccount.user",))
)
personal_data_part_register(PersonalDataPart("points_entries", _points_entries, covers=("alliance.PointsEntry.user",)))
_POINTS_OFFICIAL_ACT = "a police admin's correction of somebody's points or change of an alliance's points rule"
for _field in ("alliance.PointsEntry.created_by", "alliance.PointsRule.updated_by"):
    personal_data_left_out(_field, why=_POINTS_OFFICIAL_ACT)


# --- alerts and tips ---------------------------------------------------------------------------------------------


def _alert_receipts(user) -> list[dict]:
    receipts = AlertReceipt.objects.filter(user=user).select_related("alert").order_by("id")
    return [
        {
            "alert": r.alert.title,
            "kind": r.alert.kind,
            "published_at": api_datetime(r.alert.publish_at),
            "read_at": api_datetime(r.read_at),
            "acknowledged_at": api_datetime(r.acknowledged_at),
        }
        for r in receipts
    ]


# On deletion the receipts stay on the anonymised user row: an alert's reach (read, acknowledged, the stores not
# reached) is the police's record, and once the row is anonymised it no longer names the person.
personal_data_part_register(PersonalDataPart("alerts_read", _alert_receipts, covers=("alliance.AlertReceipt.user",)))
_ALERT_OFFICIAL_ACT = "a police officer writing, publishing or withdrawing an alert: the alert's audit trail"
for _field in (
    "alliance.Alert.created_by",
    "alliance.Alert.published_by",
    "alliance.Alert.withdrawn_by",
    "alliance.Tip.created_by",
    "alliance.TipSchedule.created_by",
):
    personal_data_left_out(_field, why=_ALERT_OFFICIAL_ACT)
