"""Writes on alerts (防诈预警, 协查通报, 安全提示): draft, edit, publish, send, withdraw, read, acknowledge, remind.

Publishing writes nothing per recipient (``alliance/models/alerts.py``): the alert and its audience keys are all
there is, so the publish call costs the same for 20 people as for 200,000. What reaches people happens in the send
step, once per alert (``sent_at``, checked under the row's lock): the live event to the audience's online sockets and
the cards in the contact groups it names (both through ``alert_delivery_hooks``, which ``groups`` registers), then,
after commit, a task counts the audience and an urgent alert is pushed to its devices (``alliance/services/
alert_push.py``). An alert published for later is sent by the sweep when its time comes (``alerts_send_due``), and
the acknowledgement reminder is a deadline column and a sweep too (``alerts_remind_due``): never a delayed task.

Acknowledging earns the person points (the ``alert_acknowledged`` evidence source below, under the ledger's daily
cap) and counts for their stores in the Safe Store ranking (``StoreScorePart.ALERT_ACKNOWLEDGED``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import is_police_admin
from alliance.alert_audience import (
    AudienceSpec,
    audience_keys_of_spec,
    audience_targets_outside,
)
from alliance.alert_audience_cache import person_audience_keys_cached
from alliance.error_codes import AllianceErrorCode, field_error
from alliance.hooks import alert_delivery_hooks
from alliance.models import (
    Alert,
    AlertAudience,
    AlertImage,
    AlertKind,
    AlertReceipt,
    PointsReason,
    StoreScorePart,
    TipTopic,
)
from alliance.points_evidence import PointsClaim, points_evidence_register, points_settle_on_commit
from alliance.selectors.alerts import alert_summary_event, alert_visible_keys, alerts_uncounted
from alliance.selectors.alliances import jurisdiction_station_ids
from alliance.services.store_scores import store_scores_record_for_person
from config.errors import ApplicationError
from config.images import image_prepare

logger = logging.getLogger(__name__)

ALERT_ACKNOWLEDGED = "alert_acknowledged"
MAX_REMINDER_MINUTES = 7 * 24 * 60


@dataclass
class AlertContent:
    kind: str
    title: str
    body: str
    audience: AudienceSpec
    severity: str = Alert.Severity.NORMAL
    topic: str = ""
    case_example: str = ""
    title_en: str = ""
    body_en: str = ""
    requires_ack: bool = False
    ack_reminder_minutes: int | None = None
    publish_at: datetime | None = None
    expires_at: datetime | None = None


def _require_police_admin(actor) -> frozenset[int]:
    if not is_police_admin(actor):
        raise ApplicationError.permission_denied(_("Only police admins publish alerts."))
    return jurisdiction_station_ids(user=actor)


def alert_audience_check(*, spec: AudienceSpec, unit_ids: frozenset[int]) -> None:
    """An audience names at least one place, and only places that exist within ``unit_ids`` (a jurisdiction): the
    one check of alerts and tip schedules alike."""
    if spec.is_empty():
        raise field_error(
            AllianceErrorCode.ALERT_AUDIENCE_EMPTY,
            "audience",
            _("Choose at least one police unit, alliance, patrol zone or contact group."),
        )
    outside = audience_targets_outside(spec, unit_ids=unit_ids)
    if outside:
        raise ApplicationError(
            AllianceErrorCode.ALERT_AUDIENCE_OUTSIDE,
            _("Some of the audience does not exist or lies outside your jurisdiction."),
            fields={f"audience.{name}": [str(target_id) for target_id in ids] for name, ids in outside.items()},
        )


def _managed_locked(*, actor, alert: Alert) -> tuple[Alert, frozenset[int]]:
    """The alert under its row lock, and the actor's units; an alert of a unit outside their jurisdiction is not
    found (the views find it through ``alerts_managed_by`` already: this holds for any other caller too)."""
    unit_ids = _require_police_admin(actor)
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.station_id not in unit_ids:
        raise ApplicationError.not_found(alert=[str(alert.pk)])
    return alert, unit_ids


def _content_check(*, content: AlertContent, unit_ids: frozenset[int]) -> None:
    alert_audience_check(spec=content.audience, unit_ids=unit_ids)
    if content.topic and content.kind != AlertKind.SAFETY_TIP:
        raise field_error(AllianceErrorCode.ALERT_TOPIC_NOT_TIP, "topic", _("Only safety tips have a topic."))
    if content.case_example and content.kind != AlertKind.ANTI_FRAUD:
        raise field_error(
            AllianceErrorCode.ALERT_CASE_EXAMPLE_NOT_FRAUD,
            "case_example",
            _("Only anti-fraud warnings carry a case example."),
        )
    if content.ack_reminder_minutes is not None and not content.requires_ack:
        raise field_error(
            AllianceErrorCode.ALERT_REMINDER_WITHOUT_ACK,
            "ack_reminder_minutes",
            _("A reminder is for alerts that ask for an acknowledgement."),
        )
    starts = content.publish_at or timezone.now()
    if content.expires_at is not None and content.expires_at <= starts:
        raise field_error(
            AllianceErrorCode.ALERT_EXPIRES_BEFORE_PUBLISH,
            "expires_at",
            _("An alert must expire after it is published."),
        )


def _audience_keys_write(*, alert: Alert, spec: AudienceSpec) -> None:
    AlertAudience.objects.filter(alert=alert).delete()
    AlertAudience.objects.bulk_create(
        [
            AlertAudience(alert=alert, kind=kind, target_id=target_id, role=role, key=key)
            for kind, target_id, role, key in audience_keys_of_spec(spec)
        ]
    )


def _content_apply(alert: Alert, content: AlertContent) -> None:
    alert.kind = content.kind
    alert.topic = content.topic or (TipTopic.OTHER if content.kind == AlertKind.SAFETY_TIP else "")
    alert.severity = content.severity
    alert.title = content.title
    alert.body = content.body
    alert.case_example = content.case_example
    alert.title_en = content.title_en
    alert.body_en = content.body_en
    alert.audience = content.audience.as_json()
    alert.requires_ack = content.requires_ack
    alert.ack_reminder_minutes = content.ack_reminder_minutes
    alert.publish_at = content.publish_at
    alert.expires_at = content.expires_at


@transaction.atomic
def alert_create(*, actor, station, content: AlertContent) -> Alert:
    """A draft, written by a police admin for a unit of their jurisdiction, aimed within it."""
    unit_ids = _require_police_admin(actor)
    if station.pk not in unit_ids:
        raise ApplicationError.not_found(station=[str(station.pk)])
    _content_check(content=content, unit_ids=unit_ids)
    alert = Alert(station=station, created_by=actor)
    _content_apply(alert, content)
    alert.save()
    _audience_keys_write(alert=alert, spec=content.audience)
    return alert


def _already_sent() -> ApplicationError:
    return ApplicationError(
        AllianceErrorCode.ALERT_ALREADY_SENT,
        _("This alert has gone out and can no longer be edited; withdraw it and publish a new one."),
        status_code=409,
    )


def _editable(alert: Alert) -> bool:
    """A draft, or an alert published for later that has not gone out yet."""
    return alert.status == Alert.Status.DRAFT or (alert.status == Alert.Status.PUBLISHED and alert.sent_at is None)


@transaction.atomic
def alert_update(*, actor, alert: Alert, content: AlertContent) -> Alert:
    alert, unit_ids = _managed_locked(actor=actor, alert=alert)
    if not _editable(alert):
        raise _already_sent()
    _content_check(content=content, unit_ids=unit_ids)
    now = timezone.now()
    published = alert.status == Alert.Status.PUBLISHED  # for later, not gone out (``_editable``)
    if published and content.expires_at is not None and content.expires_at <= now:
        # What publishing refuses: a published alert due now would go out already expired.
        raise field_error(
            AllianceErrorCode.ALERT_EXPIRES_BEFORE_PUBLISH, "expires_at", _("This alert has expired already.")
        )
    _content_apply(alert, content)
    alert.updated_at = now
    if published and (alert.publish_at is None or alert.publish_at <= now):
        # Published and now due ("at once", or a time passed): it goes out now, as the publish call would send it.
        # Left with an empty publish time it would be stuck: the inbox and the send sweep both wait for that time.
        alert.publish_at = now
    alert.save()
    _audience_keys_write(alert=alert, spec=content.audience)
    if published and alert.publish_at <= now:
        _send_locked(alert, now=now)
    return alert


@transaction.atomic
def alert_delete_draft(*, actor, alert: Alert) -> None:
    alert, _unit_ids = _managed_locked(actor=actor, alert=alert)
    if alert.status != Alert.Status.DRAFT:
        raise ApplicationError(
            AllianceErrorCode.ALERT_NOT_DRAFT,
            _("Only a draft can be deleted; withdraw a published alert."),
            status_code=409,
        )
    # The pictures' files go too (a suspect's photo must not outlive its draft on disk), once the rows are gone.
    files = [(image.image.storage, image.image.name) for image in alert.images.all() if image.image]
    alert.delete()
    transaction.on_commit(lambda: _files_delete(files))


def _files_delete(files: list[tuple]) -> None:
    for storage, name in files:
        storage.delete(name)


@transaction.atomic
def alert_publish(*, actor, alert: Alert) -> Alert:
    """Publish a draft: at once (sent in this transaction) or, with ``publish_at`` ahead, by the sweep then.
    Publishing a published alert again changes nothing (a retried request)."""
    alert, unit_ids = _managed_locked(actor=actor, alert=alert)
    if alert.status == Alert.Status.PUBLISHED:
        return alert
    if alert.status != Alert.Status.DRAFT:
        raise ApplicationError(
            AllianceErrorCode.ALERT_WITHDRAWN, _("A withdrawn alert cannot be published again."), status_code=409
        )
    # The audience is checked again: a unit may have left the admin's jurisdiction since the draft was written.
    content_audience = AudienceSpec.from_json(alert.audience)
    if audience_targets_outside(content_audience, unit_ids=unit_ids):
        raise ApplicationError(
            AllianceErrorCode.ALERT_AUDIENCE_OUTSIDE,
            _("Some of the audience does not exist or lies outside your jurisdiction."),
        )
    now = timezone.now()
    if alert.expires_at is not None and alert.expires_at <= now:
        raise field_error(
            AllianceErrorCode.ALERT_EXPIRES_BEFORE_PUBLISH, "expires_at", _("This alert has expired already.")
        )
    alert.status = Alert.Status.PUBLISHED
    alert.published_by = actor
    alert.published_at = now
    if alert.publish_at is None or alert.publish_at < now:
        alert.publish_at = now
    alert.save(update_fields=["status", "published_by", "published_at", "publish_at"])
    if alert.publish_at <= now:
        _send_locked(alert, now=now)
    return alert


def _send_locked(alert: Alert, *, now: datetime) -> None:
    """The send step, once: the caller holds the alert's row lock and has checked ``sent_at`` is empty."""
    alert.sent_at = now
    if alert.requires_ack and alert.ack_reminder_minutes:
        alert.ack_remind_at = now + timedelta(minutes=alert.ack_reminder_minutes)
    alert.save(update_fields=["sent_at", "ack_remind_at"])
    alert_delivery_hooks.alert_sent(alert=alert, event=alert_summary_event(alert, event_type="alert"))
    transaction.on_commit(lambda: _queue_after_send(alert.pk, urgent=alert.severity == Alert.Severity.URGENT))


