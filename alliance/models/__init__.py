"""The alliance app's models, one module per domain: the alliances themselves (police units, alliances, members,
invites, stores), the points ledger, the rewards catalogue and the half-yearly Safe Store ranking."""

from alliance.models.alliances import (
    Alliance,
    AllianceInvite,
    AllianceJoinRequest,
    AllianceMembership,
    Station,
    StationStaff,
    Store,
    StoreStaff,
    store_photo_path,
)
from alliance.models.points import PointsAccount, PointsEntry, PointsReason, PointsRule
from alliance.models.rewards import Redemption, Reward
from alliance.models.safe_stores import (
    SafeStoreBadge,
    SafeStoreRanking,
    SafeStoreRankingEntry,
    SafeStoreWeight,
    StoreInspection,
    StoreScoreEvent,
    StoreScorePart,
)

__all__ = [
    "Alliance",
    "AllianceInvite",
    "AllianceJoinRequest",
    "AllianceMembership",
    "PointsAccount",
    "PointsEntry",
    "PointsReason",
    "PointsRule",
    "Redemption",
    "Reward",
    "SafeStoreBadge",
    "SafeStoreRanking",
    "SafeStoreRankingEntry",
    "SafeStoreWeight",
    "Station",
    "StationStaff",
    "Store",
    "StoreInspection",
    "StoreScoreEvent",
    "StoreScorePart",
    "StoreStaff",
    "store_photo_path",
]
