"""Safety tips: the next run of a schedule in Asia/Shanghai, the sweep that sends each run exactly once (a unique row
per schedule and time, whatever races or replays), the rotation through the library, a long outage sending one run,
and the police admins' endpoints scoped to their jurisdiction with strict input."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.models import Role, User
from alliance.alert_audience import AudienceSpec
from alliance.models import Alert, AlertKind, Tip, TipOccurrence, TipSchedule, TipTopic
from alliance.selectors.alerts import inbox_for
from alliance.services.tips import (
    TipScheduleFields,
    tip_occurrences_send_due,
    tip_schedule_next_run,
)
from alliance.tasks import send_due_tips_task
from alliance.tip_library import EVENING_TIP, STARTER_TIPS, tip_library_seed
from tests.factories.alliance import MemberRole
from tests.factories.tips import schedule_make, tip_make

pytestmark = pytest.mark.django_db


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def fields(time_of_day: time, **options) -> TipScheduleFields:
    return TipScheduleFields(name="提示", audience=AudienceSpec(alliances=[1]), time_of_day=time_of_day, **options)


# --- the next run ----------------------------------------------------------------------------------------------------


def test_the_next_run_is_the_local_time_today_or_tomorrow():
    # given a daily 19:00 schedule (11:00 UTC in Asia/Shanghai)
    daily = fields(time(19, 0))

    # when the next run is asked before and after today's 19:00 (Monday 2 March 2026)
    before = tip_schedule_next_run(daily, after=utc(2026, 3, 2, 10, 59))
    after = tip_schedule_next_run(daily, after=utc(2026, 3, 2, 11, 0))

    # then it is today's 19:00, and once that has come, tomorrow's: strictly after
    assert before == utc(2026, 3, 2, 11, 0)
    assert after == utc(2026, 3, 3, 11, 0)


def test_a_run_after_local_midnight_falls_on_the_local_weekday_not_the_utc_one():
    # given runs at 00:30 local on Tuesdays only, and on Mondays only (00:30 on Tuesday in Shanghai is still
    # Monday 16:30 in UTC)
    tuesdays = fields(time(0, 30), weekdays=[2])
    mondays = fields(time(0, 30), weekdays=[1])
    monday_evening = utc(2026, 3, 2, 15, 0)  # Monday 23:00 local

    # when each is asked its next run from Monday 23:00 local
    # then Tuesday's 00:30 local is Monday 16:30 UTC, an hour and a half later
    assert tip_schedule_next_run(tuesdays, after=monday_evening) == utc(2026, 3, 2, 16, 30)
    # and Monday's is a week away: Monday 9 March 00:30 local, Sunday 8 March 16:30 UTC
    assert tip_schedule_next_run(mondays, after=monday_evening) == utc(2026, 3, 8, 16, 30)


def test_weekdays_and_dates_bound_the_runs():
    # given a weekend schedule from Monday 2 March 2026
    monday = utc(2026, 3, 2, 1, 0)

    # then the weekend's first run is Saturday's
    assert tip_schedule_next_run(fields(time(19, 0), weekdays=[6, 7]), after=monday) == utc(2026, 3, 7, 11, 0)
    # a schedule starting later starts on its first day
    later = fields(time(8, 0), starts_on=date(2026, 4, 1))
    assert tip_schedule_next_run(later, after=monday) == utc(2026, 4, 1, 0, 0)
    # one that ends before its next weekday has no run left
    ended = fields(time(19, 0), weekdays=[6], ends_on=date(2026, 3, 6))
    assert tip_schedule_next_run(ended, after=monday) is None
    # and the last day itself still runs
    last_day = fields(time(19, 0), ends_on=date(2026, 3, 2))
    assert tip_schedule_next_run(last_day, after=monday) == utc(2026, 3, 2, 11, 0)


# --- the sweep -------------------------------------------------------------------------------------------------------


@pytest.fixture
def evening(city, member_of):
    """Admin X's 19:00 schedule to alliance A's merchants, fire and theft tips in X's library and the city's, a
    merchant of A and a volunteer of A."""
    merchant = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)
    volunteer = member_of(city.alliance_a, Role.VOLUNTEER, MemberRole.VOLUNTEER)
    schedule = schedule_make(
        station=city.office_x,
        by=city.admin_x,
        audience=AudienceSpec(alliances=[city.alliance_a.pk], roles=[MemberRole.MERCHANT]),
        topics=[TipTopic.FIRE, TipTopic.THEFT_PREVENTION],
    )
    return schedule, merchant, volunteer


def _due(schedule: TipSchedule, at: datetime) -> None:
    TipSchedule.objects.filter(pk=schedule.pk).update(next_run_at=at)


def test_a_due_schedule_sends_its_tip_once_to_its_audience(city, evening):
    # given a fire tip in the office's library and a schedule due at 19:00 on 2 March 2026
    schedule, merchant, volunteer = evening
    tip = tip_make(station=city.office_x, by=city.admin_x, title="夜市摊位用火安全")
    _due(schedule, utc(2026, 3, 2, 11, 0))

    # when the sweep runs a few seconds later
    sent = tip_occurrences_send_due(now=utc(2026, 3, 2, 11, 0, 20))

    # then one occurrence went out as a safety-tip alert with the tip's texts to the schedule's audience
    assert sent == 1
    occurrence = TipOccurrence.objects.get(schedule=schedule)
    alert = occurrence.alert
    assert (occurrence.scheduled_for, occurrence.tip) == (utc(2026, 3, 2, 11, 0), tip)
    assert (alert.kind, alert.topic, alert.severity) == (AlertKind.SAFETY_TIP, "fire", "normal")
    assert alert.status == "published"
    assert (alert.title, alert.body, alert.title_en) == (tip.title_zh, tip.body_zh, tip.title_en)
    assert alert.station == city.office_x and alert.sent_at is not None and alert.created_by is None
    # the merchant finds it in their inbox, the volunteer (not a merchant) does not
    assert list(inbox_for(user=merchant).alerts) == [alert]
    assert list(inbox_for(user=volunteer).alerts) == []
    # and the schedule waits for tomorrow's 19:00, remembering the tip it sent
    schedule.refresh_from_db()
    assert (schedule.next_run_at, schedule.last_tip) == (utc(2026, 3, 3, 11, 0), tip)


def test_a_replayed_run_finds_its_occurrence_and_sends_nothing(city, evening):
    # given a schedule whose 19:00 run has gone out
    schedule, _merchant, _volunteer = evening
    tip_make(station=city.office_x, by=city.admin_x)
    _due(schedule, utc(2026, 3, 2, 11, 0))
    tip_occurrences_send_due(now=utc(2026, 3, 2, 11, 0, 5))

    # when a second sweep reaches the same run (it read the schedule before the first moved it on: a second beat,
    # a replayed message)
    _due(schedule, utc(2026, 3, 2, 11, 0))
    again = tip_occurrences_send_due(now=utc(2026, 3, 2, 11, 0, 6))

    # then the unique (schedule, time) key stops it: still one occurrence, one alert, and the schedule moves on
    assert again == 0
    assert TipOccurrence.objects.filter(schedule=schedule).count() == 1
    assert Alert.objects.filter(kind=AlertKind.SAFETY_TIP).count() == 1
    schedule.refresh_from_db()
    assert schedule.next_run_at == utc(2026, 3, 3, 11, 0)


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_sweeps_racing_on_their_own_connections_send_each_run_once(city, evening, monkeypatch):
    # given three schedules due at once (the audience count and push queued after each send are not this test's)
    monkeypatch.setattr("alliance.services.alerts._queue_after_send", lambda alert_id, urgent: None)
    schedule, _merchant, _volunteer = evening
    tip_make(station=city.office_x, by=city.admin_x)
    audience = AudienceSpec(alliances=[city.alliance_a.pk])
    others = [
        schedule_make(station=city.office_x, by=city.admin_x, audience=audience, name=f"第{n}个") for n in range(2)
    ]
    for each in (schedule, *others):
        _due(each, utc(2026, 3, 2, 11, 0))
    barrier = threading.Barrier(4)

    def sweep(_number):
        barrier.wait()
        try:
            return tip_occurrences_send_due(now=utc(2026, 3, 2, 11, 0, 1))
        finally:
            connection.close()

    # when four workers sweep at the same moment
    with ThreadPoolExecutor(max_workers=4) as pool:
        sent = list(pool.map(sweep, range(4)))

    # then each schedule's run went out exactly once between them
    assert sum(sent) == 3
    assert TipOccurrence.objects.count() == 3
    assert Alert.objects.filter(kind=AlertKind.SAFETY_TIP).count() == 3


def test_the_schedule_sends_its_tips_in_turn_and_wraps_around(city, evening, superuser):
    # given fire and theft tips of the office and the city, a drunk-driving tip (not among the schedule's topics), a
    # retired one and one of another unit's library
    schedule, _merchant, _volunteer = evening
    first = tip_make(station=city.office_x, by=city.admin_x, title="一")
    tip_make(station=city.office_x, by=city.admin_x, title="酒驾", topic=TipTopic.DRUNK_DRIVING)
    second = tip_make(station=None, by=superuser, title="二", topic=TipTopic.THEFT_PREVENTION)
    tip_make(station=city.office_x, by=city.admin_x, title="旧", is_active=False)
    tip_make(station=city.station_y, by=city.admin_y, title="别处")
    third = tip_make(station=city.office_x, by=city.admin_x, title="三")

    # when four evenings go by
    sent = []
    for day in range(2, 6):
        _due(schedule, utc(2026, 3, day, 11, 0))
        tip_occurrences_send_due(now=utc(2026, 3, day, 11, 1))
        sent.append(TipOccurrence.objects.get(schedule=schedule, scheduled_for=utc(2026, 3, day, 11, 0)).tip)

    # then the schedule's tips went out in turn, by id, and started again
    assert sent == [first, second, third, first]


def test_a_worker_down_for_three_days_sends_the_latest_run_only(city, evening):
    # given a schedule whose run on Monday 19:00 was due when the workers stopped
    schedule, _merchant, _volunteer = evening
    tip_make(station=city.office_x, by=city.admin_x)
    _due(schedule, utc(2026, 3, 2, 11, 0))

    # when the sweep runs again on Thursday at 20:00 local (three evenings missed and Thursday's due)
    sent = tip_occurrences_send_due(now=utc(2026, 3, 5, 12, 0))

    # then one tip goes out, for Thursday's 19:00, not a burst of four; Friday's is next
    assert sent == 1
    assert list(TipOccurrence.objects.values_list("scheduled_for", flat=True)) == [utc(2026, 3, 5, 11, 0)]
    schedule.refresh_from_db()
    assert schedule.next_run_at == utc(2026, 3, 6, 11, 0)


def test_a_run_with_no_tip_in_use_is_recorded_without_an_alert(city, evening):
    # given a schedule whose topics have no tip in use
    schedule, _merchant, _volunteer = evening
    _due(schedule, utc(2026, 3, 2, 11, 0))

    # when its run comes
    tip_occurrences_send_due(now=utc(2026, 3, 2, 11, 1))

    # then the run is recorded (it will not be tried again) and nothing is sent
    occurrence = TipOccurrence.objects.get(schedule=schedule)
    assert (occurrence.tip, occurrence.alert) == (None, None)
    assert not Alert.objects.exists()


def test_paused_and_future_schedules_are_not_swept(city, evening):
    # given a paused schedule and one due tomorrow
    schedule, _merchant, _volunteer = evening
    tip_make(station=city.office_x, by=city.admin_x)
    TipSchedule.objects.filter(pk=schedule.pk).update(is_active=False, next_run_at=utc(2026, 3, 2, 11, 0))
    audience = AudienceSpec(alliances=[city.alliance_a.pk])
    tomorrow = schedule_make(station=city.office_x, by=city.admin_x, audience=audience)
    _due(tomorrow, timezone.now() + timedelta(days=1))

    # when the sweep runs now, through the beat's task
    sent = send_due_tips_task()

    # then nothing goes out
    assert sent == 0 and not TipOccurrence.objects.exists()


# --- the starter library ---------------------------------------------------------------------------------------------


def test_the_starter_library_is_seeded_once(db):
    # when the library is seeded twice
    first = tip_library_seed()
    second = tip_library_seed()

    # then its tips are there once, city-wide, in both languages
    assert (first, second) == (len(STARTER_TIPS), 0)
    tips = Tip.objects.filter(station__isnull=True)
    assert tips.count() == len(STARTER_TIPS) >= 12
    assert all(tip.title_en and tip.body_en and tip.body_zh for tip in tips)
    assert {tip.topic for tip in tips} == {"fire", "drunk_driving", "theft_prevention", "anti_fraud"}


# --- the endpoints ---------------------------------------------------------------------------------------------------


@pytest.fixture
def superuser(user_factory):
    return user_factory(is_superuser=True, is_staff=True)


def test_a_police_admin_writes_a_tip_of_their_unit_and_reads_the_city_library(city, login, superuser):
    # given a city-wide tip and one of station Y
    city_tip = tip_make(station=None, by=superuser, title="全市")
    tip_make(station=city.station_y, by=city.admin_y, title="别处")
    client = login(city.admin_x)

    # when admin X adds a tip to their office's library and lists the tips
    made = client.post_json(
        "/api/v1/tips",
        {"station": city.office_x.pk, "topic": "anti_fraud", "title_zh": "谨防刷单", "body_zh": "刷单就是诈骗。"},
    )
    listed = client.get("/api/v1/tips")

    # then it is theirs, and the list holds it and the city's, not station Y's
    assert made.status_code == 201, made.content
    assert made.json()["station"] == city.office_x.pk and made.json()["is_active"] is True
    assert [tip["id"] for tip in listed.json()["results"]] == [made.json()["id"], city_tip.pk]


def test_another_jurisdictions_tips_and_units_are_not_found(city, login, superuser):
    # given a tip of station Y and a city-wide one
    theirs = tip_make(station=city.station_y, by=city.admin_y)
    city_tip = tip_make(station=None, by=superuser)
    client = login(city.admin_x)

    # when admin X reads and changes station Y's tip, writes into Y's library, and changes the city's tip
    read = client.get(f"/api/v1/tips/{theirs.pk}")
    changed = client.patch(f"/api/v1/tips/{theirs.pk}", {"title_zh": "改"}, format="json")
    written = client.post_json(
        "/api/v1/tips", {"station": city.station_y.pk, "topic": "fire", "title_zh": "t", "body_zh": "b"}
    )
    city_wide = client.patch(f"/api/v1/tips/{city_tip.pk}", {"title_zh": "改"}, format="json")

    # then Y's are not found, and the city's library is the superuser's
    assert (read.status_code, changed.status_code, written.status_code) == (404, 404, 404)
    assert city_wide.status_code == 403
    assert Tip.objects.filter(title_zh="改").count() == 0


def test_a_police_admin_retires_a_tip_and_merchants_cannot_write_tips(city, login, member_of):
    # given a tip of office X and a merchant of A
    tip = tip_make(station=city.office_x, by=city.admin_x)
    merchant = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT)

    # when admin X retires it and the merchant tries to write one
    retired = login(city.admin_x).patch(f"/api/v1/tips/{tip.pk}", {"is_active": False}, format="json")
    refused = login(merchant).post_json(
        "/api/v1/tips", {"station": city.office_x.pk, "topic": "fire", "title_zh": "t", "body_zh": "b"}
    )

    # then it is out of rotation, and the merchant is refused
    assert retired.status_code == 200 and retired.json()["is_active"] is False
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "body, field",
    [
        ({"station": None}, "station"),
        ({"topic": "weather"}, "topic"),
        ({"title_zh": ""}, "title_zh"),
        ({"title_zh": 7}, "title_zh"),
        ({"title_zh": "x" * 121}, "title_zh"),
        ({"anonymous": True}, "anonymous"),
    ],
)
def test_bad_tip_input_is_a_400_naming_the_field(city, login, body, field):
    good = {"station": city.office_x.pk, "topic": "fire", "title_zh": "t", "body_zh": "b"}

    response = login(city.admin_x).post_json("/api/v1/tips", {**good, **body})

    assert response.status_code == 400 and field in response.json()["fields"], response.content
    assert not Tip.objects.exists()


def _schedule_body(city, **changes) -> dict:
    return {
        "station": city.office_x.pk,
        "name": "每晚七点夜市提示",
        "topics": ["fire", "anti_fraud"],
        "audience": {"alliances": [city.alliance_a.pk], "roles": ["merchant"]},
        "time_of_day": "19:00",
        "weekdays": [5, 6, 7],
        **changes,
    }


def test_a_police_admin_schedules_pauses_and_resumes_an_evening_tip(city, login):
    client = login(city.admin_x)

    # when admin X schedules a tip at 19:00 on Friday to Sunday
    made = client.post_json("/api/v1/tip-schedules", _schedule_body(city))

    # then its next run is the next such evening at 19:00 local
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["time_of_day"], body["weekdays"], body["topics"]) == ("19:00", [5, 6, 7], ["anti_fraud", "fire"])
    assert body["audience"]["alliances"] == [city.alliance_a.pk] and body["audience"]["roles"] == ["merchant"]
    next_run = datetime.fromisoformat(body["next_run_at"])
    local = timezone.localtime(next_run)
    assert (local.hour, local.minute) == (19, 0) and local.isoweekday() in (5, 6, 7)
    assert timezone.now() < next_run <= timezone.now() + timedelta(days=7)

    # when it is paused, then resumed
    url = f"/api/v1/tip-schedules/{body['id']}"
    paused = client.patch(url, {"is_active": False}, format="json")
    resumed = client.patch(url, {"is_active": True}, format="json")

    # then it has no run while paused, and the same next run once resumed
    assert paused.status_code == 200 and paused.json()["next_run_at"] is None
    assert resumed.json()["next_run_at"] == body["next_run_at"]


def test_renaming_a_schedule_keeps_a_due_run_and_retiming_it_starts_from_now(city, login, evening):
    # given a schedule whose run came a few seconds ago and has not been swept yet
    schedule, _merchant, _volunteer = evening
    due = timezone.now() - timedelta(seconds=10)
    _due(schedule, due)
    client = login(city.admin_x)
    url = f"/api/v1/tip-schedules/{schedule.pk}"

    # when admin X renames it, then moves it to 07:00
    renamed = client.patch(url, {"name": "夜市提示"}, format="json")
    renamed_run = TipSchedule.objects.get(pk=schedule.pk).next_run_at
    retimed = client.patch(url, {"time_of_day": "07:00"}, format="json")

    # then the rename leaves the due run for the sweep, and the new time counts from now
    assert renamed.status_code == 200 and renamed_run == due
    next_run = datetime.fromisoformat(retimed.json()["next_run_at"])
    assert timezone.now() < next_run <= timezone.now() + timedelta(days=1)
    assert timezone.localtime(next_run).time() == time(7, 0)


def test_a_schedules_runs_are_listed_with_their_tips(city, login, evening):
    # given a schedule that has run once
    schedule, _merchant, _volunteer = evening
    tip = tip_make(station=city.office_x, by=city.admin_x)
    _due(schedule, utc(2026, 3, 2, 11, 0))
    tip_occurrences_send_due(now=utc(2026, 3, 2, 11, 1))

    # when admin X lists its runs
    response = login(city.admin_x).get(f"/api/v1/tip-schedules/{schedule.pk}/occurrences")

    # then the run is there with its tip and alert
    assert response.status_code == 200
    [run] = response.json()["results"]
    assert run["tip"]["id"] == tip.pk and run["alert"] == TipOccurrence.objects.get().alert_id
    assert run["scheduled_for"].startswith("2026-03-02T19:00:00+08:00")


def test_another_jurisdictions_schedules_are_not_found(city, login, evening):
    # given admin X's schedule
    schedule, _merchant, _volunteer = evening
    client = login(city.admin_y)

    # when admin Y reads, changes, lists the runs of and deletes it, and lists the schedules
    url = f"/api/v1/tip-schedules/{schedule.pk}"
    answers = [
        client.get(url).status_code,
        client.patch(url, {"name": "改"}, format="json").status_code,
        client.get(f"{url}/occurrences").status_code,
        client.delete(url).status_code,
    ]
    listed = client.get("/api/v1/tip-schedules").json()["results"]

    # then it is not found each time, and it is still there
    assert answers == [404, 404, 404, 404] and listed == []
    assert TipSchedule.objects.filter(pk=schedule.pk, name=schedule.name).exists()


def test_a_police_admin_deletes_their_schedule(city, login, evening):
    schedule, _merchant, _volunteer = evening

    response = login(city.admin_x).delete(f"/api/v1/tip-schedules/{schedule.pk}")

    assert response.status_code == 204 and not TipSchedule.objects.filter(pk=schedule.pk).exists()


@pytest.mark.parametrize(
    "changes, field, code",
    [
        ({"audience": {}}, "audience", "alert_audience_empty"),
        ({"audience": {"alliances": ["B"]}}, "audience.alliances", "alert_audience_outside"),
        ({"weekdays": [0]}, "weekdays", "invalid"),
        ({"weekdays": [8]}, "weekdays", "invalid"),
        ({"time_of_day": "25:00"}, "time_of_day", "invalid"),
        ({"time_of_day": 1900}, "time_of_day", "invalid"),
        ({"topics": ["weather"]}, "topics", "invalid"),
        ({"audience": {"alliances": [1], "roles": ["mayor"]}}, "audience", "invalid"),
        ({"audience": {"people": [1]}}, "audience", "invalid"),
        ({"starts_on": "2026-05-01", "ends_on": "2026-04-01"}, "ends_on", "tip_schedule_ends_before_start"),
        ({"starts_on": "2020-01-01", "ends_on": "2020-02-01"}, "ends_on", "tip_schedule_never_runs"),
        ({"starts_on": "0001-01-01"}, "starts_on", "invalid"),
        ({"repeat": "daily"}, "repeat", "invalid"),
    ],
)
def test_bad_schedule_input_is_a_400(city, login, changes, field, code):
    # given another jurisdiction's alliance where "B" is written
    if changes.get("audience", {}).get("alliances") == ["B"]:
        changes = {**changes, "audience": {"alliances": [city.alliance_b.pk]}}

    response = login(city.admin_x).post_json("/api/v1/tip-schedules", _schedule_body(city, **changes))

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == code and any(name.startswith(field) for name in body["fields"]), body
    assert not TipSchedule.objects.exists()


def test_a_schedule_for_another_jurisdictions_unit_is_not_found(city, login):
    response = login(city.admin_x).post_json("/api/v1/tip-schedules", _schedule_body(city, station=city.station_y.pk))

    assert response.status_code == 404 and not TipSchedule.objects.exists()


def test_the_demo_citys_evening_tip_goes_out_on_its_own_once():
    # given the demo city (its starter library and the evening schedule of Qingguo Lane)
    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    schedule = TipSchedule.objects.get(name=EVENING_TIP)
    merchant = User.objects.get(phone="+8613800000101")  # 蒋老板 of 青果巷银丝面馆
    volunteer = User.objects.get(phone="+8613800000031")  # 王阿姨, a Qingguo volunteer
    assert (schedule.time_of_day, schedule.weekdays, schedule.audience["roles"]) == (time(19, 0), [], ["merchant"])
    local = timezone.localtime(schedule.next_run_at)
    assert (local.hour, local.minute) == (19, 0)

    # when its time comes and the sweep runs twice (a second beat)
    due = schedule.next_run_at
    first = tip_occurrences_send_due(now=due + timedelta(seconds=3))
    TipSchedule.objects.filter(pk=schedule.pk).update(next_run_at=due)
    second = tip_occurrences_send_due(now=due + timedelta(seconds=4))

    # then one starter tip went out, to Qingguo's merchants only
    assert (first, second) == (1, 0)
    [alert] = Alert.objects.filter(kind=AlertKind.SAFETY_TIP)
    tips_in = [each.pk for each in inbox_for(user=merchant).alerts.filter(kind=AlertKind.SAFETY_TIP)]
    assert tips_in == [alert.pk]
    assert list(inbox_for(user=volunteer).alerts.filter(kind=AlertKind.SAFETY_TIP)) == []
    assert alert.title in {title_zh for _topic, title_zh, *_rest in STARTER_TIPS}
