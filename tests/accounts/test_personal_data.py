"""Personal-information rights: a person downloads their data and deletes their account."""

from __future__ import annotations

import pytest

from accounts.models import Role, RoleGrant, User


@pytest.mark.django_db
def test_export_contains_the_persons_data_and_nobody_elses(login, user_factory):
    me = user_factory(roles=[Role.MERCHANT], display_name="李老板")
    other = user_factory(display_name="别人")

    response = login(me).get("/api/v1/me/export")

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    data = response.json()
    assert data["profile"]["phone"] == str(me.phone) and data["profile"]["display_name"] == "李老板"
    assert [grant["role"] for grant in data["role_grants"]] == ["merchant"]
    assert len(data["sessions"]) == 1
    assert str(other.phone) not in response.content.decode()


@pytest.mark.django_db
def test_deleting_the_account_anonymises_it_and_ends_every_session(client_factory, user_factory):
    # given a volunteer logged in on two phones
    user = user_factory(roles=[Role.VOLUNTEER], display_name="张志愿")
    phone_a, phone_b = client_factory(), client_factory()
    phone_a.login_with_password(str(user.phone))
    phone_b.login_with_password(str(user.phone))

    # when they delete their account, confirming with their number
    response = phone_a.generic(
        "DELETE", "/api/v1/me", data=f'{{"confirm_phone": "{user.phone}"}}', content_type="application/json"
    )

    # then the row stays (reports point at it) but says nothing about the person, and no token works
    assert response.status_code == 204
    user.refresh_from_db()
    assert user.phone is None and user.display_name == "" and not user.is_active and user.deleted_at
    assert not user.has_usable_password()
    assert not RoleGrant.objects.active().filter(user=user).exists()
    assert phone_a.get("/api/v1/me").status_code == 401
    assert phone_b.get("/api/v1/me").status_code == 401


@pytest.mark.django_db
def test_the_same_number_can_sign_up_again_after_deletion(client_factory, user_factory):
    user = user_factory()
    phone = str(user.phone)
    client = client_factory()
    client.login_with_password(phone)
    client.generic("DELETE", "/api/v1/me", data=f'{{"confirm_phone": "{phone}"}}', content_type="application/json")

    response = client_factory().post_json("/_allauth/app/v1/auth/signup", {"phone": phone})

    # then a new, still unverified account waits for the SMS code; the deleted row stays anonymous
    assert response.status_code == 401
    fresh = User.objects.get(phone=phone)
    assert fresh.pk != user.pk and not fresh.phone_verified
    user.refresh_from_db()
    assert user.phone is None


@pytest.mark.django_db
def test_deletion_needs_the_right_confirmation(login, user_factory):
    user = user_factory()
    client = login(user)

    wrong = client.generic(
        "DELETE", "/api/v1/me", data='{"confirm_phone": "+8613900000000"}', content_type="application/json"
    )
    missing = client.generic("DELETE", "/api/v1/me", data="{}", content_type="application/json")

    assert wrong.status_code == 400 and wrong.json()["code"] == "confirmation_mismatch"
    assert missing.status_code == 400 and "confirm_phone" in missing.json()["fields"]
    user.refresh_from_db()
    assert user.is_active and user.phone


@pytest.mark.django_db
def test_deletion_leaves_alliances_and_groups_and_export_covers_them(login, user_factory):
    from alliance.models import AllianceMembership
    from groups.models import GroupMembership
    from tests.factories.alliance import member_add
    from tests.factories.groups import message_make
    from tests.fixtures.street import build_street

    # given a volunteer in an alliance who wrote in its contact group
    street = build_street(
        user_factory, name="青平果联盟", slug="qpg", station_name="局前街派出所", office_name=None, people=False
    )
    user = user_factory(roles=[Role.VOLUNTEER])
    member_add(street.alliance, user, "volunteer")
    message_make(sender=user, group=street.main, body="今晚我巡逻")
    client = login(user)

    exported = client.get("/api/v1/me/export").json()
    deleted = client.generic(
        "DELETE", "/api/v1/me", data=f'{{"confirm_phone": "{user.phone}"}}', content_type="application/json"
    )

    assert [m["alliance"] for m in exported["alliance_memberships"]] == ["青平果联盟"]
    assert [m["body"] for m in exported["messages"]] == ["今晚我巡逻"]
    assert deleted.status_code == 204
    assert not AllianceMembership.objects.filter(user=user).exists()
    assert not GroupMembership.objects.filter(user=user).exists()


def test_every_foreign_key_to_a_person_is_exported_or_deliberately_left_out():
    from accounts.personal_data import personal_data_declarations_stale, personal_data_fields_unaccounted

    # A new table that names a person must join the export (a part in its app's personal_data.py) or say why not.
    assert personal_data_fields_unaccounted() == []
    assert personal_data_declarations_stale() == []


def test_the_completeness_check_names_a_forgotten_foreign_key(monkeypatch):
    from accounts import personal_data

    # given an app that forgot to declare one of its foreign keys to the user
    monkeypatch.delitem(personal_data._left_out, "groups.Message.deleted_by")

    # then the check names it
    assert personal_data.personal_data_fields_unaccounted() == ["groups.Message.deleted_by"]
