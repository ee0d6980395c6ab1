"""Rewards and redemptions in the admin site: police admins manage their jurisdiction's catalogue and decide
requests through the app's services; nobody deletes a request."""

from __future__ import annotations

import pytest
from django.test import Client

from alliance.models import PointsEntry, Redemption, Reward
from tests.factories.rewards import points_account, redemption_make, reward_make, reward_street_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(user_factory):
    shop = reward_street_build(user_factory)
    shop.foreign_reward = reward_make(alliance=shop.other.alliance, by=shop.other.police_admin, name="外地奖励")
    return shop


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _listed(response) -> set[int]:
    return {obj.pk for obj in response.context["cl"].result_list}


def reward_form(alliance, **changes) -> dict:
    form = {
        "alliance": alliance.pk,
        "kind": "goods",
        "name": "手电筒",
        "description": "",
        "price": 10,
        "stock": 20,
        "per_person_limit": "",
        "is_active": "on",
    }
    return {**form, **changes}


def test_a_police_admin_sees_their_jurisdictions_rewards_and_requests_only(shop):
    mine = redemption_make(reward=shop.reward, user=shop.volunteer)
    client = admin_client(shop.police_admin)

    rewards = client.get("/admin/alliance/reward/")
    requests = client.get("/admin/alliance/redemption/?status__exact=requested")
    foreign = client.get(f"/admin/alliance/reward/{shop.foreign_reward.pk}/change/")

    assert _listed(rewards) == {shop.reward.pk}
    assert _listed(requests) == {mine.pk}
    assert foreign.status_code == 302  # "not found": back to the index, as for an id that does not exist


def test_a_police_admin_adds_a_reward_to_their_alliance_and_not_to_anothers(shop):
    client = admin_client(shop.police_admin)

    added = client.post("/admin/alliance/reward/add/", reward_form(shop.street.alliance))
    refused = client.post("/admin/alliance/reward/add/", reward_form(shop.other.alliance, name="越界"))

    assert added.status_code == 302
    reward = Reward.objects.get(name="手电筒")
    assert (reward.alliance_id, reward.created_by_id, reward.stock) == (
        shop.street.alliance.pk,
        shop.police_admin.pk,
        20,
    )
    assert refused.status_code == 200 and "alliance" in refused.context["adminform"].form.errors
    assert not Reward.objects.filter(name="越界").exists()


def change_form(shop, **changes) -> dict:
    """The reward's change page as the police admin opened it (5 in stock), with ``changes`` typed in."""
    form = reward_form(shop.street.alliance, name=shop.reward.name, kind="fee_reduction", price=30, stock=5)
    del form["alliance"]  # read-only once made
    return {**form, "stock_when_opened": 5, **changes}


def test_changing_a_reward_in_the_admin_keeps_the_units_reserved_meanwhile(shop):
    # given the change page opened with 5 in stock, then a member's request reserving one
    client = admin_client(shop.police_admin)
    redemption_make(reward=shop.reward, user=shop.volunteer)

    # when the police admin saves the page with only the name changed (the form still says 5)
    response = client.post(f"/admin/alliance/reward/{shop.reward.pk}/change/", change_form(shop, name="半年减免券"))

    # then the name changed and the reservation stands
    assert response.status_code == 302
    reward = Reward.objects.get(pk=shop.reward.pk)
    assert (reward.name, reward.stock) == ("半年减免券", 4)


def test_a_new_stock_figure_over_requests_made_meanwhile_is_refused(shop):
    client = admin_client(shop.police_admin)
    redemption_make(reward=shop.reward, user=shop.volunteer)

    refused = client.post(
        f"/admin/alliance/reward/{shop.reward.pk}/change/", change_form(shop, stock=10), HTTP_ACCEPT_LANGUAGE="en"
    )
    reopened = client.post(
        f"/admin/alliance/reward/{shop.reward.pk}/change/", change_form(shop, stock=10, stock_when_opened=4)
    )

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["stock"] == [
        "Requests changed the stock while you edited it: now 4."
    ]
    assert reopened.status_code == 302
    assert Reward.objects.get(pk=shop.reward.pk).stock == 10


@pytest.mark.parametrize("action", ["approve_redemptions", "reject_redemptions"])
def test_admin_actions_decide_through_the_services(shop, action):
    # given two requests, and the foreign alliance's one the police admin cannot see
    first = redemption_make(reward=shop.reward, user=shop.volunteer)
    second = redemption_make(reward=shop.reward, user=shop.merchant)
    client = admin_client(shop.police_admin)

    # when the police admin applies the action to both
    response = client.post(
        "/admin/alliance/redemption/", {"action": action, "_selected_action": [first.pk, second.pk]}, follow=True
    )

    # then both are decided as the app decides them: points spent or returned, stock kept or returned
    assert response.status_code == 200
    expected = {"approve_redemptions": "approved", "reject_redemptions": "rejected"}[action]
    assert set(Redemption.objects.values_list("status", flat=True)) == {expected}
    assert PointsEntry.objects.filter(reason="redemption").count() == (2 if expected == "approved" else 0)
    assert points_account(user=shop.volunteer, alliance=shop.street.alliance).held == 0
    assert Reward.objects.get(pk=shop.reward.pk).stock == (3 if expected == "approved" else 5)


def test_an_action_on_a_decided_request_says_why_and_changes_nothing(shop):
    redemption = redemption_make(reward=shop.reward, user=shop.volunteer)
    client = admin_client(shop.police_admin)
    client.post("/admin/alliance/redemption/", {"action": "approve_redemptions", "_selected_action": [redemption.pk]})

    response = client.post(
        "/admin/alliance/redemption/",
        {"action": "reject_redemptions", "_selected_action": [redemption.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert "decided already" in response.content.decode()
    assert Redemption.objects.get(pk=redemption.pk).status == "approved"


def test_nobody_adds_changes_or_deletes_a_request_in_the_admin(shop, user_factory):
    redemption = redemption_make(reward=shop.reward, user=shop.volunteer)
    superuser = user_factory(is_superuser=True, is_staff=True)

    for user in (shop.police_admin, superuser):
        client = admin_client(user)
        assert client.get("/admin/alliance/redemption/add/").status_code == 403
        assert client.get(f"/admin/alliance/redemption/{redemption.pk}/delete/").status_code == 403
        client.post(f"/admin/alliance/redemption/{redemption.pk}/change/", {"status": "approved", "points": 0})
    assert Redemption.objects.get(pk=redemption.pk).status == "requested"
