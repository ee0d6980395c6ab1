"""Rewards: the alliance's catalogue, who manages it and who sees it, and asking for a reward with points."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import Role
from alliance.models import PointsAccount, Redemption, Reward
from tests.factories.alliance import MemberRole, member_add
from tests.factories.rewards import (
    points_account,
    points_give,
    redemption_make,
    reward_change,
    reward_make,
    reward_street_build,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(user_factory):
    return reward_street_build(user_factory)


def rewards_url(shop, alliance=None) -> str:
    return f"/api/v1/alliances/{(alliance or shop.street.alliance).pk}/rewards"


def redeem(client, shop, reward=None, **extra):
    return client.post_json(f"{rewards_url(shop)}/{(reward or shop.reward).pk}/redemptions", {}, **extra)


# --- the catalogue ------------------------------------------------------------------------------------------------


def test_an_alliance_admin_adds_a_reward_and_members_see_it(shop, login, user_factory):
    # given an alliance admin who is not police (appointed by the founder) and a member
    admin = user_factory(roles=[Role.MERCHANT], display_name="会长")
    member_add(shop.street.alliance, admin, MemberRole.ADMIN)
    body = {"kind": "certificate", "name": "平安志愿者荣誉证书", "price": 200, "per_person_limit": 1}

    # when the admin adds a certificate and the volunteer reads the catalogue
    created = login(admin).post_json(rewards_url(shop), body)
    listed = login(shop.volunteer).get(rewards_url(shop))

    # then it is on offer, cheapest first, with no stock limit
    assert created.status_code == 201, created.content
    reward = created.json()
    assert (reward["kind"], reward["price"], reward["stock"], reward["per_person_limit"], reward["is_active"]) == (
        "certificate",
        200,
        None,
        1,
        True,
    )
    assert [r["name"] for r in listed.json()["results"]] == ["物业费减免券", "平安志愿者荣誉证书"]
    assert Reward.objects.get(pk=reward["id"]).created_by == admin


def test_members_cannot_manage_the_catalogue(shop, login):
    client = login(shop.volunteer)
    url = f"{rewards_url(shop)}/{shop.reward.pk}"

    created = client.post_json(rewards_url(shop), {"kind": "goods", "name": "手电筒", "price": 10})
    changed = client.patch(url, {"price": 1}, format="json")
    deleted = client.delete(url)

    assert [created.status_code, changed.status_code, deleted.status_code] == [403, 403, 403]
    assert created.json()["code"] == "permission_denied"
    assert Reward.objects.get(pk=shop.reward.pk).price == 30


def test_a_withdrawn_reward_is_seen_only_by_those_who_run_the_alliance(shop, login):
    # given the reward withdrawn by the police admin
    withdrawn = login(shop.police_admin).patch(
        f"{rewards_url(shop)}/{shop.reward.pk}", {"is_active": False}, format="json"
    )

    # when a member and the police admin read the catalogue and the reward
    member = login(shop.volunteer)
    admin = login(shop.police_admin)

    # then the member sees nothing of it; the admin sees it withdrawn, and can filter on it
    assert withdrawn.status_code == 200 and withdrawn.json()["is_active"] is False
    assert member.get(rewards_url(shop)).json()["results"] == []
    assert member.get(f"{rewards_url(shop)}/{shop.reward.pk}").status_code == 404
    assert [r["id"] for r in admin.get(rewards_url(shop) + "?is_active=false").json()["results"]] == [shop.reward.pk]
    assert admin.get(rewards_url(shop) + "?is_active=true").json()["results"] == []


def test_the_catalogue_filters_by_kind_and_price(shop, login):
    reward_make(alliance=shop.street.alliance, by=shop.police_admin, kind="goods", name="手电筒", price=10)
    reward_make(alliance=shop.street.alliance, by=shop.police_admin, kind="goods", name="雨衣", price=50)
    client = login(shop.volunteer)

    goods = client.get(rewards_url(shop) + "?kind=goods").json()["results"]
    cheap = client.get(rewards_url(shop) + "?max_price=30").json()["results"]
    bad = client.get(rewards_url(shop) + "?kind=gold")

    assert [r["name"] for r in goods] == ["手电筒", "雨衣"]
    assert [r["name"] for r in cheap] == ["手电筒", "物业费减免券"]
    assert bad.status_code == 400


def test_another_jurisdiction_sees_nothing_of_the_catalogue(shop, login):
    stranger = login(shop.other.police_admin)

    listed = stranger.get(rewards_url(shop))
    read = stranger.get(f"{rewards_url(shop)}/{shop.reward.pk}")
    through_own = stranger.get(f"{rewards_url(shop, shop.other.alliance)}/{shop.reward.pk}")
    redeemed = stranger.post_json(f"{rewards_url(shop, shop.other.alliance)}/{shop.reward.pk}/redemptions", {})

    # (through their own alliance, where they are its founding admin, the foreign reward is not found either)
    assert [listed.status_code, read.status_code, through_own.status_code, redeemed.status_code] == [404] * 4
    assert not Redemption.objects.exists()


def test_a_reward_input_is_strict(shop, login):
    client = login(shop.police_admin)

    unknown = client.post_json(
        rewards_url(shop), {"kind": "goods", "name": "伞", "price": 5, "colour": "red"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    free = client.post_json(rewards_url(shop), {"kind": "goods", "name": "伞", "price": 0})
    negative_stock = client.post_json(rewards_url(shop), {"kind": "goods", "name": "伞", "price": 5, "stock": -1})

    assert unknown.status_code == 400 and unknown.json()["fields"] == {"colour": ["Unknown field."]}
    assert free.status_code == 400 and "price" in free.json()["fields"]
    assert negative_stock.status_code == 400 and "stock" in negative_stock.json()["fields"]


def test_a_reward_goes_away_only_while_nobody_asked_for_it(shop, login):
    # given a second reward nobody asked for, and the first one asked for once
    spare = reward_make(alliance=shop.street.alliance, by=shop.police_admin, kind="goods", name="雨衣", price=50)
    redemption_make(reward=shop.reward, user=shop.volunteer)
    admin = login(shop.police_admin)

    # when the admin deletes both
    kept = admin.delete(f"{rewards_url(shop)}/{shop.reward.pk}", HTTP_ACCEPT_LANGUAGE="en")
    gone = admin.delete(f"{rewards_url(shop)}/{spare.pk}")

    # then the one with a request stays (withdraw it instead), the other is gone
    assert kept.status_code == 409 and kept.json()["code"] == "reward_redeemed"
    assert "withdraw" in kept.json()["message"]
    assert gone.status_code == 204
    assert list(Reward.objects.values_list("pk", flat=True)) == [shop.reward.pk]


# --- asking for a reward -----------------------------------------------------------------------------------------


def test_asking_for_a_reward_holds_its_price_and_one_unit(shop, login):
    # when the volunteer (100 points) asks for the 30-point voucher (5 in stock)
    response = redeem(login(shop.volunteer), shop)

    # then the request waits for a decision, 30 points held, one unit reserved, the deadline set
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["points"], body["reward"]["id"], body["user"]["id"]) == (
        "requested",
        30,
        shop.reward.pk,
        shop.volunteer.pk,
    )
    account = points_account(user=shop.volunteer, alliance=shop.street.alliance)
    assert (account.balance, account.held, account.available) == (100, 30, 70)
    assert Reward.objects.get(pk=shop.reward.pk).stock == 4
    redemption = Redemption.objects.get(pk=body["id"])
    expected = redemption.requested_at + timedelta(days=settings.REDEMPTION_REQUEST_DAYS)
    assert redemption.expires_at == expected and redemption.expires_at > timezone.now()


def test_not_enough_points_is_refused_with_the_figures(shop, login):
    # given 100 points of which 90 already held by three requests
    dear = reward_make(alliance=shop.street.alliance, by=shop.police_admin, kind="goods", name="雨衣", price=20)
    for _ in range(3):
        redemption_make(reward=shop.reward, user=shop.volunteer)

    # when the volunteer asks for a 20-point reward, in English and in Chinese
    english = redeem(login(shop.volunteer), shop, dear, HTTP_ACCEPT_LANGUAGE="en")
    chinese = redeem(login(shop.volunteer), shop, dear, HTTP_ACCEPT_LANGUAGE="zh-hans")

    # then it is refused, saying what they have and what it costs; nothing more is held
    assert english.status_code == 400
    assert english.json()["code"] == "not_enough_points"
    assert english.json()["figures"] == {"available": 10, "price": 20}
    assert english.json()["message"] == "You have 10 points to spend; this reward costs 20."
    assert chinese.json()["code"] == "not_enough_points" and "积分" in chinese.json()["message"]
    assert points_account(user=shop.volunteer, alliance=shop.street.alliance).held == 90


def test_an_empty_stock_is_refused(shop, login):
    reward_change(reward=shop.reward, by=shop.police_admin, stock=1)
    redemption_make(reward=shop.reward, user=shop.merchant)

    response = redeem(login(shop.volunteer), shop, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400 and response.json()["code"] == "out_of_stock"
    assert response.json()["message"] == "This reward is out of stock."
    assert points_account(user=shop.volunteer, alliance=shop.street.alliance).held == 0


def test_the_per_person_limit_counts_requests_that_did_not_come_to_nothing(shop, login):
    # given a limit of one per person, and the volunteer's first request cancelled, the second pending
    from tests.factories.rewards import redemption_decide

    reward_change(reward=shop.reward, by=shop.police_admin, per_person_limit=1)
    first = redemption_make(reward=shop.reward, user=shop.volunteer)
    redemption_decide(redemption=first, by=shop.volunteer, decision="cancel")
    second = redeem(login(shop.volunteer), shop)

    # when they ask a third time, and the merchant asks for theirs
    third = redeem(login(shop.volunteer), shop, HTTP_ACCEPT_LANGUAGE="en")
    merchants = redeem(login(shop.merchant), shop)

    # then the cancelled one did not count, the pending one does; the limit is per person
    assert second.status_code == 201
    assert third.status_code == 400 and third.json()["code"] == "redemption_limit_reached"
    assert third.json()["message"] == "This reward is limited to 1 per person, and you have reached that."
    assert merchants.status_code == 201


def test_a_withdrawn_reward_is_not_offered(shop, login):
    reward_change(reward=shop.reward, by=shop.police_admin, is_active=False)

    response = redeem(login(shop.volunteer), shop, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400 and response.json()["code"] == "reward_not_offered"
    assert response.json()["message"] == "This reward is not offered any more."


def test_only_members_redeem(shop, login):
    # the police admin oversees the alliance through their jurisdiction; the founder is its admin member too, so
    # take the station's officer, who is no member
    outsider = login(shop.street.station_officer)

    response = redeem(outsider, shop)

    assert response.status_code == 404  # they cannot see the alliance at all
    assert not Redemption.objects.exists()


def test_a_request_takes_no_body(shop, login):
    response = login(shop.volunteer).post_json(
        f"{rewards_url(shop)}/{shop.reward.pk}/redemptions", {"quantity": 2}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400 and response.json()["fields"] == {"quantity": ["Unknown field."]}
    assert not Redemption.objects.exists()


def test_a_retried_request_with_the_same_idempotency_key_asks_once(shop, login):
    client = login(shop.volunteer)

    first = redeem(client, shop, HTTP_IDEMPOTENCY_KEY="redeem-1")
    again = redeem(client, shop, HTTP_IDEMPOTENCY_KEY="redeem-1")

    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Redemption.objects.count() == 1
    assert PointsAccount.objects.get(user=shop.volunteer).held == 30


def test_points_given_count_per_alliance(shop, login):
    # points earned in one alliance are not spent in another
    points_give(user=shop.volunteer, alliance=shop.other.alliance, amount=500)
    member_add(shop.other.alliance, shop.volunteer, MemberRole.VOLUNTEER)
    dear = reward_make(alliance=shop.street.alliance, by=shop.police_admin, kind="goods", name="自行车", price=300)

    response = redeem(login(shop.volunteer), shop, dear)

    assert response.status_code == 400 and response.json()["figures"] == {"available": 100, "price": 300}