def _queue_after_send(alert_id: int, *, urgent: bool) -> None:
    from alliance.tasks import count_alert_audience_task, push_alert_task  # tasks import services

    try:
        count_alert_audience_task.delay(alert_id)
        if urgent:
            push_alert_task.delay(alert_id, "alert")
    except Exception:  # the broker is down: the reach sweep counts it later; the push is lost with a log line
        logger.exception("could not queue the follow-ups of alert %s", alert_id)


def alerts_send_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """The sweep: send alerts whose publish time has come, one at a time under SKIP LOCKED (any number of workers)."""
    now = now or timezone.now()
    sent = 0
    for _step in range(limit):
        with transaction.atomic():
            alert = (
                Alert.objects.select_for_update(skip_locked=True)
                .filter(status=Alert.Status.PUBLISHED, sent_at__isnull=True, publish_at__lte=now)
                .order_by("publish_at", "pk")
                .first()
            )
            if alert is None:
                return sent
            if alert.expires_at is not None and alert.expires_at <= now:
                # Its time passed while nothing ran: it is in nobody's inbox any more, so nothing goes out.
                Alert.objects.filter(pk=alert.pk).update(sent_at=now)
                continue
            _send_locked(alert, now=now)
            sent += 1
    return sent


@transaction.atomic
def alert_withdraw(*, actor, alert: Alert) -> Alert:
    """Withdrawn alerts leave every inbox at once (the inbox reads the status) and their cards say so."""
    alert, _unit_ids = _managed_locked(actor=actor, alert=alert)
    if alert.status == Alert.Status.WITHDRAWN:
        return alert
    if alert.status != Alert.Status.PUBLISHED:
        raise ApplicationError(
            AllianceErrorCode.ALERT_NOT_PUBLISHED,
            _("Only a published alert can be withdrawn; delete a draft."),
            status_code=409,
        )
    alert.status = Alert.Status.WITHDRAWN
    alert.withdrawn_by = actor
    alert.withdrawn_at = timezone.now()
    alert.save(update_fields=["status", "withdrawn_by", "withdrawn_at"])
    if alert.sent_at is not None:
        alert_delivery_hooks.alert_withdrawn(
            alert=alert, event=alert_summary_event(alert, event_type="alert_withdrawn")
        )
    return alert


