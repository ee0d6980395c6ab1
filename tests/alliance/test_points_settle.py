"""Settling points from evidence: awards once, caps per local day, reversal and re-award, the batch's statements,
the nightly reconciliation and catch-up. The evidence is the tests' own source (tests/alliance/points_sources.py)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alliance.models import PointsAccount, PointsEntry, PointsRule
from alliance.selectors.alliances import alliance_access_for
from alliance.tasks import catch_up_points_task, reconcile_points_task, settle_points_task
from tests.alliance.points_sources import claim
from tests.factories.points import points_correct, points_entry_make, points_settle, redemption_requested_make

NOV_10 = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
NOV_10_LATE = datetime(2026, 11, 10, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai: still the 10th there
NOV_11_EARLY = datetime(2026, 11, 10, 16, 30, tzinfo=UTC)  # 00:30 on the 11th in Shanghai, the 10th in UTC


def _ledger():
    return sorted(PointsEntry.objects.values_list("unique_key", "user_id", "amount", "reason", "reverses_id"))


def _balance(user, alliance) -> int:
    return PointsAccount.objects.get(user=user, alliance=alliance).balance


def _sum(user, alliance) -> int:
    return sum(PointsEntry.objects.filter(user=user, alliance=alliance).values_list("amount", flat=True))


def test_verified_evidence_earns_its_rule_once_however_often_it_is_settled(test_evidence, ledger_street):
    # given two pieces of evidence: 2.5 verified hours and 1 hour (default rule: 10 points an hour)
    street = ledger_street
    test_evidence[1] = [claim(user=street.volunteer, alliance=street.alliance, evidence_id=1, units=2.5)]
    test_evidence[2] = [claim(user=street.other_volunteer, alliance=street.alliance, evidence_id=2, units=1)]

    # when they are settled, then settled again (a retried or redelivered task), and once more through the task
    written = points_settle(source="test_evidence", ids=[1, 2])
    ledger = _ledger()
    again = points_settle(source="test_evidence", ids=[2, 1, 1])
    by_task = settle_points_task.delay("test_evidence", [1, 2]).get()

    # then each earned once (2.5 h -> 25 points), and the balances are the sums of the entries
    assert (written, again, by_task) == (2, 0, 0)
    assert _ledger() == ledger
    assert _balance(street.volunteer, street.alliance) == 25 == _sum(street.volunteer, street.alliance)
    assert _balance(street.other_volunteer, street.alliance) == 10
    entry = PointsEntry.objects.get(unique_key="test_evidence:1")
    assert (entry.source_type, entry.source_id, str(entry.earned_on)) == ("tests.evidence", 1, "2026-11-10")


def test_half_a_point_rounds_up_and_the_alliances_own_rule_replaces_the_default(test_evidence, ledger_street):
    # given the alliance pays 3 points an hour for patrols with no cap, and 1.5 hours of evidence
    street = ledger_street
    PointsRule.objects.create(alliance=street.alliance, reason="patrol_hour", amount=3, daily_cap=None)
    test_evidence[1] = [claim(user=street.volunteer, alliance=street.alliance, evidence_id=1, units=1.5)]

    # when settled
    points_settle(source="test_evidence", ids=[1])

    # then 4.5 points round half up to 5
    assert _balance(street.volunteer, street.alliance) == 5


def test_the_daily_cap_counts_the_local_day_the_ledger_and_earlier_claims_of_the_batch(test_evidence, ledger_street):
    # given the default patrol rule (10 an hour, at most 80 a day) and 30 points already earned on Nov 10
    street = ledger_street
    volunteer, alliance = street.volunteer, street.alliance
    test_evidence[1] = [claim(user=volunteer, alliance=alliance, evidence_id=1, units=3, happened_at=NOV_10)]
    points_settle(source="test_evidence", ids=[1])
    # and, in one batch: 4 h on the 10th, 2 h late on the 10th (Shanghai), 1 h just after midnight (the 11th there)
    test_evidence[2] = [claim(user=volunteer, alliance=alliance, evidence_id=2, units=4, happened_at=NOV_10)]
    test_evidence[3] = [claim(user=volunteer, alliance=alliance, evidence_id=3, units=2, happened_at=NOV_10_LATE)]
    test_evidence[4] = [claim(user=volunteer, alliance=alliance, evidence_id=4, units=1, happened_at=NOV_11_EARLY)]
    # and another person's hours the same day, which do not count against this one's cap
    test_evidence[5] = [claim(user=street.other_volunteer, alliance=alliance, evidence_id=5, units=8)]

    # when settled
    written = points_settle(source="test_evidence", ids=[2, 3, 4, 5])

    # then the 10th stops at 80 (30 + 40 + 10 of the 20), the full cap writes nothing, and the 11th starts afresh
    amounts = dict(PointsEntry.objects.filter(user=volunteer).values_list("unique_key", "amount"))
    assert amounts == {"test_evidence:1": 30, "test_evidence:2": 40, "test_evidence:3": 10, "test_evidence:4": 10}
    assert written == 4
    assert _balance(street.other_volunteer, alliance) == 80

    # and a further claim that day finds the cap full: no entry at all (no zero entries)
    test_evidence[6] = [claim(user=volunteer, alliance=alliance, evidence_id=6, units=1, happened_at=NOV_10)]
    assert points_settle(source="test_evidence", ids=[6]) == 0
    assert not PointsEntry.objects.filter(unique_key__startswith="test_evidence:6").exists()


def test_evidence_gone_is_reversed_once_and_evidence_back_earns_again_under_a_new_key(test_evidence, ledger_street):
    # given an accepted report that earned 10 points
    street = ledger_street
    test_evidence[7] = [
        claim(user=street.volunteer, alliance=street.alliance, evidence_id=7, reason="incident_accepted")
    ]
    points_settle(source="test_evidence", ids=[7])
    award = PointsEntry.objects.get(unique_key="test_evidence:7")

    # when the report is rejected (its claim gone) and settled twice
    del test_evidence[7]
    assert points_settle(source="test_evidence", ids=[7]) == 1
    assert points_settle(source="test_evidence", ids=[7]) == 0

    # then one reversal cancels the award
    reversal = PointsEntry.objects.get(reverses=award)
    assert (reversal.unique_key, reversal.amount, reversal.reason) == ("reversal:test_evidence:7", -10, "reversal")
    assert reversal.earned_on == award.earned_on
    assert _balance(street.volunteer, street.alliance) == 0 == _sum(street.volunteer, street.alliance)

    # when it is accepted again, then rejected again, then accepted a third time
    test_evidence[7] = [
        claim(user=street.volunteer, alliance=street.alliance, evidence_id=7, reason="incident_accepted")
    ]
    points_settle(source="test_evidence", ids=[7])
    points_settle(source="test_evidence", ids=[7])
    del test_evidence[7]
    points_settle(source="test_evidence", ids=[7])
    test_evidence[7] = [
        claim(user=street.volunteer, alliance=street.alliance, evidence_id=7, reason="incident_accepted")
    ]
    points_settle(source="test_evidence", ids=[7])

    # then each acceptance earned once under its own key, each rejection reversed the award standing then
    keys = sorted(PointsEntry.objects.values_list("unique_key", "amount"))
    assert keys == [
        ("reversal:test_evidence:7", -10),
        ("reversal:test_evidence:7#2", -10),
        ("test_evidence:7", 10),
        ("test_evidence:7#2", 10),
        ("test_evidence:7#3", 10),
    ]
    assert _balance(street.volunteer, street.alliance) == 10 == _sum(street.volunteer, street.alliance)


def test_a_reversed_award_no_longer_fills_the_days_cap(test_evidence, ledger_street):
    # given 8 hours earned the 10th (the cap, 80), then that evidence rejected
    street = ledger_street
    test_evidence[1] = [claim(user=street.volunteer, alliance=street.alliance, evidence_id=1, units=8)]
    points_settle(source="test_evidence", ids=[1])
    del test_evidence[1]
    points_settle(source="test_evidence", ids=[1])

    # when other hours of that day are settled
    test_evidence[2] = [claim(user=street.volunteer, alliance=street.alliance, evidence_id=2, units=5)]
    points_settle(source="test_evidence", ids=[2])

    # then they earn in full
    assert PointsEntry.objects.get(unique_key="test_evidence:2").amount == 50


def test_evidence_rejected_while_the_batch_waited_for_its_locks_earns_nothing(test_evidence, ledger_street):
    # given evidence whose first reading shows a claim, and which is gone by the time it is read under the locks
    street = ledger_street
    readings = []

    def claims_then_nothing(ids):
        readings.append(ids)
        if len(readings) == 1:
            return [claim(user=street.volunteer, alliance=street.alliance, evidence_id=9)]
        return []

    from alliance import points_evidence

    points_evidence.points_evidence_register("test_evidence", claims_then_nothing, recent_ids=lambda since: [])

    # when settled
    written = points_settle(source="test_evidence", ids=[9])

    # then the claim was read again under the locks and nothing was written
    assert len(readings) == 2
    assert written == 0 and not PointsEntry.objects.exists()


def _settle_queries(test_evidence, street, first: int, count: int) -> int:
    for number in range(first, first + count):
        person = street.volunteer if number % 2 else street.other_volunteer
        test_evidence[number] = [claim(user=person, alliance=street.alliance, evidence_id=number, units=0.1)]
    with CaptureQueriesContext(connection) as captured:
        written = points_settle(source="test_evidence", ids=list(range(first, first + count)))
    assert written == count
    return len(captured)


def test_a_batch_takes_the_same_few_statements_whatever_its_size(test_evidence, ledger_street, user_factory):
    # given batches of 4 and of 40 claims, for people in the alliance
    street = ledger_street

    # when each is settled
    small = _settle_queries(test_evidence, street, 1, 4)
    large = _settle_queries(test_evidence, street, 101, 40)

    # then both take the same statements: savepoint, accounts made, accounts locked, entries of the rows, rules,
    # the caps' day totals, one INSERT, one UPDATE, release
    assert small == large == 9


def test_the_nightly_reconciliation_reports_every_difference_and_changes_nothing(ledger_street, caplog):
    # given two accounts that match their ledger, one whose balance was changed behind the ledger's back, and one
    # whose hold is not what its pending requests hold
    street = ledger_street
    points_entry_make(user=street.volunteer, alliance=street.alliance, amount=30)
    points_entry_make(user=street.other_volunteer, alliance=street.alliance, amount=20)
    redemption_requested_make(user=street.other_volunteer, alliance=street.alliance, points=15)
    points_entry_make(user=street.merchant, alliance=street.alliance, amount=5)
    PointsAccount.objects.filter(user=street.merchant).update(balance=7)
    points_entry_make(user=street.mall_manager, alliance=street.alliance, amount=12)
    PointsAccount.objects.filter(user=street.mall_manager).update(held=3)

    # when the nightly check runs
    with caplog.at_level(logging.ERROR, logger="alliance.tasks"):
        differences = reconcile_points_task.delay().get()

    # then it names exactly the two, logs an error for each, and leaves them as they were
    found = {(d["user"], d["balance"], d["ledger"], d["held"], d["requested"]) for d in differences}
    assert found == {(street.merchant.pk, 7, 5, 0, 0), (street.mall_manager.pk, 12, 12, 3, 0)}
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 2
    assert _balance(street.merchant, street.alliance) == 7


def test_the_nightly_catch_up_settles_what_never_reached_the_broker(test_evidence, ledger_street, settings):
    # given evidence of the last days that was never settled, more than one batch of it
    settings.POINTS_SETTLE_BATCH = 2
    street = ledger_street
    for number in range(1, 6):
        test_evidence[number] = [claim(user=street.volunteer, alliance=street.alliance, evidence_id=number, units=0.5)]

    # when the catch-up runs twice
    first = catch_up_points_task.delay().get()
    second = catch_up_points_task.delay().get()

    # then every claim earned once
    assert (first, second) == (5, 0)
    assert _balance(street.volunteer, street.alliance) == 25


@pytest.mark.parametrize("bad_key", ["other_source:1", "test_evidence1"])
def test_a_claim_keyed_outside_its_source_is_refused(test_evidence, ledger_street, bad_key):
    # given a source whose claim is keyed outside its name
    street = ledger_street
    test_evidence[1] = [claim(user=street.volunteer, alliance=street.alliance, evidence_id=1, key=bad_key)]

    # when settled, then it is refused and nothing is written
    with pytest.raises(ValueError):
        points_settle(source="test_evidence", ids=[1])
    assert not PointsEntry.objects.exists()


def test_an_award_a_police_admin_took_back_is_not_given_again_by_the_next_settling(test_evidence, ledger_street):
    # given an award whose evidence stands, taken back by a police admin's correction (a check-in by a stand-in)
    street = ledger_street
    test_evidence[1] = [claim(user=street.volunteer, alliance=street.alliance, evidence_id=1, units=2)]
    points_settle(source="test_evidence", ids=[1])
    award = PointsEntry.objects.get(unique_key="test_evidence:1")
    access = alliance_access_for(user=street.police_admin, alliance=street.alliance)
    points_correct(
        actor=street.police_admin, access=access, user_id=street.volunteer.pk, note="代签", reverses_id=award.pk
    )

    # when the evidence is settled again (the nightly catch-up), and once more after it is gone
    again = points_settle(source="test_evidence", ids=[1])
    del test_evidence[1]
    gone = points_settle(source="test_evidence", ids=[1])

    # then the police's decision stands: no re-award, and no second reversal
    assert (again, gone) == (0, 0)
    assert _balance(street.volunteer, street.alliance) == 0 == _sum(street.volunteer, street.alliance)


def test_the_same_evidence_named_twice_in_a_batch_earns_once(test_evidence, ledger_street):
    street = ledger_street
    twice = claim(user=street.volunteer, alliance=street.alliance, evidence_id=1)
    test_evidence[1] = [twice, twice]

    assert points_settle(source="test_evidence", ids=[1]) == 1
    assert _balance(street.volunteer, street.alliance) == 10
