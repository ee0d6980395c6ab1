"""Case statistics: the figures police put in their reports, from cases with known timestamps, and who may see them.

The period under test is March 2025 (Asia/Shanghai); its previous period is 29 January - 28 February 2025 and the
same period last year is March 2024.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from alliance.models import Station
from reports.models import Dispute, Incident
from reports.statistics.arithmetic import median, percentile_nearest_rank
from reports.statistics.periods import Period
from tests.factories.alliance import alliance_make, member_add, station_make, station_staff_post

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARCH = {"from": "2025-03-01", "to": "2025-03-31"}
HERE = (Decimal("31.777012"), Decimal("119.956301"))
# At 31.777 degrees north one metre is 1/111,320 degree of latitude and 1/94,640 degree of longitude.
NORTH_30_M = Decimal("0.000270")
EAST_80_M = Decimal("0.000845")


def at(day: str, clock: str = "10:00:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SHANGHAI)


def seconds_after(start: datetime, seconds: int | None) -> datetime | None:
    return None if seconds is None else start + timedelta(seconds=seconds)


def flag(
    ladder,
    when,
    *,
    ack=None,
    arrive=None,
    resolve=None,
    status=None,
    outcome="",
    level=1,
    category="quarrel",
    where=HERE,
) -> Dispute:
    if status is None:
        status = "resolved" if resolve is not None else "acknowledged" if ack is not None else "open"
    return Dispute.objects.create(
        alliance=ladder.alliance,
        reporter=ladder.merchant,
        category=category,
        latitude=where[0],
        longitude=where[1],
        status=status,
        level=level,
        outcome=outcome or ("mediated" if status == "resolved" else ""),
        flagged_at=when,
        acknowledged_at=seconds_after(when, ack),
        arrived_at=seconds_after(when, arrive),
        resolved_at=seconds_after(when, resolve),
    )


def report(
    ladder,
    when,
    *,
    accept=None,
    resolve=None,
    status="submitted",
    satisfaction=None,
    merged_into=None,
    category="theft",
    where=HERE,
) -> Incident:
    return Incident.objects.create(
        alliance=ladder.alliance,
        reporter=ladder.merchant,
        category=category,
        description="店门口电动车被偷",
        latitude=where[0],
        longitude=where[1],
        occurred_at=when,
        created_at=when,
        status=status,
        accepted_at=seconds_after(when, accept),
        resolved_at=seconds_after(when, resolve),
        satisfaction=satisfaction,
        merged_into=merged_into,
    )


def statistics_of(client, ladder, params=MARCH):
    response = client.get(f"/api/v1/alliances/{ladder.alliance.pk}/statistics", params)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def precinct_admin(qingguo, police_admin):
    """A police admin posted to Qingguo Lane's police station: the alliance lies in their jurisdiction."""
    station_staff_post(station=qingguo.station, user=police_admin)
    return police_admin


def test_median_and_nearest_rank_p90_of_a_known_list():
    times = [600, 20, 180, 40, 160, 60, 140, 80, 120, 100]

    assert median(times) == 110
    assert percentile_nearest_rank(times, 90) == 180  # the 9th of 10 sorted values
    assert percentile_nearest_rank([60, 90, 120, 150, 180, 210, 240, 900], 90) == 900  # rank ceil(7.2) = 8
    assert median([]) is None and percentile_nearest_rank([], 90) is None


def test_last_years_period_of_a_leap_day_is_the_28th():
    period = Period(datetime(2024, 2, 29).date(), datetime(2024, 3, 1).date())

    assert period.a_year_earlier() == Period(datetime(2023, 2, 28).date(), datetime(2023, 3, 1).date())
    assert period.previous() == Period(datetime(2024, 2, 27).date(), datetime(2024, 2, 28).date())


