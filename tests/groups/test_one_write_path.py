"""Sending a message takes one path whatever the transport: the socket's ``send`` frame runs REST's
``MessageSendInput`` and the same service, so the same bad input gets the same code, message and fields from
``POST /api/v1/groups/{id}/messages`` and from the socket, in either language."""

from __future__ import annotations

import json

import pytest
from websockets.sync.client import connect

from groups.models import Message
from tests.servers import next_event

pytestmark = [pytest.mark.needs_postgres, pytest.mark.slow]

BAD_MESSAGES = {
    "blank text": {"body": "   "},
    "a number for text": {"body": 5},
    "an unknown kind": {"kind": "video", "body": "有人吵架"},
    "a location without longitude": {"kind": "location", "latitude": 31.77},
    "a latitude off the globe": {"kind": "location", "latitude": 91, "longitude": 119.95},
    "an unknown field": {"body": "有人吵架", "urgent": True},
    "a client id too long": {"body": "有人吵架", "client_id": "x" * 65},
}


def over_the_socket(url: str, frame: dict) -> dict:
    with connect(url) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "hello"
        ws.send(json.dumps(frame))
        return next_event(ws, "error")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("bad", BAD_MESSAGES.values(), ids=BAD_MESSAGES.keys())
def test_the_same_bad_message_is_refused_alike_over_rest_and_the_socket(ws_url, qingguo, client_factory, language, bad):
    # given a member with a REST client and a socket, both in the same language
    client = client_factory()
    token = client.login_with_password(str(qingguo.merchant.phone))

    # when each sends the same bad message to the same group
    rest = client.post_json(f"/api/v1/groups/{qingguo.main.pk}/messages", bad, HTTP_ACCEPT_LANGUAGE=language)
    event = over_the_socket(
        f"{ws_url}?token={token}&lang={language}", {"type": "send", "group": qingguo.main.pk, "client_id": "m-1", **bad}
    )

    # then both refuse it with the same code, message and fields (the socket also names the frame's client id)
    assert rest.status_code == 400
    body = rest.json()
    assert body["code"] == "invalid" and body["fields"]
    assert {key: event.get(key) for key in ("code", "message", "fields")} == body
    assert event.get("client_id") == bad.get("client_id", "m-1")
    if language == "en":
        assert body["message"] == "Some of the information you sent is not valid."
    else:
        assert body["message"] == "提交的信息有误，请检查后重试。"
    assert not Message.objects.filter(group=qingguo.main, kind__in=["text", "location"]).exists()


@pytest.mark.django_db(transaction=True)
def test_a_message_to_a_group_one_is_not_in_is_not_found_over_rest_and_the_socket(
    ws_url, qingguo, fengming, client_factory
):
    # given a member of another street's groups
    client = client_factory()
    token = client.login_with_password(str(fengming.merchant.phone))

    # when they send to qingguo's main group over REST and over the socket
    rest = client.post_json(f"/api/v1/groups/{qingguo.main.pk}/messages", {"body": "你好"})
    event = over_the_socket(f"{ws_url}?token={token}", {"type": "send", "group": qingguo.main.pk, "body": "你好"})

    # then both answer "not found", alike
    assert rest.status_code == 404
    assert {key: event.get(key, {}) for key in ("code", "message", "fields")} == rest.json()
    assert not Message.objects.filter(group=qingguo.main, kind="text").exists()


@pytest.mark.django_db(transaction=True)
def test_a_location_over_the_socket_is_stored_as_rest_stores_it(ws_url, qingguo, client_factory):
    # given a member's socket
    token = client_factory().login_with_password(str(qingguo.merchant.phone))

    # when they share a location with a caption
    with connect(f"{ws_url}?token={token}") as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "hello"
        frame = {"kind": "location", "latitude": 31.777012, "longitude": 119.956301, "body": "青果巷口"}
        ws.send(json.dumps({"type": "send", "group": qingguo.main.pk, "client_id": "loc-1", **frame}))
        sent = next_event(ws, "sent")

    # then it is one location line, with REST's precision
    message = Message.objects.get(group=qingguo.main, seq=sent["seq"])
    assert sent["created"] and sent["client_id"] == "loc-1"
    assert message.kind == "location" and message.body == "青果巷口"
    assert (str(message.latitude), str(message.longitude)) == ("31.777012", "119.956301")
