"""Periodic and queued work of the alliance app: the points ledger (settled from evidence, reconciled nightly),
the reward requests' expiry, the Safe Store ranking at the end of each half-year, alerts published for later,
their acknowledgement reminders, their audience counts and their mobile push."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from accounts.push import PushTemporaryError
from alliance.models import Alert
from alliance.points_evidence import points_recent_ids, points_sources
from alliance.selectors.points import points_differences
from alliance.services.alert_push import (
    alert_push_batch_send,
    alert_push_batches_pending,
    alert_push_batches_stale,
    alert_push_plan,
)
from alliance.services.alerts import (
    alert_audience_count,
    alerts_follow_ups_catch_up,
    alerts_remind_due,
    alerts_send_due,
)
from alliance.services.points import points_settle
from alliance.services.rewards import redemptions_expire_due
from alliance.services.safe_store_awards import safe_store_certificates_make
from alliance.services.safe_store_rankings import safe_store_rankings_compute_due

logger = logging.getLogger(__name__)


# A points award is money-like: acknowledged only once it has run (acks_late), and given back to the queue when
# its worker dies (reject_on_worker_lost), so a killed worker's batch runs again; the entries' unique keys make the
# second run write only what the first did not commit. A deadlock or a lost connection (OperationalError: the
# batch's transaction rolled back whole) is retried with backoff.
@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
)
def settle_points_task(source: str, ids: list[int]) -> int:
    return points_settle(source=source, ids=ids)


# A reward request nobody decided within settings.REDEMPTION_REQUEST_DAYS expires (points and stock return): a
# deadline column swept every minute, each request under its lock with the deadline checked again, so it expires once.
@shared_task
def expire_redemptions_task() -> int:
    return redemptions_expire_due()


# Made once per badge: a badge that has its file is skipped, so a second run (or a retried one) writes nothing.
@shared_task
def make_safe_store_certificates_task(ranking_id: int) -> int:
    return safe_store_certificates_make(ranking_id=ranking_id)


# The final Safe Store ranking of the half-year just ended, for every alliance without one. Hourly, so a missed
# beat (broker down at midnight) catches up; the unique (alliance, period_start) key makes every later run, a second
# beat or a redelivered message write nothing. ``today`` (ISO date) stands in for the local date, for a late rerun.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def compute_safe_store_rankings_task(today: str | None = None) -> int:
    computed = safe_store_rankings_compute_due(today=date.fromisoformat(today) if today else None)
    return computed.rankings


@shared_task
def reconcile_points_task() -> list[dict]:
    """Every account's balance against the sum of its entries, and its hold against its pending reward requests.
    Logs an ERROR per difference and returns them; changes nothing (a difference is a bug to look at, not to
    paper over)."""
    differences = points_differences()
    for difference in differences:
        logger.error("points account does not match its ledger: %s", difference)
    return differences


@shared_task(acks_late=True, reject_on_worker_lost=True)
def catch_up_points_task() -> int:
    """Settle again the evidence of the last two days of every source, in batches (each its own transaction): an
    award whose task never reached the broker is written now; the rest changes nothing."""
    since = timezone.now() - timedelta(days=2)
    written = 0
    batch = settings.POINTS_SETTLE_BATCH
    for source in points_sources():
        ids = sorted(set(points_recent_ids(source, since)))
        for start in range(0, len(ids), batch):
            written += points_settle(source=source, ids=ids[start : start + batch])
    return written


# --- alerts ----


# Alerts published for later go out when their time comes (``sent_at`` under the row lock: once, with any number of
# workers); then any alert sent a minute ago and still uncounted (its follow-ups never reached the broker) is counted,
# and pushed again if urgent.
@shared_task
def send_due_alerts_task() -> int:
    sent = alerts_send_due()
    alerts_follow_ups_catch_up()
    return sent


# The acknowledgement reminder: a deadline column swept every half minute, once per alert (``ack_reminded_at``).
@shared_task
def remind_alerts_task() -> int:
    return alerts_remind_due()


# The audience's size as it is when the alert goes out: one count query, off the publish request.
@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def count_alert_audience_task(alert_id: int) -> int | None:
    return alert_audience_count(alert_id=alert_id)


# Mobile push of an alert ("alert": urgent ones when they go out) or of its reminder ("reminder"): the devices are
# split into batches once (a second run finds them and only queues what is still pending), then one task per batch.
@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=5)  # fmt: skip
def push_alert_task(alert_id: int, purpose: str) -> int:
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is None:
        return 0
    alert_push_plan(alert=alert, purpose=purpose)
    pending = alert_push_batches_pending(alert_id=alert_id, purpose=purpose)
    for batch_id in pending:
        send_alert_push_batch_task.delay(batch_id)
    return len(pending)


# One provider request's worth of devices. The batch row is claimed under SKIP LOCKED while pending and marked sent
# in the same transaction, so a duplicate or redelivered message finds nothing to do; a provider that is down or
# overloaded (PushTemporaryError) is tried again after 5, 10, 20, 40, 80 s (jittered; well inside the broker's
# visibility timeout), sending only the devices not yet reached; the last try marks the batch failed.
@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(PushTemporaryError, OperationalError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def send_alert_push_batch_task(self, batch_id: int) -> int | None:
    return alert_push_batch_send(batch_id=batch_id, final_attempt=self.request.retries >= self.max_retries)


# The safety net of the two above: a batch still pending a quarter of an hour after its plan lost its task (the
# broker was down when push_alert_task queued it, or a retry's message was lost); it is queued again. A batch
# fails for good after alert_push.MAX_ATTEMPTS attempts in all.
@shared_task
def resend_stale_push_batches_task() -> int:
    stale = alert_push_batches_stale()
    for batch_id in stale:
        send_alert_push_batch_task.delay(batch_id)
    return len(stale)


# --- safety tips (alliance/services/tips.py) -------------------------------------------------------------------------

from alliance.services.tips import tip_occurrences_send_due  # noqa: E402  (its own section: merged beside the others)


# Tip schedules whose next run has come: each occurrence is a row unique per (schedule, time), inserted before the
# tip goes out, so a second beat or a redelivered message sends nothing twice; a long outage sends the latest run only.
@shared_task
def send_due_tips_task() -> int:
    return tip_occurrences_send_due()
