"""Publishing a Safe Store ranking: the badges, the property-fee reduction, the winners told, the certificates.

A computed ranking (``alliance.services.safe_store_rankings``) is published once by a police admin of the
alliance's jurisdiction. Before that they may hold a store back (with a recorded reason) and release it again; the
top ``settings.SAFE_STORE_WINNERS`` entries not held back, by rank and then store id, become the Safe Stores.

Once published a ranking is final: holding back is refused (409 ``safe_store_ranking_published``). Withdrawing a
badge afterwards would have to take back a reduction that may already be handed over, a certificate already
printed and a notice already read, and move every store below up a place: that is a decision of its own, not a
late hold-back.

Everything publishing writes has a unique key (the ranking's status under a row lock, one badge per ranking and
store, one grant per reward, person and cause), so a second publish, or a retried one, writes nothing twice.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status

from accounts.models import User
from alliance.certificates import CertificateContent, safe_store_certificate_pdf
from alliance.error_codes import AllianceErrorCode, field_error
from alliance.hooks import person_notice_hooks
from alliance.models import Reward, SafeStoreBadge, SafeStoreRanking, SafeStoreRankingEntry, Store, StoreStaff
from alliance.permissions import can_award_safe_stores
from alliance.selectors.alliances import alliance_access_for
from alliance.selectors.safe_store_awards import badge_validity, period_half, period_label
from alliance.services.rewards import reward_grant
from config.errors import ApplicationError

logger = logging.getLogger(__name__)

# The name of the voucher made for the winners when the alliance has no property-fee reduction in its catalogue.
FEE_REDUCTION_NAME = "物业费减免"


def _require_award_rights(*, by: User, ranking: SafeStoreRanking) -> None:
    access = alliance_access_for(user=by, alliance=ranking.alliance)
    if not (by.is_superuser or can_award_safe_stores(by, access)):
        raise ApplicationError.permission_denied(
            _("Only police admins of the alliance's jurisdiction publish the Safe Store ranking.")
        )


def _require_not_published(ranking: SafeStoreRanking) -> None:
    if ranking.status == SafeStoreRanking.Status.PUBLISHED:
        raise ApplicationError(
            AllianceErrorCode.SAFE_STORE_RANKING_PUBLISHED,
            _("The ranking is published: its Safe Stores are final."),
            status_code=status.HTTP_409_CONFLICT,
        )


def _locked_ranking(ranking: SafeStoreRanking) -> SafeStoreRanking:
    """The ranking row, locked until commit: publishing and holding back one of its stores take turns."""
    locked = SafeStoreRanking.objects.select_for_update().get(pk=ranking.pk)
    locked.alliance = ranking.alliance
    return locked


# --- holding a store back ------------------------------------------------------------------------------------------


@transaction.atomic
def safe_store_entry_hold_back(*, entry: SafeStoreRankingEntry, reason: str, by: User) -> SafeStoreRankingEntry:
    """Keep ``entry``'s store out of the Safe Stores of a ranking not yet published, saying why. Holding back a
    store already held back keeps the first decision (a retried request changes nothing)."""
    ranking = entry.ranking
    _require_award_rights(by=by, ranking=ranking)
    reason = (reason or "").strip()
    if not reason:
        raise field_error(AllianceErrorCode.INVALID, "reason", _("Say why the store is held back."))
    ranking = _locked_ranking(ranking)
    _require_not_published(ranking)
    entry.refresh_from_db()
    if not entry.held_back:
        entry.held_back = True
        entry.held_back_reason = reason
        entry.held_back_by = by
        entry.held_back_at = timezone.now()
        entry.save(update_fields=["held_back", "held_back_reason", "held_back_by", "held_back_at"])
    entry.ranking = ranking
    return entry


@transaction.atomic
def safe_store_entry_release(*, entry: SafeStoreRankingEntry, by: User) -> SafeStoreRankingEntry:
    """Undo a hold-back before the ranking is published: the store competes again for a badge."""
    ranking = entry.ranking
    _require_award_rights(by=by, ranking=ranking)
    ranking = _locked_ranking(ranking)
    _require_not_published(ranking)
    entry.refresh_from_db()
    if entry.held_back:
        # The decision to hold back is undone, not recorded twice: the log keeps who released it and why it was held.
        logger.info(
            "Safe Store entry %s released by user %s (held back by %s: %s)",
            entry.pk,
            by.pk,
            entry.held_back_by_id,
            entry.held_back_reason,
        )
        entry.held_back = False
        entry.held_back_reason = ""
        entry.held_back_by = None
        entry.held_back_at = None
        entry.save(update_fields=["held_back", "held_back_reason", "held_back_by", "held_back_at"])
    entry.ranking = ranking
    return entry


# --- publishing ----------------------------------------------------------------------------------------------------


def safe_store_winners(*, ranking: SafeStoreRanking) -> list[SafeStoreRankingEntry]:
    """The entries that become Safe Stores: the first ``SAFE_STORE_WINNERS`` not held back, by rank, equal ranks by
    store id."""
    entries = (
        SafeStoreRankingEntry.objects.filter(ranking=ranking, held_back=False)
        .select_related("store")
        .order_by("rank", "store_id")
    )
    return list(entries[: settings.SAFE_STORE_WINNERS])


def safe_store_fee_reduction(*, alliance) -> Reward:
    """The alliance's property-fee reduction reward the winners receive: its offered one (the oldest, if several),
    else a voucher made for the purpose, priced 0 and not offered (``is_active`` False): a reward priced 0 in the
    catalogue could be redeemed by anybody for nothing, while this one is only ever granted."""
    offered = (
        Reward.objects.filter(alliance=alliance, kind=Reward.Kind.FEE_REDUCTION, is_active=True).order_by("pk").first()
    )
    if offered is not None:
        return offered
    reward, _created = Reward.objects.get_or_create(
        alliance=alliance,
        kind=Reward.Kind.FEE_REDUCTION,
        name=FEE_REDUCTION_NAME,
        is_active=False,
        defaults={"price": 0, "description": "平安门店奖励 (Safe Store award)"},
    )
    return reward


def safe_store_grant_cause(*, ranking: SafeStoreRanking, store: Store) -> str:
    """``Redemption.granted_for`` of a winner's reduction. It names the store as well as the ranking: a merchant
    owning two Safe Stores pays property fees for both, so gets a reduction for each (the grant is unique per
    reward, person and cause)."""
    return f"safe_store:{ranking.pk}:store:{store.pk}"


def _store_people(store: Store) -> list[int]:
    staff = StoreStaff.objects.filter(store=store).values_list("user_id", flat=True)
    return sorted({store.owner_id, *staff})


def _award(*, ranking: SafeStoreRanking, entry: SafeStoreRankingEntry, place: int, reward: Reward) -> SafeStoreBadge:
    store = entry.store
    valid_from, valid_until = badge_validity(ranking)
    badge, _created = SafeStoreBadge.objects.get_or_create(
        ranking=ranking,
        store=store,
        defaults={"place": place, "valid_from": valid_from, "valid_until": valid_until},
    )
    reward_grant(reward=reward, user=store.owner, granted_for=safe_store_grant_cause(ranking=ranking, store=store))
    person_notice_hooks.notify(
        user_ids=_store_people(store),
        event={
            "type": "safe_store_awarded",
            "alliance_id": ranking.alliance_id,
            "ranking_id": ranking.pk,
            "store_id": store.pk,
            "store_name": store.name,
            "badge_id": badge.pk,
            "period": period_label(ranking.period_start),
            "place": badge.place,
            "rank": entry.rank,
            "valid_from": badge.valid_from.isoformat(),
            "valid_until": badge.valid_until.isoformat(),
            "reward_id": reward.pk,
        },
    )
    return badge


@transaction.atomic
def safe_store_ranking_publish(*, ranking: SafeStoreRanking, by: User) -> SafeStoreRanking:
    """Publish ``ranking``: its Safe Stores get their badge (place 1..10, shown during the next period) and the
    property-fee reduction (granted to the store's owner), their owner and staff are told, and the certificates are
    made after commit. Publishing a published ranking changes nothing and tells nobody again."""
    _require_award_rights(by=by, ranking=ranking)
    ranking = _locked_ranking(ranking)
    if ranking.status == SafeStoreRanking.Status.PUBLISHED:
        return ranking
    reward = safe_store_fee_reduction(alliance=ranking.alliance)
    for place, entry in enumerate(safe_store_winners(ranking=ranking), start=1):
        _award(ranking=ranking, entry=entry, place=place, reward=reward)
    ranking.status = SafeStoreRanking.Status.PUBLISHED
    ranking.published_at = timezone.now()
    ranking.published_by = by
    ranking.save(update_fields=["status", "published_at", "published_by"])
    ranking_id = ranking.pk
    # robust: a broker that is down must not turn a committed publish into an error; the download makes what the
    # task did not.
    transaction.on_commit(lambda: _queue_certificates(ranking_id), robust=True)
    return ranking


def _queue_certificates(ranking_id: int) -> None:
    from alliance.tasks import make_safe_store_certificates_task  # the tasks module imports the services

    make_safe_store_certificates_task.delay(ranking_id)


# --- certificates --------------------------------------------------------------------------------------------------


def safe_store_certificate_content(*, badge: SafeStoreBadge) -> CertificateContent:
    ranking = badge.ranking
    issued_at = ranking.published_at or badge.created_at
    return CertificateContent(
        store_name=badge.store.name,
        year=ranking.period_start.year,
        half=period_half(ranking.period_start),
        place=badge.place,
        station_name=ranking.alliance.station.name,
        issued_on=timezone.localdate(issued_at),
    )


def safe_store_certificate_make(*, badge: SafeStoreBadge) -> SafeStoreBadge:
    """Make and keep the badge's certificate, once: a badge that has its file is returned as it is. The badge row
    is locked while the file is written, so two makers (the task and a download) write one file."""
    if badge.certificate:
        return badge
    with transaction.atomic():
        locked = (
            SafeStoreBadge.objects.select_for_update(of=("self",))
            .select_related("store", "ranking__alliance__station")
            .get(pk=badge.pk)
        )
        if not locked.certificate:
            pdf = safe_store_certificate_pdf(safe_store_certificate_content(badge=locked))
            name = f"safe-store-{period_label(locked.ranking.period_start)}-{locked.store_id}.pdf"
            locked.certificate.save(name, ContentFile(pdf), save=False)
            locked.save(update_fields=["certificate"])
    badge.certificate = locked.certificate
    return badge


def safe_store_certificates_make(*, ranking_id: int) -> int:
    """Make the missing certificates of a ranking's badges; how many were made. Running it again makes none."""
    missing = list(SafeStoreBadge.objects.filter(ranking_id=ranking_id, certificate="").order_by("place"))
    for badge in missing:
        safe_store_certificate_make(badge=badge)
    return len(missing)
