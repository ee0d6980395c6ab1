"""Stores: registration by merchant members, coordinates, verification, staff, photos, and who sees them."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import Role
from alliance.models import Store, StoreStaff
from tests.factories.alliance import MemberRole, store_make, store_staff_make, store_verified

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825


def store_body(alliance, **changes) -> dict:
    body = {
        "alliance": alliance.pk,
        "name": "青果巷银丝面馆",
        "category": "restaurant",
        "address": "常州市天宁区青果巷1号",
        "latitude": 31.7771234567,
        "longitude": 119.956,
        "business_licence_number": "91320402MA1XXXXX0X",
        "opening_hours": "10:00-22:00",
    }
    return {**body, **changes}


@pytest.fixture
def shop(city, member_of):
    """A merchant member of alliance A and their unverified store."""
    owner = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT, display_name="蒋老板")
    return store_make(
        owner=owner,
        alliance=city.alliance_a,
        name="老常州大麻糕",
        address="青果巷2号",
        latitude=31.777,
        longitude=119.95,
    )


def jpeg_with_gps(size=(2400, 1200)) -> bytes:
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (31.0, 46.0, 37.0), 3: "E", 4: (119.0, 57.0, 21.0)}
    exif[0x010F] = "PhoneMaker"  # camera make
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


# --- registration -------------------------------------------------------------------------------------------------


def test_a_merchant_member_registers_a_store_awaiting_verification(city, login, member_of):
    merchant = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)

    response = login(merchant).post_json("/api/v1/stores", store_body(city.alliance_a))

    assert response.status_code == 201, response.content
    store = Store.objects.get(pk=response.json()["id"])
    assert store.owner == merchant and store.alliance == city.alliance_a and not store.is_verified
    assert str(store.latitude) == "31.777123"  # rounded to six places, not refused for having more
    assert response.json()["latitude"] == pytest.approx(31.777123)
    assert response.json()["photo_url"] is None


@pytest.mark.parametrize(
    ("latitude", "longitude", "field"),
    [
        (91, 119.9, "latitude"),
        (-90.5, 119.9, "latitude"),
        (31.7, 180.01, "longitude"),
        (31.7, -181, "longitude"),
        (0, 0, "latitude"),
        ("31.7", "abc", "longitude"),
    ],
)
def test_impossible_coordinates_are_refused(city, login, member_of, latitude, longitude, field):
    merchant = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)

    response = login(merchant).post_json(
        "/api/v1/stores", store_body(city.alliance_a, latitude=latitude, longitude=longitude)
    )

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Store.objects.exists()


def test_only_merchant_members_register_stores(city, login, member_of, merchant):
    volunteer = member_of(city.alliance_a, Role.VOLUNTEER, MemberRole.VOLUNTEER)

    by_volunteer = login(volunteer).post_json("/api/v1/stores", store_body(city.alliance_a))
    by_outsider = login(merchant).post_json("/api/v1/stores", store_body(city.alliance_a))

    assert by_volunteer.status_code == 403
    assert by_outsider.status_code == 404  # not a member: the alliance does not exist for them
    assert not Store.objects.exists()


# --- visibility ---------------------------------------------------------------------------------------------------


def test_unverified_stores_are_seen_by_their_owner_and_the_admins_only(city, login, member_of, shop):
    other_merchant = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)
    url = f"/api/v1/stores/{shop.pk}"

    assert login(shop.owner).get(url).status_code == 200
    assert login(city.admin_x).get(url).status_code == 200
    assert login(other_merchant).get(url).status_code == 404
    assert login(other_merchant).get("/api/v1/stores").json()["results"] == []

    Store.objects.filter(pk=shop.pk).update(is_verified=True)
    assert login(other_merchant).get(url).status_code == 200


def test_stores_of_another_alliance_are_not_found(city, login, member_of, shop):
    Store.objects.filter(pk=shop.pk).update(is_verified=True)
    outsider = member_of(city.alliance_b, Role.MERCHANT, MemberRole.MERCHANT)
    client = login(outsider)

    answers = [
        client.get(f"/api/v1/stores/{shop.pk}"),
        client.patch(f"/api/v1/stores/{shop.pk}", {"name": "改名"}, format="json"),
        client.get(f"/api/v1/stores/{shop.pk}/staff"),
        client.post_json(f"/api/v1/stores/{shop.pk}/verification", {"verified": False}),
        login(city.admin_y).get(f"/api/v1/stores/{shop.pk}"),
    ]

    assert [answer.status_code for answer in answers] == [404] * len(answers)
    assert client.get("/api/v1/stores").json()["results"] == []
    assert client.get("/api/v1/stores", {"alliance": city.alliance_a.pk}).json()["results"] == []


# --- editing and verification -------------------------------------------------------------------------------------


def test_only_alliance_admins_verify(city, login, member_of, shop):
    liaison = member_of(city.alliance_a, Role.OFFICER, MemberRole.POLICE_LIAISON)
    url = f"/api/v1/stores/{shop.pk}/verification"

    by_owner = login(shop.owner).post_json(url, {"verified": True})
    by_admin = login(city.admin_x).post_json(url, {"verified": True})
    # once verified, the liaison sees the store, and still may not withdraw the verification
    by_liaison = login(liaison).post_json(url, {"verified": False})

    assert by_owner.status_code == 403 and by_liaison.status_code == 403
    assert by_admin.status_code == 200 and by_admin.json()["is_verified"] is True
    shop.refresh_from_db()
    assert shop.is_verified and shop.verified_by == city.admin_x


def test_renaming_a_verified_store_needs_verification_again(city, login, shop):
    Store.objects.filter(pk=shop.pk).update(is_verified=True)
    client = login(shop.owner)

    hours = client.patch(f"/api/v1/stores/{shop.pk}", {"opening_hours": "09:00-21:00"}, format="json")
    renamed = client.patch(f"/api/v1/stores/{shop.pk}", {"name": "老常州大麻糕总店"}, format="json")

    assert hours.status_code == 200 and hours.json()["is_verified"] is True
    assert renamed.status_code == 200 and renamed.json()["is_verified"] is False


def test_other_members_cannot_edit_a_store(city, login, member_of, shop):
    Store.objects.filter(pk=shop.pk).update(is_verified=True)
    other = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)

    response = login(other).patch(f"/api/v1/stores/{shop.pk}", {"name": "抢注"}, format="json")

    assert response.status_code == 403
    shop.refresh_from_db()
    assert shop.name == "老常州大麻糕"


def test_editing_coordinates_is_checked_too(city, login, shop):
    response = login(shop.owner).patch(f"/api/v1/stores/{shop.pk}", {"latitude": 0, "longitude": 0}, format="json")

    assert response.status_code == 400 and response.json()["code"] == "invalid_coordinates"


# --- staff --------------------------------------------------------------------------------------------------------


def test_the_owner_adds_staff_by_number_and_staff_may_edit(city, login, member_of, shop, user_factory):
    helper = member_of(city.alliance_a, Role.VOLUNTEER, MemberRole.VOLUNTEER)
    stranger = user_factory(roles=[Role.MERCHANT])
    owner = login(shop.owner)

    added = owner.post_json(f"/api/v1/stores/{shop.pk}/staff", {"phone": str(helper.phone)})
    not_member = owner.post_json(f"/api/v1/stores/{shop.pk}/staff", {"phone": str(stranger.phone)})
    edited = login(helper).patch(f"/api/v1/stores/{shop.pk}", {"opening_hours": "全天"}, format="json")
    staff = owner.get(f"/api/v1/stores/{shop.pk}/staff").json()["results"]

    assert added.status_code == 201 and added.json()["user"]["id"] == helper.pk
    assert not_member.status_code == 400 and not_member.json()["code"] == "not_alliance_member"
    assert not StoreStaff.objects.filter(user=stranger).exists()
    assert edited.status_code == 200 and edited.json()["opening_hours"] == "全天"
    assert [row["user"]["phone"] for row in staff] == [f"{str(helper.phone)[3:6]}****{str(helper.phone)[-4:]}"]


def test_staff_cannot_add_staff_and_leave_with_the_alliance(city, login, member_of, shop):
    helper = member_of(city.alliance_a, Role.VOLUNTEER, MemberRole.VOLUNTEER)
    another = member_of(city.alliance_a, Role.VOLUNTEER, MemberRole.VOLUNTEER)
    store_staff_make(store=shop, user=helper)

    by_staff = login(helper).post_json(f"/api/v1/stores/{shop.pk}/staff", {"phone": str(another.phone)})
    login(helper).delete(f"/api/v1/alliances/{city.alliance_a.pk}/membership")

    assert by_staff.status_code == 403
    assert not StoreStaff.objects.filter(store=shop).exists()


# --- photos -------------------------------------------------------------------------------------------------------


def upload(client, store, content: bytes, name="photo.jpg", content_type="image/jpeg"):
    return client.post(
        f"/api/v1/stores/{store.pk}/photo",
        {"photo": SimpleUploadedFile(name, content, content_type=content_type)},
        format="multipart",
    )


def test_a_photo_is_stored_without_exif_and_at_most_1600_px(city, login, shop):
    # given a phone photo that carries the GPS position where it was taken
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)

    # when the owner uploads it
    response = upload(login(shop.owner), shop, original)

    # then it is stored re-encoded: no EXIF at all, longest side 1600 px
    assert response.status_code == 201, response.content
    shop.refresh_from_db()
    with shop.photo.open("rb") as stored_file, Image.open(stored_file) as stored:
        assert stored.format == "JPEG"
        assert max(stored.size) == 1600
        assert not stored.getexif()
        assert "exif" not in stored.info
    assert response.json()["photo_url"] == f"/api/v1/stores/{shop.pk}/photo"


def test_the_photo_is_served_to_those_who_see_the_store_only(city, login, member_of, shop):
    upload(login(shop.owner), shop, jpeg_with_gps((800, 600)))
    outsider = member_of(city.alliance_b, Role.MERCHANT, MemberRole.MERCHANT)

    mine = login(shop.owner).get(f"/api/v1/stores/{shop.pk}/photo")
    foreign = login(outsider).get(f"/api/v1/stores/{shop.pk}/photo")
    anonymous = login(shop.owner).__class__().get(f"/api/v1/stores/{shop.pk}/photo")

    assert mine.status_code == 200 and mine["Content-Type"] == "image/jpeg"
    assert b"".join(mine.streaming_content).startswith(b"\xff\xd8")
    assert foreign.status_code == 404 and anonymous.status_code == 401


def test_a_text_file_named_jpg_is_refused(city, login, shop):
    response = upload(login(shop.owner), shop, b"this is not a picture at all\n" * 10)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_image" and "photo" in response.json()["fields"]
    shop.refresh_from_db()
    assert not shop.photo


def test_a_six_megabyte_upload_is_refused(city, login, shop):
    big = jpeg_with_gps((100, 100)) + b"\0" * (6 * 1024 * 1024)

    response = upload(login(shop.owner), shop, big)

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    shop.refresh_from_db()
    assert not shop.photo


def test_other_members_cannot_change_the_photo(city, login, member_of, shop):
    Store.objects.filter(pk=shop.pk).update(is_verified=True)
    other = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)

    response = upload(login(other), shop, jpeg_with_gps((200, 200)))

    assert response.status_code == 403


def test_a_new_photo_replaces_the_old_file(city, login, shop, django_capture_on_commit_callbacks):
    client = login(shop.owner)
    upload(client, shop, jpeg_with_gps((300, 300)))
    shop.refresh_from_db()
    first = shop.photo.name

    with django_capture_on_commit_callbacks(execute=True):  # the old file goes once the new one is committed
        upload(client, shop, jpeg_with_gps((400, 300)))

    shop.refresh_from_db()
    assert shop.photo.name != first
    assert shop.photo.storage.exists(shop.photo.name)
    assert not shop.photo.storage.exists(first)


# --- query counts -------------------------------------------------------------------------------------------------


def test_store_list_pins_its_queries(city, login, member_of, django_assert_max_num_queries):
    for number in range(25):
        owner = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)
        store = store_make(
            owner=owner, alliance=city.alliance_a, name=f"店{number}", address="青果巷", latitude=31.7, longitude=119.9
        )
        store_verified(store=store, by=city.admin_x)
    merchant = login(owner)
    admin = login(city.admin_x)

    with django_assert_max_num_queries(5):
        seen_by_merchant = merchant.get("/api/v1/stores")
    with django_assert_max_num_queries(6):
        seen_by_admin = admin.get("/api/v1/stores", {"category": "other"})

    assert len(seen_by_merchant.json()["results"]) == 25
    assert len(seen_by_admin.json()["results"]) == 25