@pytest.mark.django_db
def test_dispute_response_times_share_within_five_minutes_levels_and_outcomes(login, qingguo, fengming):
    # given twelve flags in March (Shanghai days, both ends included), with known seconds to each step
    table = [
        # day, clock, ack, arrive, resolve, status, outcome, level, category
        ("2025-03-01", "00:00:00", 20, 60, 120, None, "mediated", 1, "quarrel"),
        ("2025-03-02", "10:00:00", 40, 90, 200, None, "settled_on_site", 1, "quarrel"),
        ("2025-03-03", "10:00:00", 60, 120, 299, None, "mediated", 1, "theft"),
        ("2025-03-04", "10:00:00", 80, 150, 300, None, "false_alarm", 1, "suspicious"),
        ("2025-03-05", "10:00:00", 100, 180, 301, None, "referred_to_station", 2, "quarrel"),
        ("2025-03-06", "10:00:00", 120, 210, 500, None, "mediated", 2, "fraud"),
        ("2025-03-07", "10:00:00", 140, 240, 1000, None, "referred_to_station", 3, "quarrel"),
        ("2025-03-08", "10:00:00", 160, 900, None, "on_scene", "", 3, "medical"),
        ("2025-03-09", "10:00:00", 180, None, None, None, "", 2, "quarrel"),
        ("2025-03-10", "10:00:00", 600, None, None, None, "", 3, "other"),
        ("2025-03-11", "10:00:00", None, None, None, "cancelled", "", 1, "quarrel"),
        ("2025-03-31", "23:59:59", None, None, None, None, "", 2, "fire"),
    ]
    for day, clock, ack, arrive, resolve, status, outcome, level, category in table:
        flag(
            qingguo,
            at(day, clock),
            ack=ack,
            arrive=arrive,
            resolve=resolve,
            status=status,
            outcome=outcome,
            level=level,
            category=category,
        )
    # and flags just outside the period, and another alliance's flag inside it
    flag(qingguo, at("2025-02-28", "23:59:59"), ack=10, resolve=30)
    flag(qingguo, at("2025-04-01", "00:00:00"), ack=10, resolve=30)
    flag(fengming, at("2025-03-15"), ack=10, resolve=30)

    # when the station's officer asks for March
    disputes = statistics_of(login(qingguo.station_officer), qingguo)["disputes"]

    # then
    assert disputes["total"] == 12
    assert disputes["time_to_acknowledge"] == {"count": 10, "median_seconds": 110.0, "p90_seconds": 180.0}
    assert disputes["time_to_arrive"] == {"count": 8, "median_seconds": 165.0, "p90_seconds": 900.0}
    assert disputes["time_to_resolve"] == {"count": 7, "median_seconds": 300.0, "p90_seconds": 1000.0}
    # resolved in 120, 200, 299 and 300 s; the denominator is every flag, the cancelled and open ones included
    assert disputes["handled_within_5_minutes"] == {"count": 4, "of": 12, "share_pct": 33.3}
    assert disputes["by_status"] == {"open": 1, "acknowledged": 2, "on_scene": 1, "resolved": 7, "cancelled": 1}
    assert disputes["by_level_reached"] == {"mall": 5, "office": 4, "station": 3}
    assert disputes["by_outcome"] == {
        "mediated": 3,
        "settled_on_site": 1,
        "referred_to_station": 2,
        "false_alarm": 1,
    }
    assert disputes["by_category"] == {
        "quarrel": 6,
        "theft": 1,
        "fraud": 1,
        "suspicious": 1,
        "medical": 1,
        "fire": 1,
        "other": 1,
    }


@pytest.mark.django_db
def test_incident_closure_rate_times_and_satisfaction(login, qingguo):
    # given eight reports in March: four resolved or closed, one rejected, one merged into another
    day = at("2025-03-10")
    first = report(qingguo, day, accept=600, resolve=3600, status="resolved", satisfaction=5)
    report(qingguo, day, accept=1200, resolve=7200, status="closed", satisfaction=4)
    report(qingguo, day, accept=300, resolve=1800, status="closed", satisfaction=4)
    report(qingguo, day, accept=2400, resolve=10800, status="resolved", satisfaction=2, category="hidden_danger")
    report(qingguo, day, accept=900, status="in_progress")
    report(qingguo, day)
    report(qingguo, day, status="rejected", category="other")
    report(qingguo, day, accept=60, resolve=120, status="closed", merged_into=first)

    # when
    incidents = statistics_of(login(qingguo.office_officer), qingguo)["incidents"]

    # then closure: 4 resolved or closed of the 6 neither rejected nor merged
    assert incidents["total"] == 8 and incidents["merged"] == 1
    assert incidents["closure"] == {"closed": 4, "of": 6, "rate_pct": 66.7}
    # times leave the merged duplicate out: accepted after 300, 600, 900, 1200, 2400 s
    assert incidents["time_to_accept"] == {"count": 5, "median_seconds": 900.0, "p90_seconds": 2400.0}
    assert incidents["time_to_resolve"] == {"count": 4, "median_seconds": 5400.0, "p90_seconds": 10800.0}
    assert incidents["satisfaction"] == {
        "responses": 4,
        "average": 3.75,
        "distribution": {"1": 0, "2": 1, "3": 0, "4": 2, "5": 1},
    }
    assert incidents["by_status"] == {
        "submitted": 1,
        "accepted": 0,
        "assigned": 0,
        "in_progress": 1,
        "resolved": 2,
        "closed": 3,
        "rejected": 1,
    }
    assert incidents["by_category"]["theft"] == 6 and incidents["by_category"]["hidden_danger"] == 1


