"""Invites, joining by code or QR, approval, leaving and removal; contact groups follow the membership."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from alliance import qr
from alliance.models import AllianceInvite, AllianceJoinRequest, AllianceMembership
from groups.models import ContactGroup, GroupMembership
from tests.factories.alliance import MemberRole

pytestmark = pytest.mark.django_db


def create_invite(client, alliance, **body):
    response = client.post_json(f"/api/v1/alliances/{alliance.pk}/invites", body)
    assert response.status_code == 201, response.content
    return response.json()


def group_kinds_of(user, alliance) -> dict[str, str]:
    return dict(GroupMembership.objects.filter(user=user, group__alliance=alliance).values_list("group__kind", "role"))


def test_auto_approve_invite_joins_at_once_and_adds_the_contact_groups(city, login, merchant):
    # given an invite that needs no approval
    invite = create_invite(login(city.admin_x), city.alliance_a, role="merchant", auto_approve=True)

    # when a merchant redeems it
    response = login(merchant).post_json("/api/v1/alliance-joins", {"code": invite["code"]})

    # then they are a merchant member and in the contact and prevention groups, as ordinary members
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "joined" and body["role"] == "merchant" and body["join_request"] is None
    membership = AllianceMembership.objects.get(alliance=city.alliance_a, user=merchant)
    assert body["membership"] == membership.pk and membership.role == MemberRole.MERCHANT
    assert group_kinds_of(merchant, city.alliance_a) == {
        ContactGroup.Kind.MAIN: GroupMembership.Role.MEMBER,
        ContactGroup.Kind.PREVENTION: GroupMembership.Role.MEMBER,
    }
    assert AllianceInvite.objects.get(code=invite["code"]).use_count == 1


def test_invite_needing_approval_waits_for_an_alliance_admin(city, login, volunteer):
    # given an invite that needs approval
    admin = login(city.admin_x)
    invite = create_invite(admin, city.alliance_a, role="volunteer")

    # when a volunteer redeems it
    joined = login(volunteer).post_json("/api/v1/alliance-joins", {"code": invite["code"]})

    # then a pending request exists, and nothing else yet
    assert joined.status_code == 201
    assert joined.json()["status"] == "pending" and joined.json()["membership"] is None
    request_id = joined.json()["join_request"]
    assert not AllianceMembership.objects.filter(alliance=city.alliance_a, user=volunteer).exists()
    assert group_kinds_of(volunteer, city.alliance_a) == {}
    queue = admin.get(f"/api/v1/alliances/{city.alliance_a.pk}/join-requests", {"status": "pending"}).json()
    assert [row["id"] for row in queue["results"]] == [request_id]

    # when the admin approves
    approved = admin.post(f"/api/v1/alliances/{city.alliance_a.pk}/join-requests/{request_id}/approve")

    # then the volunteer is a member, in the groups, and the request says who decided
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert AllianceMembership.objects.get(alliance=city.alliance_a, user=volunteer).role == MemberRole.VOLUNTEER
    assert set(group_kinds_of(volunteer, city.alliance_a)) == {ContactGroup.Kind.MAIN, ContactGroup.Kind.PREVENTION}
    assert AllianceJoinRequest.objects.get(pk=request_id).decided_by == city.admin_x


def test_a_rejected_request_makes_no_member(city, login, volunteer):
    admin = login(city.admin_x)
    invite = create_invite(admin, city.alliance_a)
    request_id = login(volunteer).post_json("/api/v1/alliance-joins", {"code": invite["code"]}).json()["join_request"]

    rejected = admin.post(f"/api/v1/alliances/{city.alliance_a.pk}/join-requests/{request_id}/reject")
    approve_after = admin.post(f"/api/v1/alliances/{city.alliance_a.pk}/join-requests/{request_id}/approve")

    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert approve_after.status_code == 400 and approve_after.json()["code"] == "join_request_decided"
    assert not AllianceMembership.objects.filter(alliance=city.alliance_a, user=volunteer).exists()


def test_asking_twice_returns_the_pending_request_and_uses_the_code_once(city, login, volunteer):
    invite = create_invite(login(city.admin_x), city.alliance_a, max_uses=5)
    client = login(volunteer)

    first = client.post_json("/api/v1/alliance-joins", {"code": invite["code"]})
    second = client.post_json("/api/v1/alliance-joins", {"code": invite["code"].lower()})

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["join_request"] == second.json()["join_request"]
    assert AllianceInvite.objects.get(code=invite["code"]).use_count == 1
    assert AllianceJoinRequest.objects.filter(user=volunteer).count() == 1
    own = client.get("/api/v1/alliance-joins").json()["results"]
    assert [(row["alliance"]["id"], row["status"]) for row in own] == [(city.alliance_a.pk, "pending")]


def test_only_alliance_admins_decide_on_requests(city, login, volunteer, member_of):
    # given a pending request and an ordinary member of the same alliance
    invite = create_invite(login(city.admin_x), city.alliance_a)
    request_id = login(volunteer).post_json("/api/v1/alliance-joins", {"code": invite["code"]}).json()["join_request"]
    merchant = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)

    # when the merchant tries to approve it, or to see the queue
    approve = login(merchant).post(f"/api/v1/alliances/{city.alliance_a.pk}/join-requests/{request_id}/approve")
    queue = login(merchant).get(f"/api/v1/alliances/{city.alliance_a.pk}/join-requests")

    # then both are refused and nobody joined
    assert approve.status_code == 403 and queue.status_code == 403
    assert not AllianceMembership.objects.filter(alliance=city.alliance_a, user=volunteer).exists()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"expires_at": timezone.now() - timedelta(minutes=1)}, "invite_expired"),
        ({"revoked_at": timezone.now()}, "invite_revoked"),
        ({"use_count": 3, "max_uses": 3}, "invite_used_up"),
    ],
)
def test_expired_revoked_and_used_up_codes_are_refused(city, login, merchant, change, code):
    # given an auto-approving invite that is no longer usable
    invite = AllianceInvite.objects.create(
        alliance=city.alliance_a,
        code="ABCDEFGHJKLM",
        auto_approve=True,
        max_uses=10,
        expires_at=timezone.now() + timedelta(days=1),
    )
    AllianceInvite.objects.filter(pk=invite.pk).update(**change)

    # when someone redeems it
    response = login(merchant).post_json("/api/v1/alliance-joins", {"code": "ABCDEFGHJKLM"})

    # then it is refused with the reason and nothing changes
    assert response.status_code == 400 and response.json()["code"] == code
    assert not AllianceMembership.objects.filter(user=merchant).exists()
    assert AllianceInvite.objects.get(pk=invite.pk).use_count == change.get("use_count", 0)


def test_an_unknown_code_answers_404(city, login, merchant):
    response = login(merchant).post_json("/api/v1/alliance-joins", {"code": "NOSUCHCODE99"})

    assert response.status_code == 404 and response.json()["code"] == "invite_not_found"
    assert response.json()["message"] == "没有此邀请码，请核对后重试。"  # zh-hans unless English is asked for


def test_the_last_use_of_a_code_goes_to_one_person(city, login, user_factory):
    invite = create_invite(login(city.admin_x), city.alliance_a, auto_approve=True, max_uses=1, role="merchant")
    first, second = user_factory(roles=[Role.MERCHANT]), user_factory(roles=[Role.MERCHANT])

    answers = [
        login(person).post_json("/api/v1/alliance-joins", {"code": invite["code"]}) for person in (first, second)
    ]

    assert [answer.status_code for answer in answers] == [201, 400]
    assert answers[1].json()["code"] == "invite_used_up"
    assert list(
        AllianceMembership.objects.filter(alliance=city.alliance_a, role="merchant").values_list("user", flat=True)
    ) == [first.pk]


def test_revoking_an_invite_stops_it(city, login, merchant):
    admin = login(city.admin_x)
    invite = create_invite(admin, city.alliance_a, auto_approve=True)

    revoked = admin.delete(f"/api/v1/alliances/{city.alliance_a.pk}/invites/{invite['id']}")
    response = login(merchant).post_json("/api/v1/alliance-joins", {"code": invite["code"]})

    assert revoked.status_code == 204 and revoked.content == b""  # as the schema says: no body
    assert admin.get(f"/api/v1/alliances/{city.alliance_a.pk}/invites/{invite['id']}").json()["revoked_at"]
    assert response.status_code == 400 and response.json()["code"] == "invite_revoked"
    active = admin.get(f"/api/v1/alliances/{city.alliance_a.pk}/invites", {"revoked": "false"}).json()["results"]
    assert active == []


def test_the_qr_code_of_an_invite_that_no_longer_works_is_not_served(city, login):
    # given three invites: one withdrawn, one expired, one used up; and one that still works
    admin = login(city.admin_x)
    withdrawn, expired, used_up, working = (create_invite(admin, city.alliance_a) for _ in range(4))
    admin.delete(f"/api/v1/alliances/{city.alliance_a.pk}/invites/{withdrawn['id']}")
    AllianceInvite.objects.filter(pk=expired["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    AllianceInvite.objects.filter(pk=used_up["id"]).update(max_uses=1, use_count=1)

    # when the admin asks for their QR codes
    answers = {
        name: admin.get(f"/api/v1/alliances/{city.alliance_a.pk}/invites/{invite['id']}/qr.png")
        for name, invite in {"withdrawn": withdrawn, "expired": expired, "used_up": used_up, "working": working}.items()
    }

    # then only the working one is a picture; the others are gone, as they are for whoever scans them
    assert {name: r.status_code for name, r in answers.items()} == {
        "withdrawn": 404,
        "expired": 404,
        "used_up": 404,
        "working": 200,
    }
    assert answers["working"]["Content-Type"] == "image/png"
    assert answers["withdrawn"].json()["code"] == "not_found"


@pytest.mark.parametrize(("path", "name"), [("members", "on_duty"), ("invites", "revoked")])
def test_alliance_boolean_filters_refuse_free_text(city, login, path, name):
    client = login(city.admin_x)

    typo = client.get(f"/api/v1/alliances/{city.alliance_a.pk}/{path}", {name: "nope"}, HTTP_ACCEPT_LANGUAGE="en")
    empty = client.get(f"/api/v1/alliances/{city.alliance_a.pk}/{path}", {name: ""})

    assert typo.status_code == 400 and typo.json()["fields"] == {name: ["Enter true or false."]}
    assert empty.status_code == 200


@pytest.mark.parametrize(
    ("platform_roles", "requested", "allowed"),
    [
        ([Role.MERCHANT], "merchant", True),
        ([Role.VOLUNTEER], "merchant", False),
        ([], "volunteer", False),
        ([Role.MALL_MANAGER], "mall_manager", True),
        ([Role.MERCHANT], "mall_manager", False),
        ([Role.OFFICER], "police_liaison", True),
        ([Role.VOLUNTEER, Role.MERCHANT], "police_liaison", False),
    ],
)
def test_joining_needs_the_platform_role_that_matches(city, login, user_factory, platform_roles, requested, allowed):
    # given an open invite (the joiner names their role)
    invite = create_invite(login(city.admin_x), city.alliance_a, auto_approve=True)
    person = user_factory(roles=platform_roles)

    # when they join with a role
    response = login(person).post_json("/api/v1/alliance-joins", {"code": invite["code"], "role": requested})

    # then only a matching platform role gets in
    member = AllianceMembership.objects.filter(alliance=city.alliance_a, user=person).first()
    if allowed:
        assert response.status_code == 201 and member.role == requested
    else:
        assert response.status_code == 403 and response.json()["code"] == "role_not_eligible"
        assert member is None
        assert AllianceInvite.objects.get(pk=invite["id"]).use_count == 0


def test_an_invite_for_one_role_does_not_grant_another(city, login, user_factory):
    invite = create_invite(login(city.admin_x), city.alliance_a, role="volunteer", auto_approve=True)
    person = user_factory(roles=[Role.VOLUNTEER, Role.MERCHANT])

    response = login(person).post_json("/api/v1/alliance-joins", {"code": invite["code"], "role": "merchant"})

    assert response.status_code == 400 and response.json()["code"] == "invite_role_mismatch"
    assert not AllianceMembership.objects.filter(user=person).exists()


def test_nobody_joins_as_admin_and_invites_cannot_make_admins(city, login, merchant):
    admin = login(city.admin_x)

    invite_for_admins = admin.post_json(f"/api/v1/alliances/{city.alliance_a.pk}/invites", {"role": "admin"})
    invite = create_invite(admin, city.alliance_a, auto_approve=True)
    join_as_admin = login(merchant).post_json("/api/v1/alliance-joins", {"code": invite["code"], "role": "admin"})

    assert invite_for_admins.status_code == 400
    assert join_as_admin.status_code == 400
    assert not AllianceMembership.objects.filter(user=merchant).exists()


def test_a_police_liaison_joins_the_groups_as_admin(city, login, user_factory):
    officer = user_factory(roles=[Role.OFFICER])
    invite = create_invite(login(city.admin_x), city.alliance_a, role="police_liaison", auto_approve=True)

    login(officer).post_json("/api/v1/alliance-joins", {"code": invite["code"]})

    assert group_kinds_of(officer, city.alliance_a) == {
        ContactGroup.Kind.MAIN: GroupMembership.Role.ADMIN,
        ContactGroup.Kind.PREVENTION: GroupMembership.Role.ADMIN,
    }


def test_joining_twice_is_a_conflict(city, login, member_of):
    merchant = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)
    invite = create_invite(login(city.admin_x), city.alliance_a, auto_approve=True)

    response = login(merchant).post_json("/api/v1/alliance-joins", {"code": invite["code"]})

    assert response.status_code == 409 and response.json()["code"] == "already_member"


def test_a_retried_join_with_the_same_idempotency_key_joins_once(city, login, merchant):
    invite = create_invite(login(city.admin_x), city.alliance_a, auto_approve=True, max_uses=5)
    client = login(merchant)

    first = client.post_json("/api/v1/alliance-joins", {"code": invite["code"]}, HTTP_IDEMPOTENCY_KEY="join-1")
    retry = client.post_json("/api/v1/alliance-joins", {"code": invite["code"]}, HTTP_IDEMPOTENCY_KEY="join-1")

    assert first.status_code == retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    assert AllianceInvite.objects.get(pk=invite["id"]).use_count == 1


def test_only_managers_make_invites(city, login, member_of):
    merchant = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)

    by_merchant = login(merchant).post_json(f"/api/v1/alliances/{city.alliance_a.pk}/invites", {})
    by_other_admin = login(city.admin_y).post_json(f"/api/v1/alliances/{city.alliance_a.pk}/invites", {})
    merchant_list = login(merchant).get(f"/api/v1/alliances/{city.alliance_a.pk}/invites")

    assert by_merchant.status_code == 403
    assert by_other_admin.status_code == 404  # another jurisdiction's alliance does not exist for them
    assert merchant_list.status_code == 403
    assert not AllianceInvite.objects.exists()


def test_invite_codes_are_long_random_and_unique(city, login):
    admin = login(city.admin_x)

    codes = [create_invite(admin, city.alliance_a)["code"] for _ in range(20)]

    assert len(set(codes)) == 20
    assert all(len(code) == 12 and code.isalnum() and code.isupper() for code in codes)


def test_qr_code_is_a_png_of_the_join_payload(city, login, monkeypatch):
    # given an invite, and a spy on what the QR encoder is given
    admin = login(city.admin_x)
    invite = create_invite(admin, city.alliance_a)
    encoded = []
    real_add_data = qr.qrcode.QRCode.add_data
    monkeypatch.setattr(
        qr.qrcode.QRCode, "add_data", lambda self, data, *a, **k: (encoded.append(data), real_add_data(self, data))[1]
    )

    # when the admin fetches the QR code
    response = admin.get(invite["qr_url"])

    # then it is a PNG of pingan://join?code=<code>, kept out of caches
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert encoded == [f"pingan://join?code={invite['code']}"] == [invite["qr_payload"]]
    assert "no-store" in response["Cache-Control"]


def test_qr_payload_carries_the_code_url_encoded():
    assert qr.invite_qr_payload("ABCD2345EFGH") == "pingan://join?code=ABCD2345EFGH"
    assert qr.invite_qr_payload("a b&c") == "pingan://join?code=a+b%26c"


def test_qr_code_of_another_alliance_is_not_found(city, login):
    invite = create_invite(login(city.admin_y), city.alliance_b)

    response = login(city.admin_x).get(f"/api/v1/alliances/{city.alliance_b.pk}/invites/{invite['id']}/qr.png")
    crossed = login(city.admin_x).get(f"/api/v1/alliances/{city.alliance_a.pk}/invites/{invite['id']}/qr.png")

    assert response.status_code == 404 and crossed.status_code == 404


# --- leaving and removal ------------------------------------------------------------------------------------------


def test_leaving_leaves_the_contact_groups(city, login, member_of):
    merchant = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)
    assert len(group_kinds_of(merchant, city.alliance_a)) == 2

    response = login(merchant).delete(f"/api/v1/alliances/{city.alliance_a.pk}/membership")

    assert response.status_code == 204
    assert not AllianceMembership.objects.filter(user=merchant).exists()
    assert group_kinds_of(merchant, city.alliance_a) == {}
    assert login(merchant).get(f"/api/v1/alliances/{city.alliance_a.pk}").status_code == 404


def test_an_admin_removes_a_member_and_their_group_memberships(city, login, member_of):
    volunteer = member_of(city.alliance_a, Role.VOLUNTEER, MemberRole.VOLUNTEER)
    membership = AllianceMembership.objects.get(user=volunteer)

    response = login(city.admin_x).delete(f"/api/v1/alliances/{city.alliance_a.pk}/members/{membership.pk}")

    assert response.status_code == 204
    assert not AllianceMembership.objects.filter(pk=membership.pk).exists()
    assert not GroupMembership.objects.filter(user=volunteer).exists()


def test_members_cannot_remove_each_other(city, login, member_of):
    merchant = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)
    volunteer = member_of(city.alliance_a, Role.VOLUNTEER, MemberRole.VOLUNTEER)
    target = AllianceMembership.objects.get(user=volunteer)

    response = login(merchant).delete(f"/api/v1/alliances/{city.alliance_a.pk}/members/{target.pk}")

    assert response.status_code == 403
    assert AllianceMembership.objects.filter(pk=target.pk).exists()
    assert len(group_kinds_of(volunteer, city.alliance_a)) == 2


def test_the_last_admin_cannot_leave(city, login):
    response = login(city.admin_x).delete(f"/api/v1/alliances/{city.alliance_a.pk}/membership")

    assert response.status_code == 400 and response.json()["code"] == "last_admin"
    assert AllianceMembership.objects.filter(alliance=city.alliance_a, user=city.admin_x).exists()


def test_appointing_an_admin_lets_the_first_one_go(city, login, member_of):
    manager = member_of(city.alliance_a, Role.MALL_MANAGER, MemberRole.MALL_MANAGER)
    membership = AllianceMembership.objects.get(user=manager)
    client = login(city.admin_x)

    promoted = client.patch(
        f"/api/v1/alliances/{city.alliance_a.pk}/members/{membership.pk}", {"role": "admin"}, format="json"
    )
    left = client.delete(f"/api/v1/alliances/{city.alliance_a.pk}/membership")

    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    assert left.status_code == 204
    assert group_kinds_of(manager, city.alliance_a)[ContactGroup.Kind.MAIN] == GroupMembership.Role.ADMIN


def test_a_role_needs_the_matching_platform_role(city, login, member_of):
    merchant = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)
    membership = AllianceMembership.objects.get(user=merchant)

    response = login(city.admin_x).patch(
        f"/api/v1/alliances/{city.alliance_a.pk}/members/{membership.pk}", {"role": "police_liaison"}, format="json"
    )

    assert response.status_code == 400 and response.json()["code"] == "role_not_eligible"
    membership.refresh_from_db()
    assert membership.role == MemberRole.MERCHANT


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_never_exceed_the_maximum_uses(live_server, city, user_factory, client_factory):
    # given an invite with three uses left and ten merchants who tap "join" at the same moment
    import json
    import threading
    import urllib.error
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    invite = AllianceInvite.objects.create(
        alliance=city.alliance_a,
        code="RACE23456789",
        role="merchant",
        auto_approve=True,
        max_uses=3,
        expires_at=timezone.now() + timedelta(days=1),
    )
    tokens = [client_factory().login_with_password(str(user_factory(roles=[Role.MERCHANT]).phone)) for _ in range(10)]
    barrier = threading.Barrier(len(tokens))

    def join(token):
        request = urllib.request.Request(
            f"{live_server.url}/api/v1/alliance-joins",
            data=json.dumps({"code": invite.code}).encode(),
            headers={"Content-Type": "application/json", "X-Session-Token": token},
            method="POST",
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    # when they all arrive together
    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        statuses = sorted(pool.map(join, tokens))

    # then exactly three joined, the rest were told the invite is used up
    assert statuses == [201] * 3 + [400] * 7
    assert AllianceMembership.objects.filter(alliance=city.alliance_a, role=MemberRole.MERCHANT).count() == 3
    assert AllianceInvite.objects.get(pk=invite.pk).use_count == 3


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_deciding_a_request_takes_no_body_and_refuses_a_field_naming_it(city, login, volunteer, decision):
    # given a pending join request
    admin = login(city.admin_x)
    invite = create_invite(admin, city.alliance_a)
    request_id = login(volunteer).post_json("/api/v1/alliance-joins", {"code": invite["code"]}).json()["join_request"]
    path = f"/api/v1/alliances/{city.alliance_a.pk}/join-requests/{request_id}/{decision}"

    # when the admin sends a reason the operation does not take, then decides with an empty object
    refused = admin.post_json(path, {"reason": "不认识"}, HTTP_ACCEPT_LANGUAGE="en")
    pending = AllianceJoinRequest.objects.get(pk=request_id).status
    decided = admin.post_json(path, {})

    # then the reason is refused, naming it, and the request stayed pending until the empty body decided it
    assert refused.status_code == 400 and refused.json()["fields"] == {"reason": ["Unknown field."]}
    assert pending == "pending"
    assert (
        decided.status_code == 200
        and decided.json()["status"] == {"approve": "approved", "reject": "rejected"}[decision]
    )
