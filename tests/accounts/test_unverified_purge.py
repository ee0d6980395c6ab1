"""The purge of sign-ups never verified: it empties the backlog in one run, and it never breaks a login that verifies
one of those rows at the same moment."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from allauth.account.internal.flows import login_by_code
from django.db import connection, transaction
from django.utils import timezone

from accounts import services, sms
from accounts.models import User
from accounts.services import users_unverified_purge

AUTH = "/_allauth/app/v1/auth"


@pytest.mark.django_db
def test_one_run_purges_every_batch(user_factory):
    # given more abandoned sign-ups than one batch (a thousand) holds
    day_ago = timezone.now() - timedelta(hours=25)
    User.objects.bulk_create(
        User(phone=f"+86139{n:08d}", phone_verified=False, date_joined=day_ago, password="!") for n in range(1001)
    )
    kept = user_factory(phone="+8613812345678", phone_verified=True, date_joined=day_ago)

    # when the purge runs once
    purged = users_unverified_purge()

    # then all of them are gone, and nothing else
    assert purged == 1001
    assert list(User.objects.values_list("pk", flat=True)) == [kept.pk]


@pytest.mark.django_db
def test_one_run_stops_after_a_bounded_number_of_batches(user_factory, monkeypatch):
    # given a backlog larger than a run's bound
    monkeypatch.setattr(services, "UNVERIFIED_PURGE_BATCH", 2)
    monkeypatch.setattr(services, "UNVERIFIED_PURGE_MAX_BATCHES", 2)
    day_ago = timezone.now() - timedelta(hours=25)
    for _ in range(5):
        user_factory(phone_verified=False, date_joined=day_ago)

    # when the purge runs twice
    first, second = users_unverified_purge(), users_unverified_purge()

    # then each run deletes at most its bound, and the next run goes on
    assert (first, second) == (4, 1)


@pytest.mark.django_db
def test_a_code_login_whose_signup_is_purged_meanwhile_answers_a_clear_error(user_factory, client_factory, monkeypatch):
    # given an abandoned sign-up, and its number's owner asking for a code to log in
    phone = "+8613912375555"
    user_factory(phone=phone, phone_verified=False, date_joined=timezone.now() - timedelta(hours=25))
    client = client_factory()
    requested = client.post_json(f"{AUTH}/code/request", {"phone": phone})
    token = requested.json()["meta"]["session_token"]
    code = sms.outbox[-1].code

    # when the purge deletes the row while the code is being confirmed (after the login loaded the user)
    recorded = login_by_code.record_authentication

    def purge_first(*args, **kwargs):
        users_unverified_purge()
        return recorded(*args, **kwargs)

    monkeypatch.setattr(login_by_code, "record_authentication", purge_first)
    response = client.post_json(
        f"{AUTH}/code/confirm", {"code": code}, HTTP_X_SESSION_TOKEN=token, HTTP_ACCEPT_LANGUAGE="en"
    )

    # then the answer says to sign up again, not a server error, and nobody is logged in
    assert response.status_code == 409, response.content
    error = response.json()["errors"][0]
    assert error["code"] == "signup_expired"
    assert "sign up again" in error["message"]
    assert not User.objects.filter(phone=phone).exists()
    assert client.get(f"{AUTH}/session", HTTP_X_SESSION_TOKEN=token).status_code != 200


@pytest.mark.django_db(transaction=True)
def test_the_purge_leaves_a_row_that_a_verification_holds(user_factory):
    # given an abandoned sign-up whose row another connection has locked (a login verifying the number)
    user = user_factory(phone_verified=False, date_joined=timezone.now() - timedelta(hours=25))
    locked, release = threading.Event(), threading.Event()

    def verifying():
        try:
            with transaction.atomic():
                User.objects.select_for_update().get(pk=user.pk)
                locked.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    holder = threading.Thread(target=verifying)
    holder.start()
    assert locked.wait(timeout=10)

    # when the purge runs meanwhile
    try:
        purged = users_unverified_purge()
    finally:
        release.set()
        holder.join()

    # then it skipped the row without waiting for it, and a later run takes it
    assert purged == 0
    assert users_unverified_purge() == 1