@pytest.mark.django_db
def test_repeat_cases_are_the_same_place_within_thirty_days_in_the_same_alliance(login, qingguo, fengming):
    # given a report at P in February, and 18 days later a flag 30 m from it: a repeat, across kinds of case
    report(qingguo, at("2025-02-20"))
    flag(qingguo, at("2025-03-10"), where=(HERE[0] + NORTH_30_M, HERE[1]))
    # a flag at Q forty days after a report there: not a repeat
    q = (Decimal("31.780000"), Decimal("119.960000"))
    report(qingguo, at("2025-01-20"), where=q)
    flag(qingguo, at("2025-03-01"), where=q)
    # at S: a first flag, one 80 m away the next day (not a repeat), and one at S again two days later (a repeat)
    s = (Decimal("31.770000"), Decimal("119.950000"))
    flag(qingguo, at("2025-03-05"), where=s)
    flag(qingguo, at("2025-03-06"), where=(s[0], s[1] + EAST_80_M))
    flag(qingguo, at("2025-03-07"), where=s)
    # at T, the day after another alliance's flag there: not a repeat
    t = (Decimal("31.760000"), Decimal("119.940000"))
    flag(fengming, at("2025-03-02"), where=t)
    flag(qingguo, at("2025-03-03"), where=t)
    # at U, the day after a report that was rejected: not a repeat, and the rejected report is not counted
    u = (Decimal("31.750000"), Decimal("119.930000"))
    report(qingguo, at("2025-03-01"), where=u, status="rejected")
    flag(qingguo, at("2025-03-02"), where=u)

    # when
    cases = statistics_of(login(qingguo.station_officer), qingguo)["cases"]

    # then
    assert cases["total"] == 8
    assert cases["repeat"] == {"count": 2, "of": 7, "rate_pct": 28.6}


@pytest.mark.django_db
def test_hotspots_rank_grid_cells_by_cases(login, qingguo):
    # given three cases in one 0.001-degree cell, two in another, one in a third
    for lat, lon in [("31.7772", "119.9561"), ("31.7768", "119.9559"), ("31.777012", "119.956301")]:
        flag(qingguo, at("2025-03-10"), where=(Decimal(lat), Decimal(lon)))
    flag(qingguo, at("2025-03-11"), where=(Decimal("31.780100"), Decimal("119.960200")))
    report(qingguo, at("2025-03-12"), where=(Decimal("31.779900"), Decimal("119.959800")))
    report(qingguo, at("2025-03-13"), where=(Decimal("31.770000"), Decimal("119.950000")))

    # when
    hotspots = statistics_of(login(qingguo.station_officer), qingguo)["hotspots"]

    # then
    assert hotspots == [
        {"latitude": 31.777, "longitude": 119.956, "cases": 3, "disputes": 3, "incidents": 0},
        {"latitude": 31.78, "longitude": 119.96, "cases": 2, "disputes": 1, "incidents": 1},
        {"latitude": 31.77, "longitude": 119.95, "cases": 1, "disputes": 0, "incidents": 1},
    ]


