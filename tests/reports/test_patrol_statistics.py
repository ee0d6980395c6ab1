"""Patrol statistics: shifts filled against planned, no-shows, verified hours, checkpoint coverage per route,
patrols run and the patrol log, per team, alliance and police unit, from hand-made rows; the CSV; who may see them.

The period under test is March 2025 (Asia/Shanghai); its previous period is 29 January - 28 February 2025 and the
same period last year is March 2024.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from groups.models import CheckpointScan, PatrolAttempt, PatrolLogEntry, PatrolRoute, ShiftSignup
from reports.models import Incident
from tests.factories.alliance import member_add, station_staff_post
from tests.factories.patrol import route_make, shift_make, signup_make, team_make, zone_make

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARCH = {"from": "2025-03-01", "to": "2025-03-31"}


def at(day: str, clock: str = "22:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}:00").replace(tzinfo=SHANGHAI)


def attended(signup: ShiftSignup, seconds: int, attendance: str = ShiftSignup.Attendance.DONE) -> ShiftSignup:
    signup.attendance, signup.verified_seconds, signup.checked_in_at = attendance, seconds, signup.shift.starts_at
    signup.save()
    return signup


def scan(signup: ShiftSignup, checkpoint, round: int = 1) -> None:
    attempt = PatrolAttempt.objects.create(
        shift=signup.shift, signup=signup, user=signup.user, kind="scan", checkpoint=checkpoint, accepted=True
    )
    CheckpointScan.objects.create(
        signup=signup,
        checkpoint=checkpoint,
        round=round,
        scanned_at=signup.shift.starts_at,
        latitude=checkpoint.latitude,
        longitude=checkpoint.longitude,
        attempt=attempt,
    )


def log(signup: ShiftSignup, kind: str, *, flyers: int = 0, people_reached: int = 0, incident=None) -> None:
    PatrolLogEntry.objects.create(
        signup=signup,
        kind=kind,
        flyers=flyers,
        people_reached=people_reached,
        incident_id=incident.pk if incident else None,
    )


@pytest.fixture
def patrols(street, other_street, user_factory):
    """Two teams of the street's alliance and one of another alliance, with shifts in March 2025, one in February
    (the previous period) and some that must not count (cancelled, April, the other alliance)."""
    a, b, c, d, e, f = (user_factory(roles=[Role.VOLUNTEER]) for _ in range(6))
    leader = user_factory(roles=[Role.VOLUNTEER])
    zone = zone_make(alliance=street.alliance)
    main_line = route_make(alliance=street.alliance, zone=zone)  # three checkpoints
    branch = route_make(alliance=street.alliance, zone=zone, name="凤鸣金街支线", checkpoints=[(30.918, 121.474)] * 2)
    night_team = team_make(alliance=street.alliance, leader=leader, members=(a, b, c, d, e))
    day_team = team_make(alliance=street.alliance, name="凤鸣金街街巡队", members=(f,))

    # 10 March: five places on the main line; three hold one (one did not come), one waits, one cancelled
    first = shift_make(team=night_team, zone=zone, route=main_line, starts_at=at("2025-03-10"))
    a1, b1 = attended(signup_make(shift=first, user=a), 14400), attended(signup_make(shift=first, user=b), 12600)
    attended(signup_make(shift=first, user=c), 0, ShiftSignup.Attendance.NO_SHOW)
    ShiftSignup.objects.create(shift=first, user=d, role="mobile", status=ShiftSignup.Status.WAITLISTED)
    ShiftSignup.objects.create(shift=first, user=e, role="mobile", status=ShiftSignup.Status.CANCELLED)
    one, two, three = main_line.checkpoints.order_by("position")
    for checkpoint in (one, two, three):
        scan(a1, checkpoint)
    scan(b1, one)  # the same checkpoint-round again: counts once
    scan(b1, one, round=2)  # a second round started and left unfinished
    fixed = Incident.objects.create(
        alliance=street.alliance,
        category="safety",
        description="消防通道堵塞",
        latitude=30.918,
        longitude=121.474,
        status=Incident.Status.RESOLVED,
    )
    log(a1, PatrolLogEntry.Kind.HIDDEN_DANGER, incident=fixed)
    log(b1, PatrolLogEntry.Kind.HIDDEN_DANGER)
    log(a1, PatrolLogEntry.Kind.DISPUTE_MEDIATED)
    log(a1, PatrolLogEntry.Kind.PERSON_HELPED)
    log(a1, PatrolLogEntry.Kind.FLYERS, flyers=20, people_reached=25)
    log(b1, PatrolLogEntry.Kind.FLYERS, flyers=30, people_reached=45)
    # 20 March: two places on the branch line, one filled, closed automatically, nothing scanned
    second = shift_make(team=night_team, zone=zone, route=branch, starts_at=at("2025-03-20"), slots={"mobile": 2})
    attended(signup_make(shift=second, user=a), 7200, ShiftSignup.Attendance.CLOSED_AUTOMATICALLY)
    # 31 March 23:00: one place nobody took (planned, not run)
    shift_make(team=night_team, zone=zone, route=main_line, starts_at=at("2025-03-31", "23:00"), slots={"fixed": 1})
    # not counted: a cancelled shift, and one starting half an hour into April
    cancelled = shift_make(team=night_team, zone=zone, starts_at=at("2025-03-12"))
    cancelled.status = "cancelled"
    cancelled.save()
    attended(signup_make(shift=shift_make(team=night_team, zone=zone, starts_at=at("2025-04-01", "00:30")), user=b), 99)
    # the previous period: one shift of two places, one filled, an hour
    attended(
        signup_make(
            shift=shift_make(team=night_team, zone=zone, starts_at=at("2025-02-10"), slots={"mobile": 2}), user=a
        ),
        3600,
    )

    # the day team: three places, one filled, an hour; one dispute mediated
    day = shift_make(team=day_team, zone=zone, starts_at=at("2025-03-15", "10:00"), slots={"mobile": 3})
    log(attended(signup_make(shift=day, user=f), 3600), PatrolLogEntry.Kind.DISPUTE_MEDIATED)

    # another alliance's patrol
    elsewhere_zone = zone_make(alliance=other_street.alliance)
    elsewhere = shift_make(
        team=team_make(alliance=other_street.alliance), zone=elsewhere_zone, starts_at=at("2025-03-10")
    )
    log(attended(signup_make(shift=elsewhere, user=user_factory()), 9000), PatrolLogEntry.Kind.HIDDEN_DANGER)
    return night_team, leader, main_line, branch


NIGHT_TEAM = {
    "shifts": {"planned": 3, "run": 2},
    "places": {"planned": 8, "filled": 4, "filled_pct": 50.0},
    "attendance": {"expected": 4, "no_shows": 1, "no_show_pct": 25.0, "verified_hours": 9.5},
    "log": {
        "hidden_dangers": 2,
        "hidden_dangers_fixed": 1,
        "disputes_mediated": 1,
        "people_helped": 1,
        "flyers": 50,
        "people_reached": 70,
    },
}


@pytest.mark.django_db
def test_a_teams_figures_for_march(login, patrols):
    # given the night team's month
    team, leader, main_line, branch = patrols

    # when its leader asks for March
    response = login(leader).get(f"/api/v1/patrol-teams/{team.pk}/statistics", MARCH)

    # then every figure counts the team's own shifts started in March, and nothing else
    assert response.status_code == 200, response.content
    stats = response.json()
    assert stats["scope"]["kind"] == "team" and stats["scope"]["name"] == "凤鸣金街义警队"
    for section, figures in NIGHT_TEAM.items():
        assert stats[section] == figures, section
    # the main line: 2 rounds x 3 checkpoints expected, 4 checkpoint-rounds scanned; the branch: 2, none scanned
    assert stats["checkpoints"] == {
        "scanned": 4,
        "expected": 8,
        "coverage_pct": 50.0,
        "by_route": [
            {"route": {"id": main_line.pk, "name": "凤鸣金街主线"}, "scanned": 4, "expected": 6, "coverage_pct": 66.7},
            {"route": {"id": branch.pk, "name": "凤鸣金街支线"}, "scanned": 0, "expected": 2, "coverage_pct": 0.0},
        ],
    }
    # against February (one shift, two places, one filled, an hour) and March 2024 (nothing)
    planned = stats["changes"]["shifts.planned"]
    assert planned["previous_period"] == {"value": 1, "change": 2, "change_pct": 200.0}
    assert planned["last_year"] == {"value": 0, "change": 3, "change_pct": None}
    assert stats["changes"]["attendance.verified_hours"]["previous_period"]["value"] == 1.0
    assert stats["changes"]["places.filled_pct"]["previous_period"]["value"] == 50.0
    assert "checkpoints" in stats["definitions"]


@pytest.mark.django_db
def test_an_alliance_and_its_station_count_every_team_of_it_and_no_other(login, street, patrols):
    # given the night team's month and the day team's one shift

    # when the station's officer asks for the alliance and for the station
    client = login(street.station_officer)
    by_alliance = client.get(f"/api/v1/alliances/{street.alliance.pk}/patrol-statistics", MARCH).json()
    by_station = client.get(f"/api/v1/stations/{street.station.pk}/patrol-statistics", MARCH).json()

    # then the day team is added; the other alliance's patrol is not
    for stats in (by_alliance, by_station):
        assert stats["shifts"] == {"planned": 4, "run": 3}
        assert stats["places"] == {"planned": 11, "filled": 5, "filled_pct": 45.5}
        assert stats["attendance"] == {"expected": 5, "no_shows": 1, "no_show_pct": 20.0, "verified_hours": 10.5}
        assert stats["log"]["disputes_mediated"] == 2 and stats["log"]["hidden_dangers"] == 2
        assert (stats["checkpoints"]["scanned"], stats["checkpoints"]["expected"]) == (4, 8)
    assert by_station["scope"]["kind"] == "station"
    assert [a["id"] for a in by_station["scope"]["alliances"]] == [street.alliance.pk]


@pytest.mark.django_db
def test_the_csv_has_the_header_every_figure_and_each_route(login, street, patrols):
    # given the night team's month
    team, leader, *_ = patrols

    # when the leader downloads it in Chinese
    response = login(leader).get(
        f"/api/v1/patrol-teams/{team.pk}/statistics.csv", MARCH, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    # then it is a spreadsheet: BOM, translated header, one row per figure and three per route
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"pingan-patrol-team-{team.pk}-20250301-20250331.csv" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["板块", "指标", "本期", "上期", "环比（%）", "去年同期", "同比（%）"]
    by_label = {row[1]: row[2:] for row in rows[1:]}
    assert by_label["计划班次"] == ["3", "1", "200.0", "0", ""]
    assert by_label["巡逻次数（有人签到的班次）"][0] == "2"
    assert by_label["岗位报满率（%）"][0] == "50.0"
    assert by_label["爽约率（%）"][0] == "25.0"
    assert by_label["核实时长（小时）"][0] == "9.5"
    assert by_label["发现安全隐患"][0] == "2" and by_label["已整改安全隐患"][0] == "1"
    assert by_label["发放宣传单（份）"][0] == "50" and by_label["覆盖人数"][0] == "70"
    assert by_label["凤鸣金街主线：已扫巡更点轮次"][0] == "4"
    assert by_label["凤鸣金街主线：应扫巡更点轮次"][0] == "6"
    assert by_label["凤鸣金街支线：覆盖率（%）"][0] == "0.0"


@pytest.mark.django_db
def test_who_may_see_patrol_statistics(login, street, other_street, patrols, police_admin, user_factory):
    # given the night team with its leader and a member; the alliance's admin; the police admin of the street's
    # station; and the police of another station
    team, leader, *_ = patrols
    member = team.members.filter(role="member").first().user
    alliance_admin = user_factory(roles=[Role.MERCHANT])
    member_add(street.alliance, alliance_admin, "admin")
    station_staff_post(station=street.station, user=police_admin)
    alliance_url = f"/api/v1/alliances/{street.alliance.pk}/patrol-statistics"
    team_url = f"/api/v1/patrol-teams/{team.pk}/statistics"
    station_url = f"/api/v1/stations/{street.station.pk}/patrol-statistics"

    # when each asks
    def seen(viewer) -> tuple[int, int, int]:
        client = login(viewer)
        return tuple(client.get(url, MARCH).status_code for url in (alliance_url, team_url, station_url))

    # then the police of the jurisdiction see all; the alliance's admin its alliance and teams; the leader their
    # team; a member, a merchant and the other station's police nothing (404, as for an id that does not exist)
    assert seen(police_admin) == (200, 200, 200)
    assert seen(street.office_officer) == (200, 200, 404)  # posted to the office, below the station
    assert seen(street.station_officer) == (200, 200, 200)
    assert seen(alliance_admin) == (200, 200, 404)
    assert seen(leader) == (404, 200, 404)
    assert seen(member) == (404, 404, 404)
    assert seen(street.merchant) == (404, 404, 404)
    assert seen(other_street.station_officer) == (404, 404, 404)
    assert login(other_street.station_officer).get(f"{team_url}.csv", MARCH).status_code == 404
    assert login(police_admin).get("/api/v1/patrol-teams/999999999/statistics").status_code == 404
    # and a bad period is a 400 naming the parameter
    bad = login(leader).get(team_url, {"from": "2025-04-01", "to": "2025-03-01"})
    assert bad.status_code == 400 and "from" in bad.json()["fields"]


@pytest.mark.django_db
def test_the_number_of_queries_does_not_grow_with_the_patrols(
    login, street, patrols, user_factory, django_assert_max_num_queries
):
    # given the figures of a month answered once
    team, leader, main_line, _ = patrols
    client = login(street.station_officer)
    urls = [
        f"/api/v1/alliances/{street.alliance.pk}/patrol-statistics",
        f"/api/v1/stations/{street.station.pk}/patrol-statistics.csv",
        f"/api/v1/patrol-teams/{team.pk}/statistics",
    ]
    counts = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, MARCH).status_code == 200
        counts.append(len(queries))

    # when many more shifts, places, scans and log entries arrive in all three periods
    zone = main_line.zone
    checkpoints = list(main_line.checkpoints.all())
    volunteers = [user_factory(roles=[Role.VOLUNTEER]) for _ in range(5)]
    for day in ("2024-03-05", "2025-02-05", "2025-03-05", "2025-03-06", "2025-03-07"):
        shift = shift_make(team=team, zone=zone, route=main_line, starts_at=at(day))
        for volunteer in volunteers:
            signup = attended(signup_make(shift=shift, user=volunteer), 3600)
            scan(signup, checkpoints[0])
            log(signup, PatrolLogEntry.Kind.FLYERS, flyers=5)

    # then the same number of queries answers
    for url, count in zip(urls, counts, strict=True):
        with django_assert_max_num_queries(count):
            assert client.get(url, MARCH).status_code == 200
    # session, user, roles; scope (a few); five for the figures, whatever the size
    assert max(counts) <= 14


@pytest.mark.django_db
def test_a_route_named_as_a_formula_reaches_the_csv_as_text(login, street, patrols):
    # given a route whose name Excel would run as a formula (anyone who manages routes names them)
    team, leader, *_ = patrols
    PatrolRoute.objects.filter(name="凤鸣金街支线").update(name='=HYPERLINK("http://x.example","点我")')

    # when the leader downloads the team's month
    response = login(leader).get(f"/api/v1/patrol-teams/{team.pk}/statistics.csv", MARCH)

    # then the route's rows start with an apostrophe, not with "="
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    route_rows = [row for row in rows if "HYPERLINK" in row[1]]
    assert len(route_rows) == 3
    assert all(row[1].startswith("'=HYPERLINK") for row in route_rows)
