"""Who sees which alliance and member, masked numbers, on-duty responders, and police admins' jurisdiction."""

from __future__ import annotations

import pytest

from accounts.models import Role
from alliance.models import Alliance, AllianceMembership, StationStaff
from groups.models import ContactGroup, GroupMembership
from tests.factories.alliance import MemberRole, alliance_make

pytestmark = pytest.mark.django_db


def masked(phone) -> str:
    national = str(phone)[3:]
    return f"{national[:3]}****{national[-4:]}"


# --- masking ------------------------------------------------------------------------------------------------------


def test_merchants_see_masked_numbers_and_officers_see_them_in_full(city, login, member_of):
    # given a merchant and a police liaison in the same alliance, and a volunteer to look up
    merchant = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)
    officer = member_of(city.alliance_a, Role.OFFICER, MemberRole.POLICE_LIAISON)
    volunteer = member_of(city.alliance_a, Role.VOLUNTEER, MemberRole.VOLUNTEER)
    url = f"/api/v1/alliances/{city.alliance_a.pk}/members"

    # when each lists the members
    seen_by_merchant = {row["user"]["id"]: row["user"]["phone"] for row in login(merchant).get(url).json()["results"]}
    seen_by_officer = {row["user"]["id"]: row["user"]["phone"] for row in login(officer).get(url).json()["results"]}

    # then the merchant sees 139****0001-style numbers, the officer the real ones
    assert seen_by_merchant[volunteer.pk] == masked(volunteer.phone)
    assert "****" in seen_by_merchant[volunteer.pk] and str(volunteer.phone)[-4:] in seen_by_merchant[volunteer.pk]
    assert all("****" in phone for phone in seen_by_merchant.values())
    assert seen_by_officer[volunteer.pk] == str(volunteer.phone)
    assert seen_by_officer[merchant.pk] == str(merchant.phone)


def test_mask_phone_keeps_three_and_four_digits():
    from accounts.presentation import mask_phone

    assert mask_phone("+8613812341234") == "138****1234"
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone(None) == ""
    assert mask_phone("+85291234567").startswith("+852 ") and "****" in mask_phone("+85291234567")


# --- scoping ------------------------------------------------------------------------------------------------------


def test_a_member_of_one_alliance_cannot_see_another(city, login, member_of):
    # given a merchant of alliance A and a member of alliance B
    merchant = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)
    member_of(city.alliance_b, Role.VOLUNTEER, MemberRole.VOLUNTEER)
    b_membership = AllianceMembership.objects.filter(alliance=city.alliance_b).first()
    client = login(merchant)
    b = city.alliance_b.pk

    # when they ask for B, its members, one of its members, or B's member through A's address
    answers = [
        client.get(f"/api/v1/alliances/{b}"),
        client.get(f"/api/v1/alliances/{b}/members"),
        client.get(f"/api/v1/alliances/{b}/members/{b_membership.pk}"),
        client.get(f"/api/v1/alliances/{city.alliance_a.pk}/members/{b_membership.pk}"),
        client.put(f"/api/v1/alliances/{b}/duty", {"on_duty": True}, format="json"),
        client.delete(f"/api/v1/alliances/{b}/membership"),
    ]

    # then every answer is 404 and their alliance list holds only A
    assert [answer.status_code for answer in answers] == [404] * len(answers)
    assert all(b"\xe5\x87\xa4" not in answer.content for answer in answers)  # no "凤" of B's name anywhere
    listed = client.get("/api/v1/alliances").json()["results"]
    assert [row["id"] for row in listed] == [city.alliance_a.pk]
    assert listed[0]["my_role"] == "merchant"


def test_alliance_detail_shows_the_viewers_role_and_boundary(city, login, member_of):
    volunteer = member_of(city.alliance_a, Role.VOLUNTEER, MemberRole.VOLUNTEER)

    body = login(volunteer).get(f"/api/v1/alliances/{city.alliance_a.pk}").json()

    assert body["my_role"] == "volunteer" and body["member_count"] == 2
    assert body["station"]["name"] == "局前街派出所" and body["office"]["kind"] == "office"
    assert body["boundary"] is None


# --- jurisdiction -------------------------------------------------------------------------------------------------


