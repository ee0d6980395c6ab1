"""Reward requests in parallel on PostgreSQL, each thread with its own connection: a balance is never held twice
over, a stock never goes below zero, and a decision racing the expiry sweep has one outcome."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from alliance.models import PointsEntry, Redemption, Reward
from alliance.selectors.alliances import alliance_access_for
from alliance.services.rewards import (
    redemption_approve,
    redemption_expire_if_due,
    redemption_reject,
    redemption_request,
)
from config.errors import ApplicationError
from tests.factories.alliance import MemberRole, member_add
from tests.factories.rewards import points_account, points_give, redemption_make, reward_change, reward_street_build

pytestmark = [pytest.mark.needs_postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(user_factory):
    return reward_street_build(user_factory)


def in_parallel(work, items) -> list:
    """``work(item)`` for every item at once: a thread each, released together, each on its own connection."""
    barrier = threading.Barrier(len(items))

    def run(item):
        barrier.wait()
        try:
            return work(item)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(run, items))


def test_ten_requests_at_once_hold_no_more_than_the_balance(shop, live_server, client_factory):
    # given a volunteer with 100 points, a 30-point reward without a stock limit, and ten taps on "redeem" at once
    # from the phone (ten requests to the real server, ten connections)
    reward_change(reward=shop.reward, by=shop.police_admin, stock=None)
    token = client_factory().login_with_password(str(shop.volunteer.phone))
    url = f"{live_server.url}/api/v1/alliances/{shop.street.alliance.pk}/rewards/{shop.reward.pk}/redemptions"

    def redeem(_number):
        request = urllib.request.Request(
            url, data=b"{}", headers={"Content-Type": "application/json", "X-Session-Token": token}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.load(response)["status"]
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)["code"]

    # when they all arrive together
    answers = Counter(in_parallel(redeem, list(range(10))))

    # then exactly three were taken, 90 points held, never more; the rest were told they lack points
    assert answers == {(201, "requested"): 3, (400, "not_enough_points"): 7}
    account = points_account(user=shop.volunteer, alliance=shop.street.alliance)
    assert (account.balance, account.held) == (100, 90)
    assert Redemption.objects.filter(status="requested").count() == 3


def test_twenty_people_at_once_take_exactly_the_five_in_stock(shop, user_factory):
    # given 20 members with 100 points each and a reward with 5 in stock
    people = []
    for number in range(20):
        person = user_factory(roles=[Role.VOLUNTEER], display_name=f"志愿者{number}")
        member_add(shop.street.alliance, person, MemberRole.VOLUNTEER)
        points_give(user=person, alliance=shop.street.alliance, amount=100)
        people.append(person)

    def redeem(person):
        try:
            access = alliance_access_for(user=person, alliance=shop.street.alliance)
            return redemption_request(user=person, access=access, reward_id=shop.reward.pk).status
        except ApplicationError as refusal:
            return refusal.code

    # when they all ask at the same moment
    answers = Counter(in_parallel(redeem, people))

    # then five got one, the stock is empty and never below, and only the five hold points
    assert answers == {"requested": 5, "out_of_stock": 15}
    assert Reward.objects.get(pk=shop.reward.pk).stock == 0
    holding = [p for p in people if points_account(user=p, alliance=shop.street.alliance).held]
    assert len(holding) == 5


@pytest.mark.parametrize("decision", [redemption_approve, redemption_reject], ids=["approve", "reject"])
def test_a_decision_racing_the_expiry_sweep_has_one_outcome(shop, decision):
    # given overdue requests (one per round, the same person's account each time), each decided by the police admin
    # at the very moment the sweep reaches it
    points_give(user=shop.volunteer, alliance=shop.street.alliance, amount=200)  # 300 in all: ten rounds of 30
    reward_change(reward=shop.reward, by=shop.police_admin, stock=None)
    access = alliance_access_for(user=shop.police_admin, alliance=shop.street.alliance)
    outcomes = Counter()
    for _round in range(10):
        redemption = redemption_make(reward=shop.reward, user=shop.volunteer)
        Redemption.objects.filter(pk=redemption.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

        def act(who):
            if who == "sweep":
                return "expired" if redemption_expire_if_due(redemption_id=redemption.pk, now=timezone.now()) else None
            try:
                return decision(actor=shop.police_admin, access=access, redemption=redemption).status
            except ApplicationError as refusal:
                return refusal.code

        # when both act at once
        results = in_parallel(act, ["sweep", "decision"])
        # then exactly one of them decided the request, and what it says is what happened
        final = Redemption.objects.get(pk=redemption.pk).status
        winners = [result for result in results if result in ("expired", "approved", "rejected")]
        assert winners == [final], results
        assert results[1] in (final, "redemption_decided")  # the loser of the race is told it was decided
        # a later sweep finds nothing left to do
        assert redemption_expire_if_due(redemption_id=redemption.pk, now=timezone.now()) is False
        outcomes[final] += 1

    # and the account agrees with the outcomes: nothing held, one entry per approval
    account = points_account(user=shop.volunteer, alliance=shop.street.alliance)
    approved = outcomes["approved"]
    assert account.held == 0
    assert account.balance == 300 - 30 * approved
    assert PointsEntry.objects.filter(reason="redemption").count() == approved
    print(f"{decision.__name__} vs sweep over 10 rounds: {dict(outcomes)}")


def test_two_sweeps_at_once_expire_each_request_once(shop):
    # given five overdue requests (3 by the volunteer, 2 by the merchant) and two workers sweeping together
    redemptions = [
        redemption_make(reward=shop.reward, user=person) for person in [shop.volunteer] * 3 + [shop.merchant] * 2
    ]
    Redemption.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    def sweep(_worker):
        now = timezone.now()
        return sum(redemption_expire_if_due(redemption_id=r.pk, now=now) for r in redemptions)

    # when both run
    counts = in_parallel(sweep, [1, 2])

    # then every request expired exactly once, and points and stock came back once each
    # (a worker that found a row locked skipped it; the next sweep would pick up anything left)
    leftover = sum(redemption_expire_if_due(redemption_id=r.pk, now=timezone.now()) for r in redemptions)
    assert sum(counts) + leftover == 5
    assert set(Redemption.objects.values_list("status", flat=True)) == {"expired"}
    assert points_account(user=shop.volunteer, alliance=shop.street.alliance).held == 0
    assert points_account(user=shop.merchant, alliance=shop.street.alliance).held == 0
    assert Reward.objects.get(pk=shop.reward.pk).stock == 5
