"""Live delivery inside one server process: one channel-layer subscription per topic per process, local fan-out.

Sending one channel-layer message per socket costs a Redis round trip per member; at 1,000 members that was about
7x slower than a bare broadcast. Instead each process owns one channel (``hub.*``) and joins the layer group of a
topic when its first local socket needs it. An event then crosses Redis once per process, is decoded once, and the
process hands the already-serialised text to each of its sockets. Events for people arrive once per process on the
``users`` topic with the recipients' ids (groups/events.py); the hub hands them to those people's local sockets.

Some events name no recipients because who they reach depends on who is connected where: an alert's live event
crosses once, on the ``alerts`` topic, and each hub asks the database which of ITS people are in the audience
(groups/alert_delivery.py). Such broadcast topics are registered with :func:`hub_broadcast_register`; every hub
joins them at start, and hands their messages, in order, to the registered handler on a task of their own, so a
handler waiting on the database holds up neither the group lines nor a connecting socket.

The hub only moves events. Ordering, duplicates and gaps are each socket's business (groups/consumers.py): every
message event carries its group's sequence number, so a socket that finds a hole fills it from the database.

With the in-process layer (the embedded default) the server is the only process that can deliver, so its hub also
relays the outbox every second: the Celery worker's events (an escalation by the sweep, its case card line) wait
there for it (groups/events.py). ``RelayOutboxMiddleware`` starts that loop with the server's first request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from redis.exceptions import TimeoutError as RedisTimeoutError

from groups.events import USERS_TOPIC, outbox_relay_if_pending, relays_in_process, user_topic

logger = logging.getLogger(__name__)

# channels-redis forgets group members after group_expiry (a day by default): re-join every topic well before that.
REFRESH_SECONDS = 30 * 60
YIELD_EVERY = 32
OUTBOX_RELAY_SECONDS = 1.0


class Subscriber(Protocol):
    async def hub_event(self, message: dict) -> None: ...


BroadcastHandler = Callable[["Hub", dict], Awaitable[None]]
_broadcast_handlers: dict[str, BroadcastHandler] = {}


def hub_broadcast_register(topic: str, handler: BroadcastHandler) -> None:
    """Every hub joins ``topic`` at start and hands each of its messages to ``await handler(hub, message)``, one
    message after the other. Called from an ``AppConfig.ready()``, before any hub starts."""
    _broadcast_handlers[topic] = handler


def _crosses_the_layer(topic: str) -> bool:
    """Whether the hub must join the topic's channel-layer group. Events for people never travel on their
    ``user.<id>`` topic (they cross once on the ``users`` topic, groups/events.py), so a person's topic is only a
    local address: joining it would cost a Redis round trip per socket (and per close) for nothing."""
    return not topic.startswith(user_topic(""))


class Hub:
    def __init__(self) -> None:
        self.subscribers: dict[str, set[Subscriber]] = defaultdict(set)
        # Per group topic: when the layer join completed (monotonic clock) and the highest seq received since, so
        # a connecting socket knows whether a seq read after that moment can miss nothing (``heard_all_after``).
        self.joined_at: dict[str, float] = {}
        self.last_seq: dict[str, int] = {}
        self.channel_name: str | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.tasks: list[asyncio.Task] = []
        self.lock = asyncio.Lock()
        self.relay_loop: asyncio.AbstractEventLoop | None = None
        self.relay_task: asyncio.Task | None = None
        self.broadcasts: asyncio.Queue | None = None

    def relay_outbox_here(self) -> None:
        """In-process layer only: relay the outbox from this server's event loop every second (once per loop)."""
        if not relays_in_process():
            return
        loop = asyncio.get_running_loop()
        if self.relay_loop is not loop:
            self.relay_loop = loop
            self.relay_task = loop.create_task(self._relay_outbox())  # held: the loop keeps only a weak reference

    async def _relay_outbox(self) -> None:
        # Off the thread that runs the sockets' queries: a relay waiting for SQLite's write lock must not stall them.
        relay = database_sync_to_async(outbox_relay_if_pending, thread_sensitive=False)
        while True:
            await asyncio.sleep(OUTBOX_RELAY_SECONDS)
            try:
                await relay()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the database is busy or away: the next second tries again
                logger.exception("live delivery: relaying the outbox failed")

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is loop and self.channel_name:
            return
        # A new event loop (tests run several) means a new layer connection: start over.
        self.subscribers.clear()
        self.joined_at.clear()
        self.last_seq.clear()
        self.lock = asyncio.Lock()
        self.loop = loop
        self.layer = get_channel_layer()
        self.channel_name = await self.layer.new_channel("hub.")
        self.broadcasts = asyncio.Queue()
        self.tasks = [
            loop.create_task(self._read()),
            loop.create_task(self._refresh()),
            loop.create_task(self._handle_broadcasts()),
        ]
        try:
            for topic in _listened_topics():
                await self.layer.group_add(topic, self.channel_name)
        except Exception:  # noqa: BLE001 - Redis is down as the first socket connects: join once it is back
            logger.warning("live delivery: the channel layer is unreachable; retrying", exc_info=True)
            self.tasks.append(loop.create_task(self._resubscribe()))

    async def subscribe(self, subscriber: Subscriber, topics: list[str]) -> None:
        await self._start()
        async with self.lock:
            for topic in topics:
                if not self.subscribers[topic] and _crosses_the_layer(topic):
                    await self.layer.group_add(topic, self.channel_name)
                    self.joined_at.setdefault(topic, time.monotonic())
                self.subscribers[topic].add(subscriber)

    async def unsubscribe(self, subscriber: Subscriber, topics: list[str]) -> None:
        if self.loop is not asyncio.get_running_loop():
            return
        async with self.lock:
            for topic in topics:
                local = self.subscribers.get(topic)
                if not local:
                    continue
                local.discard(subscriber)
                if not local:
                    del self.subscribers[topic]
                    if _crosses_the_layer(topic):
                        self.joined_at.pop(topic, None)
                        self.last_seq.pop(topic, None)
                        await self.layer.group_discard(topic, self.channel_name)

    def local_count(self, topic: str) -> int:
        return len(self.subscribers.get(topic, ()))

    def local_user_ids(self) -> list[int]:
        """The people with a socket in this process (read from the hub's own table: no database, no Redis)."""
        prefix = user_topic("")
        return [int(topic.removeprefix(prefix)) for topic in self.subscribers if topic.startswith(prefix)]

    async def hand_to_users(self, user_ids, message: dict) -> None:
        """Hand ``message`` to every local socket of these people, as events addressed to people are handed."""
        sockets = self.subscribers
        await self._hand(
            [subscriber for user_id in user_ids for subscriber in sockets.get(user_topic(user_id), ())], message
        )

    def heard_all_after(self, topic: str, read_at: float, seq: int) -> bool:
        """Whether a socket that read ``seq`` as the topic's last seq at ``read_at`` (monotonic, taken before the
        read) and has now subscribed here can miss no line of it, without reading the seq again.

        True when this process had joined the topic's layer group before the read (so every line committed after
        the read reaches the hub) and the hub has not received a line past ``seq`` (one it may have handed to the
        other sockets before this one subscribed). Otherwise the socket reads the seq again after subscribing."""
        joined = self.joined_at.get(topic)
        return joined is not None and joined <= read_at and self.last_seq.get(topic, 0) <= seq

    async def _read(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel_name)
            except asyncio.CancelledError:
                raise
            except (TimeoutError, RedisTimeoutError):
                continue  # an idle read timing out is not an outage: nothing to rejoin
            except Exception:  # noqa: BLE001 - Redis hiccup: keep the process's delivery alive
                logger.warning("live delivery: the channel layer is unreachable; retrying", exc_info=True)
                self.joined_at.clear()  # lines may be lost meanwhile: connecting sockets take nothing for granted
                await self._resubscribe()
                continue
            seq = message.get("seq")
            if seq is not None:
                topic = message.get("topic")
                self.last_seq[topic] = max(seq, self.last_seq.get(topic, 0))
            if message.get("topic") in _broadcast_handlers:
                self.broadcasts.put_nowait(message)  # its handler finds the recipients (see the module docstring)
                continue
            await self._hand(self._recipients(message), message)

    async def _hand(self, subscribers: list[Subscriber], message: dict) -> None:
        for count, subscriber in enumerate(subscribers, 1):
            try:
                await subscriber.hub_event(message)
            except Exception:  # noqa: BLE001 - one broken socket must not stop delivery to the others
                logger.exception("live delivery: a socket failed to take an event")
            if count % YIELD_EVERY == 0:
                # Let the reactor write what is framed so far: the first phones get the line while the rest
                # are framed, instead of all waiting for the thousandth (bench/ws_fanout.py).
                await asyncio.sleep(0)

    async def _handle_broadcasts(self) -> None:
        """One broadcast message after the other, in the order they arrived (an alert's withdrawal never overtakes
        the alert), beside the read loop."""
        while True:
            message = await self.broadcasts.get()
            handler = _broadcast_handlers.get(message.get("topic"))
            try:
                await handler(self, message)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the database is away: this event is lost here, the next one may not be
                logger.exception("live delivery: handling a %s event failed", message.get("topic"))

    def _recipients(self, message: dict) -> list[Subscriber]:
        if message.get("topic") == USERS_TOPIC:
            sockets = self.subscribers
            return [subscriber for user_id in message["users"] for subscriber in sockets.get(user_topic(user_id), ())]
        return list(self.subscribers.get(message.get("topic"), ()))

    def _joined_topics(self) -> list[str]:
        return [*_listened_topics(), *(topic for topic in self.subscribers if _crosses_the_layer(topic))]

    async def _resubscribe(self) -> None:
        """After an outage: a restarted Redis has forgotten every group, so join them all again, retrying until it
        answers. Sockets fill whatever they missed meanwhile from the database (the next line shows the hole)."""
        while True:
            await asyncio.sleep(1)
            try:
                for topic in self._joined_topics():
                    await self.layer.group_add(topic, self.channel_name)
                    # Lines published while Redis was away reached no hub: a socket connecting now reads its seqs
                    # again after subscribing, as it does for a topic joined after its read.
                    self.joined_at[topic] = time.monotonic()
                return
            except Exception:  # noqa: BLE001, S112 - still down: the warning above said so once
                continue

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            for topic in self._joined_topics():
                try:
                    await self.layer.group_add(topic, self.channel_name)
                except Exception:  # noqa: BLE001
                    logger.exception("live delivery: refreshing topic %s failed", topic)


def _listened_topics() -> list[str]:
    """The topics every hub joins at start, whatever its sockets: events for people, and the broadcasts."""
    return [USERS_TOPIC, *_broadcast_handlers]


hub = Hub()


class RelayOutboxMiddleware:
    """ASGI: the server's first request (HTTP or WebSocket) starts the hub's outbox relay (in-process layer only)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        hub.relay_outbox_here()
        return await self.app(scope, receive, send)
