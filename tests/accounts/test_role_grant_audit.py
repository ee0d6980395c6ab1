"""The role-grant audit trail shows a police admin their own jurisdiction only, like the user list."""

from __future__ import annotations

import pytest

from accounts.models import Role, RoleGrant
from alliance.models import StationStaff
from tests.alliance.conftest import city  # noqa: F401 - city is a fixture
from tests.factories.alliance import MemberRole, member_add

AUDIT = "/api/v1/role-grants"


@pytest.mark.django_db
def test_the_audit_shows_only_grants_of_the_admins_jurisdiction(city, login, user_factory):  # noqa: F811
    # given an officer posted in each jurisdiction and a volunteer member of each alliance, each with a grant
    officer_x, officer_y = user_factory(), user_factory()
    StationStaff.objects.create(user=officer_x, station=city.office_x)
    StationStaff.objects.create(user=officer_y, station=city.station_y)
    volunteer_x, volunteer_y = user_factory(), user_factory()
    member_add(city.alliance_a, volunteer_x, MemberRole.VOLUNTEER)
    member_add(city.alliance_b, volunteer_y, MemberRole.VOLUNTEER)
    mine = [
        RoleGrant.objects.create(user=officer_x, role=Role.OFFICER, granted_by=city.admin_x, reason="X 辅警"),
        RoleGrant.objects.create(user=volunteer_x, role=Role.VOLUNTEER, granted_by=volunteer_x),
    ]
    theirs = [
        RoleGrant.objects.create(user=officer_y, role=Role.OFFICER, granted_by=city.admin_y, reason="Y 私密原因"),
        RoleGrant.objects.create(user=volunteer_y, role=Role.VOLUNTEER, granted_by=volunteer_y),
    ]

    # when the admin of station X reads the audit trail, also filtered on a person of station Y
    client = login(city.admin_x)
    listed = client.get(AUDIT, {"page_size": 200})
    filtered = client.get(AUDIT, {"user": officer_y.pk})

    # then they see the grants of station X's people (their own included) and none of station Y's
    assert listed.status_code == 200
    ids = {row["id"] for row in listed.json()["results"]}
    assert {grant.pk for grant in mine} <= ids
    assert ids.isdisjoint({grant.pk for grant in theirs})
    assert set(RoleGrant.objects.filter(user=city.admin_x).values_list("pk", flat=True)) <= ids
    assert "Y 私密原因" not in listed.content.decode()
    assert filtered.status_code == 200 and filtered.json()["results"] == []


@pytest.mark.django_db
def test_an_admin_sees_the_grants_they_made_to_a_fresh_signup(city, login, user_factory):  # noqa: F811
    # given a fresh sign-up, attached to no jurisdiction yet, recruited by the admin of station X
    recruit = user_factory()
    client = login(city.admin_x)
    assert client.post_json(f"/api/v1/users/{recruit.pk}/roles", {"role": "officer"}).status_code == 201

    # when either admin reads the audit trail for that person
    seen_by_x = client.get(AUDIT, {"user": recruit.pk}).json()["results"]
    seen_by_y = login(city.admin_y).get(AUDIT, {"user": recruit.pk}).json()["results"]

    # then the admin who acted sees their act, the other jurisdiction does not
    assert [(row["role"], row["granted_by"]) for row in seen_by_x] == [("officer", city.admin_x.pk)]
    assert seen_by_y == []
