"""Account security: nothing a stranger sets on an unverified number survives its owner's verification, unverified
sign-ups are purged, and nobody can lock an owner out of their own account."""

from __future__ import annotations

import pytest

from accounts import sms
from accounts.models import User

AUTH = "/_allauth/app/v1/auth"
STRANGERS_PASSWORD = "Stranger-chose-2026"
# Several texts to one number within a minute, as these tests need them.
NO_TEXT_LIMITS = {"verify_phone": "", "request_login_code": "", "sms_per_number_and_address": "", "sms_per_number": ""}


def code_login(client, phone: str):
    requested = client.post_json(f"{AUTH}/code/request", {"phone": phone})
    assert requested.status_code == 401, requested.content
    token = requested.json()["meta"]["session_token"]
    code = [m for m in sms.outbox if m.phone == phone][-1].code
    return client.post_json(f"{AUTH}/code/confirm", {"code": code}, HTTP_X_SESSION_TOKEN=token)


@pytest.mark.django_db
def test_a_password_set_in_an_unverified_signup_does_not_survive_the_owners_code_login(client_factory, settings):
    # given a stranger who signed up with the owner's number and a password, and never verified it
    phone = "+8613912340001"
    stranger = client_factory()
    started = stranger.post_json(f"{AUTH}/signup", {"phone": phone, "password": STRANGERS_PASSWORD})
    assert started.status_code == 401
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, **NO_TEXT_LIMITS}

    # when the owner signs up too (the number is taken: nothing happens) and then logs in by SMS code
    owner = client_factory()
    assert owner.post_json(f"{AUTH}/signup", {"phone": phone}).status_code == 401
    logged_in = code_login(owner, phone)
    stranger_login = client_factory().post_json(f"{AUTH}/login", {"phone": phone, "password": STRANGERS_PASSWORD})
    strangers_token = started.json()["meta"]["session_token"]
    strangers_pending = stranger.get(f"{AUTH}/session", HTTP_X_SESSION_TOKEN=strangers_token)

    # then the owner is in, with a verified number, and the stranger's password opens nothing
    assert logged_in.status_code == 200
    user = User.objects.get(phone=phone)
    assert user.phone_verified
    assert not user.has_usable_password()
    assert stranger_login.status_code == 400
    assert stranger_login.json()["errors"][0]["code"] == "phone_password_mismatch"
    assert "session_token" not in stranger_login.json().get("meta", {})
    assert strangers_pending.json()["meta"]["is_authenticated"] is False  # their pending sign-up stays pending


@pytest.mark.django_db
def test_a_password_chosen_at_signup_survives_that_signups_own_verification(api_client):
    # given a person signing up with a password
    phone = "+8613912340002"
    started = api_client.post_json(f"{AUTH}/signup", {"phone": phone, "password": "Mine-own-2026"})
    token = started.json()["meta"]["session_token"]

    # when they verify the number in the same sign-up
    code = sms.outbox[-1].code
    verified = api_client.post_json(f"{AUTH}/phone/verify", {"code": code}, HTTP_X_SESSION_TOKEN=token)

    # then the password they chose logs them in later
    assert verified.status_code == 200
    again = api_client.__class__().post_json(f"{AUTH}/login", {"phone": phone, "password": "Mine-own-2026"})
    assert again.status_code == 200


@pytest.mark.django_db
def test_a_password_login_to_an_unverified_number_does_not_log_in(client_factory, settings):
    # given a stranger's unverified sign-up with a password
    phone = "+8613912340003"
    client_factory().post_json(f"{AUTH}/signup", {"phone": phone, "password": STRANGERS_PASSWORD})
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, **NO_TEXT_LIMITS}

    # when the stranger logs in with that password
    response = client_factory().post_json(f"{AUTH}/login", {"phone": phone, "password": STRANGERS_PASSWORD})

    # then the number must be verified first: the code goes to the number's owner, and nobody is logged in
    assert response.status_code == 401
    assert {"id": "verify_phone", "is_pending": True} in response.json()["data"]["flows"]
    assert response.json()["meta"]["is_authenticated"] is False


