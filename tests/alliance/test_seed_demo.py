from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Role, RoleGrant, User
from alliance.management.commands.seed_demo import DEMO_PASSWORD
from alliance.models import Alliance, AllianceMembership, Station, StationStaff, Store
from groups.models import ContactGroup, GroupMembership

SEEDED_MODELS = (
    User,
    RoleGrant,
    Station,
    StationStaff,
    Alliance,
    AllianceMembership,
    Store,
    ContactGroup,
    GroupMembership,
)


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in SEEDED_MODELS}


@pytest.mark.django_db
def test_second_run_creates_nothing_new():
    # given
    seed("--quiet")
    first = row_counts()

    # when
    output = seed("--quiet")

    # then
    assert row_counts() == first
    assert first["Alliance"] == 2
    assert first["Store"] >= 25
    assert "nothing new" in output


@pytest.mark.django_db
def test_qingguo_lane_alliance_has_its_station_and_office():
    # when
    seed("--quiet")

    # then
    alliance = Alliance.objects.select_related("station", "office").get(slug="qingpingguo")
    assert alliance.name == "青平果联盟"
    assert alliance.station.name == "常州市公安局天宁分局局前街派出所"
    assert alliance.station.kind == Station.Kind.STATION
    assert alliance.office.name == "青果巷警务室"
    assert alliance.office.kind == Station.Kind.OFFICE
    assert alliance.office.parent == alliance.station


@pytest.mark.django_db
def test_police_admin_may_use_the_admin_site_but_is_not_superuser():
    # when
    seed("--quiet")

    # then
    grant = RoleGrant.objects.active().get(role=Role.POLICE_ADMIN)
    assert grant.granted_by is None
    assert grant.user.is_staff
    assert not grant.user.is_superuser
    assert User.objects.filter(is_staff=True).count() == 1
    assert not User.objects.filter(is_superuser=True).exists()


@pytest.mark.django_db
def test_every_user_has_an_active_grant_and_a_verified_phone():
    # when
    seed("--quiet")

    # then
    for user in User.objects.all():
        assert user.phone_verified
        assert str(user.phone).startswith("+86138")
        assert RoleGrant.objects.active().filter(user=user).count() == 1


@pytest.mark.django_db
def test_every_store_owner_is_a_merchant_member_of_its_alliance():
    # when
    seed("--quiet")

    # then
    stores = list(Store.objects.select_related("owner", "alliance"))
    assert stores
    for store in stores:
        membership = AllianceMembership.objects.get(alliance=store.alliance, user=store.owner)
        assert membership.role == AllianceMembership.Role.MERCHANT
        assert RoleGrant.objects.active().filter(user=store.owner, role=Role.MERCHANT).exists()


@pytest.mark.django_db
def test_store_coordinates_are_valid_and_near_their_street():
    # given: the centres of Qingguo Lane and Fengming Golden Street
    centres = {"qingpingguo": (31.777, 119.956), "fengming-golden-street": (34.696, 116.595)}

    # when
    seed("--quiet")

    # then
    for store in Store.objects.select_related("alliance"):
        assert -90 <= store.latitude <= 90
        assert -180 <= store.longitude <= 180
        latitude, longitude = centres[store.alliance.slug]
        assert abs(float(store.latitude) - latitude) < 0.01
        assert abs(float(store.longitude) - longitude) < 0.01


@pytest.mark.django_db
def test_demo_password_logs_in_a_merchant_and_nothing_else():
    # when
    seed("--quiet")

    # then
    merchant = Store.objects.get(name="花漾花店").owner
    assert merchant.display_name == "李老板"
    assert merchant.check_password(DEMO_PASSWORD)
    assert not merchant.check_password("pingan-demo-2025")


@pytest.mark.django_db
def test_output_lists_logins_with_the_password_once(settings):
    # given: the default provider, which writes codes to the server log
    settings.SMS_PROVIDER = "console"

    # when
    output = seed()
    quiet = seed("--quiet")

    # then
    assert "+8613800000001" in output
    assert "李老板" in output
    assert output.count(DEMO_PASSWORD) == 1
    assert "server log" in output
    assert len(quiet.strip().splitlines()) == 1


@pytest.mark.django_db
def test_every_member_is_in_their_alliances_contact_groups():
    # when
    seed("--quiet")

    # then each alliance has its contact and prevention group, holding exactly its members; police and admins lead
    # (a patrol team's own group, Fengming's, holds the team: tests/groups/test_patrol_demo.py)
    for alliance in Alliance.objects.all():
        groups = ContactGroup.objects.filter(alliance=alliance).exclude(kind=ContactGroup.Kind.TEAM)
        assert set(groups.values_list("kind", flat=True)) == {ContactGroup.Kind.MAIN, ContactGroup.Kind.PREVENTION}
        members = set(AllianceMembership.objects.filter(alliance=alliance).values_list("user", "role"))
        for group in groups:
            in_group = dict(GroupMembership.objects.filter(group=group).values_list("user", "role"))
            assert set(in_group) == {user for user, _role in members}
            for user, role in members:
                expected = "admin" if role in ("admin", "police_liaison") else "member"
                assert in_group[user] == expected


@pytest.mark.django_db
def test_police_are_posted_in_the_jurisdiction_of_their_alliances():
    # when
    seed("--quiet")

    # then the station chief answers for both stations and each liaison works from their alliance's office
    from alliance.selectors.alliances import jurisdiction_station_ids

    chief = User.objects.get(phone="+8613800000001")
    station_ids = jurisdiction_station_ids(user=chief)
    for alliance in Alliance.objects.all():
        assert alliance.station_id in station_ids and alliance.office_id in station_ids
    for liaison in AllianceMembership.objects.filter(role=AllianceMembership.Role.POLICE_LIAISON):
        post = StationStaff.objects.get(user=liaison.user)
        assert post.station_id == liaison.alliance.office_id


@pytest.mark.django_db
def test_a_database_seeded_before_contact_groups_catches_up():
    # given a seeded city whose group memberships are missing (seeded before contact groups existed)
    seed("--quiet")
    GroupMembership.objects.all().delete()

    # when it is seeded again
    seed("--quiet")

    # then every member is back in the alliances' two groups (the patrol team's own group: test_patrol_demo.py)
    alliance_wide = GroupMembership.objects.exclude(group__kind=ContactGroup.Kind.TEAM)
    assert alliance_wide.count() == 2 * AllianceMembership.objects.count()


@pytest.mark.django_db
def test_the_demo_puts_responders_on_duty_but_not_volunteers_who_check_in_instead():
    # when the demo city is seeded
    call_command("seed_demo", stdout=StringIO())

    # then mall managers and police liaisons start on duty, volunteers do not (a check-in puts them on duty)
    memberships = AllianceMembership.objects.filter(role__in=["mall_manager", "police_liaison", "volunteer"])
    on_duty = {(m.role, m.on_duty) for m in memberships}
    assert ("mall_manager", True) in on_duty and ("police_liaison", True) in on_duty
    assert ("volunteer", False) in on_duty and ("volunteer", True) not in on_duty