@pytest.mark.django_db
def test_change_against_the_previous_period_and_the_same_period_last_year(login, qingguo):
    # given this March: 3 reports and 2 flags; the 31 days before: 4 reports; March 2024: 1 flag
    for day in ("2025-03-03", "2025-03-13", "2025-03-23"):
        report(qingguo, at(day))
    for day in ("2025-03-05", "2025-03-06"):
        flag(qingguo, at(day))
    for day in ("2025-01-29", "2025-02-10", "2025-02-20", "2025-02-28"):
        report(qingguo, at(day))
    flag(qingguo, at("2024-03-15"))

    # when
    body = statistics_of(login(qingguo.station_officer), qingguo)

    # then
    assert body["period"] == {"from": "2025-03-01", "to": "2025-03-31", "days": 31}
    assert body["previous_period"] == {"from": "2025-01-29", "to": "2025-02-28", "days": 31}
    assert body["last_year_period"] == {"from": "2024-03-01", "to": "2024-03-31", "days": 31}
    changes = body["changes"]
    assert changes["incidents.total"] == {
        "value": 3,
        "previous_period": {"value": 4, "change": -1, "change_pct": -25.0},
        "last_year": {"value": 0, "change": 3, "change_pct": None},
    }
    assert changes["disputes.total"] == {
        "value": 2,
        "previous_period": {"value": 0, "change": 2, "change_pct": None},
        "last_year": {"value": 1, "change": 1, "change_pct": 100.0},
    }
    assert changes["cases.total"]["previous_period"] == {"value": 4, "change": 1, "change_pct": 25.0}
    assert changes["cases.total"]["last_year"] == {"value": 1, "change": 4, "change_pct": 400.0}
    # a rate with no base is null, not 0
    assert changes["incidents.closure.rate_pct"] == {
        "value": 0.0,
        "previous_period": {"value": 0.0, "change": 0.0, "change_pct": None},
        "last_year": {"value": None, "change": None, "change_pct": None},
    }
    assert "previous period of the same number of days" in body["definitions"]["changes"]
    assert "cancelled, unresolved and still open" in body["definitions"]["disputes.handled_within_5_minutes"]


@pytest.mark.django_db
def test_a_station_covers_the_alliances_under_it_and_no_other(login, qingguo, fengming, user_factory):
    # given a second alliance whose office is a workstation under Qingguo's community police office
    station, office = qingguo.alliance.station, qingguo.alliance.office
    workstation = station_make(name="青果巷工作站", kind=Station.Kind.WORKSTATION, parent=office)
    night_market = alliance_make(name="夜市联盟", slug="night-market", station=station, office=workstation)
    flag(qingguo, at("2025-03-02"))
    flag(qingguo, at("2025-03-03"))
    Incident.objects.create(
        alliance=night_market,
        category="theft",
        description="被盗",
        latitude=HERE[0],
        longitude=HERE[1],
        created_at=at("2025-03-04"),
    )
    for day in ("2025-03-05", "2025-03-06", "2025-03-07"):
        flag(fengming, at(day))

    # when the station's officer and the office's officer ask for their units
    by_station = login(qingguo.station_officer).get(f"/api/v1/stations/{station.pk}/statistics", MARCH)
    by_office = login(qingguo.office_officer).get(f"/api/v1/stations/{office.pk}/statistics", MARCH)
    office_asks_for_station = login(qingguo.office_officer).get(f"/api/v1/stations/{station.pk}/statistics", MARCH)
    as_csv = login(qingguo.station_officer).get(f"/api/v1/stations/{station.pk}/statistics.csv", MARCH)

    # then both see the two alliances under them, and the other station's flags are not counted
    assert by_station.status_code == 200
    body = by_station.json()
    assert body["scope"]["kind"] == "station" and body["scope"]["id"] == station.pk
    assert [a["id"] for a in body["scope"]["alliances"]] == [qingguo.alliance.pk, night_market.pk]
    assert body["cases"]["total"] == 3
    assert (body["disputes"]["total"], body["incidents"]["total"]) == (2, 1)
    assert by_office.json()["cases"]["total"] == 3
    assert as_csv.status_code == 200
    assert f'filename="pingan-statistics-station-{station.pk}-20250301-20250331.csv"' in as_csv["Content-Disposition"]
    assert ["全部事件", "事件总数（纠纷求助与警情）", "3", "0", "", "0", ""] in list(
        csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig")))
    )
    # an office's officer does not see the station above the office
    assert office_asks_for_station.status_code == 404


