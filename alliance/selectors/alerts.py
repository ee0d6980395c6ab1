"""Reads on alerts: a person's inbox and unread count, what the police manage, and an alert's reach.

The inbox is the alerts with a key among the person's (``alliance/alert_audience.py``), published, due and not
expired: one query over the ``(key, alert)`` index, then the page's receipts. No row per recipient exists to read.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import Count, Exists, F, Lookup, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone

from accounts.permissions import is_police_admin
from alliance.alert_audience import AudienceSpec, audience_memberships
from alliance.alert_audience_cache import person_audience_keys_cached
from alliance.models import Alert, AlertAudience, AlertImage, AlertReceipt, Store, StoreStaff
from alliance.selectors.alliances import jurisdiction_station_ids
from config.errors import ApplicationError
from config.times import api_datetime


def alert_summary_event(alert: Alert, *, event_type: str) -> dict:
    """The live event for an alert: what an app shows in a banner before it fetches the whole alert."""
    return {
        "type": event_type,
        "alert": {
            "id": alert.pk,
            "kind": alert.kind,
            "topic": alert.topic,
            "severity": alert.severity,
            "title": alert.title,
            "title_en": alert.title_en,
            "requires_ack": alert.requires_ack,
            "publish_at": api_datetime(alert.publish_at),
            "expires_at": api_datetime(alert.expires_at),
        },
    }


def _live(now=None) -> Q:
    now = now or timezone.now()
    return Q(status=Alert.Status.PUBLISHED, publish_at__lte=now) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class _AnyOf(Lookup):
    """``lhs = ANY(rhs)``, ``rhs`` an array (PostgreSQL): Django's ``exact`` puts an expression in brackets, which
    ``ANY`` does not take."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = compiler.compile(self.rhs)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def alerts_matching(keys) -> QuerySet[Alert]:
    """Alerts in the inbox of whoever holds ``keys``, newest first (lazy).

    On PostgreSQL the person's alert ids are gathered first (``id = ANY(ARRAY(SELECT ...))``): a few hundred rows of
    the ``(key, alert)`` index, then those alerts by primary key and a top-N sort, so the cost follows the person's
    alerts. As ``id IN (SELECT ...)`` the planner walked the city's alerts newest first and probed each one's keys
    until a page matched (4 ms for the page and 7 ms for the count at 10,000 alerts in the city, against 1.4 and
    0.9 ms: docs/performance.md). SQLite has no arrays; its city is small."""
    matched = AlertAudience.objects.filter(key__in=list(keys)).values("alert_id")
    if connection.vendor == "postgresql":
        return Alert.objects.filter(_live(), _AnyOf(F("pk"), ArraySubquery(matched))).order_by("-publish_at", "-pk")
    return Alert.objects.filter(_live(), pk__in=matched).order_by("-publish_at", "-pk")


def alert_visible_keys(*, alert: Alert, keys) -> list[str]:
    """Which of ``keys`` the alert is aimed at."""
    return list(AlertAudience.objects.filter(alert=alert, key__in=list(keys)).values_list("key", flat=True))


def alerts_with_images(alerts: QuerySet[Alert]) -> QuerySet[Alert]:
    """The alerts with their pictures' rows for :func:`alert_image_rows`: on PostgreSQL in the same statement (an
    array of small JSON objects; a prefetch was a second round trip and most of a page's ORM time), else prefetched."""
    if connection.vendor == "postgresql":
        rows = AlertImage.objects.filter(alert=OuterRef("pk")).order_by("position", "pk")
        return alerts.annotate(
            image_rows=ArraySubquery(rows.values(row=JSONObject(id="pk", width="width", height="height")))
        )
    return alerts.prefetch_related("images")


def alert_image_rows(alert: Alert) -> list[dict]:
    """[{"id", "width", "height"}] of an alert read through :func:`alerts_with_images` (or any alert: a query)."""
    rows = getattr(alert, "image_rows", None)
    if rows is not None:
        return rows
    return [{"id": image.pk, "width": image.width, "height": image.height} for image in alert.images.all()]


@dataclass
class Inbox:
    keys: dict[str, int]
    alerts: QuerySet[Alert]


def inbox_for(*, user) -> Inbox:
    """The person's inbox as a lazy query, annotated with their own read and acknowledgement times."""
    keys = person_audience_keys_cached(user=user)
    receipts = AlertReceipt.objects.filter(alert=OuterRef("pk"), user=user)
    alerts = alerts_matching(keys).annotate(
        my_read_at=Subquery(receipts.values("read_at")[:1]),
        my_acknowledged_at=Subquery(receipts.values("acknowledged_at")[:1]),
    )
    return Inbox(keys=keys, alerts=alerts)


