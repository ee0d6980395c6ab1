"""Roles: merchants and volunteers sign themselves up; police roles come only from a police admin, audited."""

from __future__ import annotations

import pytest

from accounts.models import Role, RoleGrant


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["merchant", "volunteer"])
def test_people_register_themselves_as_merchant_or_volunteer(login, user_factory, role):
    user = user_factory()
    client = login(user)

    response = client.post_json("/api/v1/me/roles", {"role": role})

    assert response.status_code == 201
    assert response.json()["roles"] == [role]
    grant = RoleGrant.objects.get(user=user, role=role)
    assert grant.granted_by == user and grant.revoked_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["officer", "police_admin", "mall_manager", "superuser", ""])
def test_nobody_grants_themselves_a_police_role(login, user_factory, role):
    user = user_factory()
    client = login(user)

    response = client.post_json("/api/v1/me/roles", {"role": role})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "role" in response.json()["fields"]
    assert not RoleGrant.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_taking_the_same_role_twice_keeps_one_grant(login, merchant):
    client = login(merchant)

    client.post_json("/api/v1/me/roles", {"role": "merchant"})

    assert RoleGrant.objects.active().filter(user=merchant, role="merchant").count() == 1


@pytest.mark.django_db
def test_police_admin_grants_officer_role_and_the_grant_is_audited(login, police_admin, user_factory):
    # given a police admin and a person who will become an officer
    recruit = user_factory()
    client = login(police_admin)

    # when the admin grants the officer role with a reason
    response = client.post_json(f"/api/v1/users/{recruit.pk}/roles", {"role": "officer", "reason": "新入职辅警"})

    # then the grant exists, says who granted it and why, and the officer sees the role
    assert response.status_code == 201
    grant = RoleGrant.objects.get(user=recruit, role=Role.OFFICER)
    assert grant.granted_by == police_admin and grant.reason == "新入职辅警"
    assert login(recruit).get("/api/v1/me").json()["roles"] == ["officer"]
    audit = client.get("/api/v1/role-grants", {"user": recruit.pk}).json()["results"]
    assert [(row["role"], row["granted_by"]) for row in audit] == [("officer", police_admin.pk)]


@pytest.mark.django_db
@pytest.mark.parametrize("actor_role", [Role.MERCHANT, Role.VOLUNTEER, Role.OFFICER, Role.MALL_MANAGER])
def test_only_police_admins_grant_roles(login, user_factory, actor_role):
    actor = user_factory(roles=[actor_role])
    target = user_factory()

    response = login(actor).post_json(f"/api/v1/users/{target.pk}/roles", {"role": "officer"})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not RoleGrant.objects.filter(user=target).exists()


@pytest.mark.django_db
def test_a_volunteer_cannot_grant_themselves_officer_through_the_admin_endpoint(login, volunteer):
    response = login(volunteer).post_json(f"/api/v1/users/{volunteer.pk}/roles", {"role": "officer"})

    assert response.status_code == 403
    assert not RoleGrant.objects.filter(user=volunteer, role="officer").exists()


@pytest.mark.django_db
def test_revoking_keeps_the_history(login, police_admin, user_factory):
    officer = user_factory(roles=[Role.OFFICER])
    client = login(police_admin)

    response = client.delete(f"/api/v1/users/{officer.pk}/roles/officer")
    regranted = client.post_json(f"/api/v1/users/{officer.pk}/roles", {"role": "officer"})

    assert response.status_code == 204 and response.content == b""  # as the schema says: no body
    assert RoleGrant.objects.get(user=officer, role="officer", revoked_at__isnull=False).revoked_by == police_admin
    assert regranted.status_code == 201
    grants = RoleGrant.objects.filter(user=officer, role="officer").order_by("granted_at")
    assert [g.revoked_at is not None for g in grants] == [True, False]


@pytest.mark.django_db
def test_a_police_admin_cannot_revoke_their_own_admin_role(login, police_admin):
    response = login(police_admin).delete(f"/api/v1/users/{police_admin.pk}/roles/police_admin")

    assert response.status_code == 400
    assert response.json()["code"] == "cannot_revoke_own_admin"
    assert RoleGrant.objects.active().filter(user=police_admin, role="police_admin").exists()


@pytest.mark.django_db
def test_people_drop_their_own_self_service_role_but_not_a_granted_one(login, user_factory):
    user = user_factory(roles=[Role.VOLUNTEER, Role.MALL_MANAGER])
    client = login(user)

    dropped = client.delete("/api/v1/me/roles/volunteer")
    refused = client.delete("/api/v1/me/roles/mall_manager")

    assert dropped.status_code == 200 and dropped.json()["roles"] == ["mall_manager"]
    assert refused.status_code == 403


@pytest.mark.django_db
def test_real_name_flag_is_set_only_by_police_admins(login, police_admin, merchant, volunteer):
    refused = login(volunteer).post_json(f"/api/v1/users/{merchant.pk}/real-name", {"verified": True})
    accepted = login(police_admin).post_json(f"/api/v1/users/{merchant.pk}/real-name", {"verified": True})
    own_patch = login(volunteer).patch("/api/v1/me", {"is_real_name_verified": True}, format="json")

    merchant.refresh_from_db()
    volunteer.refresh_from_db()
    assert refused.status_code == 403
    assert accepted.status_code == 200 and merchant.is_real_name_verified
    assert merchant.real_name_verified_by == police_admin
    assert own_patch.status_code == 400 and "is_real_name_verified" in own_patch.json()["fields"]  # not writable
    assert not volunteer.is_real_name_verified


@pytest.mark.django_db
def test_user_list_filters_by_role_and_pins_its_queries(
    login, police_admin, user_factory, django_assert_max_num_queries
):
    # given: the admin's station, its alliance with 30 merchant-volunteers, and an officer posted there
    # (the list shows the admin's jurisdiction only: people outside it are not listed)
    from tests.factories.alliance import MemberRole, alliance_make, member_add, station_make, station_staff_post

    station = station_make(name="局前街派出所", city="常州市")
    alliance = alliance_make(name="青平果联盟", slug="qingpingguo", station=station)
    station_staff_post(station=station, user=police_admin)
    for _ in range(30):
        member_add(alliance, user_factory(roles=[Role.MERCHANT, Role.VOLUNTEER]), MemberRole.MERCHANT)
    station_staff_post(station=station, user=user_factory(roles=[Role.OFFICER]), by=police_admin)
    user_factory(roles=[Role.OFFICER])  # a fresh recruit elsewhere: not listed
    client = login(police_admin)

    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/users", {"role": "officer"})
    with django_assert_max_num_queries(6):
        everyone = client.get("/api/v1/users", {"page_size": 20})

    assert response.status_code == 200
    assert [row["roles"] for row in response.json()["results"]] == [["officer"], ["officer", "police_admin"]]
    assert len(everyone.json()["results"]) == 20 and everyone.json()["next"]
