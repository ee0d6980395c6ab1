"""Issue 12's story in the demo city, end to end through the API, as the phones and the police clients do it.

A volunteer patrols tonight's Fengming Golden Street shift, earns points for the verified hours (awarded by the
task queued after the check-out's commit, once however often it runs), redeems a reward that the police admin
approves, and shows on the month's leaderboard. The street's last half-year ranking (computed by the scheduled
job's service and published in the seed) shows ten Safe Stores with badges; a winner downloads a certificate a
person can read; running the ranking job again changes nothing; the volunteer's points and redemption are in their
data export.

The clock is moved by patching ``django.utils.timezone.now`` (the patrol story does the same).
"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pypdfium2
import pytest
from django.core.management import call_command

from accounts.models import User
from alliance.management.commands.seed_demo import DEMO_PASSWORD, FENGMING
from alliance.models import Alliance, PointsAccount, PointsEntry, Reward, SafeStoreRanking, Store
from alliance.tasks import compute_safe_store_rankings_task, reconcile_points_task, settle_points_task
from config.times import api_datetime
from groups.demo_patrol import TEAM, tonight_starts
from groups.models import Shift, ShiftSignup
from tests.conftest import PinganClient

VOLUNTEER = "+8613800000036"  # 义警小刘: signs up for tonight from the app
POLICE_ADMIN = "+8613800000001"  # 陈所长
FLORIST = "+8613800000116"  # 李老板 of 花漾花店, first of the last half-year's Safe Stores in the demo


def _client(phone: str) -> PinganClient:
    client = PinganClient()
    client.login_with_password(phone, DEMO_PASSWORD)
    return client


def _at(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def _fix(latitude: float, longitude: float, moment) -> dict:
    return {
        "latitude": latitude,
        "longitude": longitude,
        "accuracy": 10,
        "device_time": api_datetime(moment),
        "mock_location": False,
    }


@pytest.mark.django_db
def test_points_a_reward_and_the_safe_stores_of_fengming_golden_street(django_capture_on_commit_callbacks):
    # given the demo city
    call_command("seed_demo", verbosity=0)
    alliance = Alliance.objects.get(slug=FENGMING)
    shift = Shift.objects.get(team__name=TEAM, starts_at=tonight_starts())
    florist_shop = Store.objects.get(alliance=alliance, name="花漾花店")
    street = (float(florist_shop.latitude), float(florist_shop.longitude))
    volunteer = User.objects.get(phone=VOLUNTEER)
    phone, police, florist = _client(VOLUNTEER), _client(POLICE_ADMIN), _client(FLORIST)

    # when the volunteer signs up, checks in at 21:55 and out at 02:00, the tasks queued on commit running
    with _at(shift.starts_at - timedelta(hours=5)):
        assert phone.post_json(f"/api/v1/shifts/{shift.pk}/signups", {"role": "mobile"}).status_code == 201
    moment = shift.starts_at - timedelta(minutes=5)
    with _at(moment), django_capture_on_commit_callbacks(execute=True):
        checked_in = phone.post_json(f"/api/v1/shifts/{shift.pk}/check-in", _fix(*street, moment))
    moment = shift.ends_at
    with _at(moment), django_capture_on_commit_callbacks(execute=True):
        checked_out = phone.post_json(f"/api/v1/shifts/{shift.pk}/check-out", _fix(*street, moment))
    # (the task queued after the check-out's commit ran as the block closed, the worker's part in production)
    with _at(moment):
        points = phone.get("/api/v1/me/points")
        history = phone.get("/api/v1/me/points/history")
    assert checked_in.status_code == 200, checked_in.content
    assert checked_out.status_code == 200, checked_out.content
    place = ShiftSignup.objects.get(shift=shift, user=volunteer)

    # then the four verified hours earn 10 points each (the default rule), once
    assert place.verified_seconds == 4 * 3600
    mine = [account for account in points.json()["results"] if account["alliance"]["id"] == alliance.pk]
    assert [(a["balance"], a["held"], a["available"]) for a in mine] == [(40, 0, 40)]
    assert [(e["reason"], e["amount"]) for e in history.json()["results"]] == [("patrol_hour", 40)]

    # when the award task runs again (a retry, a redelivery) and the nightly reconciliation runs
    again = settle_points_task("patrol_hours", [place.pk])

    # then nothing is written and the balance matches the ledger
    assert again == 0
    assert PointsAccount.objects.get(user=volunteer, alliance=alliance).balance == 40
    assert reconcile_points_task() == []

    # when the volunteer asks for the reflective vest (30 points) and the police admin approves it
    vest = Reward.objects.get(alliance=alliance, name="平安志愿者马甲")
    with _at(shift.ends_at + timedelta(hours=8)), django_capture_on_commit_callbacks(execute=True):
        requested = phone.post(f"/api/v1/alliances/{alliance.pk}/rewards/{vest.pk}/redemptions")
        held = PointsAccount.objects.get(user=volunteer, alliance=alliance)
        queue = police.get(f"/api/v1/alliances/{alliance.pk}/redemptions?status=requested")
        approved = police.post_json(
            f"/api/v1/alliances/{alliance.pk}/redemptions/{requested.json()['id']}/approve",
            {"note": "周五到警务站领取"},
        )

    # then the points were held while it waited, and spent by the approval
    assert requested.status_code == 201, requested.content
    assert (held.balance, held.held) == (40, 30)
    assert [item["id"] for item in queue.json()["results"]] == [requested.json()["id"]]
    assert approved.status_code == 200, approved.content
    account = PointsAccount.objects.get(user=volunteer, alliance=alliance)
    assert (account.balance, account.held) == (10, 0)
    assert PointsEntry.objects.get(unique_key=f"redemption:{requested.json()['id']}").amount == -30

    # and the volunteer is on this month's volunteers' board with the 40 earned (a redemption spends, it does not
    # lower what was earned)
    with _at(shift.ends_at + timedelta(hours=8)):
        board = phone.get(f"/api/v1/alliances/{alliance.pk}/leaderboard?period=month&role=volunteer")
        me = phone.get(f"/api/v1/alliances/{alliance.pk}/leaderboard/me?period=month&role=volunteer")
    assert board.status_code == 200, board.content
    assert me.json()["points"] == 40
    assert {"id": volunteer.pk, "points": 40} in [
        {"id": row["user"]["id"], "points": row["points"]} for row in board.json()["results"]
    ]

    # when anyone looks at the street's Safe Stores of the last half-year
    safe_stores = phone.get(f"/api/v1/alliances/{alliance.pk}/safe-stores")
    shop = florist.get(f"/api/v1/stores/{florist_shop.pk}")

    # then there are ten, the store held back by the police is not among them, and the florist's shop shows its badge
    assert safe_stores.status_code == 200, safe_stores.content
    winners = safe_stores.json()["results"]
    assert [w["place"] for w in winners] == list(range(1, 11))
    assert "星光KTV" not in [w["store"]["name"] for w in winners]
    assert shop.json()["safe_store"]["place"] == 1

    # when the florist downloads the certificate
    badge = shop.json()["safe_store"]["badge_id"]
    certificate = florist.get(f"/api/v1/stores/{florist_shop.pk}/safe-store-badges/{badge}/certificate.pdf")

    # then it is a PDF whose text reads as the certificate (the store, the title, the half-year, the place, the station)
    assert certificate.status_code == 200
    assert certificate["Content-Type"] == "application/pdf"
    pdf = b"".join(certificate.streaming_content) if certificate.streaming else certificate.content
    # (PDFium, the PDF engine of Chrome and Android, reads it as a person's viewer would)
    words = pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range()
    for expected in ("平安门店", "花漾花店", "上半年", "第1名", alliance.station.name):
        assert expected in words, (expected, words)

    # when the ranking job runs again, twice (a second beat, a redelivered message)
    fengming_ranking = SafeStoreRanking.objects.get(alliance=alliance)
    ranked = fengming_ranking.entries.order_by("rank", "store_id").values_list("store_id", "score", "held_back")
    entries_before = list(ranked)
    compute_safe_store_rankings_task()
    compute_safe_store_rankings_task()

    # then Fengming's published ranking is untouched (the other demo alliance gets its own, once)
    assert SafeStoreRanking.objects.filter(alliance=alliance).count() == 1
    assert list(ranked.all()) == entries_before
    assert SafeStoreRanking.objects.exclude(alliance=alliance).count() == 1

    # and the volunteer's export holds their points, their ledger and the redemption
    exported = phone.get("/api/v1/me/export").json()
    assert exported["points_accounts"][0]["balance"] == 10
    assert sorted(entry["amount"] for entry in exported["points_entries"]) == [-30, 40]
    assert [r["status"] for r in exported["redemptions"]] == ["approved"]