def _receipt_alliance(*, user, alert: Alert) -> int | None:
    keys = person_audience_keys_cached(user=user)
    matched = alert_visible_keys(alert=alert, keys=keys)
    return min((keys[key] for key in matched), default=None)


def alert_read(*, user, alert: Alert) -> AlertReceipt:
    """Mark read (the caller found the alert in the person's inbox). Idempotent: the first read time stays."""
    receipt = AlertReceipt.objects.filter(alert=alert, user=user).first()
    if receipt is not None:
        return receipt
    try:
        with transaction.atomic():
            return AlertReceipt.objects.create(
                alert=alert, user=user, alliance_id=_receipt_alliance(user=user, alert=alert)
            )
    except IntegrityError:  # the same person's second phone read it at the same moment
        return AlertReceipt.objects.get(alert=alert, user=user)


@transaction.atomic
def alert_acknowledge(*, user, alert: Alert) -> AlertReceipt:
    """ "I have read and understood": read too; earns points and counts for the person's stores, once."""
    if not alert.requires_ack:
        raise ApplicationError(
            AllianceErrorCode.ALERT_NO_ACK, _("This alert does not ask for an acknowledgement."), status_code=400
        )
    receipt = alert_read(user=user, alert=alert)
    receipt = AlertReceipt.objects.select_for_update().get(pk=receipt.pk)
    if receipt.acknowledged_at is not None:
        return receipt
    receipt.acknowledged_at = timezone.now()
    receipt.save(update_fields=["acknowledged_at"])
    if receipt.alliance_id is not None:
        store_scores_record_for_person(
            user_id=user.pk,
            alliance_id=receipt.alliance_id,
            part=StoreScorePart.ALERT_ACKNOWLEDGED,
            value=1,
            occurred_at=receipt.acknowledged_at,
            key_head=f"{ALERT_ACKNOWLEDGED}:alert:{alert.pk}:store:",
        )
        points_settle_on_commit(source=ALERT_ACKNOWLEDGED, ids=[receipt.pk])
    return receipt


