"""Group chat over the live channel, against real daphne processes: live delivery, isolation between alliances,
resync after a disconnect with nothing lost, and delivery across two server processes through Redis."""

from __future__ import annotations

import json
import time

import pytest
from django.conf import settings
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from groups.services.contact_groups import message_send
from tests.servers import daphne_server, next_event

pytestmark = [pytest.mark.needs_postgres, pytest.mark.slow]


def open_socket(url: str, token: str):
    ws = connect(f"{url}?token={token}")
    hello = json.loads(ws.recv(timeout=5))
    assert hello["type"] == "hello", hello
    return ws, hello


def messages_until(ws, group_id: int, last_seq: int, timeout: float = 10) -> list[dict]:
    """Every message event for the group until seq ``last_seq`` has arrived."""
    received = []
    deadline = time.monotonic() + timeout
    while not received or received[-1]["seq"] < last_seq:
        event = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if event["type"] == "message" and event["group"] == group_id:
            received.append(event)
    return received


def token_for(client_factory, user) -> str:
    return client_factory().login_with_password(str(user.phone))


@pytest.mark.django_db(transaction=True)
def test_two_phones_in_the_same_alliance_chat_live(ws_url, qingguo, client_factory):
    merchant_ws, hello = open_socket(ws_url, token_for(client_factory, qingguo.merchant))
    officer_ws, _ = open_socket(ws_url, token_for(client_factory, qingguo.officer))
    group = qingguo.main.pk
    try:
        # when the merchant flags a quarrel and the officer answers
        merchant_ws.send(
            json.dumps({"type": "send", "group": group, "client_id": "m-1", "body": "俞警官，摊位边有两个人在吵架"})
        )
        ack = next_event(merchant_ws, "sent")
        received = next_event(officer_ws, "message")
        officer_ws.send(json.dumps({"type": "send", "group": group, "client_id": "o-1", "body": "明白，马上到！"}))
        reply = messages_until(merchant_ws, group, ack["seq"] + 1)[-1]
    finally:
        merchant_ws.close()
        officer_ws.close()

    # then each sees the other's message live, in order, with its sequence number
    assert str(group) in hello["groups"]
    assert ack == {"type": "sent", "group": group, "seq": received["seq"], "client_id": "m-1", "created": True}
    assert received["message"]["body"] == "俞警官，摊位边有两个人在吵架"
    assert received["message"]["sender"]["id"] == qingguo.merchant.pk
    assert reply["seq"] == ack["seq"] + 1 and reply["message"]["body"] == "明白，马上到！"


@pytest.mark.django_db(transaction=True)
def test_a_user_of_another_alliance_can_neither_see_nor_join(ws_url, qingguo, fengming, client_factory):
    insider_ws, _ = open_socket(ws_url, token_for(client_factory, qingguo.merchant))
    outsider_ws, outsider_hello = open_socket(ws_url, token_for(client_factory, fengming.merchant))
    try:
        outsider_ws.send(json.dumps({"type": "send", "group": qingguo.main.pk, "client_id": "x", "body": "混进来"}))
        refused = next_event(outsider_ws, "error")
        outsider_ws.send(json.dumps({"type": "resync", "groups": {str(qingguo.main.pk): 0}}))
        resync_refused = next_event(outsider_ws, "error")
        insider_ws.send(json.dumps({"type": "send", "group": qingguo.main.pk, "client_id": "i", "body": "内部消息"}))
        next_event(insider_ws, "sent")
        outsider_ws.send(json.dumps({"type": "ping"}))
        seen = []
        while (event := json.loads(outsider_ws.recv(timeout=5)))["type"] != "pong":
            seen.append(event)
    finally:
        insider_ws.close()
        outsider_ws.close()

    assert str(qingguo.main.pk) not in outsider_hello["groups"]
    assert refused["code"] == "not_found" and resync_refused["code"] == "not_found"
    assert not [e for e in seen if e["type"] == "message"]


