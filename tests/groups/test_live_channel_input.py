"""Hostile and mistaken frames on the live channel, against a real daphne process: the same depth limit and strict
fields as REST bodies, refusals as ``error`` events in the person's language, and the socket carries on."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from django.conf import settings
from websockets.sync.client import connect

from groups.models import Message
from tests.servers import next_event

pytestmark = [pytest.mark.needs_postgres, pytest.mark.slow]


@contextmanager
def open_socket(url: str, first_frame: dict | None = None, **connect_options):
    with connect(url, **connect_options) as ws:
        if first_frame:
            ws.send(json.dumps(first_frame))
        hello = json.loads(ws.recv(timeout=5))
        assert hello["type"] == "hello", hello
        yield ws


def still_open(ws) -> bool:
    ws.send(json.dumps({"type": "ping"}))
    return next_event(ws, "pong")["type"] == "pong"


def token_for(client_factory, user) -> str:
    return client_factory().login_with_password(str(user.phone))


@pytest.mark.django_db(transaction=True)
def test_a_frame_nested_5000_deep_is_an_error_event_and_the_socket_stays_open(ws_url, qingguo, client_factory):
    # given a merchant's open socket
    socket = open_socket(f"{ws_url}?token={token_for(client_factory, qingguo.merchant)}")

    # when a send frame nests 5,000 levels deep, and then one just over the limit
    with socket as ws:
        ws.send(f'{{"type": "send", "group": {qingguo.main.pk}, "body": {"[" * 5000 + "]" * 5000}}}')
        very_deep = next_event(ws, "error")
        depth = settings.JSON_MAX_DEPTH
        ws.send(f'{{"type": "ping", "x": {"[" * depth + "]" * depth}}}')
        just_over = next_event(ws, "error")
        alive = still_open(ws)

    # then each is refused by an error event in Chinese (not a 1011 close), and nothing was posted
    assert very_deep["code"] == just_over["code"] == "too_deeply_nested"
    assert very_deep["message"] == f"发送的 JSON 嵌套层级过深（最多 {settings.JSON_MAX_DEPTH} 层）。"
    assert alive
    assert not Message.objects.filter(group=qingguo.main, kind="text").exists()


@pytest.mark.django_db(transaction=True)
def test_an_unknown_key_in_a_send_frame_is_refused_by_name_and_nothing_is_posted(ws_url, qingguo, client_factory):
    with open_socket(f"{ws_url}?token={token_for(client_factory, qingguo.merchant)}") as ws:
        ws.send(
            json.dumps(
                {"type": "send", "group": qingguo.main.pk, "client_id": "m-1", "body": "有人吵架", "urgent": True}
            )
        )
        refused = next_event(ws, "error")
        alive = still_open(ws)

    assert refused["code"] == "invalid"
    assert refused["fields"] == {"urgent": ["未知字段。"]}
    assert refused["client_id"] == "m-1"
    assert alive
    assert not Message.objects.filter(group=qingguo.main, kind="text").exists()


@pytest.mark.django_db(transaction=True)
def test_ids_beyond_the_database_range_in_frames_are_error_events(ws_url, qingguo, client_factory):
    with open_socket(f"{ws_url}?token={token_for(client_factory, qingguo.merchant)}") as ws:
        ws.send(json.dumps({"type": "flag", "alliance": 2**64, "category": "quarrel"}))
        flag = next_event(ws, "error")
        ws.send(json.dumps({"type": "read", "group": qingguo.main.pk, "seq": 2**63}))
        read = next_event(ws, "error")
        alive = still_open(ws)

    assert flag["code"] == "not_found" and read["code"] == "malformed"
    assert alive


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "how, expected",
    [
        ("default", "未知的消息类型 'dance'。"),
        ("header", "Unknown message type 'dance'."),
        ("query", "Unknown message type 'dance'."),
        ("auth frame", "Unknown message type 'dance'."),
        ("header zh-CN", "未知的消息类型 'dance'。"),
    ],
)
def test_error_events_follow_the_persons_language(ws_url, qingguo, client_factory, how, expected):
    # given a phone that asks for its language in one of the ways REST and the socket understand
    token = token_for(client_factory, qingguo.merchant)
    if how == "auth frame":
        socket = open_socket(ws_url, first_frame={"type": "auth", "token": token, "lang": "en"})
    else:
        url = f"{ws_url}?token={token}" + ("&lang=en" if how == "query" else "")
        language = {"header": "en-US,en;q=0.9", "header zh-CN": "zh-CN,zh;q=0.9,en;q=0.5"}.get(how)
        socket = open_socket(url, additional_headers={"Accept-Language": language} if language else None)

    # when it sends something the server refuses, here and in the service behind the socket
    with socket as ws:
        ws.send(json.dumps({"type": "dance"}))
        unknown_type = next_event(ws, "error")
        ws.send(json.dumps({"type": "send", "group": qingguo.main.pk, "body": "   "}))
        empty_text = next_event(ws, "error")

    # then the refusal is in that language, the empty text's as REST words it
    assert unknown_type["message"] == expected
    english = "Unknown" in expected
    assert empty_text["code"] == "invalid"
    assert empty_text["message"] == (
        "Some of the information you sent is not valid." if english else "提交的信息有误，请检查后重试。"
    )
    assert empty_text["fields"] == {"body": ["Write something." if english else "请输入内容。"]}
