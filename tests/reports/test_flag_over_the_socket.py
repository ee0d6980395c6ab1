"""A dispute flag takes one path whatever the transport: the socket's ``flag`` frame (registered by reports with the
live channel) runs REST's ``DisputeFlagInput``, access check and service, so the same bad input, or a flag by
somebody outside the alliance, is refused with the same code, message and fields as by
``POST /api/v1/alliances/{id}/disputes``, in either language."""

from __future__ import annotations

import json

import pytest
from websockets.sync.client import connect

from reports.models import Dispute
from tests.servers import next_event

pytestmark = [pytest.mark.needs_postgres, pytest.mark.slow]

BAD_FLAGS = {
    "an unknown category": {"category": "dance"},
    "latitude without longitude": {"category": "quarrel", "latitude": 31.77},
    "too few people": {"category": "quarrel", "people_involved": 0},
    "a store id beyond any id": {"category": "quarrel", "store": 2**64},
    "a number for the note": {"category": "quarrel", "note": 12},
    "an unknown field": {"category": "quarrel", "urgent": True},
    "no category": {"note": "有人吵架"},
}


def over_the_socket(url: str, frame: dict, answer: str = "error") -> dict:
    with connect(url) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "hello"
        ws.send(json.dumps({"type": "flag", **frame}))
        return next_event(ws, answer)


def as_rest_body(event: dict) -> dict:
    return {"code": event.get("code"), "message": event.get("message"), "fields": event.get("fields", {})}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("bad", BAD_FLAGS.values(), ids=BAD_FLAGS.keys())
def test_the_same_bad_flag_is_refused_alike_over_rest_and_the_socket(ws_url, qingguo, client_factory, language, bad):
    # given a merchant of the alliance with a REST client and a socket, both in the same language
    client = client_factory()
    token = client.login_with_password(str(qingguo.merchant.phone))

    # when each flags with the same bad input
    rest = client.post_json(f"/api/v1/alliances/{qingguo.alliance.pk}/disputes", bad, HTTP_ACCEPT_LANGUAGE=language)
    event = over_the_socket(
        f"{ws_url}?token={token}&lang={language}", {"alliance": qingguo.alliance.pk, "client_id": "f-1", **bad}
    )

    # then both refuse it with the same code, message and fields, and nothing is flagged
    assert rest.status_code == 400
    body = rest.json()
    assert body["code"] == "invalid" and body["fields"]
    assert as_rest_body(event) == body
    assert event["client_id"] == "f-1"
    english = body["message"] == "Some of the information you sent is not valid."
    assert english == (language == "en")
    assert not Dispute.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_flag_by_somebody_outside_the_alliance_is_not_found_over_the_socket_as_over_rest(
    ws_url, qingguo, fengming, client_factory, language
):
    # given a merchant of another alliance
    client = client_factory()
    token = client.login_with_password(str(fengming.merchant.phone))

    # when they flag in qingguo's alliance over REST and over the socket
    flag = {"category": "quarrel", "note": "有人吵架"}
    rest = client.post_json(f"/api/v1/alliances/{qingguo.alliance.pk}/disputes", flag, HTTP_ACCEPT_LANGUAGE=language)
    event = over_the_socket(f"{ws_url}?token={token}&lang={language}", {"alliance": qingguo.alliance.pk, **flag})

    # then both answer the REST 404's body, which says nothing about the alliance, and nothing is flagged
    assert rest.status_code == 404
    assert rest.json()["code"] == "not_found"
    assert as_rest_body(event) == rest.json()
    assert not Dispute.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_store_of_another_alliance_is_not_found_over_the_socket_as_over_rest(
    ws_url, qingguo, fengming, client_factory
):
    client = client_factory()
    token = client.login_with_password(str(qingguo.merchant.phone))
    flag = {"category": "quarrel", "store": fengming.store.pk}

    rest = client.post_json(f"/api/v1/alliances/{qingguo.alliance.pk}/disputes", flag)
    event = over_the_socket(f"{ws_url}?token={token}", {"alliance": qingguo.alliance.pk, **flag})

    assert rest.status_code == 404
    assert as_rest_body(event) == rest.json()
    assert not Dispute.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_flag_over_the_socket_may_name_the_store_but_carries_no_photos(ws_url, qingguo, client_factory):
    token = client_factory().login_with_password(str(qingguo.other_merchant.phone))
    url = f"{ws_url}?token={token}"

    # when the other merchant flags at the florist's, once with photos and once without
    with_photos = over_the_socket(
        url, {"alliance": qingguo.alliance.pk, "category": "quarrel", "photos": ["aGVsbG8="], "client_id": "p"}
    )
    flagged = over_the_socket(
        url, {"alliance": qingguo.alliance.pk, "category": "quarrel", "store": qingguo.store.pk}, answer="flagged"
    )

    # then photos are an unknown field of the frame, and the store is the flag's (its location, too)
    assert with_photos["code"] == "invalid" and with_photos["fields"] == {"photos": ["未知字段。"]}
    dispute = Dispute.objects.get()
    assert flagged["dispute"] == {"id": dispute.pk, "status": dispute.status, "level": dispute.level}
    assert dispute.store == qingguo.store and dispute.latitude == qingguo.store.latitude