@pytest.mark.django_db(transaction=True)
def test_a_phone_that_was_offline_resyncs_and_misses_nothing(ws_url, qingguo, client_factory):
    group = qingguo.main.pk
    volunteer_token = token_for(client_factory, qingguo.volunteer)
    ws, hello = open_socket(ws_url, volunteer_token)
    last_seen = hello["groups"][str(group)]
    ws.close()

    # while the volunteer's phone is away (in the tunnel for a minute), the street keeps talking
    for n in range(30):
        message_send(sender=qingguo.officer, group=qingguo.main, body=f"离线期间第{n}条")

    # when it reconnects and asks for everything after the last seq it saw
    ws, _ = open_socket(ws_url, volunteer_token)
    try:
        ws.send(json.dumps({"type": "resync", "groups": {str(group): last_seen}}))
        received = messages_until(ws, group, last_seen + 30)
        done = next_event(ws, "resync_done")
        # and the live stream goes on right after, without a hole or a repeat
        ws.send(json.dumps({"type": "send", "group": group, "client_id": "after", "body": "回来了"}))
        live = messages_until(ws, group, last_seen + 31)
    finally:
        ws.close()

    assert [e["seq"] for e in received] == list(range(last_seen + 1, last_seen + 31))
    assert [e["message"]["body"] for e in received][:2] == ["离线期间第0条", "离线期间第1条"]
    assert done["groups"][str(group)] == last_seen + 30
    assert [e["seq"] for e in live] == [last_seen + 31]


@pytest.mark.django_db(transaction=True)
def test_typing_and_presence(ws_url, qingguo, client_factory):
    merchant_ws, _ = open_socket(ws_url, token_for(client_factory, qingguo.merchant))
    officer_ws, _ = open_socket(ws_url, token_for(client_factory, qingguo.officer))
    try:
        merchant_ws.send(json.dumps({"type": "typing", "group": qingguo.main.pk}))
        typing = next_event(officer_ws, "typing")
        officer_ws.send(json.dumps({"type": "presence", "group": qingguo.main.pk}))
        presence = next_event(officer_ws, "presence")
    finally:
        merchant_ws.close()
        officer_ws.close()

    assert typing["user"]["id"] == qingguo.merchant.pk
    assert set(presence["online"]) == {qingguo.merchant.pk, qingguo.officer.pk}  # the volunteer is not connected


@pytest.mark.django_db(transaction=True)
def test_a_flood_of_messages_is_throttled_then_closed_without_affecting_others(ws_url, qingguo, client_factory):
    flooder, _ = open_socket(ws_url, token_for(client_factory, qingguo.volunteer))
    bystander, _ = open_socket(ws_url, token_for(client_factory, qingguo.officer))
    try:
        for n in range(120):
            try:
                flooder.send(
                    json.dumps({"type": "send", "group": qingguo.main.pk, "client_id": f"f{n}", "body": "刷屏"})
                )
            except ConnectionClosed:
                break
        codes = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                event = json.loads(flooder.recv(timeout=10))
                if event["type"] == "error":
                    codes.append(event["code"])
        bystander.send(json.dumps({"type": "ping"}))
        still_served = next_event(bystander, "pong")
    finally:
        flooder.close()
        bystander.close()

    assert "rate_limited" in codes and codes[-1] == "flooding"
    assert closed.value.rcvd.code == 4429
    assert still_served == {"type": "pong"}


@pytest.mark.needs_redis
@pytest.mark.django_db(transaction=True)
def test_a_message_sent_on_one_server_process_reaches_a_socket_on_another(qingguo, client_factory):
    # given two server processes sharing the Redis channel layer, one phone connected to each
    redis_url = settings.TEST_REDIS_URL
    with daphne_server(REDIS_URL=redis_url) as first, daphne_server(REDIS_URL=redis_url) as second:
        assert first != second
        sender, _ = open_socket(first.replace("http", "ws") + "/ws/", token_for(client_factory, qingguo.merchant))
        receiver, _ = open_socket(second.replace("http", "ws") + "/ws/", token_for(client_factory, qingguo.officer))
        try:
            # when the merchant sends through the first process
            sender.send(json.dumps({"type": "send", "group": qingguo.main.pk, "client_id": "p1", "body": "跨进程"}))
            ack = next_event(sender, "sent")
            # then the officer, connected to the second process, receives it
            received = next_event(receiver, "message")
        finally:
            sender.close()
            receiver.close()

    assert received["seq"] == ack["seq"] and received["message"]["body"] == "跨进程"