@pytest.mark.django_db
def test_who_may_see_an_alliances_statistics(login, qingguo, fengming, precinct_admin, user_factory):
    alliance_admin = user_factory(roles=[Role.MERCHANT])
    member_add(qingguo.alliance, alliance_admin, "admin")
    other_precinct_admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER])
    station_staff_post(station=fengming.station, user=other_precinct_admin)
    url = f"/api/v1/alliances/{qingguo.alliance.pk}/statistics"
    station_url = f"/api/v1/stations/{qingguo.alliance.station_id}/statistics"

    seen = {
        "merchant": login(qingguo.merchant).get(url).status_code,
        "merchant_csv": login(qingguo.merchant).get(f"{url}.csv").status_code,
        "mall_manager": login(qingguo.mall_manager).get(url).status_code,
        "alliance_admin": login(alliance_admin).get(url).status_code,
        "office_officer": login(qingguo.office_officer).get(url).status_code,
        "station_officer": login(qingguo.station_officer).get(url).status_code,
        "precinct_admin": login(precinct_admin).get(url).status_code,
        "other_alliance_officer": login(fengming.office_officer).get(url).status_code,
        "other_precinct_admin": login(other_precinct_admin).get(url).status_code,
        "no_such_alliance": login(precinct_admin).get("/api/v1/alliances/999999999/statistics").status_code,
    }
    station_seen = {
        "precinct_admin": login(precinct_admin).get(station_url).status_code,
        "alliance_admin": login(alliance_admin).get(station_url).status_code,
        "merchant": login(qingguo.merchant).get(station_url).status_code,
        "other_alliance_officer": login(fengming.station_officer).get(station_url).status_code,
    }

    assert seen == {
        "merchant": 404,
        "merchant_csv": 404,
        "mall_manager": 404,
        "alliance_admin": 200,
        "office_officer": 200,
        "station_officer": 200,
        "precinct_admin": 200,
        "other_alliance_officer": 404,
        "other_precinct_admin": 404,
        "no_such_alliance": 404,
    }
    assert station_seen == {
        "precinct_admin": 200,
        "alliance_admin": 404,
        "merchant": 404,
        "other_alliance_officer": 404,
    }


@pytest.mark.django_db
def test_the_period_defaults_to_the_last_thirty_days_and_bad_dates_answer_400(login, qingguo):
    client = login(qingguo.station_officer)
    url = f"/api/v1/alliances/{qingguo.alliance.pk}/statistics"
    today = timezone.localdate()

    default = client.get(url).json()["period"]
    only_to = client.get(url, {"to": "2025-03-31"}).json()["period"]
    empty = client.get(url, {"from": "", "to": ""}).json()["period"]
    two_years = client.get(url, {"from": "2023-01-01", "to": "2024-12-31"})
    answers = {
        "reversed": client.get(url, {"from": "2025-03-31", "to": "2025-03-01"}),
        "too_long": client.get(url, {"from": "2023-01-01", "to": "2025-01-01"}),
        "slashes": client.get(url, {"from": "2025/03/01"}),
        "no_such_day": client.get(url, {"to": "2025-02-30"}),
        "words": client.get(url, {"from": "yesterday"}),
        "last_century": client.get(url, {"from": "1999-12-31", "to": "2000-01-31"}),
    }
    in_english = client.get(url, {"from": "2025-03-31", "to": "2025-03-01"}, HTTP_ACCEPT_LANGUAGE="en")

    assert default == {"from": str(today - timedelta(days=29)), "to": str(today), "days": 30}
    assert only_to == {"from": "2025-03-02", "to": "2025-03-31", "days": 30}
    assert empty == default
    assert two_years.status_code == 200 and two_years.json()["period"]["days"] == 731
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 400)
    assert {name: sorted(r.json()["fields"]) for name, r in answers.items()} == {
        "reversed": ["from"],
        "too_long": ["to"],
        "slashes": ["from"],
        "no_such_day": ["to"],
        "words": ["from"],
        "last_century": ["from"],
    }
    assert answers["reversed"].json()["fields"]["from"] == ["开始日期不能晚于结束日期。"]
    assert in_english.json()["fields"]["from"] == ["The start date must not be after the end date."]


