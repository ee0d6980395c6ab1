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
