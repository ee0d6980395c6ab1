"""Inspections of stores recorded by the police (a fire-safety check, say): each one is also a scored event of the
Safe Store ranking (inspection passed or failed), written in the same transaction."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from alliance.models import Store, StoreInspection, StoreScorePart
from alliance.permissions import can_record_store_inspection
from alliance.selectors.alliances import StoreAccess
from alliance.services.store_scores import StoreScore, store_score_events_record
from config.errors import ApplicationError

INSPECTED_IN_THE_FUTURE = gettext_lazy("An inspection cannot be recorded before it happens.")

_RESULT_PARTS = {
    StoreInspection.Result.PASSED: StoreScorePart.INSPECTION_PASSED,
    StoreInspection.Result.FAILED: StoreScorePart.INSPECTION_FAILED,
}


def store_inspection_record(
    *,
    actor: User,
    store_access: StoreAccess,
    kind: str,
    result: str,
    note: str = "",
    inspected_at: datetime | None = None,
) -> StoreInspection:
    """Record an inspection of the store (police of the alliance's jurisdiction), and its scored event
    (``inspection:<id>``), together. ``inspected_at`` defaults to now and may not lie in the future."""
    if not can_record_store_inspection(actor, store_access.access):
        raise ApplicationError.permission_denied(_("Only the police record inspections of stores."))
    return store_inspection_create(
        store=store_access.store, recorded_by=actor, kind=kind, result=result, note=note, inspected_at=inspected_at
    )


def store_inspection_create(
    *, store: Store, recorded_by: User, kind: str, result: str, note: str = "", inspected_at: datetime | None = None
) -> StoreInspection:
    """The inspection and its scored event in one transaction, for a caller that has checked who may record it
    (:func:`store_inspection_record`; the admin site, scoped to the police admin's jurisdiction)."""
    now = timezone.now()
    inspected_at = inspected_at or now
    if inspected_at > now:
        raise ApplicationError.invalid("inspected_at", str(INSPECTED_IN_THE_FUTURE))
    with transaction.atomic():
        inspection = StoreInspection.objects.create(
            store=store, kind=kind, result=result, note=note, inspected_at=inspected_at, recorded_by=recorded_by
        )
        store_score_events_record(
            scores=[
                StoreScore(
                    store_id=store.pk,
                    alliance_id=store.alliance_id,
                    part=_RESULT_PARTS[result],
                    value=1.0,
                    occurred_at=inspected_at,
                    unique_key=f"inspection:{inspection.pk}",
                )
            ]
        )
    return inspection