def test_a_police_admin_sees_the_alliances_of_their_jurisdiction_only(city, login):
    # given a third alliance under station X's office, which admin X is not a member of
    other = alliance_make(name="南大街联盟", slug="nandajie", station=city.station_x)

    listed = login(city.admin_x).get("/api/v1/alliances").json()["results"]
    foreign = login(city.admin_x).get(f"/api/v1/alliances/{city.alliance_b.pk}")
    foreign_members = login(city.admin_x).get(f"/api/v1/alliances/{city.alliance_b.pk}/members")

    assert {row["id"] for row in listed} == {city.alliance_a.pk, other.pk}
    assert {row["id"]: row["my_role"] for row in listed} == {city.alliance_a.pk: "admin", other.pk: None}
    assert foreign.status_code == 404 and foreign_members.status_code == 404


def test_a_police_admin_runs_alliances_of_their_jurisdiction_without_being_a_member(city, login, user_factory):
    # given an alliance of station X that admin X is not a member of (its admin is someone else)
    other = alliance_make(name="南大街联盟", slug="nandajie", station=city.station_x)
    admin = login(city.admin_x)

    # when admin X makes an invite there, and admin Y tries the same
    own = admin.post_json(f"/api/v1/alliances/{other.pk}/invites", {"auto_approve": True})
    foreign = login(city.admin_y).post_json(f"/api/v1/alliances/{other.pk}/invites", {})

    # then X may, Y gets 404
    assert own.status_code == 201 and foreign.status_code == 404


def test_police_admins_create_alliances_in_their_jurisdiction_only(city, login, volunteer):
    body = {"name": "新北大街联盟", "station": city.station_x.pk, "office": city.office_x.pk}

    created = login(city.admin_x).post_json("/api/v1/alliances", body)
    foreign = login(city.admin_y).post_json("/api/v1/alliances", {**body, "name": "越界联盟", "office": None})
    by_volunteer = login(volunteer).post_json("/api/v1/alliances", {**body, "name": "志愿者联盟"})

    assert created.status_code == 201, created.content
    alliance = Alliance.objects.get(pk=created.json()["id"])
    assert created.json()["my_role"] == "admin" and alliance.created_by == city.admin_x
    assert alliance.slug  # generated: Chinese names have no ASCII slug of their own
    assert set(ContactGroup.objects.filter(alliance=alliance).values_list("kind", flat=True)) == {"main", "prevention"}
    assert GroupMembership.objects.filter(group__alliance=alliance, user=city.admin_x, role="admin").count() == 2
    assert foreign.status_code == 403 and by_volunteer.status_code == 403
    assert not Alliance.objects.filter(name__in=["越界联盟", "志愿者联盟"]).exists()


def test_an_alliance_belongs_to_a_station_not_to_an_office(city, login):
    office_as_station = login(city.admin_x).post_json(
        "/api/v1/alliances", {"name": "警务室联盟", "station": city.office_x.pk}
    )
    foreign_office = login(city.admin_x).post_json(
        "/api/v1/alliances", {"name": "错配联盟", "station": city.station_x.pk, "office": city.station_y.pk}
    )

    assert office_as_station.status_code == 400 and "station" in office_as_station.json()["fields"]
    assert foreign_office.status_code == 400 and "office" in foreign_office.json()["fields"]


def test_police_admins_post_officers_to_units_of_their_jurisdiction(city, login, user_factory):
    officer = user_factory(roles=[Role.OFFICER])
    merchant = user_factory(roles=[Role.MERCHANT])
    admin = login(city.admin_x)

    to_office = admin.post_json(f"/api/v1/stations/{city.office_x.pk}/staff", {"user": officer.pk})
    not_police = admin.post_json(f"/api/v1/stations/{city.office_x.pk}/staff", {"user": merchant.pk})
    foreign_unit = admin.post_json(f"/api/v1/stations/{city.station_y.pk}/staff", {"user": officer.pk})
    units = admin.get("/api/v1/stations").json()["results"]

    assert to_office.status_code == 201
    assert StationStaff.objects.filter(user=officer, station=city.office_x, granted_by=city.admin_x).exists()
    assert not_police.status_code == 400 and not_police.json()["code"] == "not_police"
    assert foreign_unit.status_code == 404
    assert {unit["id"] for unit in units} == {city.station_x.pk, city.office_x.pk}


def test_police_admins_cannot_remove_their_own_post(city, login):
    response = login(city.admin_x).delete(f"/api/v1/stations/{city.station_x.pk}/staff/{city.admin_x.pk}")

    assert response.status_code == 400 and response.json()["code"] == "cannot_remove_own_post"
    assert StationStaff.objects.filter(user=city.admin_x, station=city.station_x).exists()


