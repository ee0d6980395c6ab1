"""Idempotency-Key: mobile retries return the first answer and never run a creating request twice."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts import apis
from accounts.idempotency import idempotency_records_purge
from accounts.models import IdempotencyRecord


@pytest.fixture
def counted_role_take(monkeypatch):
    """Counts how often the view really ran the service behind POST /api/v1/me/roles."""
    calls: list[int] = []
    real = apis.role_take_self_service

    def counting(**kwargs):
        calls.append(1)
        time.sleep(0.05)  # widen the window in which concurrent duplicates arrive
        return real(**kwargs)

    monkeypatch.setattr(apis, "role_take_self_service", counting)
    return calls


@pytest.mark.django_db
def test_a_retry_with_the_same_key_replays_the_first_answer(login, user_factory, counted_role_take):
    client = login(user_factory())

    first = client.post_json("/api/v1/me/roles", {"role": "merchant"}, HTTP_IDEMPOTENCY_KEY="k-1")
    retry = client.post_json("/api/v1/me/roles", {"role": "merchant"}, HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert len(counted_role_take) == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_rejected(login, user_factory, counted_role_take):
    client = login(user_factory())
    client.post_json("/api/v1/me/roles", {"role": "merchant"}, HTTP_IDEMPOTENCY_KEY="k-2")

    response = client.post_json("/api/v1/me/roles", {"role": "volunteer"}, HTTP_IDEMPOTENCY_KEY="k-2")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert len(counted_role_take) == 1
    assert client.get("/api/v1/me").json()["roles"] == ["merchant"]


@pytest.mark.django_db
def test_keys_belong_to_one_user(login, user_factory, counted_role_take):
    alice, bob = login(user_factory()), login(user_factory())

    alice.post_json("/api/v1/me/roles", {"role": "merchant"}, HTTP_IDEMPOTENCY_KEY="shared")
    response = bob.post_json("/api/v1/me/roles", {"role": "merchant"}, HTTP_IDEMPOTENCY_KEY="shared")

    # Bob's request runs for Bob: he never receives Alice's stored answer
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert response.json()["id"] != alice.get("/api/v1/me").json()["id"]
    assert len(counted_role_take) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "中文"])
def test_malformed_keys_are_refused(login, user_factory, key):
    response = login(user_factory()).post(
        "/api/v1/me/roles",
        json.dumps({"role": "merchant"}),
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
def test_failed_validation_is_replayed_but_a_server_error_is_not_remembered(login, user_factory, monkeypatch):
    client = login(user_factory())
    bad = client.post_json("/api/v1/me/roles", {"role": "king"}, HTTP_IDEMPOTENCY_KEY="k-bad")

    def boom(**kwargs):
        raise RuntimeError("database fell over")

    monkeypatch.setattr(apis, "role_take_self_service", boom)
    client.raise_request_exception = False
    crashed = client.post_json("/api/v1/me/roles", {"role": "merchant"}, HTTP_IDEMPOTENCY_KEY="k-crash")

    assert bad.status_code == 400
    assert crashed.status_code == 500
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k-bad"]


@pytest.mark.django_db
def test_old_records_are_purged(login, user_factory):
    client = login(user_factory())
    client.post_json("/api/v1/me/roles", {"role": "merchant"}, HTTP_IDEMPOTENCY_KEY="k-old")

    kept = idempotency_records_purge(older_than_hours=1)
    purged = idempotency_records_purge(older_than_hours=-1)

    assert (kept, purged) == (0, 1)


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_identical_requests_run_once(live_server, user_factory, client_factory, counted_role_take):
    # given a logged-in phone that fires the same request twenty times at once (a flaky network, a double tap)
    user = user_factory()
    token = client_factory().login_with_password(str(user.phone))
    barrier = threading.Barrier(20)

    def send(_):
        request = urllib.request.Request(
            f"{live_server.url}/api/v1/me/roles",
            data=json.dumps({"role": "volunteer"}).encode(),
            headers={"Content-Type": "application/json", "X-Session-Token": token, "Idempotency-Key": "burst-1"},
            method="POST",
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    # when they all arrive together
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(send, range(20)))

    # then the view ran once and every caller got the same answer
    assert len(counted_role_take) == 1
    assert {status for status, _ in answers} == {201}
    assert len({body for _, body in answers}) == 1
    assert IdempotencyRecord.objects.filter(key="burst-1").count() == 1
