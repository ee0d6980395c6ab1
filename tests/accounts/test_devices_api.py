"""Device registration for push notifications: ``/api/v1/me/devices``. A token belongs to whoever registered it
last; a person sees and removes only their own; input is strict; the admin shows police their jurisdiction's."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import DeviceRegistration, Role
from accounts.personal_data import personal_data_export
from accounts.services import DEVICES_PER_PERSON, device_register, user_account_delete

pytestmark = pytest.mark.django_db

APNS_TOKEN = "a1b2c3d4" * 8  # 64 hex digits, as an iPhone's
JPUSH_TOKEN = "1a0018970a8e4d7b5c2"


def register(client, **body):
    return client.post_json("/api/v1/me/devices", {"platform": "android", "provider": "jpush", "token": JPUSH_TOKEN,
                                                    **body})  # fmt: skip


def test_registering_a_new_token_answers_201_and_again_200_with_the_same_device(merchant, login):
    # given
    client = login(merchant)

    # when
    first = register(client)
    again = register(client)

    # then
    assert first.status_code == 201, first.content
    assert again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert first.json() | {"registered_at": None} == {
        "id": first.json()["id"], "platform": "android", "provider": "jpush", "token": JPUSH_TOKEN,
        "registered_at": None,
    }  # fmt: skip
    assert DeviceRegistration.objects.filter(user=merchant).count() == 1


def test_a_token_registered_by_someone_else_moves_to_the_caller(merchant, volunteer, login):
    # given the phone was the merchant's
    register(login(merchant))

    # when the volunteer registers the same token (the phone changed hands)
    response = register(login(volunteer), platform="android")

    # then it is the volunteer's now, and the merchant's no longer
    assert response.status_code == 200
    device = DeviceRegistration.objects.get(provider="jpush", token=JPUSH_TOKEN)
    assert device.user == volunteer
    assert login(merchant).get("/api/v1/me/devices").json()["results"] == []


def test_the_same_token_of_two_providers_is_two_devices(merchant, login):
    client = login(merchant)

    register(client, provider="jpush", token="tok-12345678")
    response = register(client, provider="fcm", token="tok-12345678")

    assert response.status_code == 201
    assert DeviceRegistration.objects.filter(user=merchant).count() == 2


def test_the_list_shows_the_callers_devices_newest_first_and_pages(merchant, volunteer, login):
    # given
    client = login(merchant)
    register(client, token="merchant-phone-1")
    register(client, platform="ios", provider="apns", token=APNS_TOKEN)
    register(login(volunteer), token="volunteer-phone")

    # when
    page = client.get("/api/v1/me/devices?page_size=1")
    rest = client.get(page.json()["next"])

    # then
    assert page.status_code == 200
    assert [d["token"] for d in page.json()["results"]] == [APNS_TOKEN]
    assert [d["token"] for d in rest.json()["results"]] == ["merchant-phone-1"]


def test_a_person_removes_their_own_device_and_not_anyone_elses(merchant, volunteer, login):
    # given
    mine = register(login(merchant), token="merchant-phone").json()["id"]
    theirs = register(login(volunteer), token="volunteer-phone").json()["id"]
    client = login(merchant)

    # when
    foreign = client.delete(f"/api/v1/me/devices/{theirs}")
    own = client.delete(f"/api/v1/me/devices/{mine}")
    gone = client.delete(f"/api/v1/me/devices/{mine}")

    # then another's is not found (and stays), one's own goes
    assert foreign.status_code == 404 and foreign.json()["code"] == "not_found"
    assert own.status_code == 204
    assert gone.status_code == 404
    assert list(DeviceRegistration.objects.values_list("pk", flat=True)) == [theirs]


def test_removing_a_device_takes_no_body(merchant, login):
    client = login(merchant)
    device = register(client).json()["id"]

    response = client.delete(f"/api/v1/me/devices/{device}", '{"force": true}', content_type="application/json")

    assert response.status_code == 400 and "force" in response.json()["fields"]
    assert DeviceRegistration.objects.filter(pk=device).exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"token": "abc\x00defghij"}, "token"),
        ({"token": "has spaces in it"}, "token"),
        ({"token": "短的令牌令牌令牌令牌"}, "token"),
        ({"token": "x" * 256}, "token"),
        ({"token": "short"}, "token"),
        ({"token": 12345678901}, "token"),
        ({"platform": "windows"}, "platform"),
        ({"provider": "carrier-pigeon"}, "provider"),
        ({"platform": "android", "provider": "apns"}, "provider"),
        ({"user": 1}, "user"),
    ],
)
def test_bad_input_is_refused_naming_the_field(merchant, login, body, field):
    response = register(login(merchant), **body)

    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert not DeviceRegistration.objects.exists()


def test_signed_out_callers_are_refused(api_client):
    response = api_client.get("/api/v1/me/devices")

    assert response.status_code in (401, 403)


def test_a_person_keeps_at_most_their_newest_devices(merchant):
    # given more registrations than a person keeps
    for number in range(DEVICES_PER_PERSON + 2):
        device_register(user=merchant, platform="android", provider="jpush", token=f"phone-{number:04d}")

    # then the oldest two went
    tokens = set(DeviceRegistration.objects.filter(user=merchant).values_list("token", flat=True))
    assert len(tokens) == DEVICES_PER_PERSON
    assert "phone-0000" not in tokens and "phone-0001" not in tokens and f"phone-{DEVICES_PER_PERSON + 1:04d}" in tokens


def test_devices_join_the_data_export_and_go_with_the_account(merchant):
    # given
    device_register(user=merchant, platform="ios", provider="apns", token=APNS_TOKEN)

    # when
    exported = personal_data_export(user=merchant)["devices"]
    user_account_delete(user=merchant, confirm_phone=str(merchant.phone))

    # then
    assert [(d["platform"], d["provider"], d["token"]) for d in exported] == [("ios", "apns", APNS_TOKEN)]
    assert not DeviceRegistration.objects.filter(user=merchant).exists()


def test_the_admin_shows_police_their_jurisdictions_devices_read_only(street, other_street, user_factory):
    # given a merchant's phone on each street, and the police admin of the first street's station
    from tests.factories.alliance import station_staff_post

    police = user_factory(roles=[Role.POLICE_ADMIN])
    station_staff_post(station=street.station, user=police)
    mine, _ = device_register(user=street.merchant, platform="android", provider="jpush", token="lane-phone-1")
    theirs, _ = device_register(user=other_street.merchant, platform="android", provider="jpush", token="gold-phone")
    client = Client()
    client.force_login(police)

    # when
    listed = client.get("/admin/accounts/deviceregistration/")
    foreign = client.get(f"/admin/accounts/deviceregistration/{theirs.pk}/change/")
    delete = client.post(f"/admin/accounts/deviceregistration/{mine.pk}/delete/", {"post": "yes"})

    # then
    assert listed.status_code == 200
    assert {device.pk for device in listed.context["cl"].result_list} == {mine.pk}
    assert foreign.status_code == 302 and foreign["Location"] == "/admin/"
    assert delete.status_code == 403
    assert DeviceRegistration.objects.filter(pk=mine.pk).exists()
