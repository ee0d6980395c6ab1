"""Alerts, tips and tip schedules in the admin site: a police admin sees their jurisdiction's, withdraws an alert
(through the service), reads who has read it, and adds tips and schedules within their jurisdiction; the city-wide
library is the superuser's."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from alliance.alert_audience import AudienceSpec
from alliance.models import Alert, Tip, TipSchedule
from alliance.services.alerts import AlertContent, alert_create, alert_publish, alert_read
from tests.factories.alliance import MemberRole
from tests.factories.tips import schedule_make, tip_make

pytestmark = pytest.mark.django_db


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _pks(response) -> set[int]:
    return {obj.pk for obj in response.context["cl"].result_list}


def published(admin, station, alliance, title: str = "警惕冒充客服退款诈骗") -> Alert:
    content = AlertContent(
        kind="anti_fraud",
        title=title,
        body="近期多名商户接到“客服”电话。",
        audience=AudienceSpec(alliances=[alliance.pk], roles=[MemberRole.MERCHANT]),
        severity=Alert.Severity.URGENT,
    )
    return alert_publish(actor=admin, alert=alert_create(actor=admin, station=station, content=content))


@pytest.fixture
def alerts(city) -> tuple[Alert, Alert]:
    """An alert of station X to alliance A's merchants, and one of station Y to alliance B's."""
    return (
        published(city.admin_x, city.station_x, city.alliance_a),
        published(city.admin_y, city.station_y, city.alliance_b, title="金街协查通报"),
    )


@pytest.fixture
def superuser(user_factory):
    return user_factory(is_superuser=True, is_staff=True)


# --- alerts ----------------------------------------------------------------------------------------------------------


def test_a_police_admin_lists_their_jurisdictions_alerts_with_read_counts(city, alerts, member_of):
    # given alert X read by one of A's merchants
    mine, theirs = alerts
    alert_read(user=member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT), alert=mine)

    # when admin X opens the alerts' list, and station Y's alert by id
    client = admin_client(city.admin_x)
    listed = client.get("/admin/alliance/alert/")
    foreign = client.get(f"/admin/alliance/alert/{theirs.pk}/change/")

    # then they see theirs only, with its read count, and Y's is not there
    assert listed.status_code == 200 and _pks(listed) == {mine.pk}
    assert listed.context["cl"].result_list[0].read_total == 1
    assert foreign.status_code == 302 and Alert.objects.filter(pk=theirs.pk).exists()


def test_an_alerts_page_shows_its_audience_by_name_and_who_read_it(city, alerts, member_of):
    # given alert X read by a merchant of A
    mine, _theirs = alerts
    reader = member_of(city.alliance_a, Role.MERCHANT, MemberRole.MERCHANT, display_name="蒋老板")
    alert_read(user=reader, alert=mine)

    # when admin X opens it
    response = admin_client(city.admin_x).get(f"/admin/alliance/alert/{mine.pk}/change/")

    # then the page names the alliance it went to and the reader, and offers no way to edit the alert
    page = response.content.decode()
    assert response.status_code == 200
    assert city.alliance_a.name in page and "蒋老板" in page
    assert 'name="title"' not in page


def test_a_police_admin_withdraws_an_alert_with_the_action(city, alerts):
    # given alert X, published
    mine, theirs = alerts

    # when admin X withdraws it from the list, naming station Y's alert too
    response = admin_client(city.admin_x).post(
        "/admin/alliance/alert/",
        {"action": "alerts_withdraw", "_selected_action": [mine.pk, theirs.pk]},
    )

    # then theirs is withdrawn by them, through the service, and Y's is untouched (not in their list)
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, mine.withdrawn_by) == (Alert.Status.WITHDRAWN, city.admin_x)
    assert theirs.status == Alert.Status.PUBLISHED


def test_nobody_adds_or_edits_alerts_in_the_admin(city, alerts, superuser):
    mine, _theirs = alerts
    for user in (city.admin_x, superuser):
        client = admin_client(user)
        assert client.get("/admin/alliance/alert/add/").status_code == 403
        edited = client.post(f"/admin/alliance/alert/{mine.pk}/change/", {"title": "改"})
        assert edited.status_code == 403
    mine.refresh_from_db()
    assert mine.title != "改"


# --- tips ------------------------------------------------------------------------------------------------------------


def test_a_police_admin_adds_a_tip_to_their_units_library(city):
    # when admin X adds a tip for office X in the admin
    response = admin_client(city.admin_x).post(
        "/admin/alliance/tip/add/",
        {
            "station": city.office_x.pk,
            "topic": "theft_prevention",
            "title_zh": "每天检查收款码",
            "body_zh": "防止收款码被偷换。",
            "title_en": "",
            "body_en": "",
            "is_active": "on",
        },
    )

    # then it is there, written by them
    assert response.status_code == 302, response.content.decode()[:2000]
    tip = Tip.objects.get()
    assert (tip.station, tip.created_by, tip.topic) == (city.office_x, city.admin_x, "theft_prevention")


def test_police_cannot_add_city_wide_tips_or_another_units_and_cannot_change_the_citys(city, superuser):
    # given a city-wide tip and a tip of station Y
    city_tip = tip_make(station=None, by=superuser, title="全市提示")
    theirs = tip_make(station=city.station_y, by=city.admin_y, title="金街提示")
    client = admin_client(city.admin_x)
    form = {"topic": "fire", "title_zh": "新", "body_zh": "新", "is_active": "on"}

    # when admin X adds a tip without a unit, one for station Y, and changes the city's
    no_unit = client.post("/admin/alliance/tip/add/", form)
    foreign = client.post("/admin/alliance/tip/add/", {**form, "station": city.station_y.pk})
    changed = client.post(f"/admin/alliance/tip/{city_tip.pk}/change/", {**form, "title_zh": "改"})
    listed = client.get("/admin/alliance/tip/")

    # then each is refused; they see the city's tip, not Y's
    assert no_unit.status_code == 200 and "station" in no_unit.context["adminform"].form.errors
    assert foreign.status_code == 200 and "station" in foreign.context["adminform"].form.errors
    assert changed.status_code == 403
    assert _pks(listed) == {city_tip.pk}
    assert not Tip.objects.filter(title_zh__in=["新", "改"]).exists() and theirs.title_zh == "金街提示"


def test_a_superuser_writes_the_city_wide_library(superuser):
    response = admin_client(superuser).post(
        "/admin/alliance/tip/add/",
        {"topic": "anti_fraud", "title_zh": "公安机关没有安全账户", "body_zh": "凡让转账的都是诈骗", "is_active": "on"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Tip.objects.get().station is None


# --- tip schedules ---------------------------------------------------------------------------------------------------


def _schedule_form(city, **changes) -> dict:
    return {
        "station": city.office_x.pk,
        "name": "每晚七点夜市提示",
        "topics": ["fire", "theft_prevention"],
        "audience": f'{{"alliances": [{city.alliance_a.pk}], "roles": ["merchant"]}}',
        "time_of_day": "19:00",
        "weekdays": ["1", "2", "3", "4", "5"],
        "starts_on": "",
        "ends_on": "",
        "is_active": "on",
        "occurrences-TOTAL_FORMS": "0",
        "occurrences-INITIAL_FORMS": "0",
        **changes,
    }


def test_a_police_admin_adds_a_schedule_with_its_next_run(city):
    # when admin X adds a weekday 19:00 schedule to alliance A's merchants
    response = admin_client(city.admin_x).post("/admin/alliance/tipschedule/add/", _schedule_form(city))

    # then it is saved through the service, with its next run worked out
    assert response.status_code == 302, response.content.decode()[:3000]
    schedule = TipSchedule.objects.get()
    assert schedule.weekdays == [1, 2, 3, 4, 5] and schedule.topics == ["fire", "theft_prevention"]
    assert schedule.audience["alliances"] == [city.alliance_a.pk] and schedule.created_by == city.admin_x
    assert schedule.next_run_at is not None


@pytest.mark.parametrize(
    "audience",
    ['{"alliances": [ALLIANCE_B]}', "{}", '{"alliances": ["x"]}', '{"people": [1]}', '{"roles": ["mayor"]}'],
)
def test_the_admin_refuses_a_schedule_audience_an_alert_would_not_take(city, audience):
    form = _schedule_form(city, audience=audience.replace("ALLIANCE_B", str(city.alliance_b.pk)))

    response = admin_client(city.admin_x).post("/admin/alliance/tipschedule/add/", form)

    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not TipSchedule.objects.exists()


def test_a_police_admin_pauses_their_schedule_and_cannot_open_anothers(city):
    # given a schedule of office X and one of station Y
    mine = schedule_make(station=city.office_x, by=city.admin_x, audience=AudienceSpec(alliances=[city.alliance_a.pk]))
    theirs = schedule_make(
        station=city.station_y, by=city.admin_y, audience=AudienceSpec(alliances=[city.alliance_b.pk])
    )
    client = admin_client(city.admin_x)

    # when admin X unticks "active" on theirs, and opens station Y's
    form = _schedule_form(city, audience=f'{{"alliances": [{city.alliance_a.pk}]}}')
    del form["is_active"], form["station"]
    paused = client.post(f"/admin/alliance/tipschedule/{mine.pk}/change/", form)
    foreign = client.get(f"/admin/alliance/tipschedule/{theirs.pk}/change/")

    # then theirs is paused (no next run) and Y's is not found
    assert paused.status_code == 302, paused.content.decode()[:3000]
    mine.refresh_from_db()
    assert (mine.is_active, mine.next_run_at, mine.station) == (False, None, city.office_x)
    assert foreign.status_code == 302


@pytest.mark.parametrize("url", ["/admin/alliance/alert/", "/admin/alliance/tip/", "/admin/alliance/tipschedule/"])
def test_the_changelists_pin_their_queries(city, url, django_assert_max_num_queries, superuser):
    # given several alerts, tips and schedules of station X
    for number in range(4):
        published(city.admin_x, city.station_x, city.alliance_a, title=f"预警{number}")
        tip_make(station=city.office_x, by=city.admin_x, title=f"提示{number}")
        schedule_make(
            station=city.office_x,
            by=city.admin_x,
            audience=AudienceSpec(alliances=[city.alliance_a.pk]),
            name=f"计划{number}",
        )
    client = admin_client(city.admin_x)
    client.get(url)

    # then the police admin's page takes a fixed number of queries
    with django_assert_max_num_queries(16):
        response = client.get(url)
    assert response.status_code == 200 and len(response.context["cl"].result_list) >= 4
