"""Case statistics computed by PostgreSQL give exactly the figures of the Python path that SQLite (the embedded
default) uses: on edge cases (ties at the median, empty periods, cases on grid-cell borders and exactly 50 m or 30
days apart, periods that end at midnight Asia/Shanghai) and on a random street, period by period and through the
endpoints; and the station's statistics take a fixed number of queries whatever the number of cases.

tests/reports/test_statistics.py checks the figures themselves; on PostgreSQL (always under CI) those run the SQL
path, on SQLite the Python one."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.models import Dispute
from reports.statistics import queries
from reports.statistics.catalogue import case_statistics
from reports.statistics.periods import Period
from reports.statistics.postgres import PERIOD_SQL, postgres_measures, statement_params, statistics_settings
from tests.reports.test_statistics import MARCH, at, flag, report

# At 31.777 degrees north: 50 m is 0.000449 degree of latitude (49.98 m; 0.000450 is 50.09 m) and 0.000528 degree
# of longitude (49.96 m; 0.000529 is 50.05 m).
NORTH_50_M, NORTH_OVER_50_M = Decimal("0.000449"), Decimal("0.000450")
EAST_50_M, EAST_OVER_50_M = Decimal("0.000528"), Decimal("0.000529")
PERIODS = [
    Period(date(2025, 3, 1), date(2025, 3, 31)),
    Period(date(2025, 1, 29), date(2025, 2, 28)),  # its previous period
    Period(date(2024, 3, 1), date(2024, 3, 31)),  # the same dates a year earlier: no cases at all
    Period(date(2025, 3, 31), date(2025, 3, 31)),  # one day, ending at midnight Shanghai time
    Period(date(2025, 1, 1), date(2025, 12, 31)),
]


def comparable(measures: dict) -> dict:
    """The measures with the grouped counts in one order (the database returns groups in any order)."""
    return {
        **measures,
        "dispute_counts": sorted(repr(sorted(group.items())) for group in measures["dispute_counts"]),
        "incident_counts": sorted(repr(sorted(group.items())) for group in measures["incident_counts"]),
    }


def both_ways(alliance_ids: list[int], period: Period) -> tuple[dict, dict]:
    with statistics_settings():
        in_postgres = postgres_measures(alliance_ids=alliance_ids, period=period)
    in_python = queries.python_measures(alliance_ids=alliance_ids, period=period)
    return comparable(in_postgres), comparable(in_python)


def edge_cases(qingguo, fengming) -> None:
    here = (Decimal("31.777200"), Decimal("119.956300"))
    # times: ties at the median, microseconds, halves at the rounding to 0.1 s, an even and an odd count
    for seconds, arrive, resolve in [
        (60, 100.0, 120.05),
        (60, 100.1, 120.15),
        (60, None, 299.999999),
        (120, 100.05, 300),
        (120.000001, 30, 300.000001),
    ]:
        when = at("2025-03-10", "12:00:00.250000")
        flag(qingguo, when, where=here, status="resolved", outcome="mediated")
        Dispute.objects.filter(pk=Dispute.objects.latest("pk").pk).update(
            acknowledged_at=when + timedelta(seconds=seconds),
            arrived_at=None if arrive is None else when + timedelta(seconds=arrive),
            resolved_at=when + timedelta(seconds=resolve),
        )
    for accept in (300, 300, 600, 900, 900, 900, 1200, 2400, 2400, 3600, 7200):  # eleven: p90 is the 10th
        report(qingguo, at("2025-03-12"), accept=accept, resolve=accept * 3, status="closed", satisfaction=4)
    # midnight Shanghai time at both ends of March, and at the end of the one-day period
    for day, clock in [
        ("2025-02-28", "23:59:59.999999"),
        ("2025-03-01", "00:00:00"),
        ("2025-03-31", "23:59:59.999999"),
        ("2025-04-01", "00:00:00"),
    ]:
        flag(qingguo, at(day, clock), ack=30, where=(Decimal("31.790000"), Decimal("119.970000")))
    # repeats: pairs 30 days apart and 1 microsecond more, raised at the same instant, across the borders of the
    # 0.001-degree cells and of the near cells, exactly at and just over 50 m north and east
    border = (Decimal("31.780000"), Decimal("119.960000"))  # a corner of four 0.001-degree cells
    first = at("2025-03-02", "09:00:00")
    flag(qingguo, first, where=border)
    flag(qingguo, first + timedelta(days=30), where=(border[0] - NORTH_50_M, border[1]))  # repeat
    flag(qingguo, first + timedelta(days=3), where=(border[0] + NORTH_OVER_50_M, border[1] - Decimal("0.000001")))
    report(qingguo, first + timedelta(days=4), where=(border[0], border[1] + EAST_50_M))  # repeat
    report(qingguo, first + timedelta(days=5), where=(border[0] + Decimal("0.000300"), border[1] - EAST_OVER_50_M))
    other = (Decimal("31.770000"), Decimal("119.950000"))
    report(qingguo, at("2025-02-05", "08:00:00"), where=other)
    report(qingguo, at("2025-03-07", "08:00:00.000001"), where=other)  # 30 days and 1 microsecond later: not
    same_spot = (Decimal("31.740000"), Decimal("119.920000"))
    report(qingguo, at("2025-02-03", "10:00:00"), where=same_spot)
    report(qingguo, at("2025-03-05", "10:00:00"), where=same_spot)  # exactly 30 days later: a repeat
    report(qingguo, at("2025-03-08"), where=(Decimal("31.760000"), Decimal("119.940000")))
    report(qingguo, at("2025-03-08"), where=(Decimal("31.760000"), Decimal("119.940000")))  # same instant: not
    flag(fengming, at("2025-03-14"), where=(Decimal("31.750000"), Decimal("119.930000")))
    flag(qingguo, at("2025-03-15"), where=(Decimal("31.750000"), Decimal("119.930000")))  # other alliance's: not
    # hotspots: the same number of cases in cells on either side of a rounding half
    for lat in ("31.7775", "31.7775", "31.7774999", "31.7774999", "31.7765", "31.7765"):
        report(qingguo, at("2025-03-20"), where=(Decimal(lat), Decimal("119.9505")))
    # cases that neither repeats nor hotspots count, but the counts do
    flag(qingguo, at("2025-03-21"), resolve=100, outcome="false_alarm", where=other)
    report(qingguo, at("2025-03-21"), status="rejected", where=other)
    merged_into = report(qingguo, at("2025-03-21"), accept=60, where=other)
    report(qingguo, at("2025-03-21"), accept=30, status="closed", merged_into=merged_into, where=other)


@pytest.mark.needs_postgres
@pytest.mark.django_db
def test_the_database_gives_the_python_figures_on_edge_cases(qingguo, fengming):
    edge_cases(qingguo, fengming)

    for alliance_ids in ([qingguo.alliance.pk], [qingguo.alliance.pk, fengming.alliance.pk], [fengming.alliance.pk]):
        for period in PERIODS:
            in_postgres, in_python = both_ways(alliance_ids, period)
            assert in_postgres == in_python, (alliance_ids, period)

    # and the edge cases are there: March's repeats, empty March 2024, ties and halves in the times
    march, _ = both_ways([qingguo.alliance.pk], PERIODS[0])
    # repeats: the report 50 m east of the corner, the eleven reports two days after the flags 21 m from them, the
    # kept report at ``other`` 14 days after one there, the flag at 00:00 on 1 March a microsecond after one, the
    # report at the same spot exactly 30 days after another; and in the year also the flag 30 days after the first
    # (50 m south of it) and the flag at 00:00 on 1 April, a microsecond after one
    assert march["repeats"] == 1 + 11 + 1 + 1 + 1
    assert both_ways([qingguo.alliance.pk], PERIODS[4])[0]["repeats"] == march["repeats"] + 2
    assert both_ways([qingguo.alliance.pk], PERIODS[2])[0]["time_to_accept"] == {
        "count": 0,
        "median_seconds": None,
        "p90_seconds": None,
    }
    assert march["time_to_accept"] == {"count": 12, "median_seconds": 900.0, "p90_seconds": 3600.0}
    assert march["time_to_arrive"] == {"count": 4, "median_seconds": 100.0, "p90_seconds": 100.1}


@pytest.mark.needs_postgres
@pytest.mark.django_db
def test_the_database_gives_the_python_figures_on_a_random_street(qingguo, fengming):
    # given 400 cases of two alliances within ~300 m and 90 days, at any microsecond: many near and far pairs
    rng = random.Random(10)
    centre = (Decimal("31.777000"), Decimal("119.956000"))
    start = at("2025-01-15")
    for n in range(400):
        ladder = qingguo if n % 5 else fengming
        where = tuple(c + Decimal(rng.randint(-3000, 3000)) / 1_000_000 for c in centre)
        when = start + timedelta(microseconds=rng.randint(0, 90 * 86400 * 10**6))
        seconds = [rng.choice([None, rng.randint(1, 3600), rng.randint(1, 3600) + 0.5]) for _ in range(3)]
        if n % 2:
            flag(ladder, when, ack=seconds[0], arrive=seconds[1], resolve=seconds[2], where=where)
        else:
            status = rng.choice(["submitted", "closed", "resolved", "rejected"])
            report(ladder, when, accept=seconds[0], resolve=seconds[1], status=status, where=where)

    for alliance_ids in ([qingguo.alliance.pk], [qingguo.alliance.pk, fengming.alliance.pk]):
        for period in PERIODS:
            in_postgres, in_python = both_ways(alliance_ids, period)
            assert in_postgres == in_python, (alliance_ids, period)
    assert 0 < both_ways([qingguo.alliance.pk], PERIODS[0])[0]["repeats"] < 200


@pytest.mark.needs_postgres
@pytest.mark.django_db
def test_the_endpoint_figures_are_the_same_either_way(login, qingguo, fengming, monkeypatch):
    edge_cases(qingguo, fengming)
    ids = [qingguo.alliance.pk, fengming.alliance.pk]

    in_postgres = case_statistics(alliance_ids=ids, start=date(2025, 3, 1), end=date(2025, 3, 31))
    with CaptureQueriesContext(connection) as statements:
        case_statistics(alliance_ids=ids, start=date(2025, 3, 1), end=date(2025, 3, 31))
    monkeypatch.setattr(queries, "measured_in_postgres", lambda: False)
    in_python = case_statistics(alliance_ids=ids, start=date(2025, 3, 1), end=date(2025, 3, 31))

    assert in_postgres == in_python
    assert sum("percentile_disc" in query["sql"] for query in statements.captured_queries) == 3


@pytest.mark.needs_postgres
@pytest.mark.django_db
def test_the_repeat_search_can_read_the_near_cell_indexes_in_order(qingguo, fengming):
    # the window over alliance, near cell and time can take its order from the two near-cell indexes of migration
    # reports 0005 (merged, index-only) instead of a sort: at city scale that is what PostgreSQL picks; here, with
    # a handful of rows, sorting is cheaper, so sorts are priced out. Breaks when the statement's near-cell
    # expressions and the indexes' drift apart, or a kind's own condition stops the merge.
    params = statement_params(alliance_ids=[qingguo.alliance.pk, fengming.alliance.pk], period=PERIODS[0])
    with statistics_settings(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off; SET LOCAL enable_incremental_sort = off")
        cursor.execute(f"EXPLAIN {PERIOD_SQL}", params)
        plan = [line for (line,) in cursor.fetchall()]

    window = next(i for i, line in enumerate(plan) if "WindowAgg" in line)
    merge = next(i for i, line in enumerate(plan) if "Merge Append" in line)
    assert window < merge
    assert not any("Sort  (" in line for line in plan[window:merge])
    below = "\n".join(plan[merge:])
    assert "Index Only Scan using incident_near_cell_time" in below
    assert "Index Only Scan using dispute_near_cell_time" in below


@pytest.mark.django_db
def test_station_statistics_take_the_same_queries_whatever_the_cases(login, qingguo, django_assert_num_queries):
    client = login(qingguo.station_officer)
    url = f"/api/v1/stations/{qingguo.station.pk}/statistics"
    flag(qingguo, at("2025-03-02"), ack=30)
    report(qingguo, at("2025-03-03"))
    # session (one read), user, roles, station, posting, the alliances under it; then per period (3) one statement
    # on PostgreSQL, in one transaction with its settings (3 more: savepoint, settings, release); four on SQLite
    expected = 6 + (3 + 3 if connection.vendor == "postgresql" else 3 * 4)
    with django_assert_num_queries(expected):
        assert client.get(url, MARCH).status_code == 200

    for i in range(30):
        where = (Decimal("31.777") + Decimal(i) / 1000, Decimal("119.956"))
        flag(qingguo, at("2025-03-01") + timedelta(hours=23 * i), ack=60, resolve=200, where=where)
        report(qingguo, at("2025-02-01") + timedelta(hours=13 * i), accept=60, satisfaction=4, where=where)
        report(qingguo, at("2024-03-01") + timedelta(hours=11 * i), status="closed", where=where)

    with django_assert_num_queries(expected):
        assert client.get(url, MARCH).status_code == 200
    with django_assert_num_queries(expected):
        assert client.get(f"{url}.csv", MARCH).status_code == 200
