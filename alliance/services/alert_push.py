"""Mobile push of an alert (urgent ones when they go out) and of its acknowledgement reminder, in batches.

Two steps, each a Celery task (``alliance/tasks.py``):

1. **Plan** (:func:`alert_push_plan`): the devices of the audience, in id order, grouped per provider and cut into
   batches of the provider's ``batch_size``, written as :class:`AlertPushBatch` rows in one transaction under the
   alert's row lock. A plan that finds batches of the same alert and purpose writes nothing: the devices were split
   once, so a retried or duplicated plan can never put a device in a second batch. The unique (alert, purpose,
   provider, first device) key says the same in the database.
2. **Send** (:func:`alert_push_batch_send`), one task per batch: the batch is claimed with ``SELECT ... FOR UPDATE
   SKIP LOCKED`` while pending (a duplicate task skips it, and a sent or failed batch is never sent again), sent,
   and marked ``sent`` with the count in the same transaction; the provider's dead tokens are deleted and the
   devices reached are added to ``Alert.pushed_count``. A temporary failure records what the provider took before
   it (those devices leave ``device_ids``, which then lists the devices still to send), so the retry sends only the
   rest; a refusal marks the batch ``failed`` with ``last_error``. At most once per device, with one window left
   open: a worker killed between the provider's answer and the commit leaves the batch pending, and the redelivered
   task sends it again (a second notification beats none for an urgent alert).
3. **Safety net** (:func:`alert_push_batches_stale`, swept every five minutes): a batch still pending a quarter of an
   hour after its plan lost its task and is queued again; after :data:`MAX_ATTEMPTS` in all it is marked failed.

The provider's request runs inside the claiming transaction: the row lock is what keeps a second worker off the
batch, and a request is bounded by ``accounts.push.REQUEST_TIMEOUT_SECONDS`` per round trip.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from itertools import islice

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import DeviceRegistration
from accounts.push import (
    PushDeliveryError,
    PushError,
    PushMessage,
    PushResult,
    PushTemporaryError,
    get_push_provider,
    push_batch_size,
)
from accounts.services import devices_forget_dead
from alliance.alert_audience import AudienceSpec, audience_user_ids
from alliance.models import Alert, AlertPushBatch, AlertReceipt

logger = logging.getLogger(__name__)

# A batch still pending this long after it was planned lost its task (never queued, or its retries lost): the sweep
# queues it again. Longer than a batch's own retries take (five backoffs, 155 s, plus the requests' timeouts).
STALE_AFTER = timedelta(minutes=15)
# Attempts in all, the sweep's included: then a batch that still fails is marked failed, not queued again.
MAX_ATTEMPTS = 12
BODY_CHARS = 100  # of the alert's text in the notification: the phone shows two lines, the inbox the rest
ERROR_CHARS = 300  # AlertPushBatch.last_error's length


def alert_push_message(*, alert: Alert, purpose: str) -> PushMessage:
    body = alert.body.strip()
    if len(body) > BODY_CHARS:
        body = body[: BODY_CHARS - 1].rstrip() + "…"
    return PushMessage(
        title=alert.title,
        body=body,
        data={"alert": alert.pk, "kind": alert.kind, "severity": alert.severity, "purpose": purpose},
        urgent=alert.severity == Alert.Severity.URGENT,
        # The reminder replaces the alert's own notification on the phone rather than stacking beside it.
        collapse_id=f"alert-{alert.pk}",
    )


def _is_live(alert: Alert) -> bool:
    if alert.status != Alert.Status.PUBLISHED or alert.sent_at is None:
        return False
    return alert.expires_at is None or alert.expires_at > timezone.now()


def _audience_devices(alert: Alert, purpose: str):
    devices = DeviceRegistration.objects.filter(
        user_id__in=audience_user_ids(AudienceSpec.from_json(alert.audience)), user__is_active=True
    )
    if purpose == AlertPushBatch.Purpose.REMINDER:
        acknowledged = AlertReceipt.objects.filter(alert=alert, acknowledged_at__isnull=False).values("user_id")
        devices = devices.exclude(user_id__in=acknowledged)
    return devices.order_by("id").values_list("id", "provider")


def _batches(alert: Alert, purpose: str) -> list[AlertPushBatch]:
    by_provider: dict[str, list[int]] = {}
    for device_id, provider in _audience_devices(alert, purpose).iterator(chunk_size=5000):
        by_provider.setdefault(provider, []).append(device_id)
    batches = []
    for provider, device_ids in sorted(by_provider.items()):
        size = push_batch_size(provider)
        ids = iter(device_ids)
        while chunk := list(islice(ids, size)):
            batches.append(
                AlertPushBatch(
                    alert=alert,
                    purpose=purpose,
                    provider=provider,
                    first_device_id=chunk[0],
                    last_device_id=chunk[-1],
                    device_ids=chunk,
                )
            )
    return batches


def alert_push_plan(*, alert: Alert, purpose: str) -> list[AlertPushBatch]:
    """Write the push batches of ``alert`` for ``purpose`` ("alert" or "reminder": the audience less those who
    acknowledged), once. Returns the batches written now: none when the alert is not live (withdrawn, expired, not
    yet sent), when a reminder is for an alert without acknowledgement, or when a plan ran before."""
    if purpose not in AlertPushBatch.Purpose.values:
        raise ValueError(f"Unknown push purpose {purpose!r}")
    with transaction.atomic():
        # The alert's lock makes two plans of the same alert take turns: the second finds the first's batches.
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if not _is_live(alert):
            return []
        if purpose == AlertPushBatch.Purpose.REMINDER and not alert.requires_ack:
            return []
        if AlertPushBatch.objects.filter(alert=alert, purpose=purpose).exists():
            return []
        batches = _batches(alert, purpose)
        AlertPushBatch.objects.bulk_create(batches, ignore_conflicts=True, batch_size=500)
    return batches


def alert_push_batches_pending(*, alert_id: int, purpose: str) -> list[int]:
    return list(
        AlertPushBatch.objects.filter(alert_id=alert_id, purpose=purpose, status=AlertPushBatch.Status.PENDING)
        .order_by("id")
        .values_list("id", flat=True)
    )


def _record_progress(batch: AlertPushBatch, tokens_to_ids: dict[str, int], done: PushResult) -> None:
    """What the provider took or called dead leaves the batch's devices; the reached count and the alert's grow."""
    finished = {tokens_to_ids[token] for token in (*done.delivered, *done.dead) if token in tokens_to_ids}
    batch.device_ids = [device_id for device_id in batch.device_ids if device_id not in finished]
    batch.delivered += len(done.delivered)
    if done.delivered:
        Alert.objects.filter(pk=batch.alert_id).update(pushed_count=F("pushed_count") + len(done.delivered))
    if done.dead:
        devices_forget_dead(provider=batch.provider, tokens=list(done.dead))


def alert_push_batch_send(*, batch_id: int, final_attempt: bool = False) -> int | None:
    """Send one pending batch (see the module docstring). Returns the devices reached by this attempt, or None when
    the batch is not pending (sent, failed, or being sent by another worker). A :class:`PushTemporaryError` is raised
    again after its progress is committed, for the task to retry; on ``final_attempt`` (or after :data:`MAX_ATTEMPTS`
    in all) the batch is marked failed instead, and nothing is raised."""
    temporary: PushTemporaryError | None = None
    with transaction.atomic():
        batch = (
            AlertPushBatch.objects.select_for_update(skip_locked=True)
            .filter(pk=batch_id, status=AlertPushBatch.Status.PENDING)
            .first()
        )
        if batch is None:
            return None
        alert = Alert.objects.get(pk=batch.alert_id)
        batch.attempts += 1
        final_attempt = final_attempt or batch.attempts >= MAX_ATTEMPTS
        if not _is_live(alert):
            # Withdrawn (or expired) since the plan: it has left the inboxes, so it does not go to the phones.
            batch.status = AlertPushBatch.Status.FAILED
            batch.last_error = f"alert {alert.status}, not sent"
            batch.save(update_fields=["attempts", "status", "last_error"])
            return 0
        tokens_to_ids = dict(
            DeviceRegistration.objects.filter(pk__in=batch.device_ids, provider=batch.provider)
            .order_by("id")
            .values_list("token", "id")
        )
        delivered_before = batch.delivered
        if not tokens_to_ids:
            # Every device of the batch went since the plan (unregistered, dead, or a phone that changed hands):
            # nothing to send, and an empty request is one the providers refuse.
            batch.status = AlertPushBatch.Status.SENT
            batch.sent_at = timezone.now()
            batch.save(update_fields=["attempts", "status", "sent_at"])
            return 0
        try:
            provider = get_push_provider(batch.provider)
            try:
                result = provider.send(list(tokens_to_ids), alert_push_message(alert=alert, purpose=batch.purpose))
            except PushError:
                raise
            except Exception as exc:  # noqa: BLE001 - a provider's bug counts as an attempt, so it ends (MAX_ATTEMPTS)
                logger.exception("push batch %s: the %s provider failed", batch.pk, batch.provider)
                raise PushTemporaryError(f"{batch.provider} provider failed: {exc!r}") from exc
        except PushTemporaryError as exc:
            _record_progress(batch, tokens_to_ids, exc.done)
            batch.last_error = str(exc)[:ERROR_CHARS]
            if final_attempt:
                batch.status = AlertPushBatch.Status.FAILED
                logger.error("push batch %s of alert %s failed for good: %s", batch.pk, alert.pk, exc)
            else:
                temporary = exc
        except PushDeliveryError as exc:
            _record_progress(batch, tokens_to_ids, exc.done)
            batch.status = AlertPushBatch.Status.FAILED
            batch.last_error = str(exc)[:ERROR_CHARS]
            logger.error("push batch %s of alert %s refused: %s", batch.pk, alert.pk, exc)
        else:
            _record_progress(batch, tokens_to_ids, result)
            batch.status = AlertPushBatch.Status.SENT
            batch.sent_at = timezone.now()
        batch.save(update_fields=["device_ids", "delivered", "attempts", "status", "last_error", "sent_at"])
        reached = batch.delivered - delivered_before
    if temporary is not None:
        logger.warning("push batch %s: %s (attempt %s)", batch_id, temporary, batch.attempts)
        raise temporary
    return reached


def alert_push_batches_stale(*, now=None) -> list[int]:
    """Batches still pending :data:`STALE_AFTER` after they were planned: their task is lost, queue it again. A batch
    whose task is merely slow is safe too: the second task skips it while it is claimed, and finds it sent after."""
    now = now or timezone.now()
    return list(
        AlertPushBatch.objects.filter(status=AlertPushBatch.Status.PENDING, created_at__lte=now - STALE_AFTER)
        .order_by("id")
        .values_list("id", flat=True)[:1000]
    )