def inbox_counts(*, user, keys: dict[str, int] | None = None) -> dict[str, int]:
    """{"unread", "unacknowledged"}: one query."""
    keys = person_audience_keys_cached(user=user) if keys is None else keys
    mine = AlertReceipt.objects.filter(alert=OuterRef("pk"), user=user)
    counts = alerts_matching(keys).aggregate(
        unread=Count("pk", filter=~Q(Exists(mine))),
        unacknowledged=Count(
            "pk", filter=Q(requires_ack=True) & ~Q(Exists(mine.filter(acknowledged_at__isnull=False)))
        ),
    )
    return {name: value or 0 for name, value in counts.items()}


def inbox_alert_or_404(*, user, alert_id: int) -> Alert:
    """One alert of the person's inbox; anything else (not theirs, withdrawn, expired, not yet due) is not found."""
    alert = alerts_with_images(inbox_for(user=user).alerts.filter(pk=alert_id)).first()
    if alert is None:
        raise ApplicationError.not_found(alert=[str(alert_id)])
    return alert


def alerts_managed_by(*, user) -> QuerySet[Alert]:
    """The alerts of the police units in an admin's jurisdiction; none for anyone else."""
    if not is_police_admin(user):
        return Alert.objects.none()
    return (
        Alert.objects.filter(station_id__in=jurisdiction_station_ids(user=user))
        .select_related("station", "created_by", "published_by")
        .prefetch_related("images")
        .order_by("-created_at", "-pk")
    )


def managed_alert_or_404(*, user, alert_id: int) -> Alert:
    alert = alerts_managed_by(user=user).filter(pk=alert_id).first()
    if alert is None:
        raise ApplicationError.not_found(alert=[str(alert_id)])
    return alert


def alert_image_or_404(*, alert: Alert, image_id: int) -> AlertImage:
    image = AlertImage.objects.filter(alert=alert, pk=image_id).first()
    if image is None:
        raise ApplicationError.not_found(image=[str(image_id)])
    return image


def alerts_uncounted(*, older_than) -> list[tuple[int, bool]]:
    """(id, urgent) of alerts sent more than ``older_than`` ago whose audience was never counted (their task was
    lost)."""
    cutoff = timezone.now() - older_than
    uncounted = Alert.objects.filter(targeted_count__isnull=True, sent_at__isnull=False, sent_at__lte=cutoff)
    rows = uncounted.order_by("pk").values_list("pk", "severity")[:50]
    return [(pk, severity == Alert.Severity.URGENT) for pk, severity in rows]


# --- reach ----


@dataclass(frozen=True)
class AlertReach:
    targeted: int | None  # counted when it was sent; None before
    delivered_live: int
    pushed: int
    read: int
    acknowledged: int
    stores_targeted: int
    stores_unread: int


def _audience_stores(alert: Alert) -> QuerySet[Store]:
    """Stores whose owner or a staff member is in the audience through the store's own alliance.

    Two id sets the planner hashes once each (the audience's memberships joined to the stores their people own, or
    work in, in that alliance), not an EXISTS per store: for an alert to 10,000 stores that plan cost enough for
    PostgreSQL to JIT-compile every statement (85 ms each) and took 280 ms against 75 (bench/alert_reach.py)."""
    members = audience_memberships(AudienceSpec.from_json(alert.audience))
    owned = members.filter(user__owned_stores__alliance_id=F("alliance_id")).values("user__owned_stores")
    staffed = members.filter(user__store_posts__store__alliance_id=F("alliance_id")).values("user__store_posts__store")
    return Store.objects.filter(Q(pk__in=owned) | Q(pk__in=staffed))


def alert_unread_stores(*, alert: Alert) -> QuerySet[Store]:
    """The stores in the audience where nobody (owner nor staff) has read the alert: where officers go next."""
    read_by = AlertReceipt.objects.filter(alert=alert).values("user_id")
    staff_read = StoreStaff.objects.filter(user_id__in=read_by).values("store_id")
    return (
        _audience_stores(alert)
        .exclude(owner_id__in=read_by)
        .exclude(pk__in=staff_read)
        .select_related("alliance", "owner")
        .order_by("alliance_id", "name", "pk")
    )


def alert_reach(*, alert: Alert) -> AlertReach:
    receipts = AlertReceipt.objects.filter(alert=alert)
    stores = _audience_stores(alert)
    return AlertReach(
        targeted=alert.targeted_count,
        delivered_live=alert.live_count,
        pushed=alert.pushed_count,
        read=receipts.count(),
        acknowledged=receipts.filter(acknowledged_at__isnull=False).count(),
        stores_targeted=stores.count(),
        stores_unread=alert_unread_stores(alert=alert).order_by().count(),
    )