def test_user_lookup_is_the_jurisdiction_and_a_full_number_finds_anyone(city, login, member_of, user_factory):
    # given a merchant of A (X's jurisdiction), a volunteer of B (Y's), and a fresh sign-up
    ours = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)
    theirs = member_of(city.alliance_b, Role.VOLUNTEER, MemberRole.VOLUNTEER)
    fresh = user_factory()
    admin = login(city.admin_x)

    # when admin X lists people, and looks numbers up
    listed = {row["id"] for row in admin.get("/api/v1/users").json()["results"]}
    by_full_number = admin.get("/api/v1/users", {"phone": str(fresh.phone)}).json()["results"]
    by_part = admin.get("/api/v1/users", {"phone": str(theirs.phone)[-6:]}).json()["results"]

    # then the list is X's people; a full number finds the fresh sign-up; part of B's volunteer's number does not
    assert listed == {city.admin_x.pk, ours.pk}
    assert [row["id"] for row in by_full_number] == [fresh.pk]
    assert by_part == []


def test_police_admins_act_on_their_jurisdiction_and_fresh_sign_ups_only(city, login, member_of, user_factory):
    theirs = member_of(city.alliance_b, Role.VOLUNTEER, MemberRole.VOLUNTEER)
    fresh = user_factory()
    admin = login(city.admin_x)

    foreign = admin.post_json(f"/api/v1/users/{theirs.pk}/roles", {"role": "officer"})
    recruit = admin.post_json(f"/api/v1/users/{fresh.pk}/roles", {"role": "officer"})
    foreign_detail = admin.get(f"/api/v1/users/{theirs.pk}")

    assert foreign.status_code == 404 and foreign_detail.status_code == 404
    assert recruit.status_code == 201


# --- on duty ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform_role", "alliance_role", "refused_with"),
    [
        # Volunteers are on duty by checking in to a patrol shift (issue 11), not by the switch.
        (Role.VOLUNTEER, MemberRole.VOLUNTEER, "volunteer_duty_by_check_in"),
        (Role.MALL_MANAGER, MemberRole.MALL_MANAGER, None),
        (Role.OFFICER, MemberRole.POLICE_LIAISON, None),
        (Role.OFFICER, MemberRole.VOLUNTEER, None),
        (Role.MERCHANT, MemberRole.MERCHANT, "not_a_responder"),
    ],
)
def test_only_responders_go_on_duty(city, login, member_of, platform_role, alliance_role, refused_with):
    person = member_of(city.alliance_a, platform_role, alliance_role)

    response = login(person).put(f"/api/v1/alliances/{city.alliance_a.pk}/duty", {"on_duty": True}, format="json")

    membership = AllianceMembership.objects.get(alliance=city.alliance_a, user=person)
    if refused_with is None:
        assert response.status_code == 200 and response.json()["on_duty"] is True
        assert membership.on_duty and membership.on_duty_since is not None
    else:
        assert response.status_code == 403 and response.json()["code"] == refused_with
        assert not membership.on_duty


def test_on_duty_shows_in_the_member_list_and_going_off_clears_it(city, login, member_of):
    manager = member_of(city.alliance_a, Role.MALL_MANAGER, MemberRole.MALL_MANAGER)
    client = login(manager)
    url = f"/api/v1/alliances/{city.alliance_a.pk}"

    first = client.put(f"{url}/duty", {"on_duty": True}, format="json").json()
    again = client.put(f"{url}/duty", {"on_duty": True}, format="json").json()
    on_duty = client.get(f"{url}/members", {"on_duty": "true"}).json()["results"]
    client.put(f"{url}/duty", {"on_duty": False}, format="json")
    after = client.get(f"{url}/members", {"on_duty": "true"}).json()["results"]

    assert again["on_duty_since"] == first["on_duty_since"]  # a second "on" keeps when the shift began
    assert [row["user"]["id"] for row in on_duty] == [manager.pk]
    assert after == []


# --- query counts -------------------------------------------------------------------------------------------------


def test_member_and_alliance_lists_pin_their_queries(city, login, member_of, django_assert_max_num_queries):
    for _ in range(30):
        member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)
    merchant_client = login(AllianceMembership.objects.filter(role="merchant").first().user)
    admin_client = login(city.admin_x)

    with django_assert_max_num_queries(7):
        members = merchant_client.get(f"/api/v1/alliances/{city.alliance_a.pk}/members", {"page_size": 50})
    with django_assert_max_num_queries(8):
        admin_members = admin_client.get(f"/api/v1/alliances/{city.alliance_a.pk}/members", {"page_size": 50})
    with django_assert_max_num_queries(6):
        alliances = admin_client.get("/api/v1/alliances")

    assert len(members.json()["results"]) == 31 and len(admin_members.json()["results"]) == 31
    assert alliances.json()["results"][0]["member_count"] == 31
