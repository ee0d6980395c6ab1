"""Alerts: publishing once to an audience, the inbox built from it, read and acknowledge, withdrawal, the sweeps,
reach and the stores that have not read it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from alliance.models import Alert, AlertAudience, AlertReceipt, PointsEntry, StoreScoreEvent, StoreScorePart
from alliance.selectors.alerts import alert_reach, inbox_counts, inbox_for
from alliance.services.alerts import alert_audience_count, alerts_remind_due, alerts_send_due
from tests.factories.alerts import alert_acknowledge, alert_make, alert_read, alert_withdraw
from tests.factories.alliance import MemberRole, member_add, store_make, store_staff_make


def _inbox_ids(user) -> list[int]:
    return list(inbox_for(user=user).alerts.values_list("pk", flat=True))


@pytest.fixture
def street(ledger_street):
    return ledger_street


def test_an_alert_reaches_its_audience_and_no_one_else(street, other_street):
    # given an alert to the street's merchants
    alert = alert_make(
        actor=street.police_admin,
        station=street.station,
        audience={"alliances": [street.alliance.pk], "roles": ["merchant"]},
    )

    # then the merchants find it, the volunteers and the other street's merchant do not
    assert _inbox_ids(street.merchant) == [alert.pk]
    assert _inbox_ids(street.other_merchant) == [alert.pk]
    assert _inbox_ids(street.volunteer) == []
    assert _inbox_ids(other_street.merchant) == []
    # and publishing wrote the audience once, not a row per recipient
    assert AlertAudience.objects.filter(alert=alert).count() == 1
    assert AlertReceipt.objects.count() == 0


def test_a_station_audience_reaches_every_alliance_under_it(street, user_factory):
    # given a second alliance under the same station's office
    from tests.fixtures.street import build_street

    neighbour = build_street(user_factory, name="南大街联盟", slug="nandajie", station_name="x")
    neighbour.alliance.station = street.station
    neighbour.alliance.office = street.office
    neighbour.alliance.save()

    # when the police aim at the office
    alert = alert_make(actor=street.police_admin, station=street.station, audience={"stations": [street.office.pk]})

    # then members of both alliances have it
    assert alert.pk in _inbox_ids(street.volunteer)
    assert alert.pk in _inbox_ids(neighbour.merchant)


def test_publishing_costs_the_same_queries_for_a_large_audience(street, user_factory, django_assert_num_queries):
    # given one alliance with 3 members and one with 40 more
    small = alert_make(
        actor=street.police_admin, station=street.station, audience={"alliances": [street.alliance.pk]}, publish=False
    )
    with CaptureQueriesContext(connection) as few:
        from alliance.services.alerts import alert_publish

        alert_publish(actor=street.police_admin, alert=small)
    for index in range(40):
        member_add(street.alliance, user_factory(roles=[Role.MERCHANT]), MemberRole.MERCHANT)
    large = alert_make(
        actor=street.police_admin, station=street.station, audience={"alliances": [street.alliance.pk]}, publish=False
    )

    # when it is published to the larger audience
    with CaptureQueriesContext(connection) as many:
        alert_publish(actor=street.police_admin, alert=large)

    # then the publish ran exactly as many statements
    assert len(many) == len(few)


def test_withdrawn_and_expired_alerts_leave_the_inbox(street):
    # given two alerts to the alliance
    kept = alert_make(actor=street.police_admin, station=street.station, audience={"alliances": [street.alliance.pk]})
    withdrawn = alert_make(
        actor=street.police_admin, station=street.station, audience={"alliances": [street.alliance.pk]}
    )
    expired = alert_make(
        actor=street.police_admin,
        station=street.station,
        audience={"alliances": [street.alliance.pk]},
        expires_at=timezone.now() + timedelta(hours=1),
    )

    # when one is withdrawn and another expires
    alert_withdraw(actor=street.police_admin, alert=withdrawn)
    Alert.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    # then only the first stays
    assert _inbox_ids(street.merchant) == [kept.pk]


def test_read_and_acknowledge_are_idempotent_and_earn_once(street):
    # given an alert asking for an acknowledgement
    alert = alert_make(
        actor=street.police_admin,
        station=street.station,
        audience={"alliances": [street.alliance.pk]},
        requires_ack=True,
    )
    assert inbox_counts(user=street.merchant) == {"unread": 1, "unacknowledged": 1}

    # when the merchant reads it twice and acknowledges it twice
    first = alert_read(user=street.merchant, alert=alert)
    alert_read(user=street.merchant, alert=alert)
    alert_acknowledge(user=street.merchant, alert=alert)
    receipt = alert_acknowledge(user=street.merchant, alert=alert)

    # then one receipt, read at the first read, acknowledged once; the store counts it once
    assert AlertReceipt.objects.filter(alert=alert).count() == 1
    assert receipt.read_at == first.read_at
    assert receipt.acknowledged_at is not None
    assert receipt.alliance_id == street.alliance.pk
    assert inbox_counts(user=street.merchant) == {"unread": 0, "unacknowledged": 0}
    events = StoreScoreEvent.objects.filter(part=StoreScorePart.ALERT_ACKNOWLEDGED, store=street.store)
    assert events.count() == 1


def test_an_acknowledgement_earns_points(street, django_capture_on_commit_callbacks, settings):
    # given an alert asking for an acknowledgement, settled eagerly
    settings.CELERY_TASK_ALWAYS_EAGER = True
    alert = alert_make(
        actor=street.police_admin,
        station=street.station,
        audience={"alliances": [street.alliance.pk]},
        requires_ack=True,
    )

    # when the volunteer acknowledges it
    with django_capture_on_commit_callbacks(execute=True):
        alert_acknowledge(user=street.volunteer, alert=alert)

    # then the ledger has one entry under the rule
    entries = PointsEntry.objects.filter(user=street.volunteer, reason="alert_acknowledged")
    assert [entry.amount for entry in entries] == [1]


def test_an_alert_without_acknowledgement_refuses_one(street, login):
    alert = alert_make(actor=street.police_admin, station=street.station, audience={"alliances": [street.alliance.pk]})

    response = login(street.merchant).post(f"/api/v1/me/alerts/{alert.pk}/acknowledge")

    assert response.status_code == 400
    assert response.json()["code"] == "alert_no_ack"


def test_an_alert_for_later_goes_out_once_when_due(street):
    # given an alert published for in ten minutes
    later = timezone.now() + timedelta(minutes=10)
    alert = alert_make(
        actor=street.police_admin,
        station=street.station,
        audience={"alliances": [street.alliance.pk]},
        publish_at=later,
    )
    assert alert.sent_at is None
    assert _inbox_ids(street.merchant) == []

    # when the sweep runs before and after its time, twice
    assert alerts_send_due(now=later - timedelta(minutes=1)) == 0
    assert alerts_send_due(now=later + timedelta(seconds=1)) == 1
    assert alerts_send_due(now=later + timedelta(seconds=2)) == 0

    # then it was sent once and is in the inbox once due
    alert.refresh_from_db()
    assert alert.sent_at == later + timedelta(seconds=1)


def test_the_reminder_goes_once_to_those_who_have_not_acknowledged(street, monkeypatch):
    # given an alert asking for an acknowledgement within 30 minutes
    reminded = []
    from alliance.hooks import alert_delivery_hooks

    class Recorder:
        def on_alert_sent(self, *, alert, event):
            pass

        def on_alert_reminder(self, *, alert, event):
            reminded.append((alert.pk, event["type"]))

        def on_alert_withdrawn(self, *, alert, event):
            pass

    monkeypatch.setattr(alert_delivery_hooks, "_receivers", [Recorder()])
    alert = alert_make(
        actor=street.police_admin,
        station=street.station,
        audience={"alliances": [street.alliance.pk]},
        requires_ack=True,
        ack_reminder_minutes=30,
    )
    due = alert.ack_remind_at
    assert due == alert.sent_at + timedelta(minutes=30)

    # when the sweep runs early, on time, and again
    assert alerts_remind_due(now=due - timedelta(seconds=1)) == 0
    assert alerts_remind_due(now=due) == 1
    assert alerts_remind_due(now=due + timedelta(minutes=5)) == 0

    # then the reminder went once
    assert reminded == [(alert.pk, "alert_reminder")]


def test_the_audience_is_counted_once_when_sent(street, user_factory):
    alert = alert_make(actor=street.police_admin, station=street.station, audience={"alliances": [street.alliance.pk]})

    # the founding police admin, two merchants, the mall manager and two volunteers
    assert alert_audience_count(alert_id=alert.pk) == 6
    member_add(street.alliance, user_factory(roles=[Role.MERCHANT]), MemberRole.MERCHANT)
    assert alert_audience_count(alert_id=alert.pk) is None  # counted already: the count as sent stays

    alert.refresh_from_db()
    assert alert.targeted_count == 6


def test_reach_and_the_stores_that_have_not_read_it(street, login, user_factory):
    # given three stores: one whose staff member read the alert, two nobody read
    staffer = user_factory(roles=[Role.MERCHANT])
    member_add(street.alliance, staffer, MemberRole.MERCHANT)
    store_staff_make(store=street.store, user=staffer)
    second = store_make(owner=street.other_merchant, alliance=street.alliance, name="老王面馆")
    third = store_make(owner=street.other_merchant, alliance=street.alliance, name="老王烟酒")
    alert = alert_make(
        actor=street.police_admin,
        station=street.station,
        audience={"alliances": [street.alliance.pk], "roles": ["merchant"]},
        requires_ack=True,
    )
    alert_audience_count(alert_id=alert.pk)
    alert_acknowledge(user=staffer, alert=alert)

    # when the police ask
    police = login(street.police_admin)
    reach = police.get(f"/api/v1/alerts/{alert.pk}/reach").json()
    unread = police.get(f"/api/v1/alerts/{alert.pk}/unread-stores").json()["results"]
    spreadsheet = police.get(f"/api/v1/alerts/{alert.pk}/unread-stores.csv")

    # then
    assert reach == {
        "targeted": 3,
        "delivered_live": reach["delivered_live"],
        "pushed": 0,
        "read": 1,
        "acknowledged": 1,
        "stores_targeted": 3,
        "stores_unread": 2,
    }
    assert sorted(store["id"] for store in unread) == sorted([second.pk, third.pk])
    rows = list(csv.reader(io.StringIO(spreadsheet.content.decode("utf-8-sig"))))
    assert sorted(row[0] for row in rows[1:]) == sorted(["老王面馆", "老王烟酒"])
    assert alert_reach(alert=alert).stores_unread == 2


def test_the_police_manage_only_their_jurisdictions_alerts(street, other_street, login, user_factory):
    # given an alert of the street and a police admin of another station
    alert = alert_make(actor=street.police_admin, station=street.station, audience={"alliances": [street.alliance.pk]})
    stranger = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER])
    from tests.factories.alliance import station_staff_post

    station_staff_post(station=other_street.station, user=stranger)
    client = login(stranger)

    # then every one of its pages is "not found" for them, as for a merchant
    for path in ("", "/reach", "/unread-stores", "/unread-stores.csv"):
        assert client.get(f"/api/v1/alerts/{alert.pk}{path}").status_code == 404
        assert login(street.merchant).get(f"/api/v1/alerts/{alert.pk}{path}").status_code == 404
    assert client.post(f"/api/v1/alerts/{alert.pk}/withdraw").status_code == 404
    # and they cannot aim at the street either
    response = client.post_json(
        "/api/v1/alerts",
        {"station": other_street.station.pk, "kind": "anti_fraud", "title": "t", "body": "b",
         "audience": {"alliances": [street.alliance.pk]}},
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["code"] == "alert_audience_outside"


def test_the_api_round_trip(street, login):
    # given a police admin's draft through the API
    police = login(street.police_admin)
    created = police.post_json(
        "/api/v1/alerts",
        {
            "station": street.station.pk,
            "kind": "anti_fraud",
            "severity": "urgent",
            "title": "警惕“安全账户”诈骗",
            "body": "公检法不会要求转账到安全账户。",
            "case_example": "某商户接到自称警察的电话……",
            "title_en": "Beware the 'safe account' scam",
            "audience": {"alliances": [street.alliance.pk], "roles": ["merchant"]},
            "requires_ack": True,
            "ack_reminder_minutes": 60,
        },
    )
    assert created.status_code == 201, created.content
    alert_id = created.json()["id"]
    assert created.json()["status"] == "draft"
    assert created.json()["audience"]["alliances"] == [{"id": street.alliance.pk, "name": street.alliance.name}]
    merchant = login(street.merchant)
    assert merchant.get(f"/api/v1/me/alerts/{alert_id}").status_code == 404  # a draft is in nobody's inbox

    # when it is published, twice (a retried request)
    assert police.post(f"/api/v1/alerts/{alert_id}/publish").status_code == 200
    published = police.post(f"/api/v1/alerts/{alert_id}/publish").json()

    # then the merchant has it, in English when asked
    assert published["status"] == "published"
    inbox = merchant.get("/api/v1/me/alerts").json()["results"]
    assert [item["id"] for item in inbox] == [alert_id]
    assert inbox[0]["read_at"] is None
    english = merchant.get(f"/api/v1/me/alerts/{alert_id}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["title"] == "Beware the 'safe account' scam"
    assert merchant.get("/api/v1/me/alerts/counts").json() == {"unread": 1, "unacknowledged": 1}
    acknowledged = merchant.post(f"/api/v1/me/alerts/{alert_id}/acknowledge").json()
    assert acknowledged["acknowledged_at"] is not None
    # and once sent it can no longer be edited
    edit = police.put(
        f"/api/v1/alerts/{alert_id}",
        {**created.json(), "station": street.station.pk},
        format="json",
    )
    assert edit.status_code in (400, 409)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"audience": {}}, "audience"),
        ({"audience": {"alliances": ["x"]}}, "audience"),
        ({"audience": {"alliances": [2**70]}}, "audience"),
        ({"title": "a\x00b"}, "title"),
        ({"kind": "spam"}, "kind"),
        ({"expires_at": "2000-01-01T00:00:00+08:00"}, "expires_at"),
        ({"topic": "fire"}, "topic"),
        ({"ack_reminder_minutes": 30}, "ack_reminder_minutes"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_alerts_are_refused_and_nothing_is_written(street, login, body, field):
    police = login(street.police_admin)
    valid = {
        "station": street.station.pk,
        "kind": "anti_fraud",
        "title": "t",
        "body": "b",
        "audience": {"alliances": [street.alliance.pk]},
    }

    response = police.post_json("/api/v1/alerts", {**valid, **body})

    assert response.status_code == 400, response.content
    assert any(key.split(".")[0] == field for key in response.json()["fields"]), response.json()
    assert Alert.objects.count() == 0


def test_the_inbox_reads_a_fixed_number_of_queries(street, login, django_assert_max_num_queries):
    for index in range(12):
        alert_make(
            actor=street.police_admin,
            station=street.station,
            audience={"alliances": [street.alliance.pk]},
            title=f"提示 {index}",
        )
    merchant = login(street.merchant)
    merchant.get("/api/v1/me/alerts")  # warm the session

    with django_assert_max_num_queries(8):
        page = merchant.get("/api/v1/me/alerts?page_size=10")

    assert len(page.json()["results"]) == 10


def test_an_alerts_pictures_come_with_it_in_the_inbox(street, login):
    # given a wanted notice with a picture, published
    from alliance.services.alerts import alert_image_add, alert_publish
    from tests.world import png

    draft = alert_make(
        actor=street.police_admin,
        station=street.station,
        audience={"alliances": [street.alliance.pk]},
        kind="wanted",
        publish=False,
    )
    picture = alert_image_add(actor=street.police_admin, alert=draft, upload=png("blue"))
    alert_publish(actor=street.police_admin, alert=draft)
    merchant = login(street.merchant)

    # when the merchant lists the inbox and opens the picture
    [item] = merchant.get("/api/v1/me/alerts").json()["results"]
    downloaded = merchant.get(item["images"][0]["url"])

    # then the picture is listed with its size, and served to them
    assert item["images"] == [
        {"id": picture.pk, "width": picture.width, "height": picture.height, "url": item["images"][0]["url"]}
    ]
    assert downloaded.status_code == 200 and downloaded["Content-Type"] == "image/jpeg"