@pytest.mark.django_db
def test_the_csv_has_a_bom_a_translated_header_and_the_same_numbers_as_the_json(login, qingguo):
    # given
    flag(qingguo, at("2025-03-02"), ack=30, resolve=240)
    flag(qingguo, at("2025-02-02"), ack=90)
    report(qingguo, at("2025-03-03"), accept=600, resolve=3600, status="closed", satisfaction=5)
    report(qingguo, at("2024-03-03"))
    client = login(qingguo.station_officer)
    url = f"/api/v1/alliances/{qingguo.alliance.pk}/statistics"

    # when
    as_json = client.get(url, MARCH).json()
    in_chinese = client.get(f"{url}.csv", MARCH)
    in_english = client.get(f"{url}.csv", MARCH, HTTP_ACCEPT_LANGUAGE="en")
    asked_for_csv = client.get(f"{url}.csv", MARCH, HTTP_ACCEPT="text/csv")

    # then
    assert in_chinese.status_code == 200 and asked_for_csv.status_code == 200
    assert in_chinese["Content-Type"] == "text/csv; charset=utf-8"
    assert in_chinese["Content-Disposition"] == (
        f'attachment; filename="pingan-statistics-alliance-{qingguo.alliance.pk}-20250301-20250331.csv"'
    )
    assert in_chinese.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(in_chinese.content.decode("utf-8-sig"))))
    english = list(csv.reader(io.StringIO(in_english.content.decode("utf-8-sig"))))
    assert rows[0] == ["板块", "指标", "本期", "上期", "环比（%）", "去年同期", "同比（%）"]
    assert english[0] == [
        "Section",
        "Figure",
        "This period",
        "Previous period",
        "Change on previous period (%)",
        "Same period last year",
        "Change year on year (%)",
    ]
    assert rows[1][2:] == ["2025-03-01", "2025-01-29", "", "2024-03-01", ""]

    def cell(value) -> str:
        return "" if value is None else str(value)

    figure_rows = rows[4 : 4 + len(as_json["changes"])]
    expected = [
        [
            cell(c["value"]),
            cell(c["previous_period"]["value"]),
            cell(c["previous_period"]["change_pct"]),
            cell(c["last_year"]["value"]),
            cell(c["last_year"]["change_pct"]),
        ]
        for c in as_json["changes"].values()
    ]
    assert [row[2:] for row in figure_rows] == expected
    by_label = {row[1]: row[2:] for row in english}
    assert by_label["Closure rate (%)"] == ["100.0", "", "", "0.0", ""]
    assert by_label["Flags"] == ["1", "1", "0.0", "0", ""]
    assert by_label["Time to acknowledge: median (seconds)"] == ["30.0", "90.0", "-66.7", "", ""]
    assert english[-1][:3] == ["Hotspots (cases per grid cell)", "No. 1 near 31.777, 119.956", "2"]


@pytest.mark.django_db
def test_the_number_of_queries_does_not_grow_with_the_cases(login, qingguo, django_assert_max_num_queries):
    client = login(qingguo.station_officer)
    url = f"/api/v1/alliances/{qingguo.alliance.pk}/statistics"
    flag(qingguo, at("2025-03-02"), ack=30)
    report(qingguo, at("2025-03-03"))
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, MARCH).status_code == 200

    # given many more cases across all three periods, in many places
    for i in range(40):
        where = (HERE[0] + Decimal(i) / 1000, HERE[1])
        flag(qingguo, at("2025-03-01") + timedelta(hours=17 * i), ack=60, arrive=120, resolve=200, where=where)
        report(qingguo, at("2025-02-01") + timedelta(hours=13 * i), accept=60, satisfaction=4, where=where)
        report(qingguo, at("2024-03-01") + timedelta(hours=11 * i), status="closed", where=where)

    # then the same queries answer
    with django_assert_max_num_queries(len(few)):
        assert client.get(url, MARCH).status_code == 200
    with django_assert_max_num_queries(len(few)):
        assert client.get(f"{url}.csv", MARCH).status_code == 200
    assert len(few) <= 19  # session (2), user, alliance, membership, roles, posting; 4 per period
