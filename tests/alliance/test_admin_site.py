"""The admin site for police admins: in through the role, and only their own jurisdiction's objects in there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models.fields.files import FieldFile
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from accounts.services import role_grant, role_revoke
from alliance.models import (
    Alliance,
    AllianceInvite,
    AllianceJoinRequest,
    AllianceMembership,
    Station,
    Store,
    StoreStaff,
)
from groups.models import ContactGroup
from reports.models import Dispute, EscalationPolicy, Incident
from tests.factories.accounts import DEMO_PASSWORD, UserFactory
from tests.factories.alliance import MemberRole

pytestmark = pytest.mark.django_db


@dataclass
class Side:
    """One jurisdiction's objects of every kind the admin shows."""

    alliance: Alliance
    store: Store
    membership: AllianceMembership
    policy: EscalationPolicy
    dispute: Dispute
    incident: Incident


def _side(alliance: Alliance, member_of, name: str) -> Side:
    merchant = member_of(alliance, Role.MERCHANT, MemberRole.MERCHANT)
    store = Store.objects.create(
        alliance=alliance,
        owner=merchant,
        name=name,
        address="1 号",
        latitude=Decimal("31.77"),
        longitude=Decimal("119.95"),
    )
    StoreStaff.objects.create(store=store, user=merchant)
    invite = AllianceInvite.objects.create(
        alliance=alliance, code=f"code-{store.pk}", max_uses=5, expires_at=timezone.now() + timedelta(days=1)
    )
    newcomer = UserFactory(roles=[Role.VOLUNTEER])
    AllianceJoinRequest.objects.create(alliance=alliance, user=newcomer, role=MemberRole.VOLUNTEER, invite=invite)
    where = {"latitude": Decimal("31.77"), "longitude": Decimal("119.95")}
    return Side(
        alliance=alliance,
        store=store,
        membership=AllianceMembership.objects.get(alliance=alliance, user=merchant),
        policy=EscalationPolicy.objects.get_or_create(alliance=alliance)[0],
        dispute=Dispute.objects.create(alliance=alliance, reporter=merchant, category="quarrel", **where),
        incident=Incident.objects.create(
            alliance=alliance, reporter=merchant, category="theft", description=f"{name} 失窃", **where
        ),
    )


@pytest.fixture
def sides(city, member_of) -> tuple[Side, Side]:
    """Objects in alliance A (station X, admin_x's jurisdiction) and alliance B (station Y)."""
    return _side(city.alliance_a, member_of, "青果巷茶馆"), _side(city.alliance_b, member_of, "金街花店")


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _pks(response) -> set[int]:
    return {obj.pk for obj in response.context["cl"].result_list}


# Each changelist a police admin works in, and how to find the side's object of that kind.
CHANGELISTS = {
    "/admin/alliance/station/": None,
    "/admin/alliance/alliance/": lambda side: side.alliance.pk,
    "/admin/alliance/store/": lambda side: side.store.pk,
    "/admin/alliance/alliancemembership/": lambda side: side.membership.pk,
    "/admin/alliance/stationstaff/": None,
    "/admin/alliance/allianceinvite/": None,
    "/admin/alliance/alliancejoinrequest/": None,
    "/admin/alliance/storestaff/": None,
    "/admin/reports/escalationpolicy/": lambda side: side.policy.pk,
    "/admin/reports/dispute/": lambda side: side.dispute.pk,
    "/admin/reports/incident/": lambda side: side.incident.pk,
    "/admin/groups/contactgroup/": lambda side: ContactGroup.objects.filter(alliance=side.alliance).first().pk,
    "/admin/groups/groupmembership/": None,
    "/admin/groups/message/": None,
}


# --- getting in ---------------------------------------------------------------------------------------------------


def test_a_police_admin_sees_the_admin_index_with_their_sections(city):
    # given the police admin of station X (the role alone, as granted in the app)
    client = admin_client(city.admin_x)

    # when they open the admin site
    response = client.get("/admin/")

    # then they are in, with the alliance, case and group sections, and no account internals
    assert response.status_code == 200
    models = {model["object_name"] for app in response.context["app_list"] for model in app["models"]}
    assert {"Alliance", "Store", "AllianceMembership", "EscalationPolicy", "Dispute", "Incident"} <= models
    assert "IdempotencyRecord" not in models
    assert "RoleGrant" not in models


@pytest.mark.parametrize("role", [Role.MERCHANT, Role.VOLUNTEER, Role.OFFICER])
def test_people_who_are_not_police_admins_cannot_get_in_even_if_marked_staff(user_factory, role):
    # given a merchant, a volunteer and an officer, each (wrongly) marked as staff
    person = user_factory(roles=[role], is_staff=True)
    client = admin_client(person)

    # when they open the admin site and a changelist
    index = client.get("/admin/")
    changelist = client.get("/admin/alliance/alliance/")

    # then both send them to the login page
    assert index.status_code == 302 and index["Location"].startswith("/admin/login/")
    assert changelist.status_code == 302 and changelist["Location"].startswith("/admin/login/")


