"""Issue 13 reviewed with fresh eyes (helper h5): alerts and tips tried as a new user and as an attacker would, each
defect found pinned by a test that failed before its fix."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import push
from accounts.services import device_register
from alliance.models import Alert, AlertImage, AlertPushBatch, TipSchedule
from alliance.selectors.alerts import inbox_for
from alliance.services.alert_push import alert_push_batch_send, alert_push_batches_pending, alert_push_plan
from alliance.services.alerts import alerts_send_due
from config.csv_download import csv_response
from tests.factories.alerts import alert_make
from tests.factories.alliance import store_make
from tests.world import png

pytestmark = pytest.mark.django_db


@pytest.fixture
def street(ledger_street):
    return ledger_street


def _alert_body(street, **fields) -> dict:
    return {
        "station": street.station.pk,
        "kind": "anti_fraud",
        "title": "警惕冒充客服退款诈骗",
        "body": "不要共享屏幕。",
        "audience": {"alliances": [street.alliance.pk]},
        **fields,
    }


def _inbox_ids(user) -> list[int]:
    return list(inbox_for(user=user).alerts.values_list("pk", flat=True))


# --- an alert published for later, edited to go "at once" -------------------------------------------------------


def test_an_alert_published_for_later_and_edited_to_go_at_once_goes_out(street, login):
    # given an alert published for an hour from now, not gone out yet
    police = login(street.police_admin)
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    alert_id = police.post_json("/api/v1/alerts", _alert_body(street, publish_at=later)).json()["id"]
    assert police.post(f"/api/v1/alerts/{alert_id}/publish").status_code == 200

    # when the police change their mind: publish_at empty, "at once"
    response = police.put(
        f"/api/v1/alerts/{alert_id}", _alert_body(street, publish_at=None), content_type="application/json"
    )
    alerts_send_due()

    # then it has gone out and the merchants find it (it was stuck: no publish time, so neither inbox nor sweep)
    assert response.status_code == 200, response.content
    alert = Alert.objects.get(pk=alert_id)
    assert alert.status == Alert.Status.PUBLISHED
    assert alert.publish_at is not None and alert.sent_at is not None
    assert alert_id in _inbox_ids(street.merchant)


def test_an_alert_published_for_later_and_edited_to_a_later_time_waits_for_it(street, login):
    # given an alert published for an hour from now
    police = login(street.police_admin)
    soon = (timezone.now() + timedelta(hours=1)).isoformat()
    alert_id = police.post_json("/api/v1/alerts", _alert_body(street, publish_at=soon)).json()["id"]
    police.post(f"/api/v1/alerts/{alert_id}/publish")

    # when it is moved to two hours from now
    later = timezone.now() + timedelta(hours=2)
    response = police.put(
        f"/api/v1/alerts/{alert_id}", _alert_body(street, publish_at=later.isoformat()), content_type="application/json"
    )
    alerts_send_due()

    # then it waits for its new time
    assert response.status_code == 200, response.content
    alert = Alert.objects.get(pk=alert_id)
    assert alert.sent_at is None and abs(alert.publish_at - later) < timedelta(seconds=1)
    assert _inbox_ids(street.merchant) == []


# --- spreadsheets: a cell Excel would run as a formula -----------------------------------------------------------


def test_the_unread_stores_csv_does_not_hand_excel_a_formula_from_a_store_name(street, user_factory, login):
    # given a store whose merchant named it as a formula, in the audience of an alert nobody has read
    store_make(owner=street.other_merchant, alliance=street.alliance, name='=HYPERLINK("http://x.example","点我")')
    alert = alert_make(actor=street.police_admin, station=street.station, audience={"alliances": [street.alliance.pk]})

    # when the police download the stores that have not read it
    response = login(street.police_admin).get(f"/api/v1/alerts/{alert.pk}/unread-stores.csv")

    # then no cell starts as a formula, and the name is still there to read
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert response.status_code == 200
    assert not [cell for cell in cells if cell[:1] in ("=", "@", "\t", "\r")]
    assert "'" + '=HYPERLINK("http://x.example","点我")' in cells
    # and a phone number keeps its plus sign as it is
    assert str(street.merchant.phone) in cells


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("\t=1", "'\t=1"),
        ("+8613800001234", "+8613800001234"),
        ("-12.5", "-12.5"),
        ("青果巷", "青果巷"),
        (-3, "-3"),
    ],
)
def test_a_spreadsheet_cell_that_excel_would_run_is_written_as_text(value, written):
    # when a row holding the value is written (statistics name routes and alliances in cells too)
    response = csv_response([[value]], filename="x.csv")

    # then it comes back as text, or as it was when it is a plain number
    assert list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")))) == [[written]]


# --- a phone that changes hands between an alert's plan and its push ---------------------------------------------


def test_a_push_planned_for_a_phone_that_changed_hands_does_not_reach_its_new_owner(street, other_street):
    # given an urgent alert to the street, its push planned for the merchant's phone
    device_register(user=street.merchant, platform="android", provider="jpush", token="rid-shared-phone")
    alert = alert_make(
        actor=street.police_admin,
        station=street.station,
        audience={"alliances": [street.alliance.pk]},
        severity=Alert.Severity.URGENT,
    )
    alert_push_plan(alert=alert, purpose=AlertPushBatch.Purpose.ALERT)
    [batch_id] = alert_push_batches_pending(alert_id=alert.pk, purpose=AlertPushBatch.Purpose.ALERT)

    # when the phone passes to a merchant of another street, who registers it, before the batch is sent
    device_register(user=other_street.merchant, platform="android", provider="jpush", token="rid-shared-phone")
    alert_push_batch_send(batch_id=batch_id)

    # then the alert does not go to the new owner, who is not in its audience
    assert push.recorded == []
    alert.refresh_from_db()
    assert alert.pushed_count == 0


# --- a tip schedule's time of day --------------------------------------------------------------------------------


@pytest.mark.parametrize("time_of_day", ["11:00Z", "19:00+05:00", "19:00:30", "19:00:00.5"])
def test_a_schedule_time_with_an_offset_or_seconds_is_refused_not_read_as_another_time(street, login, time_of_day):
    # given a time the app would show as "19:00" or "11:00" Shanghai time while the police meant something else
    body = {"station": street.station.pk, "name": "夜市提示", "audience": {"alliances": [street.alliance.pk]},
            "time_of_day": time_of_day}  # fmt: skip

    # when the police send it
    response = login(street.police_admin).post_json("/api/v1/tip-schedules", body)

    # then it is refused, naming the field (an offset was dropped without a word before: 11:00Z ran at 11:00 here)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid" and "time_of_day" in response.json()["fields"]
    assert not TipSchedule.objects.exists()


# --- a deleted draft's pictures ----------------------------------------------------------------------------------


def test_deleting_a_draft_deletes_its_pictures_files(street, login, django_capture_on_commit_callbacks):
    # given a draft wanted notice with a suspect's photo
    police = login(street.police_admin)
    alert_id = police.post_json("/api/v1/alerts", _alert_body(street, kind="wanted")).json()["id"]
    uploaded = police.post(f"/api/v1/alerts/{alert_id}/images", {"image": png()}, format="multipart")
    assert uploaded.status_code == 201, uploaded.content
    image = AlertImage.objects.get(pk=uploaded.json()["id"])
    name, storage = image.image.name, image.image.storage
    assert storage.exists(name)

    # when the draft is deleted
    with django_capture_on_commit_callbacks(execute=True):
        response = police.delete(f"/api/v1/alerts/{alert_id}")

    # then the photo's file goes with it (it stayed on disk, reachable by nobody and deleted by nothing)
    assert response.status_code == 204
    assert not AlertImage.objects.filter(pk=image.pk).exists()
    assert not storage.exists(name)


def test_an_alert_published_for_later_cannot_be_edited_into_one_already_expired(street, login):
    # given an alert published for an hour from now
    police = login(street.police_admin)
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    alert_id = police.post_json("/api/v1/alerts", _alert_body(street, publish_at=later)).json()["id"]
    police.post(f"/api/v1/alerts/{alert_id}/publish")

    # when it is moved to an hour ago, expiring half an hour ago (after its time, so the text alone looks right)
    now = timezone.now()
    edited = _alert_body(
        street,
        publish_at=(now - timedelta(hours=1)).isoformat(),
        expires_at=(now - timedelta(minutes=30)).isoformat(),
    )
    response = police.put(f"/api/v1/alerts/{alert_id}", edited, content_type="application/json")

    # then it is refused as publishing it would be, and nothing went out
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "alert_expires_before_publish"
    alert = Alert.objects.get(pk=alert_id)
    assert alert.sent_at is None and alert.expires_at is None


# --- the lead's review of h5's concerns ------------------------------------------------------------------------------


def test_an_urgent_alert_whose_follow_ups_were_lost_is_pushed_by_the_sweep(street, settings):
    # given an urgent alert sent two minutes ago whose count and push never reached the broker
    from alliance.tasks import send_due_alerts_task

    settings.CELERY_TASK_ALWAYS_EAGER = True
    device_register(user=street.merchant, platform="android", provider="jpush", token="rid-lost-push")
    alert = alert_make(
        actor=street.police_admin,
        station=street.station,
        audience={"alliances": [street.alliance.pk]},
        severity="urgent",
    )
    Alert.objects.filter(pk=alert.pk).update(sent_at=timezone.now() - timedelta(minutes=2), targeted_count=None)
    push.recorded.clear()

    # when the sweep runs, twice
    send_due_alerts_task()
    send_due_alerts_task()

    # then the audience is counted and the phone got the push once
    assert Alert.objects.get(pk=alert.pk).targeted_count is not None
    assert [tokens for _provider, tokens, _message in push.recorded] == [["rid-lost-push"]]


def test_the_alert_services_refuse_another_jurisdictions_alert(street, other_street, user_factory):
    # given an alert of the street and a police admin of another station, calling the services directly
    from accounts.models import Role
    from alliance.services.alerts import alert_publish, alert_withdraw
    from config.errors import ApplicationError
    from tests.factories.alliance import station_staff_post

    draft = alert_make(
        actor=street.police_admin, station=street.station, audience={"alliances": [street.alliance.pk]}, publish=False
    )
    stranger = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER])
    station_staff_post(station=other_street.station, user=stranger)

    # then publishing or withdrawing it is "not found", and nothing changed
    for service in (alert_publish, alert_withdraw):
        with pytest.raises(ApplicationError) as refused:
            service(actor=stranger, alert=draft)
        assert refused.value.status_code == 404
    assert Alert.objects.get(pk=draft.pk).status == Alert.Status.DRAFT
