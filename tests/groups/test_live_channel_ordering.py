"""The live channel's promise, in-process: an event lost on the way is filled from the database, in order."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from config.asgi import application
from groups import consumers
from groups.events import group_topic
from groups.presentation import message_payload
from groups.selectors import contact_groups as selectors
from groups.services import contact_groups as services


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
    monkeypatch.setattr("groups.selectors.contact_groups.RESYNC_BATCH", 5)
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


@pytest.mark.django_db(transaction=True)
def test_a_socket_joining_groups_its_process_already_listens_to_reads_them_once(qingguo, client_factory, monkeypatch):
    tokens = [client_factory().login_with_password(str(user.phone)) for user in (qingguo.officer, qingguo.merchant)]
    reads, hops = [], []
    real_read = selectors.group_seqs_for_user
    real_hop = SyncToAsync.__call__

    def counting_read(*, user):
        reads.append(user.pk)
        return real_read(user=user)

    async def counting_hop(self, *args, **kwargs):
        hops.append(getattr(self.func, "__name__", repr(self.func)))
        return await real_hop(self, *args, **kwargs)

    monkeypatch.setattr(selectors, "group_seqs_for_user", counting_read)
    monkeypatch.setattr(SyncToAsync, "__call__", counting_hop)

    async def scenario():
        first = WebsocketCommunicator(application, f"/ws/?token={tokens[0]}")
        await first.connect()
        await first.receive_json_from(timeout=5)  # hello: this process now listens to the groups
        reads.clear()
        hops.clear()
        second = WebsocketCommunicator(application, f"/ws/?token={tokens[1]}")
        await second.connect()
        hello = await second.receive_json_from(timeout=5)
        connect_hops = list(hops)
        for communicator in (first, second):
            await communicator.disconnect()
        return hello, connect_hops

    hello, connect_hops = asyncio.run(scenario())

    # then the second socket read its groups' seqs once, in its one trip to the database thread (a reconnect storm
    # pays one thread round trip and one seq read per socket)
    assert reads == [qingguo.merchant.pk]
    assert connect_hops == ["_open_session"]
    assert hello["groups"] == {str(group.pk): group.last_seq for group in (qingguo.main, qingguo.prevention)}


@pytest.mark.django_db(transaction=True)
def test_a_line_handed_out_while_a_socket_subscribes_is_not_lost_to_it(qingguo, client_factory, monkeypatch):
    tokens = [client_factory().login_with_password(str(user.phone)) for user in (qingguo.officer, qingguo.merchant)]
    real_open_session = consumers._open_session
    first = None

    async def open_session_then_a_line_goes_out(token):
        # the connecting socket has read its seqs; before it subscribes, a line is sent and handed to the others
        found = await real_open_session(token)
        if token == tokens[1]:
            await database_sync_to_async(services.message_send)(
                sender=qingguo.officer, group=qingguo.main, body="路口有人打架"
            )
            line = await first.receive_json_from(timeout=5)
            assert line["message"]["body"] == "路口有人打架"
        return found

    async def scenario():
        nonlocal first
        first = WebsocketCommunicator(application, f"/ws/?token={tokens[0]}")
        await first.connect()
        await first.receive_json_from(timeout=5)  # hello
        monkeypatch.setattr(consumers, "_open_session", open_session_then_a_line_goes_out)
        second = WebsocketCommunicator(application, f"/ws/?token={tokens[1]}")
        await second.connect()
        hello = await second.receive_json_from(timeout=5)
        nothing_more = await second.receive_nothing(timeout=0.3)
        for communicator in (first, second):
            await communicator.disconnect()
        return hello, nothing_more

    before = qingguo.main.last_seq
    hello, nothing_more = asyncio.run(scenario())

    # then the new socket's hello counts the line (the app pages it over REST), rather than the older seq it read
    assert hello["groups"][str(qingguo.main.pk)] == before + 1
    assert nothing_more


@pytest.mark.django_db(transaction=True)
def test_connecting_sockets_do_not_wait_for_each_others_reads(qingguo, client_factory, monkeypatch):
    # In a reconnect storm every connect waits on its round trips (session, user, presence, seqs); on one database
    # thread each waited for all the connects before it. Two connects here must be in their reads at the same time.
    tokens = [client_factory().login_with_password(str(user.phone)) for user in (qingguo.officer, qingguo.merchant)]
    both_reading = threading.Barrier(2, timeout=5)
    real_lookup = consumers.user_for_token

    def lookup_meeting_the_other(token):
        both_reading.wait()
        return real_lookup(token)

    monkeypatch.setattr(consumers, "user_for_token", lookup_meeting_the_other)

    async def scenario():
        sockets = [WebsocketCommunicator(application, f"/ws/?token={token}") for token in tokens]
        await asyncio.gather(*(socket.connect() for socket in sockets))
        hellos = [await socket.receive_json_from(timeout=10) for socket in sockets]
        for socket in sockets:
            await socket.disconnect()
        return hellos

    assert [hello["type"] for hello in asyncio.run(scenario())] == ["hello", "hello"]
