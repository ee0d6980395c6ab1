"""Publishing live events: the one function every service calls, after the database has the data.

The database is the source of truth and a socket is only delivery: events go out on commit, so nobody is told of
something that then rolls back. Topics are ``group.<id>`` (members of a contact group) and ``user.<id>`` (all
sockets of one person); the caller names them, because a wrong recipient list is a data leak.

Events for people (``user.<id>`` topics) cross the channel layer as ONE message per event to every server process
(the ``users`` topic, carrying the recipient ids); each process's hub hands it to the sockets of those people it
holds. A flag to 50 responders is one Redis message, not 50 (bench/flag_delivery.py).

Three strengths:
- ``durable=True`` events (a dispute flag reaching its responders) go through the outbox: a row written in the same
  transaction, relayed after commit, and relayed again by ``relay_outbox_task`` until the channel layer takes it.
  If Redis is down the request still succeeds, and the event goes out when Redis is back.
- the others (group lines, joined/left) are published straight after commit, the cheap path; if that publish fails
  (Redis down), the event is kept in the outbox and goes out, in order, with the rest once Redis is back. Group
  lines also carry the group's sequence number, so a socket that missed one fills the hole from the database.
- ``ephemeral=True`` events (typing) are worth nothing later: a failed publish drops them.

The in-process channel layer of the embedded default (no ``REDIS_URL``) lives in the memory of the one process that
holds the sockets, the ASGI server (config/asgi.py marks it). Anything another process (the Celery worker, a shell)
handed to its own in-process layer would reach nobody, so there every event is written to the outbox instead and
left for the server, whose hub relays the outbox every second (groups/delivery.py); ``outbox_relay`` does nothing
in those processes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import threading
from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from config.times import ApiJSONEncoder
from groups.models import OutboxEvent

logger = logging.getLogger(__name__)

RELAY_BATCH = 200
# An unsent outbox row younger than this is probably being sent by the request that wrote it (_relay_written).
IN_FLIGHT_SECONDS = 10
USERS_TOPIC = "users"  # every process's hub listens here for events addressed to people (groups/delivery.py)
# Every process's hub listens here too: an alert's live event, sent once for all processes, each hub finding which
# of its own sockets are in the audience (groups/alert_delivery.py).
ALERTS_TOPIC = "alerts"
PUBLISH_TIMEOUT_SECONDS = 5.0


def group_topic(group_id: int) -> str:
    return f"group.{group_id}"


def user_topic(user_id: int) -> str:
    return f"user.{user_id}"


_holds_sockets = False


def serve_sockets_here() -> None:
    """Called once by the ASGI entry point: this process holds the sockets, so it may deliver through an in-process
    channel layer (and relays the outbox for the others)."""
    global _holds_sockets
    _holds_sockets = True


def relays_in_process() -> bool:
    """The embedded default's server: the in-process layer, and this process holds the sockets."""
    return _in_process_layer() and (_holds_sockets or settings.LIVE_EVENTS_PROCESS_HOLDS_SOCKETS)


def _in_process_layer() -> bool:
    return isinstance(get_channel_layer(), InMemoryChannelLayer)


def _delivered_elsewhere() -> bool:
    """The in-process layer in a process without sockets (the Celery worker, a shell): a publish from here would
    reach nobody, so the server relays this process's events from the outbox."""
    return _in_process_layer() and not relays_in_process()


def event_publish(
    *, topics: list[str], event: dict, durable: bool = False, ephemeral: bool = False, routing: dict | None = None
) -> None:
    """Send ``event`` to every socket subscribed to ``topics`` once the current transaction commits.

    The event is serialised once here; each server process receives it once and fans it out to its own sockets
    (groups/delivery.py). ``durable``: through the outbox, written in the caller's transaction. ``ephemeral``: lost
    if the channel layer is down (typing). Otherwise published after commit and kept in the outbox if that fails.
    ``routing``: plain values the hubs read beside the event (which alert, for whom), never sent to a socket.
    """
    if not topics:
        return
    payload = json.dumps(event, ensure_ascii=False, cls=ApiJSONEncoder)
    meta = {"group": event.get("group"), "seq": event.get("seq"), **(routing or {})}
    if _delivered_elsewhere():
        if not ephemeral:
            OutboxEvent.objects.create(topics=topics, payload=payload, meta=meta)  # the server relays it
        return
    if durable:
        row = OutboxEvent.objects.create(topics=topics, payload=payload, meta=meta)
        transaction.on_commit(lambda: _relay_written(row), robust=True)
    else:
        transaction.on_commit(lambda: _publish_or_keep(topics, payload, meta, keep=not ephemeral), robust=True)