def test_the_admin_login_form_lets_a_police_admin_in_and_keeps_a_merchant_out(user_factory, police_admin, merchant):
    # given a police admin and a merchant, both with passwords
    # when each logs in through the admin's own login form
    police = Client().post(
        "/admin/login/?next=/admin/", {"username": str(police_admin.phone), "password": DEMO_PASSWORD}
    )
    shop = Client().post("/admin/login/?next=/admin/", {"username": str(merchant.phone), "password": DEMO_PASSWORD})

    # then the police admin is sent on to the index and the merchant stays on the form
    assert police.status_code == 302 and police["Location"] == "/admin/"
    assert shop.status_code == 200
    assert not shop.wsgi_request.user.is_authenticated


def test_granting_the_police_admin_role_makes_staff_and_revoking_it_undoes_that(user_factory, police_admin):
    # given an officer
    officer = user_factory(roles=[Role.OFFICER])

    # when a police admin grants them the police admin role, then revokes it
    role_grant(actor=police_admin, user=officer, role=Role.POLICE_ADMIN, reason="所长")
    officer.refresh_from_db()
    staff_after_grant = officer.is_staff
    role_revoke(actor=police_admin, user=officer, role=Role.POLICE_ADMIN)
    officer.refresh_from_db()

    # then they were staff while they held it, and are not any more
    assert staff_after_grant is True
    assert officer.is_staff is False


def test_a_revoked_police_admin_is_out_even_while_still_marked_staff(city, police_admin):
    # given admin_x lost the role but the staff flag was left set by hand
    city.admin_x.is_staff = True
    city.admin_x.save(update_fields=["is_staff"])
    role_revoke(actor=police_admin, user=city.admin_x, role=Role.POLICE_ADMIN)
    city.admin_x.is_staff = True
    city.admin_x.save(update_fields=["is_staff"])

    # when they open the admin site
    response = admin_client(city.admin_x).get("/admin/")

    # then they are sent to the login page
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


# --- seeing only the jurisdiction ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", list(CHANGELISTS))
def test_every_changelist_shows_a_police_admin_their_jurisdiction_only(city, sides, url):
    # given objects of every kind in alliance A (station X) and alliance B (station Y)
    mine, theirs = sides
    pick = CHANGELISTS[url]

    # when the police admin of station X opens the changelist
    response = admin_client(city.admin_x).get(url)

    # then it answers 200 with A's object and nothing of B's
    assert response.status_code == 200, url
    listed = _pks(response)
    assert listed, url
    if pick is not None:
        assert pick(mine) in listed
        assert pick(theirs) not in listed
    objects = response.context["cl"].result_list
    assert "金街花店" not in response.content.decode()
    assert "凤鸣金街" not in response.content.decode(), "another jurisdiction's alliance is named (list or filter)"
    assert all("凤鸣" not in str(obj) and "中阳里" not in str(obj) for obj in objects)


def test_the_police_units_are_the_admins_own_and_the_ones_under_them(city):
    # given station X with office X under it, and station Y elsewhere
    # when the police admin of station X lists police units
    listed = _pks(admin_client(city.admin_x).get("/admin/alliance/station/"))

    # then they see X and its office, not Y
    assert listed == {city.station_x.pk, city.office_x.pk}


@pytest.mark.parametrize(
    "path",
    [
        lambda side: f"/admin/alliance/alliance/{side.alliance.pk}/change/",
        lambda side: f"/admin/alliance/store/{side.store.pk}/change/",
        lambda side: f"/admin/alliance/alliancemembership/{side.membership.pk}/change/",
        lambda side: f"/admin/reports/escalationpolicy/{side.policy.pk}/change/",
        lambda side: f"/admin/reports/dispute/{side.dispute.pk}/change/",
        lambda side: f"/admin/reports/incident/{side.incident.pk}/change/",
        lambda side: f"/admin/reports/incident/{side.incident.pk}/history/",
    ],
)
def test_another_jurisdictions_object_by_id_is_not_found(city, sides, path):
    # given the police admin of station X and B's objects
    mine, theirs = sides
    client = admin_client(city.admin_x)

    # when they open B's object by id, and their own
    foreign = client.get(path(theirs))
    own = client.get(path(mine))

    # then B's answers like an id that does not exist (back to the index), A's opens
    assert foreign.status_code == 302 and foreign["Location"] == "/admin/"
    assert own.status_code == 200


