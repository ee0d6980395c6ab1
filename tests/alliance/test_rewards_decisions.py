"""Reward requests decided: approved (points spent), rejected, cancelled or expired (points and stock back), handed
over; the requester told live each time; the queues; the personal-data export and account deletion."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.personal_data import personal_data_erase
from alliance.hooks import person_notice_hooks
from alliance.models import PointsEntry, Redemption, Reward
from alliance.tasks import expire_redemptions_task
from groups.models import OutboxEvent
from tests.factories.rewards import (
    points_account,
    redemption_decide,
    redemption_make,
    redemptions_expire_due,
    reward_street_build,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(user_factory):
    return reward_street_build(user_factory)


@pytest.fixture
def notices(monkeypatch):
    """The live notices sent, as (user ids, event); still handed on to groups, which delivers them."""
    sent = []
    deliver = person_notice_hooks.notify

    def record(*, user_ids, event):
        sent.append((list(user_ids), event))
        deliver(user_ids=user_ids, event=event)

    monkeypatch.setattr(person_notice_hooks, "notify", record)
    return sent


def decide_url(shop, redemption, decision: str) -> str:
    return f"/api/v1/alliances/{shop.street.alliance.pk}/redemptions/{redemption.pk}/{decision}"


def stock(shop) -> int:
    return Reward.objects.get(pk=shop.reward.pk).stock


def test_approving_spends_the_held_points_once_in_the_ledger(shop, login, notices):
    # given the volunteer's request holding 30 of their 100 points
    redemption = redemption_make(reward=shop.reward, user=shop.volunteer)

    # when the police admin approves it with a note
    response = login(shop.police_admin).post_json(decide_url(shop, redemption, "approve"), {"note": "周五到警务室领取"})

    # then the points are spent (one ledger entry keyed by the request), nothing is held, the unit stays taken
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["decision_note"]) == ("approved", "周五到警务室领取")
    assert response.json()["expires_at"] is None
    account = points_account(user=shop.volunteer, alliance=shop.street.alliance)
    assert (account.balance, account.held) == (70, 0)
    entry = PointsEntry.objects.get(reason="redemption")
    assert (entry.user_id, entry.amount, entry.unique_key, entry.source_id) == (
        shop.volunteer.pk,
        -30,
        f"redemption:{redemption.pk}",
        redemption.pk,
    )
    assert stock(shop) == 4
    # and the volunteer, only they, is told live (groups puts it in their outbox)
    assert [(ids, event["type"], event["status"], event["redemption"]) for ids, event in notices] == [
        ([shop.volunteer.pk], "redemption", "approved", redemption.pk)
    ]
    assert OutboxEvent.objects.filter(payload__contains='"type": "redemption"').count() == 1


def test_rejecting_returns_the_points_and_the_unit(shop, login, notices):
    redemption = redemption_make(reward=shop.reward, user=shop.volunteer)

    response = login(shop.police_admin).post_json(decide_url(shop, redemption, "reject"), {"note": "本期已发完"})

    assert response.status_code == 200 and response.json()["status"] == "rejected"
    account = points_account(user=shop.volunteer, alliance=shop.street.alliance)
    assert (account.balance, account.held) == (100, 0)
    assert stock(shop) == 5
    assert not PointsEntry.objects.filter(reason="redemption").exists()
    assert [(ids, event["status"], event["note"]) for ids, event in notices] == [
        ([shop.volunteer.pk], "rejected", "本期已发完")
    ]
    assert Redemption.objects.get(pk=redemption.pk).decided_by == shop.police_admin


def test_a_request_is_decided_once(shop, login):
    redemption = redemption_make(reward=shop.reward, user=shop.volunteer)
    admin = login(shop.police_admin)

    approved = admin.post_json(decide_url(shop, redemption, "approve"), {})
    again = admin.post_json(decide_url(shop, redemption, "approve"), {}, HTTP_ACCEPT_LANGUAGE="en")
    rejected = admin.post_json(decide_url(shop, redemption, "reject"), {})

    assert approved.status_code == 200
    assert again.status_code == rejected.status_code == 409
    assert again.json()["code"] == "redemption_decided"
    assert again.json()["message"] == "This request has been decided already (Approved)."
    assert PointsEntry.objects.filter(reason="redemption").count() == 1
    assert points_account(user=shop.volunteer, alliance=shop.street.alliance).balance == 70


def test_handing_over_follows_approval(shop, login, notices):
    redemption = redemption_make(reward=shop.reward, user=shop.volunteer)
    admin = login(shop.police_admin)

    early = admin.post_json(decide_url(shop, redemption, "fulfil"), {})
    admin.post_json(decide_url(shop, redemption, "approve"), {})
    handed = admin.post_json(decide_url(shop, redemption, "fulfil"), {})

    assert early.status_code == 409 and early.json()["code"] == "redemption_not_approved"
    assert handed.status_code == 200 and handed.json()["status"] == "fulfilled"
    assert handed.json()["fulfilled_at"] is not None
    assert [event["status"] for _ids, event in notices] == ["approved", "fulfilled"]


def test_the_requester_cancels_while_it_waits_and_nobody_else_can(shop, login, notices):
    redemption = redemption_make(reward=shop.reward, user=shop.volunteer)

    by_another_member = login(shop.merchant).post_json(decide_url(shop, redemption, "cancel"), {})
    by_the_admin = login(shop.police_admin).post_json(decide_url(shop, redemption, "cancel"), {})
    by_the_requester = login(shop.volunteer).post_json(decide_url(shop, redemption, "cancel"), {})
    once_more = login(shop.volunteer).post_json(decide_url(shop, redemption, "cancel"), {})

    assert by_another_member.status_code == 404  # another member's request is not theirs to see
    assert by_the_admin.status_code == 403  # the admin rejects instead
    assert by_the_requester.status_code == 200 and by_the_requester.json()["status"] == "cancelled"
    assert once_more.status_code == 409
    account = points_account(user=shop.volunteer, alliance=shop.street.alliance)
    assert (account.balance, account.held, stock(shop)) == (100, 0, 5)
    assert [(ids, event["status"]) for ids, event in notices] == [([shop.volunteer.pk], "cancelled")]


def test_members_do_not_decide(shop, login):
    redemption = redemption_make(reward=shop.reward, user=shop.volunteer)

    own = login(shop.volunteer).post_json(decide_url(shop, redemption, "approve"), {})
    other_jurisdiction = login(shop.other.police_admin).post_json(decide_url(shop, redemption, "approve"), {})

    assert own.status_code == 403
    assert other_jurisdiction.status_code == 404
    assert Redemption.objects.get(pk=redemption.pk).status == "requested"


def test_a_decision_takes_only_a_note(shop, login):
    redemption = redemption_make(reward=shop.reward, user=shop.volunteer)
    admin = login(shop.police_admin)

    extra = admin.post_json(decide_url(shop, redemption, "reject"), {"reason": "x"}, HTTP_ACCEPT_LANGUAGE="en")
    too_long = admin.post_json(decide_url(shop, redemption, "reject"), {"note": "长" * 501})
    fulfil_with_note = admin.post_json(decide_url(shop, redemption, "fulfil"), {"note": "x"})

    assert extra.status_code == 400 and extra.json()["fields"] == {"reason": ["Unknown field."]}
    assert too_long.status_code == 400 and "note" in too_long.json()["fields"]
    assert fulfil_with_note.status_code == 400 and "note" in fulfil_with_note.json()["fields"]
    assert Redemption.objects.get(pk=redemption.pk).status == "requested"


def test_an_approval_never_spends_points_a_reversal_took_back(shop, login):
    # given a request holding 30, and then 80 of the 100 points reversed (the evidence of an award fell)
    from tests.factories.rewards import points_give

    redemption = redemption_make(reward=shop.reward, user=shop.volunteer)
    points_give(user=shop.volunteer, alliance=shop.street.alliance, amount=-80)

    response = login(shop.police_admin).post_json(decide_url(shop, redemption, "approve"), {})

    assert response.status_code == 400 and response.json()["code"] == "not_enough_points"
    assert response.json()["figures"] == {"available": 20, "price": 30}
    assert points_account(user=shop.volunteer, alliance=shop.street.alliance).balance == 20


# --- the queues ----------------------------------------------------------------------------------------------------


def test_the_admins_queue_and_each_persons_own_list(shop, login):
    # given two requests by the volunteer (one approved) and one by the merchant
    first = redemption_make(reward=shop.reward, user=shop.volunteer)
    redemption_make(reward=shop.reward, user=shop.volunteer)
    merchants = redemption_make(reward=shop.reward, user=shop.merchant)
    redemption_decide(redemption=first, by=shop.police_admin, decision="approve")
    queue_url = f"/api/v1/alliances/{shop.street.alliance.pk}/redemptions"

    # when the admin asks for the queue, the volunteer for theirs, and a member for the alliance's
    waiting = login(shop.police_admin).get(queue_url + "?status=requested").json()["results"]
    everything = login(shop.police_admin).get(queue_url).json()["results"]
    mine = login(shop.volunteer).get("/api/v1/me/redemptions").json()["results"]
    mine_approved = login(shop.volunteer).get("/api/v1/me/redemptions?status=approved").json()["results"]
    forbidden = login(shop.volunteer).get(queue_url)

    # then each sees what is theirs to see, newest first; police see the full number
    assert [r["status"] for r in waiting] == ["requested", "requested"]
    assert [r["user"]["id"] for r in waiting] == [shop.merchant.pk, shop.volunteer.pk]
    assert len(everything) == 3 and everything[0]["id"] == merchants.pk
    assert everything[0]["user"]["phone"] == str(shop.merchant.phone)
    assert {r["user"]["id"] for r in mine} == {shop.volunteer.pk} and len(mine) == 2
    assert [r["id"] for r in mine_approved] == [first.pk]
    assert forbidden.status_code == 403


# --- expiry --------------------------------------------------------------------------------------------------------


def _overdue(redemption: Redemption) -> None:
    Redemption.objects.filter(pk=redemption.pk).update(expires_at=timezone.now() - timedelta(minutes=1))


def test_an_undecided_request_expires_once_and_returns_points_and_stock(shop, notices):
    # given an overdue request, one still within its time, and an overdue one decided meanwhile
    overdue = redemption_make(reward=shop.reward, user=shop.volunteer)
    waiting = redemption_make(reward=shop.reward, user=shop.volunteer)
    decided = redemption_make(reward=shop.reward, user=shop.merchant)
    _overdue(overdue)
    redemption_decide(redemption=decided, by=shop.police_admin, decision="approve")
    _overdue(decided)
    notices.clear()

    # when the sweep runs twice (as beat does every minute)
    first = expire_redemptions_task()
    second = redemptions_expire_due()

    # then the overdue one expired in the first run only; the others are as they were
    assert (first, second) == (1, 0)
    statuses = dict(Redemption.objects.values_list("pk", "status"))
    assert statuses == {overdue.pk: "expired", waiting.pk: "requested", decided.pk: "approved"}
    assert Redemption.objects.get(pk=overdue.pk).expires_at is None
    account = points_account(user=shop.volunteer, alliance=shop.street.alliance)
    assert (account.balance, account.held) == (100, 30)
    assert stock(shop) == 3
    assert [(ids, event["status"]) for ids, event in notices] == [([shop.volunteer.pk], "expired")]


def test_an_expired_request_is_decided_no_more(shop, login):
    redemption = redemption_make(reward=shop.reward, user=shop.volunteer)
    _overdue(redemption)
    redemptions_expire_due()

    response = login(shop.police_admin).post_json(decide_url(shop, redemption, "approve"), {})

    assert response.status_code == 409 and response.json()["code"] == "redemption_decided"
    assert not PointsEntry.objects.filter(reason="redemption").exists()


# --- personal data -------------------------------------------------------------------------------------------------


def test_the_export_lists_ones_requests(shop, login):
    redemption = redemption_make(reward=shop.reward, user=shop.volunteer)
    redemption_decide(redemption=redemption, by=shop.police_admin, decision="reject", note="已发完")
    redemption_make(reward=shop.reward, user=shop.merchant)

    exported = login(shop.volunteer).get("/api/v1/me/export").json()["redemptions"]

    assert [(r["reward"], r["points"], r["status"], r["decision_note"]) for r in exported] == [
        ("物业费减免券", 30, "rejected", "已发完")
    ]
    assert "decided_by" not in exported[0]


def test_deleting_the_account_cancels_pending_requests_and_keeps_decided_ones(shop):
    # given a pending request and an approved one of the volunteer, and the merchant's pending one
    pending = redemption_make(reward=shop.reward, user=shop.volunteer)
    approved = redemption_make(reward=shop.reward, user=shop.volunteer)
    redemption_decide(redemption=approved, by=shop.police_admin, decision="approve")
    others = redemption_make(reward=shop.reward, user=shop.merchant)

    # when the volunteer deletes their account
    personal_data_erase(user=shop.volunteer)

    # then the pending one is cancelled (hold and unit returned), the approved one stays, the merchant's untouched
    statuses = dict(Redemption.objects.values_list("pk", "status"))
    assert statuses == {pending.pk: "cancelled", approved.pk: "approved", others.pk: "requested"}
    account = points_account(user=shop.volunteer, alliance=shop.street.alliance)
    assert (account.balance, account.held) == (70, 0)
    assert stock(shop) == 3


def test_the_expiry_sweep_is_scheduled_every_minute():
    from django.conf import settings

    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"].endswith("redemptions_task")]

    assert entries == [{"task": "alliance.tasks.expire_redemptions_task", "schedule": 60.0}]