def alerts_remind_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """The sweep: remind those who must acknowledge and have not, once per alert (``ack_reminded_at``)."""
    now = now or timezone.now()
    reminded = 0
    for _step in range(limit):
        with transaction.atomic():
            alert = (
                Alert.objects.select_for_update(skip_locked=True)
                .filter(
                    status=Alert.Status.PUBLISHED,
                    ack_reminded_at__isnull=True,
                    ack_remind_at__isnull=False,
                    ack_remind_at__lte=now,
                )
                .order_by("ack_remind_at", "pk")
                .first()
            )
            if alert is None:
                return reminded
            alert.ack_reminded_at = now
            alert.save(update_fields=["ack_reminded_at"])
            if alert.expires_at is not None and alert.expires_at <= now:
                continue  # gone from the inbox: nothing to remind of
            alert_delivery_hooks.alert_reminder(
                alert=alert, event=alert_summary_event(alert, event_type="alert_reminder")
            )
            transaction.on_commit(lambda alert_id=alert.pk: _queue_reminder_push(alert_id))
            reminded += 1
    return reminded


def _queue_reminder_push(alert_id: int) -> None:
    from alliance.tasks import push_alert_task

    try:
        push_alert_task.delay(alert_id, "reminder")
    except Exception:
        logger.exception("could not queue the reminder push of alert %s", alert_id)


