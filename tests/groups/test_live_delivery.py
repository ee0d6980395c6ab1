"""How events for people travel: one channel-layer message per event, whatever the number of recipients, handed by
each process's hub to the sockets of exactly those people; and publishing from synchronous code keeps one event
loop (with its Redis connections) per process instead of opening a new one per publish."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from config.asgi import application
from groups import delivery, events
from groups.events import ALERTS_TOPIC, USERS_TOPIC, event_publish, group_topic, user_topic


@pytest.mark.django_db(transaction=True)
def test_an_event_for_several_people_is_one_layer_message_and_reaches_only_them(qingguo, client_factory, monkeypatch):
    tokens = {
        user.pk: client_factory().login_with_password(str(user.phone))
        for user in (qingguo.officer, qingguo.merchant, qingguo.volunteer)
    }
    layer = get_channel_layer()
    sent = []
    real_group_send = layer.group_send

    async def counting_group_send(group, message):
        sent.append(group)
        await real_group_send(group, message)

    async def scenario():
        sockets = {}
        for user_id, token in tokens.items():
            sockets[user_id] = WebsocketCommunicator(application, f"/ws/?token={token}")
            await sockets[user_id].connect()
            assert (await sockets[user_id].receive_json_from(timeout=5))["type"] == "hello"
        monkeypatch.setattr(layer, "group_send", counting_group_send)

        # when one event is published to the officer and the volunteer
        await database_sync_to_async(event_publish)(
            topics=[user_topic(qingguo.officer.pk), user_topic(qingguo.volunteer.pk)],
            event={"type": "case", "case": "dispute", "dispute": {"dispute_id": 7}},
        )
        officer = await sockets[qingguo.officer.pk].receive_json_from(timeout=5)
        volunteer = await sockets[qingguo.volunteer.pk].receive_json_from(timeout=5)
        merchant_got_nothing = await sockets[qingguo.merchant.pk].receive_nothing(timeout=0.3)
        for socket in sockets.values():
            await socket.disconnect()
        return officer, volunteer, merchant_got_nothing

    officer, volunteer, merchant_got_nothing = asyncio.run(scenario())

    # then both have it, the merchant does not, and it crossed the channel layer once
    assert officer["dispute"]["dispute_id"] == volunteer["dispute"]["dispute_id"] == 7
    assert merchant_got_nothing
    assert sent == [USERS_TOPIC]


@pytest.mark.needs_redis
def test_publishing_from_sync_code_reuses_one_loop_and_delivers_in_order(monkeypatch):
    layer = RedisChannelLayer(hosts=[settings.TEST_REDIS_URL], prefix=f"test-{uuid.uuid4().hex[:8]}")
    monkeypatch.setattr(events, "get_channel_layer", lambda: layer)

    async def listen() -> str:
        channel = await layer.new_channel("hub.")
        await layer.group_add(USERS_TOPIC, channel)
        return channel

    channel = asyncio.run(listen())

    # when a gunicorn-like (synchronous) caller publishes five events, one after the other
    loops = set()
    for n in range(5):
        events._send([user_topic(40 + n)], json.dumps({"n": n}), {"group": None, "seq": None})
        loops.add(events._publisher._loop)

    async def receive_all() -> list[dict]:
        return [await asyncio.wait_for(layer.receive(channel), 5) for _ in range(5)]

    received = asyncio.run(receive_all())

    # then each arrived once, in order, addressed by user id, and all went through the same long-lived loop
    assert [(json.loads(m["payload"])["n"], m["users"]) for m in received] == [(n, [40 + n]) for n in range(5)]
    assert len(loops) == 1 and next(iter(loops)).is_running()


def test_a_hub_that_starts_while_redis_is_down_joins_the_users_topic_once_it_is_back(monkeypatch):
    class FlakyLayer:
        """Refuses the first join, as Redis does while it restarts; then works."""

        def __init__(self):
            self.joined: list[str] = []
            self.refusals = 1

        async def new_channel(self, prefix):
            return prefix + "test"

        async def group_add(self, group, channel):
            if self.refusals:
                self.refusals -= 1
                raise ConnectionError("Redis is restarting")
            self.joined.append(group)

        async def group_discard(self, group, channel):
            pass

        async def receive(self, channel):
            await asyncio.sleep(3600)

    layer = FlakyLayer()
    monkeypatch.setattr(delivery, "get_channel_layer", lambda: layer)
    hub = delivery.Hub()

    class Socket:
        async def hub_event(self, message):
            pass

    async def scenario():
        # when the first socket of the process subscribes while Redis refuses
        await hub.subscribe(Socket(), [user_topic(7)])
        for _ in range(40):
            if USERS_TOPIC in layer.joined:
                break
            await asyncio.sleep(0.1)
        reading = any(not task.done() for task in hub.tasks)
        for task in hub.tasks:
            task.cancel()
        return reading

    reading = asyncio.run(scenario())

    # then the hub keeps reading and joins the users and alerts topics once Redis answers (a person's topic is local
    # only)
    assert reading
    assert layer.joined == [USERS_TOPIC, ALERTS_TOPIC]


class RecordingLayer:
    """A channel layer that records which groups the hub joins and leaves, and delivers nothing."""

    def __init__(self):
        self.joined: list[str] = []
        self.left: list[str] = []
        self.queue: asyncio.Queue = asyncio.Queue()
        self.taken = False

    async def new_channel(self, prefix):
        return prefix + "test"

    async def group_add(self, group, channel):
        self.joined.append(group)

    async def group_discard(self, group, channel):
        self.left.append(group)

    async def receive(self, channel):
        if self.taken:
            self.queue.task_done()  # the hub has handed out the previous message
        message = await self.queue.get()
        self.taken = True
        return message


def test_a_process_joins_each_group_topic_once_and_no_layer_group_per_person(monkeypatch):
    layer = RecordingLayer()
    monkeypatch.setattr(delivery, "get_channel_layer", lambda: layer)
    hub = delivery.Hub()

    class Socket:
        async def hub_event(self, message):
            pass

    async def scenario():
        sockets = [Socket() for _ in range(3)]
        # when three people's sockets subscribe to their own topic and the same group, then close
        for n, socket in enumerate(sockets):
            await hub.subscribe(socket, [user_topic(n), group_topic(5)])
        for n, socket in enumerate(sockets):
            await hub.unsubscribe(socket, [user_topic(n), group_topic(5)])
        for task in hub.tasks:
            task.cancel()

    asyncio.run(scenario())

    # then the layer saw one join and one leave of the group, and nothing per person: events for people cross on
    # the users topic, so a join per socket would be a Redis round trip per connect for nothing
    assert layer.joined == [USERS_TOPIC, ALERTS_TOPIC, group_topic(5)]
    assert layer.left == [group_topic(5)]


def test_the_hub_tells_a_connecting_socket_whether_its_seqs_can_have_missed_a_line(monkeypatch):
    layer = RecordingLayer()
    monkeypatch.setattr(delivery, "get_channel_layer", lambda: layer)
    hub = delivery.Hub()

    class Socket:
        async def hub_event(self, message):
            pass

    async def scenario():
        before_join = time.monotonic()
        await hub.subscribe(Socket(), [group_topic(5)])
        after_join = time.monotonic()
        answers = {
            "read before the hub joined": hub.heard_all_after(group_topic(5), before_join, 10),
            "read after, nothing heard since": hub.heard_all_after(group_topic(5), after_join, 10),
            "a topic the hub never joined": hub.heard_all_after(group_topic(6), after_join, 10),
        }
        # when the hub hands out line 11 of the group
        await layer.queue.put({"type": "fanout", "topic": group_topic(5), "group": 5, "seq": 11, "payload": "{}"})
        await asyncio.wait_for(layer.queue.join(), 5)
        answers["read after, line 11 heard since"] = hub.heard_all_after(group_topic(5), after_join, 10)
        answers["read after, up to 11"] = hub.heard_all_after(group_topic(5), after_join, 11)
        for task in hub.tasks:
            task.cancel()
        return answers

    answers = asyncio.run(scenario())

    # then only a read taken after the join, and not older than the last line heard, is trusted
    assert answers == {
        "read before the hub joined": False,
        "read after, nothing heard since": True,
        "a topic the hub never joined": False,
        "read after, line 11 heard since": False,
        "read after, up to 11": True,
    }