def _relay_written(row: OutboxEvent) -> None:
    """After commit: send the outbox row this transaction wrote, from memory, and mark it sent. Two statements and no
    transaction, instead of the relay's claim (BEGIN, SELECT ... FOR UPDATE, UPDATE, COMMIT).

    Order still holds: when older rows wait (Redis was down, or their sender died), the ordered relay sends them
    and this one. Rows younger than ``IN_FLIGHT_SECONDS`` and never tried are left to the requests that wrote them,
    which are sending them now; were one of those to die, the periodic relay sends its row. A periodic relay running
    at the same moment may send this row too: delivery is at least once (apps redraw a repeated case event)."""
    in_flight = Q(created_at__gte=row.created_at - timedelta(seconds=IN_FLIGHT_SECONDS), attempts=0)
    waiting = OutboxEvent.objects.filter(sent_at__isnull=True, pk__lt=row.pk).exclude(in_flight)
    if waiting.exists():
        outbox_relay(max_batches=1)
        return
    try:
        _send(row.topics, row.payload, row.meta)
    except Exception as error:  # noqa: BLE001 - Redis down or hanging: the periodic relay sends it later
        OutboxEvent.objects.filter(pk=row.pk).update(
            attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"[:300]
        )
        logger.warning("outbox: event %s not relayed yet: %s", row.pk, error)
        return
    OutboxEvent.objects.filter(pk=row.pk, sent_at__isnull=True).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1
    )


def _publish_or_keep(topics: list[str], payload: str, meta: dict, *, keep: bool) -> None:
    """After commit: publish; if the channel layer is down, keep the event in the outbox for the periodic relay."""
    try:
        _send(topics, payload, meta)
    except Exception as error:  # noqa: BLE001 - Redis down or hanging: the outbox takes over
        if not keep:
            logger.warning("live event dropped (channel layer unreachable): %s", error)
            return
        OutboxEvent.objects.create(
            topics=topics, payload=payload, meta=meta, attempts=1, last_error=f"{type(error).__name__}: {error}"[:300]
        )
        logger.warning("live event kept in the outbox until the channel layer is back: %s", error)


def _send(topics: list[str], payload: str, meta: dict) -> None:
    _run(lambda layer: _send_all(layer, topics, payload, meta))


def _run(coroutine_for) -> None:
    """Run ``coroutine_for(layer)`` where publishing from this process happens."""
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        # The in-process layer lives in the server's own event loop (the embedded default): publish there.
        async_to_sync(_awaited)(coroutine_for(layer))
    else:
        _publisher.run(coroutine_for(layer))


async def _awaited(coroutine) -> None:
    await coroutine


def _send_in_order(rows: list[OutboxEvent]) -> tuple[list[int], Exception | None]:
    """Send the rows one after the other in one publish (one hand-over to the publishing loop for the batch);
    stop at the first failure. Returns the ids sent and the failure."""
    sent: list[int] = []

    async def send_rows(layer) -> None:
        for row in rows:
            await _send_all(layer, row.topics, row.payload, row.meta)
            sent.append(row.pk)

    try:
        _run(send_rows)
    except Exception as error:  # noqa: BLE001 - Redis down or hanging: the caller keeps the rest
        return list(sent), error
    return list(sent), None


async def _send_all(layer, topics: list[str], payload: str, meta: dict) -> None:
    user_ids = []
    for topic in topics:
        if topic.startswith("user."):
            user_ids.append(int(topic.removeprefix("user.")))
        else:
            await layer.group_send(topic, {"type": "fanout", "topic": topic, "payload": payload, **meta})
    if user_ids:
        await layer.group_send(
            USERS_TOPIC, {"type": "fanout", "topic": USERS_TOPIC, "users": user_ids, "payload": payload, **meta}
        )


class _Publisher:
    """One long-lived event loop per process for publishing from synchronous code (gunicorn workers, Celery).

    ``async_to_sync`` starts a thread and an event loop per call, and channels-redis keeps its connections per
    loop, so every publish opened a new Redis connection: ~9 ms of CPU each (docs/performance.md). This loop, and
    its connections, live as long as the process. A forked child starts its own (the thread does not survive a
    fork)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="live-event-publisher", daemon=True).start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop

    def run(self, coroutine) -> None:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._running_loop())
        try:
            future.result(PUBLISH_TIMEOUT_SECONDS)
        except concurrent.futures.TimeoutError:
            if not future.cancel():
                future.result()  # it finished meanwhile: report what really happened
                return
            # Redis hangs: give up; a durable event stays in the outbox for the next relay. The publish may still
            # have reached Redis, so delivery is at least once: apps treat a repeated case event as a redraw.
            raise


_publisher = _Publisher()


def outbox_relay(*, max_batches: int | None = None) -> int:
    """Send unsent outbox events in order; stop at the first failure (the layer is down: later rows would fail
    too, and order matters). Safe to run from several workers at once: rows are claimed with SKIP LOCKED.
    Returns how many were sent. With the in-process layer only the server relays (see the module docstring)."""
    if _delivered_elsewhere():
        return 0
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
            sent_ids, error = _send_in_order(rows)
            if sent_ids:  # marked sent in one statement
                OutboxEvent.objects.filter(pk__in=sent_ids).update(sent_at=timezone.now(), attempts=F("attempts") + 1)
                sent += len(sent_ids)
            if error is not None and len(sent_ids) < len(rows):
                failed = rows[len(sent_ids)]
                OutboxEvent.objects.filter(pk=failed.pk).update(
                    attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"[:300]
                )
                logger.warning("outbox: event %s not relayed yet: %s", failed.pk, error)
                return sent
    return sent


def outbox_relay_if_pending() -> int:
    """The server's periodic relay (in-process layer): a plain read first, so an idle second takes no write lock
    (SQLite has one for the whole database)."""
    if not OutboxEvent.objects.filter(sent_at__isnull=True).exists():
        return 0
    return outbox_relay()
