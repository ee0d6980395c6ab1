"""The points endpoints: my points and history, leaderboards (ranks, ties, roles, periods, my rank), the rules, the
police's corrections and merchant contributions, the alliance's ledger, and who may do what."""

from __future__ import annotations

from datetime import date

import pytest

from accounts.models import Role
from alliance.models import PointsAccount, PointsEntry, PointsRule
from tests.factories.alliance import MemberRole, member_add
from tests.factories.points import points_entry_make, redemption_requested_make
from tests.fixtures.street import build_street

NOV = date(2026, 11, 5)
OCT = date(2026, 10, 20)
JUL = date(2026, 7, 1)
JUN = date(2026, 6, 30)


def _board(client, alliance, **query) -> dict:
    response = client.get(f"/api/v1/alliances/{alliance.pk}/leaderboard", query)
    assert response.status_code == 200, response.content
    return response.json()


def _rows(board: dict) -> list[tuple[int, int, str]]:
    return [(row["rank"], row["points"], row["user"]["display_name"]) for row in board["results"]]


@pytest.fixture
def board_street(ledger_street, user_factory):
    """Volunteers 甲 40, 乙 40 (tie), 丙 25 in November; 甲 also 100 in October and spends 30 in November;
    the merchant 50 in November. 乙 loses 5 by a correction in November."""
    street = ledger_street
    third = user_factory(roles=[Role.VOLUNTEER], display_name="志愿者丙")
    member_add(street.alliance, third, MemberRole.VOLUNTEER)
    street.third = third
    a = street.alliance
    points_entry_make(user=street.volunteer, alliance=a, amount=40, earned_on=NOV)
    points_entry_make(user=street.volunteer, alliance=a, amount=100, earned_on=OCT)
    points_entry_make(user=street.volunteer, alliance=a, amount=-30, reason="redemption", earned_on=NOV)
    points_entry_make(user=street.other_volunteer, alliance=a, amount=45, earned_on=NOV)
    points_entry_make(user=street.other_volunteer, alliance=a, amount=-5, reason="correction", earned_on=NOV)
    points_entry_make(user=third, alliance=a, amount=25, earned_on=NOV)
    points_entry_make(user=street.merchant, alliance=a, amount=50, reason="incident_accepted", earned_on=NOV)
    points_entry_make(user=third, alliance=a, amount=7, earned_on=JUN)
    points_entry_make(user=third, alliance=a, amount=9, earned_on=JUL)
    return street


def test_the_monthly_board_ranks_volunteers_with_ties_and_leaves_redemptions_out(board_street, login):
    # given the November figures, seen by a merchant of the alliance
    client = login(board_street.merchant)

    # when the volunteers' November board is asked
    board = _board(client, board_street.alliance, period="month", month="2026-11", role="volunteer")

    # then the tie shares rank 1, the next is 3, spending does not lower 甲, a correction lowers 乙
    assert _rows(board) == [(1, 40, "志愿者甲"), (1, 40, "志愿者乙"), (3, 25, "志愿者丙")]
    # and numbers are masked for a merchant
    assert "****" in board["results"][0]["user"]["phone"]


def test_merchants_have_their_own_board_and_half_years_are_january_june_and_july_december(board_street, login):
    client = login(board_street.volunteer)
    alliance = board_street.alliance

    # when the merchants' board and the two halves of 2026 are asked
    merchants = _board(client, alliance, month="2026-11", role="merchant")
    second_half = _board(client, alliance, period="half_year", half="2026H2")
    first_half = _board(client, alliance, period="half_year", half="2026H1")

    # then merchants are apart, and each half holds only its own days
    assert _rows(merchants) == [(1, 50, "青平果联盟李老板")]
    assert _rows(second_half) == [(1, 140, "志愿者甲"), (2, 40, "志愿者乙"), (3, 34, "志愿者丙")]
    assert _rows(first_half) == [(1, 7, "志愿者丙")]