def test_a_police_admin_sees_one_jurisdiction_and_a_superuser_all(city, sides, user_factory):
    # given a superuser with no police role, and the police admin of station X
    root = admin_client(user_factory(is_superuser=True, is_staff=True))
    police = admin_client(city.admin_x)

    # when each lists stores and disputes
    stores = {who: _pks(client.get("/admin/alliance/store/")) for who, client in (("root", root), ("x", police))}
    disputes = {who: _pks(client.get("/admin/reports/dispute/")) for who, client in (("root", root), ("x", police))}

    # then the superuser sees both sides, the police admin A's only
    assert {sides[0].store.pk, sides[1].store.pk} <= stores["root"]
    assert {sides[0].dispute.pk, sides[1].dispute.pk} <= disputes["root"]
    assert stores["x"] == {sides[0].store.pk}
    assert disputes["x"] == {sides[0].dispute.pk}


def test_autocomplete_offers_only_the_jurisdictions_alliances(city, sides):
    # given the police admin of station X
    client = admin_client(city.admin_x)

    # when the escalation-policy form asks for alliances to choose from
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "reports", "model_name": "escalationpolicy", "field_name": "alliance", "term": ""},
    )

    # then only A is offered
    assert response.status_code == 200, response.content
    assert {int(row["id"]) for row in response.json()["results"]} == {city.alliance_a.pk}


# --- changing only within the jurisdiction ------------------------------------------------------------------------


