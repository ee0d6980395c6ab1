"""Dispute flags over REST: flag, follow, acknowledge, arrive, resolve, the escalation ladder, and who may see."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from groups.models import Message, OutboxEvent
from reports.models import CaseEvent, Dispute
from reports.services.disputes import dispute_escalate_if_due, disputes_escalate_due


def flag(client, ladder, **body):
    return client.post_json(f"/api/v1/alliances/{ladder.alliance.pk}/disputes", {"category": "quarrel", **body})


def topics_told(dispute_id: int) -> set[str]:
    """Every user topic a live case event for the dispute was written to (the outbox keeps them all)."""
    told = set()
    for row in OutboxEvent.objects.all():
        if json.loads(row.payload).get("dispute", {}).get("dispute_id") == dispute_id:
            told.update(row.topics)
    return told


@pytest.mark.django_db
def test_a_merchant_flags_a_quarrel_and_the_on_duty_responder_is_told(login, qingguo):
    # when the florist flags a quarrel by her stall, without a location
    response = flag(login(qingguo.merchant), qingguo, note="两个人在摊位边吵架", people_involved=2)

    # then the flag is stored at her store's position, at the first rung of the ladder
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "open" and body["level"] == 1
    assert body["location"] == {"latitude": 31.777012, "longitude": 119.956301}
    assert body["store_name"] == "花漾花店"
    dispute = Dispute.objects.get(pk=body["id"])
    # the on-duty mall manager (and the reporter) get the live case event; the office does not, yet
    assert topics_told(dispute.pk) == {f"user.{qingguo.mall_manager.pk}", f"user.{qingguo.merchant.pk}"}
    # a case card is posted in the contact group, and the timeline starts
    card = Message.objects.get(pk=dispute.card_message_id)
    assert card.group_id == qingguo.main.pk and card.kind == "card"
    assert card.payload["dispute_id"] == dispute.pk and card.payload["status"] == "open"
    assert [e.kind for e in dispute.events.all()] == ["flagged", "notified"]
    assert dispute.escalate_at == dispute.flagged_at + timedelta(seconds=120)


@pytest.mark.django_db
def test_a_flag_away_from_any_store_has_no_store_name_and_the_schema_says_so(login, qingguo, client):
    # given a flag raised in the street, by a mall manager who has no store
    response = flag(login(qingguo.mall_manager), qingguo, latitude=31.7771, longitude=119.9564)
    schemas = client.get("/api/schema/?format=json").json()["components"]["schemas"]

    # then it names no store, and the schema allows exactly that (found by the API fuzz on a real flag)
    assert response.status_code == 201 and response.json()["store_name"] is None
    assert schemas["DisputeOutput"]["properties"]["store_name"].get("nullable") is True
    assert schemas["DisputeDetailOutput"]["properties"]["store_name"].get("nullable") is True


@pytest.mark.django_db
def test_acknowledge_arrive_resolve_as_mediated(login, qingguo):
    dispute_id = flag(login(qingguo.merchant), qingguo, note="吵架").json()["id"]
    responder = login(qingguo.mall_manager)

    ack = responder.post_json(f"/api/v1/disputes/{dispute_id}/acknowledge", {"eta_minutes": 2})
    arrived = responder.post_json(f"/api/v1/disputes/{dispute_id}/arrive", {})
    resolved = responder.post_json(
        f"/api/v1/disputes/{dispute_id}/resolve",
        {
            "outcome": "mediated",
            "notes": "双方和解",
            "parties": [{"name": "张某", "role": "顾客"}, {"name": "赵某", "role": "摊主"}],
            "mediation_record": "经商管调解，双方互相道歉。",
        },
    )
    seen_by_reporter = login(qingguo.merchant).get(f"/api/v1/disputes/{dispute_id}").json()

    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    assert ack.json()["responders"][0]["eta_minutes"] == 2
    assert arrived.json()["status"] == "on_scene"
    assert resolved.status_code == 200
    assert seen_by_reporter["status"] == "resolved" and seen_by_reporter["outcome"] == "mediated"
    assert [p["name"] for p in seen_by_reporter["parties"]] == ["张某", "赵某"]
    assert seen_by_reporter["escalate_at"] is None
    assert [e["kind"] for e in seen_by_reporter["timeline"]] == [
        "flagged",
        "notified",
        "acknowledged",
        "arrived",
        "resolved",
    ]
    # the card in the group follows the case
    card = Message.objects.get(group=qingguo.main, payload__dispute_id=dispute_id, kind="card")
    assert card.payload["status"] == "resolved"
    updates = Message.objects.filter(group=qingguo.main, kind="system", payload__event="card_updated")
    assert [u.payload["card"]["status"] for u in updates] == ["acknowledged", "on_scene", "resolved"]


@pytest.mark.django_db
def test_an_unacknowledged_flag_climbs_the_ladder_on_its_own(login, qingguo):
    dispute = Dispute.objects.get(pk=flag(login(qingguo.merchant), qingguo).json()["id"])
    start = dispute.flagged_at

    not_yet = disputes_escalate_due(now=start + timedelta(seconds=119))
    to_office = disputes_escalate_due(now=start + timedelta(seconds=121))
    dispute.refresh_from_db()
    level_after_first, told_after_first = dispute.level, topics_told(dispute.pk)
    to_station = disputes_escalate_due(now=start + timedelta(seconds=242))
    dispute.refresh_from_db()

    assert not_yet == 0 and to_office == 1 and to_station == 1
    assert level_after_first == 2
    assert f"user.{qingguo.office_officer.pk}" in told_after_first
    assert f"user.{qingguo.station_officer.pk}" not in told_after_first
    assert dispute.level == 3 and f"user.{qingguo.station_officer.pk}" in topics_told(dispute.pk)
    escalations = dispute.events.filter(kind=CaseEvent.Kind.ESCALATED)
    assert [(e.data["from_level"], e.data["to_level"]) for e in escalations] == [(1, 2), (2, 3)]


@pytest.mark.django_db
def test_an_acknowledged_flag_not_resolved_within_five_minutes_escalates(login, qingguo):
    dispute_id = flag(login(qingguo.merchant), qingguo).json()["id"]
    login(qingguo.mall_manager).post_json(f"/api/v1/disputes/{dispute_id}/acknowledge", {})
    dispute = Dispute.objects.get(pk=dispute_id)

    assert disputes_escalate_due(now=dispute.flagged_at + timedelta(seconds=299)) == 0
    assert disputes_escalate_due(now=dispute.flagged_at + timedelta(seconds=301)) == 1
    dispute.refresh_from_db()
    assert dispute.level == 2 and dispute.status == "acknowledged"
    assert dispute.events.filter(kind="escalated").get().data["reason"] == "not resolved in time"


@pytest.mark.django_db
def test_with_nobody_on_duty_the_flag_goes_straight_to_the_police_office(login, user_factory):
    from tests.fixtures.street import build_street

    quiet = build_street(user_factory, name="夜市联盟", slug="night-market", mall_manager_on_duty=False)

    body = flag(login(quiet.merchant), quiet).json()

    assert body["level"] == 2
    assert f"user.{quiet.office_officer.pk}" in topics_told(body["id"])


@pytest.mark.django_db
def test_a_responder_escalates_by_hand_and_the_top_of_the_ladder_is_the_station(login, qingguo):
    dispute_id = flag(login(qingguo.merchant), qingguo).json()["id"]
    responder = login(qingguo.mall_manager)

    first = responder.post_json(f"/api/v1/disputes/{dispute_id}/escalate", {"reason": "商管无法调解"})
    second = login(qingguo.office_officer).post_json(f"/api/v1/disputes/{dispute_id}/escalate", {})
    third = login(qingguo.station_officer).post_json(f"/api/v1/disputes/{dispute_id}/escalate", {})

    assert (first.json()["level"], second.json()["level"]) == (2, 3)
    assert third.status_code == 409 and third.json()["code"] == "top_of_ladder"


@pytest.mark.django_db
def test_only_the_reporter_responders_and_police_see_a_flag(login, qingguo, fengming, user_factory):
    dispute_id = flag(login(qingguo.merchant), qingguo, note="内部").json()["id"]
    url = f"/api/v1/disputes/{dispute_id}"

    seen = {
        "reporter": login(qingguo.merchant).get(url).status_code,
        "mall_manager": login(qingguo.mall_manager).get(url).status_code,
        "office_officer": login(qingguo.office_officer).get(url).status_code,
        "station_officer": login(qingguo.station_officer).get(url).status_code,
        "another_merchant_same_street": login(qingguo.other_merchant).get(url).status_code,
        "other_alliance_officer": login(fengming.office_officer).get(url).status_code,
        "other_alliance_merchant": login(fengming.merchant).get(url).status_code,
    }
    listed = [d["id"] for d in login(fengming.mall_manager).get("/api/v1/disputes").json()["results"]]

    assert seen == {
        "reporter": 200,
        "mall_manager": 200,
        "office_officer": 200,
        "station_officer": 200,
        "another_merchant_same_street": 404,
        "other_alliance_officer": 404,
        "other_alliance_merchant": 404,
    }
    assert dispute_id not in listed


@pytest.mark.django_db
def test_merchants_cannot_act_as_responders(login, qingguo):
    dispute_id = flag(login(qingguo.merchant), qingguo).json()["id"]

    by_reporter = login(qingguo.merchant).post_json(f"/api/v1/disputes/{dispute_id}/acknowledge", {})
    by_other = login(qingguo.other_merchant).post_json(
        f"/api/v1/disputes/{dispute_id}/resolve", {"outcome": "mediated"}
    )

    assert by_reporter.status_code == 404 and by_other.status_code == 404
    assert Dispute.objects.get(pk=dispute_id).status == "open"


@pytest.mark.django_db
def test_flags_outside_ones_alliance_and_bad_input_are_refused(login, qingguo, fengming):
    client = login(qingguo.merchant)

    foreign = flag(client, fengming)
    foreign_store = flag(client, qingguo, store=fengming.store.pk)
    bad_category = flag(client, qingguo, category="alien_invasion")
    impossible = flag(client, qingguo, latitude=95, longitude=120)
    half = flag(client, qingguo, latitude=31.7)
    too_many = flag(client, qingguo, people_involved=100000)

    assert foreign.status_code == 404 and foreign_store.status_code == 404
    assert [r.status_code for r in (bad_category, impossible, half, too_many)] == [400] * 4
    assert not Dispute.objects.exists()


@pytest.mark.django_db
def test_a_resent_flag_is_stored_once(login, qingguo):
    client = login(qingguo.merchant)

    first = flag(client, qingguo, client_id="flag-1")
    again = flag(client, qingguo, client_id="flag-1")
    keyed = [flag(client, qingguo, note="x") for _ in range(1)] + [
        client.post_json(
            f"/api/v1/alliances/{qingguo.alliance.pk}/disputes", {"category": "theft"}, HTTP_IDEMPOTENCY_KEY="k"
        )
        for _ in range(2)
    ]

    assert first.json()["id"] == again.json()["id"]
    assert keyed[1].json()["id"] == keyed[2].json()["id"]
    assert Dispute.objects.count() == 3


@pytest.mark.django_db
def test_a_group_message_becomes_a_flag_in_one_step(login, qingguo):
    client = login(qingguo.merchant)
    seq = client.post_json(f"/api/v1/groups/{qingguo.main.pk}/messages", {"body": "俞警官，这边有人吵架"}).json()["seq"]

    response = client.post_json(f"/api/v1/groups/{qingguo.main.pk}/messages/{seq}/dispute", {"category": "quarrel"})

    assert response.status_code == 201
    dispute = Dispute.objects.get(pk=response.json()["id"])
    assert dispute.note == "俞警官，这边有人吵架" and dispute.source_message.seq == seq
    assert response.json()["card_seq"] > seq  # the case's status is posted back as a card


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_once_escalate_exactly_once(login, qingguo):
    dispute_id = flag(login(qingguo.merchant), qingguo).json()["id"]
    due = Dispute.objects.get(pk=dispute_id).flagged_at + timedelta(seconds=121)
    barrier = threading.Barrier(2)
    results = []

    def worker():
        barrier.wait()
        results.append(dispute_escalate_if_due(dispute_id=dispute_id, now=due))
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False, True]
    assert CaseEvent.objects.filter(dispute_id=dispute_id, kind="escalated").count() == 1
    assert Dispute.objects.get(pk=dispute_id).level == 2


@pytest.mark.django_db
def test_flag_list_pins_its_queries(login, qingguo, django_assert_max_num_queries):
    merchant = login(qingguo.merchant)
    for _ in range(15):
        flag(merchant, qingguo)
    responder = login(qingguo.mall_manager)

    with django_assert_max_num_queries(6):
        response = responder.get("/api/v1/disputes", {"status": "open"})
    with django_assert_max_num_queries(10):
        detail = responder.get(f"/api/v1/disputes/{response.json()['results'][0]['id']}")

    assert len(response.json()["results"]) == 15 and detail.status_code == 200
    assert timezone.now() > Dispute.objects.first().flagged_at


@pytest.mark.django_db
def test_a_case_event_renders_times_exactly_as_rest_does(login, qingguo):
    # given an acknowledged flag
    dispute_id = flag(login(qingguo.merchant), qingguo).json()["id"]
    login(qingguo.mall_manager).post_json(f"/api/v1/disputes/{dispute_id}/acknowledge", {"eta_minutes": 2})

    # when its time fields are read over REST and from the last live case event
    rest = login(qingguo.merchant).get(f"/api/v1/disputes/{dispute_id}").json()
    last = OutboxEvent.objects.filter(payload__contains=f'"dispute_id": {dispute_id}').order_by("id").last()
    live = json.loads(last.payload)["dispute"]

    # then each time is the very same string (local time, Asia/Shanghai)
    for field in ("flagged_at", "acknowledged_at", "escalate_at"):
        assert live[field] == rest[field], field
    assert rest["flagged_at"].endswith("+08:00")


@pytest.mark.django_db
def test_a_group_message_becomes_one_flag_shown_again_only_to_whoever_may_see_it(login, qingguo):
    # given a message in the contact group
    client = login(qingguo.merchant)
    seq = client.post_json(
        f"/api/v1/groups/{qingguo.main.pk}/messages",
        {"kind": "location", "body": "门口有人吵架", "latitude": 31.7771, "longitude": 119.9561},
    ).json()["seq"]
    path = f"/api/v1/groups/{qingguo.main.pk}/messages/{seq}/dispute"

    # when the merchant turns it into a flag twice (a double tap), the mall manager does it and another merchant too
    first = client.post_json(path, {"category": "quarrel"})
    again = client.post_json(path, {"category": "quarrel"})
    manager = login(qingguo.mall_manager).post_json(path, {"category": "theft"})
    other = login(qingguo.other_merchant).post_json(path, {"category": "theft"}, HTTP_ACCEPT_LANGUAGE="en")

    # then there is one flag, one card and one alarm; who may see the flag gets it back (200, nothing created), the
    # other merchant only learns that the message is already a case and where its card is
    assert first.status_code == 201
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert manager.status_code == 200 and manager.json()["id"] == first.json()["id"]
    assert manager.json()["category"] == "quarrel"
    assert other.status_code == 409, other.content
    assert other.json() == {
        "code": "already_reported",
        "message": "This message has already been turned into a case.",
        "fields": {},
        "card": {"group": qingguo.main.pk, "seq": first.json()["card_seq"]},
    }
    assert login(qingguo.other_merchant).get(f"/api/v1/disputes/{first.json()['id']}").status_code == 404
    assert Dispute.objects.count() == 1
    assert Message.objects.filter(group=qingguo.main, kind="card").count() == 1


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_members_turning_the_same_message_into_a_flag_at_once_make_one_flag(qingguo, user_factory, monkeypatch):
    from accounts.models import Role
    from groups.services.contact_groups import message_send
    from reports.services import disputes
    from tests.factories.alliance import member_add

    volunteer = user_factory(roles=[Role.VOLUNTEER], display_name="志愿者")
    member_add(qingguo.alliance, volunteer, "volunteer")

    message, _created = message_send(
        sender=qingguo.merchant,
        group=qingguo.main,
        kind="location",
        body="有人打架",
        latitude=Decimal("31.777100"),
        longitude=Decimal("119.956100"),
    )
    # The mall manager and a volunteer (responders: each sees every flag of the alliance) both turn it into a flag.
    # (Who may not see the flag the other made gets 409, tested above.) Both
    # requests pass the "already a flag?" check before either writes: they meet just before the insert.
    barrier = threading.Barrier(2, timeout=10)
    met = threading.local()

    class MeetingClock:
        @staticmethod
        def now():
            if not getattr(met, "done", False):
                met.done = True
                barrier.wait()
            return timezone.now()

    monkeypatch.setattr(disputes, "timezone", MeetingClock)
    results, errors = [], []

    def turn(reporter):
        try:
            dispute, created = disputes.dispute_from_message(reporter=reporter, message=message, category="quarrel")
            results.append((dispute.pk, created))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=turn, args=(user,)) for user in (qingguo.mall_manager, volunteer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then one made the flag and the other got that same flag back
    assert errors == []
    assert len(results) == 2 and results[0][0] == results[1][0]
    assert sorted(created for _pk, created in results) == [False, True]
    assert Dispute.objects.filter(source_message=message).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("step", ["arrive", "cancel"])
def test_arriving_and_cancelling_take_no_body_and_refuse_a_field_naming_it(login, qingguo, step):
    # given a flag the mall manager acknowledged
    reporter, responder = login(qingguo.merchant), login(qingguo.mall_manager)
    dispute_id = flag(reporter, qingguo, note="吵架").json()["id"]
    assert responder.post_json(f"/api/v1/disputes/{dispute_id}/acknowledge", {}).status_code == 200
    client = responder if step == "arrive" else reporter
    path = f"/api/v1/disputes/{dispute_id}/{step}"

    # when the step is sent with a field it does not take, then with an empty object
    refused = client.post_json(path, {"note": "到了"}, HTTP_ACCEPT_LANGUAGE="en")
    unchanged = Dispute.objects.get(pk=dispute_id)
    events = unchanged.events.count()
    done = client.post_json(path, {})

    # then the field is refused, naming it, and nothing moved until the empty body took the step
    assert refused.status_code == 400 and refused.json()["fields"] == {"note": ["Unknown field."]}
    assert unchanged.status == "acknowledged" and unchanged.arrived_at is None
    assert done.status_code == 200, done.content
    assert Dispute.objects.get(pk=dispute_id).events.count() > events
