"""Account security: nothing a stranger sets on an unverified number survives its owner's verification, unverified
sign-ups are purged, and nobody can lock an owner out of their own account."""

from __future__ import annotations

import pytest

from accounts import sms
from accounts.models import User

AUTH = "/_allauth/app/v1/auth"
STRANGERS_PASSWORD = "Stranger-chose-2026"


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
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "verify_phone": "", "request_login_code": ""}

    # when the owner signs up too (the number is taken: nothing happens) and then logs in by SMS code
    owner = client_factory()
    assert owner.post_json(f"{AUTH}/signup", {"phone": phone}).status_code == 401
    logged_in = code_login(owner, phone)
    stranger_login = client_factory().post_json(f"{AUTH}/login", {"phone": phone, "password": STRANGERS_PASSWORD})

    # then the owner is in, with a verified number, and the stranger's password opens nothing
    assert logged_in.status_code == 200
    user = User.objects.get(phone=phone)
    assert user.phone_verified
    assert not user.has_usable_password()
    assert stranger_login.status_code == 400
    assert stranger_login.json()["errors"][0]["code"] == "phone_password_mismatch"
    assert "session_token" not in stranger_login.json().get("meta", {})


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
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "verify_phone": ""}

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
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "verify_phone": ""}

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