def _form_data(response) -> dict:
    """The change form as the browser would post it back unchanged."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({management.add_prefix(name): management[name].value() for name in management.fields})
        forms.extend(formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False or isinstance(value, FieldFile):
                continue  # unchecked boxes and file inputs are not posted back
            data[form.add_prefix(name)] = "on" if value is True else value
    return data


def test_a_police_admin_changes_their_own_store_in_the_admin(city, sides):
    # given the police admin of station X on A's store
    mine, _theirs = sides
    client = admin_client(city.admin_x)
    url = f"/admin/alliance/store/{mine.store.pk}/change/"
    data = _form_data(client.get(url))

    # when they rename it
    data["name"] = "青果巷老茶馆"
    response = client.post(url, data)

    # then it is saved
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    mine.store.refresh_from_db()
    assert mine.store.name == "青果巷老茶馆"


def test_a_police_admin_cannot_move_a_store_or_hand_it_to_someone_else(city, sides):
    # given the police admin of station X on A's store
    mine, theirs = sides
    client = admin_client(city.admin_x)
    url = f"/admin/alliance/store/{mine.store.pk}/change/"
    data = _form_data(client.get(url))
    owner = mine.store.owner_id

    # when they point it at alliance B, or give it to someone of their own jurisdiction (themselves)
    for alliance, new_owner in ((theirs.alliance.pk, theirs.store.owner_id), (mine.alliance.pk, city.admin_x.pk)):
        client.post(url, {**data, "alliance": alliance, "owner": new_owner})

    # then the store stays with its alliance and its owner: the app's membership rules decide those, not a form
    mine.store.refresh_from_db()
    assert (mine.store.alliance_id, mine.store.owner_id) == (mine.alliance.pk, owner)


def test_a_police_admin_cannot_make_a_community_police_office_the_alliances_station(city, sides):
    # given the police admin of station X on alliance A (station X, office X)
    mine, _theirs = sides
    client = admin_client(city.admin_x)
    url = f"/admin/alliance/alliance/{mine.alliance.pk}/change/"
    data = _form_data(client.get(url))

    # when they make the office the alliance's "station"
    client.post(url, {**data, "station": city.office_x.pk, "office": ""})

    # then level 3 of the ladder still reaches the station: the station is fixed when the alliance is founded
    mine.alliance.refresh_from_db()
    assert mine.alliance.station_id == city.station_x.pk


def test_a_police_admin_cannot_give_another_jurisdiction_a_policy_or_an_office(city, sides):
    # given the police admin of station X
    mine, theirs = sides
    client = admin_client(city.admin_x)
    theirs.policy.delete()
    office_y = Station.objects.create(name="金街警务室", kind=Station.Kind.OFFICE, parent=city.station_y, city="徐州市")

    # when they add a policy for alliance B, and move alliance A under B's office
    add = client.post(
        "/admin/reports/escalationpolicy/add/",
        {"alliance": theirs.alliance.pk, "acknowledge_seconds": 60, "resolve_seconds": 120},
    )
    alliance_url = f"/admin/alliance/alliance/{mine.alliance.pk}/change/"
    data = _form_data(client.get(alliance_url))
    data["office"] = office_y.pk
    move = client.post(alliance_url, data)

    # then both forms refuse the choice and nothing changed
    assert add.status_code == 200 and "alliance" in add.context["adminform"].form.errors
    assert not EscalationPolicy.objects.filter(alliance=theirs.alliance).exists()
    assert move.status_code == 200 and "office" in move.context["adminform"].form.errors
    mine.alliance.refresh_from_db()
    assert mine.alliance.office_id == city.office_x.pk


def test_a_police_admin_sets_escalation_times_in_the_admin_within_bounds(city, sides):
    # given the police admin of station X on A's policy
    mine, _theirs = sides
    client = admin_client(city.admin_x)
    url = f"/admin/reports/escalationpolicy/{mine.policy.pk}/change/"

    # when they set a too-short acknowledge time, then sane times
    too_short = client.post(url, {"alliance": mine.alliance.pk, "acknowledge_seconds": 5, "resolve_seconds": 300})
    sane = client.post(url, {"alliance": mine.alliance.pk, "acknowledge_seconds": 60, "resolve_seconds": 900})

    # then the first is refused, the second stored with who changed it
    assert too_short.status_code == 200 and "acknowledge_seconds" in too_short.context["adminform"].form.errors
    assert sane.status_code == 302
    mine.policy.refresh_from_db()
    assert (mine.policy.acknowledge_seconds, mine.policy.resolve_seconds) == (60, 900)
    assert mine.policy.updated_by == city.admin_x


def test_a_police_admin_cannot_delete_or_grant_themselves_more(city, sides):
    # given the police admin of station X
    mine, _theirs = sides
    client = admin_client(city.admin_x)

    # when they try to delete A's dispute and open their own user record for editing
    delete = client.post(f"/admin/reports/dispute/{mine.dispute.pk}/delete/", {"post": "yes"})
    own_user = client.post(f"/admin/accounts/user/{city.admin_x.pk}/change/", {"is_superuser": "on"})

    # then neither works
    assert delete.status_code == 403
    assert Dispute.objects.filter(pk=mine.dispute.pk).exists()
    assert own_user.status_code in (302, 403)
    city.admin_x.refresh_from_db()
    assert city.admin_x.is_superuser is False


# --- cost ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", list(CHANGELISTS))
def test_changelists_pin_their_queries(city, sides, member_of, url, django_assert_max_num_queries):
    # given more objects of every kind in A
    for n in range(3):
        _side(city.alliance_a, member_of, f"店{n}")
    client = admin_client(city.admin_x)
    client.get(url)  # warm the session and content types

    # when the police admin opens the changelist
    # then it takes a fixed number of queries however many rows it lists
    with django_assert_max_num_queries(16):
        response = client.get(url)
    assert response.status_code == 200


def test_a_police_admin_puts_a_responder_on_duty_but_cannot_change_their_role(city, sides, member_of):
    # given a mall manager member of A, off duty
    mine, _theirs = sides
    manager = member_of(mine.alliance, Role.MALL_MANAGER, MemberRole.MALL_MANAGER)
    membership = AllianceMembership.objects.get(alliance=mine.alliance, user=manager)
    client = admin_client(city.admin_x)
    url = f"/admin/alliance/alliancemembership/{membership.pk}/change/"
    data = _form_data(client.get(url))

    # when the police admin ticks "on duty" and also sends another role
    response = client.post(url, {**data, "on_duty": "on", "role": MemberRole.ADMIN})

    # then the mall manager is on duty since now, and the role is unchanged (roles change in the app, under its rules)
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.on_duty is True and membership.on_duty_since is not None
    assert membership.role == MemberRole.MALL_MANAGER


def test_the_admin_does_not_put_a_volunteer_on_duty_by_hand(city, sides, member_of):
    # given a volunteer member of A: volunteers are on duty by checking in to a patrol shift
    mine, _theirs = sides
    volunteer = member_of(mine.alliance, Role.VOLUNTEER, MemberRole.VOLUNTEER)
    membership = AllianceMembership.objects.get(alliance=mine.alliance, user=volunteer)
    client = admin_client(city.admin_x)
    url = f"/admin/alliance/alliancemembership/{membership.pk}/change/"

    # when the police admin ticks "on duty"
    response = client.post(url, {**_form_data(client.get(url)), "on_duty": "on"})

    # then the form says why, and the volunteer stays off duty
    assert response.status_code == 200
    assert "on_duty" in response.context["adminform"].form.errors
    membership.refresh_from_db()
    assert membership.on_duty is False


def test_the_admin_cannot_put_on_duty_someone_the_app_would_not_dispatch(city, sides):
    # given a merchant member of A (merchants flag disputes; they are not dispatched to them)
    mine, _theirs = sides
    client = admin_client(city.admin_x)
    url = f"/admin/alliance/alliancemembership/{mine.membership.pk}/change/"
    data = _form_data(client.get(url))

    # when the police admin ticks "on duty"
    response = client.post(url, {**data, "on_duty": "on"})

    # then the form says why, as the app does, and the merchant stays off duty
    assert response.status_code == 200
    assert "on_duty" in response.context["adminform"].form.errors
    mine.membership.refresh_from_db()
    assert mine.membership.on_duty is False
