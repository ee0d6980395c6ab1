"""The Safe Store ranking's computation: half-year periods, the score statement, and the final ranking written
exactly once per alliance and period, in a fixed number of statements."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from alliance.models import Alliance, SafeStoreRanking, SafeStoreRankingEntry, StoreScorePart
from alliance.selectors.safe_store_scores import (
    safe_store_period,
    safe_store_period_bounds,
    safe_store_previous_period,
    safe_store_scores,
)
from alliance.services.safe_store_rankings import safe_store_ranking_compute
from alliance.tasks import compute_safe_store_rankings_task
from tests.factories.safe_stores import ranking_make, score_event_make, stores_make, weights_set
from tests.fixtures.street import build_street

SHANGHAI = ZoneInfo("Asia/Shanghai")
H1 = date(2025, 1, 1)  # a half-year long over: January-June 2025
IN_H1 = datetime(2025, 3, 10, 12, 0, tzinfo=SHANGHAI)
P = StoreScorePart


@pytest.fixture
def ranked_street(db, user_factory):
    """A street founded by its police admin, with three stores of three merchants (the street's own first), the
    alliance dated back so that it existed during H1."""
    admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="王所长")
    street = build_street(user_factory, name="青平果联盟", slug="qingpingguo", police_admin=admin)
    stores = [street.store, *stores_make(alliance=street.alliance, user_factory=user_factory, count=2)]
    Alliance.objects.filter(pk=street.alliance.pk).update(created_at=datetime(2024, 1, 1, tzinfo=SHANGHAI))
    street.stores = stores
    return street


def test_the_half_years_run_january_to_june_and_july_to_december():
    assert safe_store_period(date(2025, 1, 1)) == (date(2025, 1, 1), date(2025, 6, 30))
    assert safe_store_period(date(2025, 6, 30)) == (date(2025, 1, 1), date(2025, 6, 30))
    assert safe_store_period(date(2025, 7, 1)) == (date(2025, 7, 1), date(2025, 12, 31))
    assert safe_store_previous_period(date(2025, 7, 1)) == (date(2025, 1, 1), date(2025, 6, 30))
    assert safe_store_previous_period(date(2026, 3, 5)) == (date(2025, 7, 1), date(2025, 12, 31))


def test_a_period_is_bounded_by_local_midnights():
    start, end = safe_store_period_bounds(date(2025, 7, 1), date(2025, 12, 31))
    assert start == datetime(2025, 7, 1, tzinfo=SHANGHAI)
    assert end == datetime(2026, 1, 1, tzinfo=SHANGHAI)
    # local midnight is 16:00 UTC the day before
    assert start.astimezone(ZoneInfo("UTC")) == datetime(2025, 6, 30, 16, 0, tzinfo=ZoneInfo("UTC"))


def test_the_score_is_the_weighted_sum_of_the_parts_and_every_store_is_ranked(ranked_street):
    # given a store with two passed inspections, a fixed hidden danger and an incident, one with patrol hours, and
    # one with nothing, with the default weights (inspection +10, fixed +3, incident -5, patrol hour +1)
    first, second, third = ranked_street.stores
    score_event_make(store=first, part=P.INSPECTION_PASSED, value=1, occurred_at=IN_H1)
    score_event_make(store=first, part=P.INSPECTION_PASSED, value=1, occurred_at=IN_H1)
    score_event_make(store=first, part=P.HIDDEN_DANGER_FIXED, value=1, occurred_at=IN_H1)
    score_event_make(store=first, part=P.INCIDENT_NEARBY, value=2, occurred_at=IN_H1)
    score_event_make(store=second, part=P.PATROL_HOURS, value=7.5, occurred_at=IN_H1)

    # when the half-year is scored
    rows = safe_store_scores(alliance_id=ranked_street.alliance.pk, period_start=H1, period_end=date(2025, 6, 30))

    # then each score is its parts' quantities times their weights, split into security and contribution
    by_store = {row.store_id: row for row in rows}
    assert by_store[first.pk].score == pytest.approx(20 + 3 - 10)
    assert by_store[first.pk].security_score == pytest.approx(13)
    assert by_store[first.pk].contribution_score == 0
    assert by_store[first.pk].parts[P.INCIDENT_NEARBY] == {"quantity": 2, "weight": -5, "score": -10}
    assert by_store[second.pk].score == pytest.approx(7.5)
    assert by_store[second.pk].contribution_score == pytest.approx(7.5)
    assert by_store[third.pk].score == 0
    assert set(by_store[third.pk].parts) == set(P.values)
    assert [(row.store_id, row.rank, row.position) for row in rows] == [
        (first.pk, 1, 1),
        (second.pk, 2, 2),
        (third.pk, 3, 3),
    ]


def test_equal_scores_share_a_rank_and_are_shown_in_a_fixed_order(ranked_street):
    # given three stores with no events at all
    # when scored
    rows = safe_store_scores(alliance_id=ranked_street.alliance.pk, period_start=H1, period_end=date(2025, 6, 30))

    # then they share rank 1 and are listed by the order they registered in
    assert [row.rank for row in rows] == [1, 1, 1]
    assert [row.store_id for row in rows] == sorted(store.pk for store in ranked_street.stores)
    assert [row.position for row in rows] == [1, 2, 3]


def test_scores_equal_but_for_float_rounding_tie(ranked_street):
    # given 3 days in the groups at 0.2 (0.6000000000000001 in floating point) and one alert at 0.6
    first, second, _third = ranked_street.stores
    weights_set(alliance=ranked_street.alliance, by=ranked_street.police_admin, alert_acknowledged=0.6)
    score_event_make(store=second, part=P.GROUP_PARTICIPATION, value=3, occurred_at=IN_H1)
    score_event_make(store=first, part=P.ALERT_ACKNOWLEDGED, value=1, occurred_at=IN_H1)

    # when scored
    rows = safe_store_scores(alliance_id=ranked_street.alliance.pk, period_start=H1, period_end=date(2025, 6, 30))

    # then both score 0.6 and share the first rank
    assert [(row.store_id, row.score, row.rank) for row in rows[:2]] == [(first.pk, 0.6, 1), (second.pk, 0.6, 1)]


def test_only_the_periods_events_count(ranked_street):
    # given events just before the half-year, on its first and last local moments, and just after
    store = ranked_street.stores[0]
    for moment in (
        datetime(2024, 12, 31, 23, 59, tzinfo=SHANGHAI),
        datetime(2025, 1, 1, 0, 0, tzinfo=SHANGHAI),
        datetime(2025, 6, 30, 23, 59, tzinfo=SHANGHAI),
        datetime(2025, 7, 1, 0, 0, tzinfo=SHANGHAI),
    ):
        score_event_make(store=store, part=P.REPORT_ACCEPTED, value=1, occurred_at=moment)

    # when H1 is scored
    rows = safe_store_scores(alliance_id=ranked_street.alliance.pk, period_start=H1, period_end=date(2025, 6, 30))

    # then only the two inside count
    [mine] = [row for row in rows if row.store_id == store.pk]
    assert mine.parts[P.REPORT_ACCEPTED]["quantity"] == 2


def test_the_alliances_own_weights_replace_the_defaults(ranked_street):
    # given the police weigh patrol hours at 5 and passed inspections at 0
    first, second, _third = ranked_street.stores
    weights_set(alliance=ranked_street.alliance, by=ranked_street.police_admin, patrol_hours=5, inspection_passed=0)
    score_event_make(store=first, part=P.INSPECTION_PASSED, value=1, occurred_at=IN_H1)
    score_event_make(store=second, part=P.PATROL_HOURS, value=2, occurred_at=IN_H1)

    # when the final ranking is computed
    ranking = ranking_make(alliance=ranked_street.alliance, period_start=H1)

    # then the patroller leads, and the ranking keeps the weights it used
    entries = list(ranking.entries.order_by("rank", "store_id"))
    assert [(entry.store_id, entry.score) for entry in entries[:2]] == [(second.pk, 10), (first.pk, 0)]
    assert ranking.weights[P.PATROL_HOURS] == 5 and ranking.weights[P.INSPECTION_PASSED] == 0
    assert ranking.weights[P.INCIDENT_NEARBY] == -5  # the default
    assert entries[0].parts[P.PATROL_HOURS] == {"quantity": 2, "weight": 5, "score": 10}


def test_the_final_ranking_is_a_snapshot_of_every_store(ranked_street, other_street):
    # given events in H1 and an event of another alliance's store
    first, second, third = ranked_street.stores
    score_event_make(store=third, part=P.FLAG_HANDLED_WELL, value=1, occurred_at=IN_H1)
    score_event_make(store=other_street.store, part=P.FLAG_HANDLED_WELL, value=9, occurred_at=IN_H1)

    # when the job's service computes H1 for this alliance
    result = safe_store_ranking_compute(period_start=H1, alliance_id=ranked_street.alliance.pk)

    # then one ranking with one entry per store of the alliance, and nothing of the other street
    assert (result.rankings, result.entries) == (1, 3)
    ranking = SafeStoreRanking.objects.get(alliance=ranked_street.alliance)
    assert (ranking.period_start, ranking.period_end, ranking.status) == (H1, date(2025, 6, 30), "computed")
    assert [(e.store_id, e.rank) for e in ranking.entries.order_by("rank", "store_id")] == [
        (third.pk, 1),
        (first.pk, 2),
        (second.pk, 2),
    ]
    assert ranking.entries.get(store=third).contribution_score == 4
    assert not SafeStoreRanking.objects.filter(alliance=other_street.alliance).exists()


def test_computing_twice_writes_nothing_the_second_time(ranked_street):
    # given the ranking of H1 computed once
    score_event_make(store=ranked_street.stores[1], part=P.INSPECTION_PASSED, occurred_at=IN_H1)
    first = safe_store_ranking_compute(period_start=H1)
    before = list(SafeStoreRankingEntry.objects.values_list("pk", "store_id", "rank", "score"))

    # when it runs again (a second beat, a retried task), after a late event of the period
    score_event_make(store=ranked_street.stores[2], part=P.INSPECTION_PASSED, value=5, occurred_at=IN_H1)
    second = safe_store_ranking_compute(period_start=H1)

    # then the second run wrote nothing and the snapshot is unchanged
    assert (first.rankings, first.entries) == (1, 3)
    assert (second.rankings, second.entries) == (0, 0)
    assert SafeStoreRanking.objects.count() == 1
    assert list(SafeStoreRankingEntry.objects.values_list("pk", "store_id", "rank", "score")) == before


def test_the_number_of_statements_does_not_depend_on_the_stores(ranked_street, user_factory, other_street):
    # given two alliances due, with 3 and 1 stores
    Alliance.objects.update(created_at=datetime(2024, 1, 1, tzinfo=SHANGHAI))
    with CaptureQueriesContext(connection) as small:
        safe_store_ranking_compute(period_start=H1)
    # and, for the next half-year, 12 more stores with events
    more = stores_make(alliance=ranked_street.alliance, user_factory=user_factory, count=12)
    for store in more:
        score_event_make(store=store, part=P.PATROL_HOURS, value=3, occurred_at=datetime(2025, 8, 1, tzinfo=SHANGHAI))

    # when both are computed
    with CaptureQueriesContext(connection) as large:
        result = safe_store_ranking_compute(period_start=date(2025, 7, 1))

    # then as many statements either way: alliances due, weights, insert the rankings, insert the entries (and
    # the transaction's savepoint around them)
    assert result.entries == 15 + 1
    assert len(large) == len(small)
    writes = [q["sql"] for q in large.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "WITH"))]
    assert len(writes) == 2, writes
    assert len(large) <= 6, [q["sql"][:80] for q in large.captured_queries]


def test_alliances_already_ranked_or_founded_after_the_period_are_not_due(ranked_street, other_street):
    # given the street's ranking of H1 done, and another alliance founded after H1 ended
    ranking_make(alliance=ranked_street.alliance, period_start=H1)

    # when the job computes H1 for every alliance
    result = safe_store_ranking_compute(period_start=H1)

    # then nothing more is written
    assert (result.rankings, result.entries) == (0, 0)
    assert SafeStoreRanking.objects.filter(alliance=other_street.alliance).count() == 0


def test_a_running_or_unaligned_period_is_refused(ranked_street):
    with pytest.raises(ValueError):
        safe_store_ranking_compute(period_start=date(2025, 2, 1))
    with pytest.raises(ValueError):
        safe_store_ranking_compute(period_start=safe_store_period(date.today() + timedelta(days=1))[0])


def test_the_task_computes_the_previous_half_year_for_every_alliance(ranked_street):
    # given it is 1 July 2025, local time (the task's stand-in for the date)
    score_event_make(store=ranked_street.stores[0], part=P.PATROL_HOURS, value=1, occurred_at=IN_H1)

    # when the hourly task runs, twice
    first = compute_safe_store_rankings_task.delay(today="2025-07-01").get()
    second = compute_safe_store_rankings_task.delay(today="2025-07-01").get()

    # then January-June 2025 is ranked, once
    assert first == 1 and second == 0
    ranking = SafeStoreRanking.objects.get()
    assert ranking.period_start == H1
    assert ranking.entries.count() == 3


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_on_postgresql_write_the_ranking_once(ranked_street, user_factory):
    # given an alliance with a few more stores, and four workers that start computing H1 together
    stores_make(alliance=ranked_street.alliance, user_factory=user_factory, count=5)
    barrier = threading.Barrier(4)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(safe_store_ranking_compute(period_start=H1))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    # when they run at the same moment
    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then exactly one wrote the ranking and its entries, the others nothing
    assert errors == []
    assert sorted((r.rankings, r.entries) for r in results) == [(0, 0)] * 3 + [(1, 8)]
    assert SafeStoreRanking.objects.count() == 1
    assert SafeStoreRankingEntry.objects.count() == 8
