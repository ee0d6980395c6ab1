"""The owner can always get in, and nobody gets around the login limits: the admin site's login counts wrong
passwords in the same buckets as the app's, and strangers can neither lock the owner's own device out of password
login nor use up the texts that carry the owner's codes."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from allauth.core.internal import ratelimit
from django.test import Client

from accounts import sms
from tests.conftest import PinganClient
from tests.factories.accounts import DEMO_PASSWORD

AUTH = "/_allauth/app/v1/auth"
OWNER_DEVICE = "198.51.100.7"
STRANGER_DEVICE = "203.0.113.50"


def admin_login(client, phone: str, password: str, address: str, **extra):
    return client.post(
        "/admin/login/?next=/admin/", {"username": phone, "password": password}, REMOTE_ADDR=address, **extra
    )


def app_login(client, phone: str, password: str, address: str):
    return client.post_json(f"{AUTH}/login", {"phone": phone, "password": password}, REMOTE_ADDR=address)


def code_login(client, phone: str, address: str):
    requested = client.post_json(f"{AUTH}/code/request", {"phone": phone}, REMOTE_ADDR=address)
    if requested.status_code != 401:
        return requested
    token = requested.json()["meta"]["session_token"]
    code = [message for message in sms.outbox if message.phone == phone][-1].code
    return client.post_json(f"{AUTH}/code/confirm", {"code": code}, HTTP_X_SESSION_TOKEN=token, REMOTE_ADDR=address)


@pytest.fixture
def clock(monkeypatch):
    """The rate limits' clock, moved by hand (the SMS limits count per minute and per day)."""
    now = [time.time()]
    monkeypatch.setattr(
        ratelimit, "time", SimpleNamespace(time=lambda: now[0], monotonic=time.monotonic, sleep=time.sleep)
    )
    return now


@pytest.mark.django_db
def test_the_admin_login_is_locked_after_five_wrong_passwords_like_the_apps(police_admin):
    # given five wrong passwords on a police admin's number at the admin site's login
    browser = Client()
    phone = str(police_admin.phone)
    wrong = [admin_login(browser, phone, f"wrong-{n}", STRANGER_DEVICE) for n in range(5)]

    # when the right password is tried from the same address, at the admin site and in the app
    right = admin_login(browser, phone, DEMO_PASSWORD, STRANGER_DEVICE, HTTP_ACCEPT_LANGUAGE="en")
    in_app = app_login(PinganClient(), phone, DEMO_PASSWORD, STRANGER_DEVICE)

    # then both are refused with a message saying why, and nobody is logged in
    assert all(response.status_code == 200 for response in wrong)
    assert right.status_code == 200
    assert "Too many failed login attempts" in right.content.decode()
    assert "_auth_user_id" not in browser.session
    assert in_app.status_code == 400
    assert in_app.json()["errors"][0]["code"] == "too_many_login_attempts"


@pytest.mark.django_db
def test_wrong_passwords_in_the_app_lock_the_admin_login_too(police_admin, client_factory):
    # given five wrong passwords on a police admin's number in the app
    phone = str(police_admin.phone)
    for n in range(5):
        app_login(client_factory(), phone, f"wrong-{n}", STRANGER_DEVICE)

    # when the right password is tried at the admin site from that address, and from the owner's own
    browser, owners_browser = Client(), Client()
    strangers = admin_login(browser, phone, DEMO_PASSWORD, STRANGER_DEVICE)
    owners = admin_login(owners_browser, phone, DEMO_PASSWORD, OWNER_DEVICE)

    # then the stranger's address is refused and the owner's is let in
    assert strangers.status_code == 200 and "_auth_user_id" not in browser.session
    assert owners.status_code == 302 and owners["Location"] == "/admin/"
    assert owners_browser.session["_auth_user_id"] == str(police_admin.pk)


@pytest.mark.django_db
def test_the_admin_login_takes_the_number_as_people_type_it(police_admin):
    # given a police admin whose number is stored as +86...
    browser = Client()

    # when they type it without the country code
    response = admin_login(browser, str(police_admin.phone).removeprefix("+86"), DEMO_PASSWORD, OWNER_DEVICE)

    # then they are in
    assert response.status_code == 302
    assert browser.session["_auth_user_id"] == str(police_admin.pk)


@pytest.mark.django_db
def test_the_owner_gets_in_by_code_after_strangers_tried_passwords_and_asked_for_codes(
    user_factory, client_factory, clock
):
    # given six stranger addresses that each tried five wrong passwords on the owner's number (the per-number
    # ceiling: thirty an hour), and a stranger who then asked for ten codes to it, one a minute
    owner = user_factory()
    phone = str(owner.phone)
    for address in range(6):
        for n in range(5):
            app_login(client_factory(), phone, f"wrong-{n}", f"203.0.113.{address + 1}")
    asked = []
    for _ in range(10):
        clock[0] += 61
        asked.append(client_factory().post_json(f"{AUTH}/code/request", {"phone": phone}, REMOTE_ADDR=STRANGER_DEVICE))
    clock[0] += 61
    eleventh = client_factory().post_json(f"{AUTH}/code/request", {"phone": phone}, REMOTE_ADDR=STRANGER_DEVICE)

    # when the owner logs in by code from their own phone
    clock[0] += 61
    response = code_login(client_factory(), phone, OWNER_DEVICE)

    # then the stranger's eleventh code of the day was refused, and the owner is in
    assert [r.status_code for r in asked] == [401] * 10
    assert eleventh.status_code == 429
    assert response.status_code == 200, response.content
    assert response.json()["data"]["user"]["id"] == owner.pk


@pytest.mark.django_db
def test_a_number_gets_at_most_thirty_texts_a_day_from_all_addresses(user_factory, client_factory, clock):
    # given thirty codes asked for one number from three addresses
    phone = str(user_factory().phone)
    asked = []
    for address in range(3):
        for _ in range(10):
            clock[0] += 61
            asked.append(
                client_factory().post_json(f"{AUTH}/code/request", {"phone": phone}, REMOTE_ADDR=f"203.0.113.{address}")
            )

    # when a fourth address asks for one more that day
    clock[0] += 61
    more = client_factory().post_json(f"{AUTH}/code/request", {"phone": phone}, REMOTE_ADDR="203.0.113.9")

    # then it is refused (texts cost money and can be used for bombing), with a 429 asking to wait
    assert [r.status_code for r in asked] == [401] * 30
    assert more.status_code == 429
    assert more.json()["errors"][0]["code"] == "too_many_requests"
    assert len([message for message in sms.outbox if message.phone == phone]) == 30


@pytest.mark.django_db
def test_a_stranger_asking_codes_for_an_unregistered_number_meets_the_same_limits(client_factory, clock):
    # given a number nobody registered (answers must not tell)
    phone = "+8613912399999"
    asked = []
    for _ in range(11):
        clock[0] += 61
        asked.append(client_factory().post_json(f"{AUTH}/code/request", {"phone": phone}, REMOTE_ADDR=STRANGER_DEVICE))

    # then the eleventh is refused just as for a registered number
    assert [r.status_code for r in asked] == [401] * 10 + [429]
