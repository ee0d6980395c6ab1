"""Publishing live events: the one function every service calls, after the database has the data.

The database is the source of truth and a socket is only delivery: events go out on commit, so nobody is told of
something that then rolls back. Topics are ``group.<id>`` (members of a contact group) and ``user.<id>`` (all
sockets of one person); the caller names them, because a wrong recipient list is a data leak.

Two strengths:
- group lines (messages) are already durable: they carry the group's sequence number and a phone that misses one
  finds it with ``resync``. They are published straight after commit; a failure is logged.
- ``durable=True`` events (a dispute flag reaching its responders) go through the outbox: a row written in the same
  transaction, relayed after commit, and relayed again by ``relay_outbox_task`` until the channel layer takes it.
  If Redis is down the request still succeeds, and the event goes out when Redis is back.
"""

from __future__ import annotations

import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from groups.models import OutboxEvent

logger = logging.getLogger(__name__)

RELAY_BATCH = 200


def group_topic(group_id: int) -> str:
    return f"group.{group_id}"


def user_topic(user_id: int) -> str:
    return f"user.{user_id}"


def event_publish(*, topics: list[str], event: dict, durable: bool = False) -> None:
    """Send ``event`` to every socket subscribed to ``topics`` once the current transaction commits.

    The event is serialised once here; each server process receives it once and fans it out to its own sockets
    (groups/delivery.py).
    """
    if not topics:
        return
    payload = json.dumps(event, ensure_ascii=False, cls=DjangoJSONEncoder)
    meta = {"group": event.get("group"), "seq": event.get("seq")}
    if durable:
        OutboxEvent.objects.create(topics=topics, payload=payload, meta=meta)
        transaction.on_commit(lambda: outbox_relay(max_batches=1), robust=True)
    else:
        transaction.on_commit(lambda: _send(topics, payload, meta), robust=True)


def _send(topics: list[str], payload: str, meta: dict) -> None:
    # One event loop for all topics: async_to_sync per topic started a thread, a loop and a Redis connection each
    # time (a flag to 50 responders spent ~600 ms there; bench/flag_delivery.py).
    async_to_sync(_send_all)(topics, payload, meta)


async def _send_all(topics: list[str], payload: str, meta: dict) -> None:
    layer = get_channel_layer()
    for topic in topics:
        await layer.group_send(topic, {"type": "fanout", "topic": topic, "payload": payload, **meta})


def outbox_relay(*, max_batches: int | None = None) -> int:
    """Send unsent outbox events in order; stop at the first failure (the layer is down: later rows would fail
    too, and order matters). Safe to run from several workers at once: rows are claimed with SKIP LOCKED.
    Returns how many were sent."""
    sent = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        with transaction.atomic():
            rows = list(
                OutboxEvent.objects.select_for_update(skip_locked=True)
                .filter(sent_at__isnull=True)
                .order_by("id")[:RELAY_BATCH]
            )
            if not rows:
                return sent
            for row in rows:
                try:
                    _send(row.topics, row.payload, row.meta)
                except Exception as error:  # noqa: BLE001 - Redis down or full: keep the row for the next relay
                    OutboxEvent.objects.filter(pk=row.pk).update(
                        attempts=row.attempts + 1, last_error=f"{type(error).__name__}: {error}"[:300]
                    )
                    logger.warning("outbox: event %s not relayed yet: %s", row.pk, error)
                    return sent
                OutboxEvent.objects.filter(pk=row.pk).update(sent_at=timezone.now(), attempts=row.attempts + 1)
                sent += 1
    return sent
