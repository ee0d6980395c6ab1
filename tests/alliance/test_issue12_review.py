"""Defects found reviewing issue 12 (h6): each test failed on the code as merged."""

from __future__ import annotations

import pytest
from django.test import Client

from alliance.models import PointsEntry, PointsRule, Reward, StoreInspection
from alliance.services.safe_store_awards import safe_store_fee_reduction
from tests.factories.rewards import reward_street_build

pytestmark = pytest.mark.django_db


def _admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(("amount", "daily_cap"), [(2_000_000_000, ""), (10, 2_000_000_000), (-1, "")])
def test_the_admin_site_keeps_a_points_rule_within_the_apis_bounds(ledger_street, amount, daily_cap):
    # given a police admin on the admin site
    client = _admin(ledger_street.police_admin)

    # when they set 2,000,000,000 points an hour (three hours of patrol overflow an entry, and the settle of a
    # whole batch, other alliances' people with it, fails on every retry)
    response = client.post(
        "/admin/alliance/pointsrule/add/",
        {"alliance": ledger_street.alliance.pk, "reason": "patrol_hour", "amount": amount, "daily_cap": daily_cap},
    )

    # then the form is shown again with the error, and no rule is written
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not PointsRule.objects.exists()


def test_a_police_admin_does_not_correct_their_own_points(ledger_street, login):
    # given the police admin who founded the street: a member of it (its first admin), so they hold an account there
    street = ledger_street
    client = login(street.police_admin)

    # when they give themselves points (spendable on the rewards they approve themselves)
    response = client.post_json(
        f"/api/v1/alliances/{street.alliance.pk}/points/corrections",
        {"user": street.police_admin.pk, "amount": 100_000, "note": "辛苦费"},
    )

    # then it is refused, and nothing is written
    assert response.status_code == 403, response.content
    assert not PointsEntry.objects.filter(user=street.police_admin).exists()


def test_the_safe_stores_free_fee_reduction_is_never_put_on_offer(user_factory, login):
    # given the property-fee reduction voucher made for the Safe Store winners: priced 0, not offered
    shop = reward_street_build(user_factory)
    Reward.objects.filter(pk=shop.reward.pk).update(is_active=False)  # (an offered reduction would be granted instead)
    voucher = safe_store_fee_reduction(alliance=shop.street.alliance)
    assert (voucher.price, voucher.is_active) == (0, False)
    client = login(shop.police_admin)
    path = f"/api/v1/alliances/{shop.street.alliance.pk}/rewards/{voucher.pk}"

    # when an admin offers it as it is (every member could then take fee reductions for nothing)
    response = client.patch(path, {"is_active": True}, content_type="application/json")

    # then it is refused, and stays off the catalogue; offered at a price it is fine
    assert response.status_code == 400 and "price" in response.json()["fields"], response.content
    voucher.refresh_from_db()
    assert not voucher.is_active
    priced = client.patch(path, {"is_active": True, "price": 500}, content_type="application/json")
    assert priced.status_code == 200 and priced.json()["price"] == 500


def test_the_admin_site_offers_no_reward_for_nothing(user_factory):
    shop = reward_street_build(user_factory)
    client = _admin(shop.police_admin)
    form = {"alliance": shop.street.alliance.pk, "kind": "goods", "name": "手电筒", "description": "", "price": 0}

    # when a police admin adds a reward on offer priced 0
    response = client.post(
        "/admin/alliance/reward/add/", {**form, "stock": "", "per_person_limit": "", "is_active": "on"}
    )

    # then the form comes back with the error, and nothing is added
    assert response.status_code == 200 and "price" in response.context["adminform"].form.errors
    assert not Reward.objects.filter(name="手电筒").exists()


def test_the_admin_site_refuses_an_inspection_in_year_1(ledger_street, login):
    # given a police admin adding an inspection of the street's store on the admin site
    store = ledger_street.store
    form = {"store": store.pk, "kind": "fire_safety", "result": "passed", "note": ""}

    # when its time is 1 January of year 1 (stored, it is 1 BC in UTC: every read of the store's inspections failed)
    response = _admin(ledger_street.police_admin).post(
        "/admin/alliance/storeinspection/add/", {**form, "inspected_at_0": "0001-01-01", "inspected_at_1": "00:00:00"}
    )

    # then the form comes back with the error, and the store's inspections still read
    assert response.status_code == 200 and "inspected_at" in response.context["adminform"].form.errors
    assert not StoreInspection.objects.exists()
    assert login(ledger_street.police_admin).get(f"/api/v1/stores/{store.pk}/inspections").status_code == 200