@pytest.mark.django_db
def test_a_password_proven_in_the_login_that_verifies_the_number_is_kept(client_factory, settings):
    # given a person who signed up with a password and left before verifying
    phone = "+8613912340004"
    client_factory().post_json(f"{AUTH}/signup", {"phone": phone, "password": "Mine-own-2026"})
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, **NO_TEXT_LIMITS}

    # when they come back, log in with that password and verify the number with the code in the same login
    client = client_factory()
    pending = client.post_json(f"{AUTH}/login", {"phone": phone, "password": "Mine-own-2026"})
    token = pending.json()["meta"]["session_token"]
    verified = client.post_json(f"{AUTH}/phone/verify", {"code": sms.outbox[-1].code}, HTTP_X_SESSION_TOKEN=token)

    # then they are in, and their password still works: the same client showed both password and code
    assert verified.status_code == 200
    assert User.objects.get(phone=phone).has_usable_password()


@pytest.mark.django_db
def test_signups_never_verified_within_a_day_are_purged_and_nothing_else(user_factory, police_admin):
    from datetime import timedelta

    from django.conf import settings as django_settings
    from django.utils import timezone

    from accounts.models import Role, RoleGrant
    from accounts.tasks import purge_unverified_signups_task

    # given sign-ups of every kind, most of them older than a day
    day_ago = timezone.now() - timedelta(hours=25)
    abandoned = [user_factory(phone_verified=False, date_joined=day_ago) for _ in range(2)]
    fresh = user_factory(phone_verified=False, date_joined=timezone.now() - timedelta(hours=23))
    verified = user_factory(phone_verified=True, date_joined=day_ago)
    logged_in_once = user_factory(phone_verified=False, date_joined=day_ago, last_login=day_ago)
    with_a_role = user_factory(phone_verified=False, date_joined=day_ago)
    RoleGrant.objects.create(user=with_a_role, role=Role.OFFICER, granted_by=police_admin)
    deleted = user_factory(phone=None, phone_verified=False, date_joined=day_ago, deleted_at=day_ago)
    staff = user_factory(phone_verified=False, date_joined=day_ago, is_staff=True)

    # when the periodic job runs (twice: it is idempotent)
    purged = purge_unverified_signups_task.delay().get()
    purged_again = purge_unverified_signups_task.delay().get()

    # then only the abandoned sign-ups are gone; verified and attached accounts are untouched
    assert purged == 2 and purged_again == 0
    assert not User.objects.filter(pk__in=[user.pk for user in abandoned]).exists()
    kept = [fresh, verified, logged_in_once, with_a_role, deleted, staff, police_admin]
    assert User.objects.filter(pk__in=[user.pk for user in kept]).count() == len(kept)
    schedule = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "accounts.tasks.purge_unverified_signups_task" in schedule


OWNER_DEVICE = "203.0.113.7"
STRANGER_DEVICE = "198.51.100.9"


def password_login(client, phone: str, password: str, address: str):
    return client.post_json(f"{AUTH}/login", {"phone": phone, "password": password}, REMOTE_ADDR=address)


def throttled(response) -> bool:
    codes = {error.get("code") for error in response.json().get("errors", [])}
    return response.status_code == 429 or (response.status_code == 400 and "too_many_login_attempts" in codes)