def alerts_follow_ups_catch_up(*, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Alerts sent ``older_than`` ago and never counted: their follow-ups (queued after the send) never reached the
    broker. Count each now and queue an urgent one's push again: planning twice writes nothing new (the batches'
    unique key), so a push that did go out is not sent twice. Returns how many were caught up."""
    from alliance.tasks import push_alert_task  # the task module imports the services

    caught = alerts_uncounted(older_than=older_than)
    for alert_id, urgent in caught:
        alert_audience_count(alert_id=alert_id)
        if urgent:
            push_alert_task.delay(alert_id, "alert")
    return len(caught)


def alert_audience_count(*, alert_id: int) -> int | None:
    """Count the audience once, as it is when sent (``targeted_count``); a second run keeps the first count."""
    from alliance.alert_audience import audience_memberships

    alert = Alert.objects.filter(pk=alert_id, targeted_count__isnull=True, sent_at__isnull=False).first()
    if alert is None:
        return None
    # count(DISTINCT user_id) sorts the ids inside the aggregate. ``count()`` of the distinct user ids would hash them
    # instead, and at 200,000 people that hash spills past work_mem: 0.35-0.6 s against 0.08 s (bench/
    # alert_publish.py), and once on PostgreSQL 15 minutes stuck resetting its spilled batches.
    members = audience_memberships(AudienceSpec.from_json(alert.audience))
    count = members.aggregate(people=Count("user_id", distinct=True))["people"]
    Alert.objects.filter(pk=alert_id, targeted_count__isnull=True).update(targeted_count=count)
    return count


# --- points: an acknowledgement is evidence (alliance/points_evidence.py) ----


def alert_acknowledged_claims(ids: list[int]) -> list[PointsClaim]:
    receipts = AlertReceipt.objects.filter(
        pk__in=ids, acknowledged_at__isnull=False, alliance__isnull=False
    ).values_list("pk", "user_id", "alliance_id", "alert_id", "acknowledged_at")
    return [
        PointsClaim(
            user_id=user_id,
            alliance_id=alliance_id,
            reason=PointsReason.ALERT_ACKNOWLEDGED,
            units=1,
            unique_key=f"{ALERT_ACKNOWLEDGED}:alert:{alert_id}:user:{user_id}",
            source_type="alliance.AlertReceipt",
            source_id=pk,
            happened_at=acknowledged_at,
        )
        for pk, user_id, alliance_id, alert_id, acknowledged_at in receipts
    ]


def alert_receipts_acknowledged_since(since: datetime) -> list[int]:
    return list(AlertReceipt.objects.filter(acknowledged_at__gte=since).values_list("pk", flat=True))


points_evidence_register(ALERT_ACKNOWLEDGED, alert_acknowledged_claims, recent_ids=alert_receipts_acknowledged_since)


# --- images ----

ALERT_IMAGE_MAX_BYTES = 5 * 1024 * 1024
ALERT_IMAGE_MAX_SIDE = 1600
ALERT_MAX_IMAGES = 9  # as many as a WeChat post: a wanted notice's photos, a fraud's screenshots


@transaction.atomic
def alert_image_add(*, actor, alert: Alert, upload) -> AlertImage:
    """Add a picture to an alert that has not gone out, checked and re-encoded (no EXIF) by ``config.images``."""
    alert, _unit_ids = _managed_locked(actor=actor, alert=alert)
    if not _editable(alert):
        raise _already_sent()
    count = alert.images.count()
    if count >= ALERT_MAX_IMAGES:
        raise ApplicationError(
            AllianceErrorCode.ALERT_TOO_MANY_IMAGES,
            _("An alert holds at most %(count)s images.") % {"count": ALERT_MAX_IMAGES},
            status_code=400,
        )
    prepared = image_prepare(upload, max_bytes=ALERT_IMAGE_MAX_BYTES, max_side=ALERT_IMAGE_MAX_SIDE)
    image = AlertImage(alert=alert, width=prepared.width, height=prepared.height, position=count)
    image.image.save(prepared.image.name, prepared.image, save=False)
    image.save()
    return image


@transaction.atomic
def alert_image_remove(*, actor, alert: Alert, image: AlertImage) -> None:
    alert, _unit_ids = _managed_locked(actor=actor, alert=alert)
    if not _editable(alert):
        raise _already_sent()
    name, storage = image.image.name, image.image.storage
    image.delete()
    transaction.on_commit(lambda: storage.delete(name))


# --- scheduled safety tips (alliance/services/tips.py) ----------------------------------------------------------------


def alert_publish_scheduled(*, station, content: AlertContent) -> Alert:
    """Create and send at once an alert no person publishes: a tip schedule's occurrence, under the schedule's row
    lock, in the caller's transaction (the sweep ``tip_occurrences_send_due``). The police admin who made the
    schedule was checked then (the audience within their jurisdiction); ``created_by`` and ``published_by`` stay
    empty, which is how the inbox and the admin tell a scheduled tip from an alert someone wrote."""
    now = timezone.now()
    alert = Alert(station=station, created_by=None)
    _content_apply(alert, content)
    alert.status = Alert.Status.PUBLISHED
    alert.published_at = now
    alert.publish_at = now
    alert.save()
    _audience_keys_write(alert=alert, spec=content.audience)
    _send_locked(alert, now=now)  # a row made in this transaction: nobody else can see it, let alone lock it
    return alert