def test_my_rank_is_the_rank_the_board_gives_me(board_street, login):
    # given 乙 tied first in November, 丙 third
    alliance = board_street.alliance

    # when each asks for their rank
    other = login(board_street.other_volunteer).get(
        f"/api/v1/alliances/{alliance.pk}/leaderboard/me", {"month": "2026-11"}
    )
    third = login(board_street.third).get(f"/api/v1/alliances/{alliance.pk}/leaderboard/me", {"month": "2026-11"})
    merchant = login(board_street.merchant).get(f"/api/v1/alliances/{alliance.pk}/leaderboard/me", {"month": "2026-11"})

    # then they are where the board puts them; a merchant is not on the volunteers' board
    assert other.json() == {"period": "2026-11", "role": "volunteer", "rank": 1, "points": 40}
    assert third.json()["rank"] == 3
    assert merchant.json()["rank"] is None


@pytest.mark.parametrize(
    "query",
    [
        {"month": "2026-13"},
        {"month": "26-11"},
        {"period": "half_year", "half": "2026H3"},
        {"period": "half_year", "month": "2026-11"},
        {"role": "admin"},
        {"period": "year"},
        {"month": "0000-01"},  # no year 0 in the calendar: was a 500
        {"period": "half_year", "half": "0000H1"},
        {"month": "\u0662\u0660\u0662\u0666-11"},  # Arabic-Indic digits are not YYYY
    ],
)
def test_a_bad_period_or_role_is_a_400_naming_it(board_street, login, query):
    response = login(board_street.volunteer).get(f"/api/v1/alliances/{board_street.alliance.pk}/leaderboard", query)
    assert response.status_code == 400, response.content
    assert set(response.json()["fields"]) & set(query)


def test_another_alliances_board_is_not_found(board_street, other_street, login):
    response = login(board_street.volunteer).get(f"/api/v1/alliances/{other_street.alliance.pk}/leaderboard")
    assert response.status_code == 404


def test_my_points_and_history(board_street, login):
    # given 甲 with a pending request holding 20
    street = board_street
    redemption_requested_make(user=street.volunteer, alliance=street.alliance, points=20)
    client = login(street.volunteer)

    # when 甲 reads their points and history
    points = client.get("/api/v1/me/points").json()["results"]
    history = client.get("/api/v1/me/points/history", {"alliance": street.alliance.pk}).json()["results"]
    elsewhere = client.get("/api/v1/me/points/history", {"alliance": street.alliance.pk + 1000}).json()["results"]

    # then the balance, hold and what is available; the entries newest first with their reason's label
    assert points == [
        {
            "alliance": {"id": street.alliance.pk, "name": street.alliance.name},
            "balance": 110,
            "held": 20,
            "available": 90,
            "updated_at": points[0]["updated_at"],
        }
    ]
    assert [(e["amount"], e["reason"]) for e in history] == [
        (-30, "redemption"),
        (100, "patrol_hour"),
        (40, "patrol_hour"),
    ]
    assert history[0]["reason_label"] and history[0]["earned_on"] == "2026-11-05"
    assert elsewhere == []


# --- the police's entries -----------------------------------------------------------------------------------------


def _correct(client, alliance, body):
    return client.post_json(f"/api/v1/alliances/{alliance.pk}/points/corrections", body)


def test_a_police_admin_of_the_jurisdiction_corrects_points_with_a_reason(ledger_street, login):
    # given 甲 with 40 points
    street = ledger_street
    points_entry_make(user=street.volunteer, alliance=street.alliance, amount=40)
    client = login(street.police_admin)

    # when the police admin takes 15, with the reason
    response = _correct(client, street.alliance, {"user": street.volunteer.pk, "amount": -15, "note": "重复登记"})

    # then a correction entry by them, and the balance follows
    assert response.status_code == 201, response.content
    entry = PointsEntry.objects.get(pk=response.json()["id"])
    assert (entry.reason, entry.amount, entry.note, entry.created_by) == (
        "correction",
        -15,
        "重复登记",
        street.police_admin,
    )
    assert entry.unique_key.startswith("correction:")
    assert PointsAccount.objects.get(user=street.volunteer).balance == 25