@pytest.mark.django_db
def test_a_strangers_wrong_passwords_do_not_lock_the_owners_device(client_factory, user_factory):
    # given an owner, and a stranger who tried six wrong passwords on the owner's number from their own address
    owner = user_factory()
    phone = str(owner.phone)
    tries = [password_login(client_factory(), phone, f"guess-{n}", STRANGER_DEVICE) for n in range(6)]

    # when the owner logs in with the right password from their phone, and the stranger tries the right one too
    owners_login = password_login(client_factory(), phone, "Pingan-test-2026", OWNER_DEVICE)
    strangers_right_guess = password_login(client_factory(), phone, "Pingan-test-2026", STRANGER_DEVICE)

    # then the stranger's address is locked out of that number, and the owner is not
    assert [t.json()["errors"][0]["code"] for t in tries[:5]] == ["phone_password_mismatch"] * 5
    assert throttled(tries[5])
    assert throttled(strangers_right_guess)
    assert owners_login.status_code == 200, owners_login.content


@pytest.mark.django_db
def test_failures_on_one_number_do_not_lock_another(client_factory, user_factory):
    # given five wrong passwords on one number
    one, other = user_factory(), user_factory()
    for n in range(5):
        password_login(client_factory(), str(one.phone), f"guess-{n}", STRANGER_DEVICE)

    # when another person logs in from the same address (a shared office or carrier NAT)
    response = password_login(client_factory(), str(other.phone), "Pingan-test-2026", STRANGER_DEVICE)

    # then they are let in
    assert response.status_code == 200, response.content


@pytest.mark.django_db
def test_code_login_works_while_password_login_is_locked(client_factory, user_factory):
    # given the owner's password login locked from the owner's own address
    owner = user_factory()
    phone = str(owner.phone)
    for n in range(6):
        password_login(client_factory(), phone, f"guess-{n}", OWNER_DEVICE)
    assert throttled(password_login(client_factory(), phone, "Pingan-test-2026", OWNER_DEVICE))

    # when the owner logs in by SMS code from that address
    client = client_factory()
    requested = client.post_json(f"{AUTH}/code/request", {"phone": phone}, REMOTE_ADDR=OWNER_DEVICE)
    token = requested.json()["meta"]["session_token"]
    confirmed = client.post_json(
        f"{AUTH}/code/confirm", {"code": sms.outbox[-1].code}, HTTP_X_SESSION_TOKEN=token, REMOTE_ADDR=OWNER_DEVICE
    )

    # then they are in
    assert confirmed.status_code == 200
    assert confirmed.json()["data"]["user"]["id"] == owner.pk


@pytest.mark.django_db
def test_a_throttled_code_request_answers_429_asking_to_wait(client_factory, user_factory):
    # given a code just sent to a number
    owner = user_factory()
    assert client_factory().post_json(f"{AUTH}/code/request", {"phone": str(owner.phone)}).status_code == 401

    # when another code is asked for within the minute
    again = client_factory().post_json(f"{AUTH}/code/request", {"phone": str(owner.phone)}, HTTP_ACCEPT_LANGUAGE="en")
    again_zh = client_factory().post_json(f"{AUTH}/code/request", {"phone": str(owner.phone)})

    # then the answer is 429 and says to wait, not that logins failed
    assert again.status_code == 429
    error = again.json()["errors"][0]
    assert error["code"] == "too_many_requests"
    assert "wait" in error["message"].lower()
    assert again_zh.status_code == 429
    assert again_zh.json()["errors"][0]["message"] != error["message"]  # translated


@pytest.mark.django_db
def test_guessing_one_number_from_many_addresses_meets_a_per_number_ceiling(client_factory, user_factory, settings):
    # given a per-number ceiling of four failures (thirty an hour in production)
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed_per_number": "4/h/key"}
    owner = user_factory()
    phone = str(owner.phone)

    # when four addresses each try one wrong password, and a fifth address tries
    for n in range(4):
        password_login(client_factory(), phone, f"guess-{n}", f"198.51.100.{n + 1}")
    fifth = password_login(client_factory(), phone, "guess-5", "198.51.100.5")

    # then the fifth is throttled whatever its address; the owner still gets in by code
    assert throttled(fifth)
    assert code_login(client_factory(), phone).status_code == 200
