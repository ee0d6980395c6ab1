"""Defects found reviewing issue 12 (h6): each test failed on the code as merged."""

from __future__ import annotations

import pytest
from django.test import Client

from alliance.models import PointsEntry, PointsRule

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