def test_a_correction_reverses_one_award_once(ledger_street, login):
    street = ledger_street
    award = points_entry_make(user=street.volunteer, alliance=street.alliance, amount=40)
    client = login(street.police_admin)

    # when the award is reversed, then reversed again
    first = _correct(client, street.alliance, {"user": street.volunteer.pk, "reverses": award.pk, "note": "冒名签到"})
    second = _correct(client, street.alliance, {"user": street.volunteer.pk, "reverses": award.pk, "note": "再来"})

    # then the first takes exactly the award back, the second is refused
    assert first.status_code == 201 and first.json()["amount"] == -40 and first.json()["reverses"] == award.pk
    assert second.status_code == 400 and second.json()["code"] == "points_already_reversed"
    assert PointsAccount.objects.get(user=street.volunteer).balance == 0


def test_a_correction_needs_a_reason_and_never_takes_what_requests_hold(ledger_street, login):
    street = ledger_street
    points_entry_make(user=street.volunteer, alliance=street.alliance, amount=40)
    redemption_requested_make(user=street.volunteer, alliance=street.alliance, points=30)
    client = login(street.police_admin)

    no_note = _correct(client, street.alliance, {"user": street.volunteer.pk, "amount": -5, "note": "  "})
    too_much = _correct(client, street.alliance, {"user": street.volunteer.pk, "amount": -11, "note": "多记"})
    zero = _correct(client, street.alliance, {"user": street.volunteer.pk, "amount": 0, "note": "零"})
    stranger = _correct(client, street.alliance, {"user": street.police_admin.pk + 10_000, "amount": 5, "note": "x"})

    assert no_note.status_code == 400 and "note" in no_note.json()["fields"]
    assert too_much.status_code == 400 and too_much.json()["code"] == "points_below_held"
    assert zero.status_code == 400 and "amount" in zero.json()["fields"]
    assert stranger.status_code == 400 and "user" in stranger.json()["fields"]
    assert PointsEntry.objects.filter(reason="correction").count() == 0


def test_members_may_not_correct_and_other_jurisdictions_do_not_see_the_alliance(ledger_street, login, user_factory):
    # given a volunteer, an alliance admin who is a merchant, and a police admin of another jurisdiction
    street = ledger_street
    points_entry_make(user=street.volunteer, alliance=street.alliance, amount=40)
    foreign_admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER])
    build_street(user_factory, name="凤鸣金街联盟", slug="fengming", police_admin=foreign_admin, people=False)
    body = {"user": street.volunteer.pk, "amount": 100, "note": "自己加分"}

    alliance_admin = user_factory(roles=[Role.MERCHANT], display_name="联盟管理员")
    member_add(street.alliance, alliance_admin, MemberRole.ADMIN)

    # when each tries to correct
    volunteer = _correct(login(street.volunteer), street.alliance, body)
    by_alliance_admin = _correct(login(alliance_admin), street.alliance, body)
    foreign = _correct(login(foreign_admin), street.alliance, body)
    ledger = login(street.volunteer).get(f"/api/v1/alliances/{street.alliance.pk}/points/ledger")
    foreign_ledger = login(foreign_admin).get(f"/api/v1/alliances/{street.alliance.pk}/points/ledger")

    # then a member is refused and the other jurisdiction is told nothing exists
    assert volunteer.status_code == 403
    assert by_alliance_admin.status_code == 403  # corrections are the police's: an admin may be a merchant here
    assert foreign.status_code == 404 and foreign_ledger.status_code == 404
    assert ledger.status_code == 403
    assert PointsAccount.objects.get(user=street.volunteer).balance == 40


def test_a_retried_correction_with_its_idempotency_key_writes_one_entry(ledger_street, login):
    street = ledger_street
    client = login(street.police_admin)
    body = {"user": street.volunteer.pk, "amount": 10, "note": "补记"}
    url = f"/api/v1/alliances/{street.alliance.pk}/points/corrections"

    first = client.post_json(url, body, HTTP_IDEMPOTENCY_KEY="c-1")
    again = client.post_json(url, body, HTTP_IDEMPOTENCY_KEY="c-1")

    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert PointsEntry.objects.filter(reason="correction").count() == 1


