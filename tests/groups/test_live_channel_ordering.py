"""The live channel's promise, in-process: an event lost on the way is filled from the database, in order."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from config.asgi import application
from groups import services
from groups.events import group_topic
from groups.presentation import message_payload


@pytest.mark.django_db(transaction=True)
def test_a_lost_event_is_filled_from_the_database_before_newer_ones(qingguo, client_factory, monkeypatch):
    token = client_factory().login_with_password(str(qingguo.officer.phone))
    group_id = qingguo.main.pk

    async def scenario():
        communicator = WebsocketCommunicator(application, f"/ws/?token={token}")
        await communicator.connect()
        hello = await communicator.receive_json_from(timeout=5)
        last = hello["groups"][str(group_id)]

        # given three messages stored, of which only the third's event reaches the channel layer
        monkeypatch.setattr(services, "event_publish", lambda **kwargs: None)
        stored = [
            await database_sync_to_async(services.message_send)(sender=qingguo.merchant, group=qingguo.main, body=b)
            for b in ("一", "二", "三")
        ]
        third = stored[-1][0]
        event = {"type": "message", "group": group_id, "seq": third.seq, "message": message_payload(third)}
        # ...and it arrives twice, as a retried publish might
        for _ in range(2):
            await get_channel_layer().group_send(
                group_topic(group_id),
                {
                    "type": "fanout",
                    "topic": group_topic(group_id),
                    "payload": json.dumps(event),
                    "group": group_id,
                    "seq": third.seq,
                },
            )

        # when the socket delivers
        received = [await communicator.receive_json_from(timeout=5) for _ in range(3)]
        nothing_more = await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()
        return last, received, nothing_more

    last, received, nothing_more = asyncio.run(scenario())

    # then the two lost lines come first, from the database, then the third, once
    assert [(e["seq"], e["message"]["body"]) for e in received] == [
        (last + 1, "一"),
        (last + 2, "二"),
        (last + 3, "三"),
    ]
    assert nothing_more


@pytest.mark.django_db(transaction=True)
def test_a_socket_too_far_behind_is_told_to_resync_and_then_catches_up(qingguo, client_factory, monkeypatch):
    token = client_factory().login_with_password(str(qingguo.volunteer.phone))
    group_id = qingguo.main.pk
    monkeypatch.setattr("groups.selectors.RESYNC_BATCH", 5)
    start = qingguo.main.last_seq  # before the eight lines
    for n in range(8):
        services.message_send(sender=qingguo.officer, group=qingguo.main, body=f"第{n}条")

    async def scenario():
        communicator = WebsocketCommunicator(application, f"/ws/?token={token}")
        await communicator.connect()
        await communicator.receive_json_from(timeout=5)  # hello
        # when the phone resyncs from before the eight lines, more than one batch behind
        await communicator.send_json_to({"type": "resync", "groups": {str(group_id): start}})
        first = [await communicator.receive_json_from(timeout=5) for _ in range(7)]  # 5 lines, required, done
        # and, having paged the gap over REST, resyncs from the last line it has
        await communicator.send_json_to({"type": "resync", "groups": {str(group_id): start + 5}})
        second = [await communicator.receive_json_from(timeout=5) for _ in range(4)]  # 3 lines, done
        await communicator.disconnect()
        return first, second

    first, second = asyncio.run(scenario())

    assert [e["seq"] for e in first[:5]] == list(range(start + 1, start + 6))
    assert first[5] == {"type": "resync_required", "group": group_id, "from_seq": start + 5}
    assert first[6]["type"] == "resync_done"
    assert [e["seq"] for e in second[:3]] == [start + 6, start + 7, start + 8]
    assert second[3]["type"] == "resync_done"
