"""The WebSocket at /ws/ authenticates with the REST session token, against a real daphne process."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from accounts.models import Role
from tests.servers import daphne_server

pytestmark = [pytest.mark.needs_postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def ws_base(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with daphne_server(WEBSOCKET_AUTH_TIMEOUT_SECONDS="1", WEBSOCKET_SESSION_RECHECK_SECONDS="0") as base:
            yield base.replace("http://", "ws://") + "/ws/"


def receive(ws) -> dict:
    return json.loads(ws.recv(timeout=5))


def closed_with(ws) -> tuple[int, str]:
    """Reads to the end: the close code, and the error code of the error event that came before it."""
    last_error = ""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            event = json.loads(ws.recv(timeout=5))
            if event.get("type") == "error":
                last_error = event["code"]
    return closed.value.rcvd.code, last_error


@pytest.mark.django_db(transaction=True)
def test_token_in_query_string_authenticates_and_greets_with_roles(ws_base, user_factory, client_factory):
    user = user_factory(roles=[Role.VOLUNTEER])
    token = client_factory().login_with_password(str(user.phone))

    with connect(f"{ws_base}?token={token}") as ws:
        hello = receive(ws)
        ws.send(json.dumps({"type": "ping"}))
        pong = receive(ws)

    assert hello == {
        "type": "hello",
        "user": {"id": user.pk, "display_name": user.display_name, "roles": ["volunteer"]},
        "groups": {},  # in no group yet; otherwise the last seq of each of their groups
    }
    assert pong == {"type": "pong"}


@pytest.mark.django_db(transaction=True)
def test_token_in_a_first_auth_message_authenticates(ws_base, user_factory, client_factory):
    user = user_factory()
    token = client_factory().login_with_password(str(user.phone))

    with connect(ws_base) as ws:
        ws.send(json.dumps({"type": "auth", "token": token}))
        hello = receive(ws)

    assert hello["type"] == "hello" and hello["user"]["id"] == user.pk


@pytest.mark.django_db(transaction=True)
def test_forged_token_is_closed_with_4401(ws_base):
    with connect(f"{ws_base}?token=forged") as ws:
        code, error = closed_with(ws)

    assert (code, error) == (4401, "not_authenticated")


@pytest.mark.django_db(transaction=True)
def test_a_token_revoked_by_logout_no_longer_opens_the_socket(ws_base, user_factory, client_factory):
    # given a phone that logged out
    user = user_factory()
    client = client_factory()
    token = client.login_with_password(str(user.phone))
    client.delete("/_allauth/app/v1/auth/session")

    # when it tries the old token on the socket
    with connect(f"{ws_base}?token={token}") as ws:
        code, reason = closed_with(ws)

    # then it is refused, as REST refuses it
    assert (code, reason) == (4401, "not_authenticated")
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_an_open_socket_is_closed_once_its_session_is_revoked(ws_base, user_factory, client_factory):
    user = user_factory()
    phone_a, phone_b = client_factory(), client_factory()
    phone_a.login_with_password(str(user.phone))
    token_b = phone_b.login_with_password(str(user.phone))

    with connect(f"{ws_base}?token={token_b}") as ws:
        receive(ws)  # hello
        # phone A revokes phone B's session while B's socket is open
        sessions = phone_a.get("/_allauth/app/v1/auth/sessions").json()["data"]
        other = next(s["id"] for s in sessions if not s["is_current"])
        phone_a.generic(
            "DELETE", "/_allauth/app/v1/auth/sessions", json.dumps({"sessions": [other]}), "application/json"
        )
        ws.send(json.dumps({"type": "ping"}))
        code, reason = closed_with(ws)

    assert (code, reason) == (4401, "session_ended")


@pytest.mark.django_db(transaction=True)
def test_no_auth_in_time_is_closed_with_4408(ws_base):
    with connect(ws_base) as ws:
        code, error = closed_with(ws)

    assert (code, error) == (4408, "auth_timeout")


@pytest.mark.django_db(transaction=True)
def test_other_frames_before_auth_are_refused(ws_base):
    with connect(ws_base) as ws:
        ws.send(json.dumps({"type": "ping"}))
        code, error = closed_with(ws)

    assert (code, error) == (4401, "not_authenticated")


@pytest.mark.django_db(transaction=True)
def test_bad_frames_get_error_events_and_the_socket_stays_usable(ws_base, user_factory, client_factory):
    token = client_factory().login_with_password(str(user_factory().phone))

    with connect(f"{ws_base}?token={token}") as ws:
        receive(ws)
        ws.send("not json")
        not_json = receive(ws)
        ws.send(json.dumps(["a", "list"]))
        not_object = receive(ws)
        ws.send(json.dumps({"type": "launch_missiles"}))
        unknown = receive(ws)
        ws.send(json.dumps({"type": "ping"}))
        still_alive = receive(ws)

    assert not_json["code"] == not_object["code"] == "malformed"
    assert unknown["code"] == "unknown_type"
    assert still_alive == {"type": "pong"}


@pytest.mark.django_db(transaction=True)
def test_an_oversize_frame_closes_with_4413(ws_base, user_factory, client_factory):
    token = client_factory().login_with_password(str(user_factory().phone))

    with connect(f"{ws_base}?token={token}", max_size=None) as ws:
        receive(ws)
        ws.send(json.dumps({"type": "ping", "padding": "x" * 70_000}))
        code, error = closed_with(ws)

    assert (code, error) == (4413, "frame_too_large")


@pytest.mark.django_db(transaction=True)
def test_browser_origins_other_than_ours_are_refused(ws_base, user_factory, client_factory):
    token = client_factory().login_with_password(str(user_factory().phone))

    with pytest.raises(InvalidStatus) as refused:
        connect(f"{ws_base}?token={token}", origin="https://evil.example")
    with connect(f"{ws_base}?token={token}", origin="http://localhost:8000") as ours:
        ours_hello = receive(ours)

    assert refused.value.response.status_code == 403
    assert ours_hello["type"] == "hello"