def test_merchant_contributions_follow_the_rule_and_its_cap(ledger_street, login):
    # given the alliance's rule: 20 points, at most 30 a day
    street = ledger_street
    PointsRule.objects.create(alliance=street.alliance, reason="merchant_contribution", amount=20, daily_cap=30)
    url = f"/api/v1/alliances/{street.alliance.pk}/points/contributions"
    admin = login(street.police_admin)

    # when the merchant is awarded three times in a day, a volunteer once, and a volunteer tries to award
    awards = [admin.post_json(url, {"user": street.merchant.pk, "note": "提供监控录像"}) for _ in range(3)]
    not_merchant = admin.post_json(url, {"user": street.volunteer.pk, "note": "x"})
    by_volunteer = login(street.volunteer).post_json(url, {"user": street.merchant.pk, "note": "x"})

    # then 20, then the 10 left under the cap, then refused
    assert [a.status_code for a in awards] == [201, 201, 400]
    assert [a.json().get("amount") for a in awards[:2]] == [20, 10]
    assert awards[2].json()["code"] == "points_daily_cap_reached"
    assert not_merchant.status_code == 400 and by_volunteer.status_code == 403
    assert PointsAccount.objects.get(user=street.merchant).balance == 30


def test_members_read_the_rules_and_police_admins_of_the_jurisdiction_set_them(ledger_street, login):
    street = ledger_street
    url = f"/api/v1/alliances/{street.alliance.pk}/points/rules"
    body = {"rules": [{"reason": "patrol_hour", "amount": 12, "daily_cap": None}]}

    before = login(street.volunteer).get(url).json()["rules"]
    refused = login(street.volunteer).put(url, body, format="json")
    changed = login(street.police_admin).put(url, body, format="json")

    patrol = next(r for r in before if r["reason"] == "patrol_hour")
    assert patrol == {"reason": "patrol_hour", "amount": 10, "daily_cap": 80, "is_default": True}
    assert refused.status_code == 403
    assert changed.status_code == 200, changed.content
    patrol = next(r for r in changed.json()["rules"] if r["reason"] == "patrol_hour")
    assert patrol == {"reason": "patrol_hour", "amount": 12, "daily_cap": None, "is_default": False}


def test_the_police_admin_reads_the_alliances_ledger_by_person(board_street, login):
    street = board_street
    client = login(street.police_admin)

    everyone = client.get(f"/api/v1/alliances/{street.alliance.pk}/points/ledger").json()["results"]
    one = client.get(f"/api/v1/alliances/{street.alliance.pk}/points/ledger", {"user": street.third.pk}).json()

    assert len(everyone) == 9
    assert {row["user"]["id"] for row in one["results"]} == {street.third.pk}
    assert "****" not in one["results"][0]["user"]["phone"]  # police see numbers in full


def test_my_points_join_the_export_and_the_ledger_stays_on_the_anonymised_row_after_deletion(board_street, login):
    # given 甲 with entries in the alliance, and 乙 with their own
    street = board_street
    client = login(street.volunteer)

    # when 甲 exports their data, then deletes their account
    exported = client.get("/api/v1/me/export").json()
    deleted = client.generic(
        "DELETE", "/api/v1/me", data=f'{{"confirm_phone": "{street.volunteer.phone}"}}', content_type="application/json"
    )

    # then the export holds 甲's account and entries, nobody else's
    assert [(a["alliance"], a["balance"]) for a in exported["points_accounts"]] == [(street.alliance.name, 110)]
    assert sorted(e["amount"] for e in exported["points_entries"]) == [-30, 40, 100]
    # and the alliance's ledger keeps the rows, on the anonymised person
    assert deleted.status_code == 204
    street.volunteer.refresh_from_db()
    assert street.volunteer.phone is None
    assert PointsEntry.objects.filter(user=street.volunteer).count() == 3
    assert PointsAccount.objects.get(user=street.volunteer).balance == 110
