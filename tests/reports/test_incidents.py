"""Incident reports over REST: the police queue from report to rating, duplicates and merging, anonymity, comments,
photos, reports made from group messages, and who may see or do what."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone
from PIL import Image

from accounts.models import Role
from alliance.selectors.alliances import alliance_access_for
from groups.models import Message, OutboxEvent
from groups.services.contact_groups import team_group_create
from reports.models import CaseEvent, Incident, IncidentComment
from tests.factories.alliance import member_add, station_staff_post

# Qingguo Lane, near the florist's store (31.777012, 119.956301). 0.00001 degree of latitude is about 1.11 m.
LANE = {"latitude": 31.777012, "longitude": 119.956301}


def at(metres_north: float) -> dict:
    return {"latitude": round(LANE["latitude"] + metres_north / 111_195, 6), "longitude": LANE["longitude"]}


def report(client, ladder, **body):
    payload = {"category": "theft", "description": "电动车电瓶被偷了", **LANE, **body}
    return client.post_json(f"/api/v1/alliances/{ladder.alliance.pk}/incidents", payload)


def url(incident_id: int, action: str = "") -> str:
    return f"/api/v1/incidents/{incident_id}" + (f"/{action}" if action else "")


def told(incident_id: int) -> list[dict]:
    """Every live incident event written to the outbox for the case, with its recipients."""
    events = []
    for row in OutboxEvent.objects.order_by("id"):
        payload = json.loads(row.payload)
        if payload.get("incident", {}).get("incident_id") == incident_id or payload.get("incident_id") == incident_id:
            events.append({"topics": set(row.topics), "payload": payload, "raw": row.payload})
    return events


def jpeg() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 120, 30)).save(buffer, format="JPEG")
    buffer.seek(0)
    buffer.name = "scene.jpg"
    return buffer


@pytest.fixture
def station_admin(qingguo, user_factory):
    """The police admin of the station that Qingguo Lane belongs to (not a member of the alliance)."""
    admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="王所长")
    station_staff_post(station=qingguo.station, user=admin)
    return admin


def accepted(login, ladder, **body) -> int:
    incident_id = report(login(ladder.merchant), ladder, **body).json()["id"]
    assert login(ladder.office_officer).post_json(url(incident_id, "accept"), {}).status_code == 200
    return incident_id


def resolved(login, ladder, **body) -> int:
    incident_id = accepted(login, ladder, **body)
    officer, manager = login(ladder.office_officer), login(ladder.mall_manager)
    assert officer.post_json(url(incident_id, "assign"), {"assignee": ladder.mall_manager.pk}).status_code == 200
    assert manager.post_json(url(incident_id, "start"), {}).status_code == 200
    assert manager.post_json(url(incident_id, "resolve"), {"notes": "已追回"}).status_code == 200
    return incident_id


# --- the workflow ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_report_goes_through_every_state_and_the_timeline_and_card_follow(login, qingguo):
    reporter, officer, manager = login(qingguo.merchant), login(qingguo.office_officer), login(qingguo.mall_manager)

    # given a merchant's report without a location
    created = reporter.post_json(
        f"/api/v1/alliances/{qingguo.alliance.pk}/incidents", {"category": "theft", "description": "电瓶被偷"}
    )
    incident_id = created.json()["id"]

    # when the police accept it and assign it to the mall manager, who starts and resolves it, and the reporter
    # closes and rates it
    steps = {
        "accept": officer.post_json(url(incident_id, "accept"), {}),
        "assign": officer.post_json(url(incident_id, "assign"), {"assignee": qingguo.mall_manager.pk}),
        "start": manager.post_json(url(incident_id, "start"), {}),
        "resolve": manager.post_json(url(incident_id, "resolve"), {"notes": "监控找到嫌疑人，电瓶已追回"}),
        "close": reporter.post_json(url(incident_id, "close"), {}),
        "rate": reporter.post_json(url(incident_id, "rate"), {"satisfaction": 5, "comment": "很快"}),
    }
    final = reporter.get(url(incident_id)).json()

    # then every step moved the case on
    assert created.status_code == 201 and created.json()["status"] == "submitted"
    assert created.json()["location"] == {"latitude": 31.777012, "longitude": 119.956301}  # the florist's store
    assert {name: r.status_code for name, r in steps.items()} == dict.fromkeys(steps, 200)
    assert [steps[name].json()["status"] for name in steps] == [
        "accepted",
        "assigned",
        "in_progress",
        "resolved",
        "closed",
        "closed",
    ]
    assert steps["close"].json()["awaiting_rating"] is True
    assert final["awaiting_rating"] is False and final["satisfaction"] == 5
    assert final["assignee"] == {"id": qingguo.mall_manager.pk, "display_name": qingguo.mall_manager.display_name}
    assert final["resolution_notes"] == "监控找到嫌疑人，电瓶已追回"
    assert final["accepted_at"] and final["resolved_at"] and final["closed_at"]
    # and the timeline has every step, with who took it
    timeline = [(e["kind"], e["data"].get("to"), e["actor"]["id"]) for e in final["timeline"]]
    assert timeline == [
        ("reported", None, qingguo.merchant.pk),
        ("status_changed", "accepted", qingguo.office_officer.pk),
        ("assigned", "assigned", qingguo.office_officer.pk),
        ("status_changed", "in_progress", qingguo.mall_manager.pk),
        ("resolved", "resolved", qingguo.mall_manager.pk),
        ("status_changed", "closed", qingguo.merchant.pk),
        ("rated", None, qingguo.merchant.pk),
    ]
    assert final["timeline"][5]["data"]["rating_requested"] is True
    # and the case card in the contact group follows the status (the rating does not change the card)
    card = Message.objects.get(pk=Incident.objects.get(pk=incident_id).card_message_id)
    assert card.group_id == qingguo.main.pk and card.sender_id == qingguo.merchant.pk
    assert card.payload["card"] == "incident" and card.payload["status"] == "closed"
    updates = Message.objects.filter(group=qingguo.main, kind="system", payload__event="card_updated")
    assert [u.payload["card"]["status"] for u in updates] == [
        "accepted",
        "assigned",
        "in_progress",
        "resolved",
        "closed",
    ]
    # and the reporter and the assignee were told of every step through the outbox
    events = told(incident_id)
    assert len(events) == 7
    assert all(f"user.{qingguo.merchant.pk}" in e["topics"] for e in events)
    assert all(f"user.{qingguo.mall_manager.pk}" in e["topics"] for e in events[2:])
    assert events[5]["payload"]["incident"]["status"] == "closed"
    assert events[5]["payload"]["incident"]["awaiting_rating"] is True


@pytest.mark.django_db
def test_the_police_reject_a_report_with_a_reason(login, qingguo):
    incident_id = report(login(qingguo.merchant), qingguo).json()["id"]
    officer = login(qingguo.office_officer)

    no_reason = officer.post_json(url(incident_id, "reject"), {"reason": ""})
    rejected = officer.post_json(url(incident_id, "reject"), {"reason": "属于民事纠纷，请走调解"})
    seen_by_reporter = login(qingguo.merchant).get(url(incident_id)).json()
    again = officer.post_json(url(incident_id, "accept"), {})

    assert no_reason.status_code == 400 and "reason" in no_reason.json()["fields"]
    assert rejected.status_code == 200
    assert seen_by_reporter["status"] == "rejected"
    assert seen_by_reporter["rejection_reason"] == "属于民事纠纷，请走调解"
    assert seen_by_reporter["timeline"][-1]["data"] == {
        "from": "submitted",
        "to": "rejected",
        "reason": "属于民事纠纷，请走调解",
    }
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


@pytest.mark.django_db
def test_the_reporter_reopens_within_seven_days_but_not_after(login, qingguo):
    fresh = resolved(login, qingguo)
    stale = resolved(login, qingguo, category="fraud_attempt")
    Incident.objects.filter(pk=stale).update(resolved_at=F("resolved_at") - timedelta(days=7, minutes=1))
    reporter = login(qingguo.merchant)

    by_manager = login(qingguo.mall_manager).post_json(url(fresh, "reopen"), {})
    reopened = reporter.post_json(url(fresh, "reopen"), {"reason": "电瓶又被偷了"})
    too_late = reporter.post_json(url(stale, "reopen"), {})

    assert by_manager.status_code == 403
    assert reopened.status_code == 200
    body = reopened.json()
    # back to the same assignee, who starts it again
    assert body["status"] == "assigned" and body["assignee"]["id"] == qingguo.mall_manager.pk
    assert body["resolved_at"] is None
    assert body["timeline"][-1]["kind"] == "reopened" and body["timeline"][-1]["data"]["reason"] == "电瓶又被偷了"
    assert too_late.status_code == 409 and too_late.json()["code"] == "reopen_window_passed"
    assert Incident.objects.get(pk=stale).status == "resolved"


@pytest.mark.django_db
def test_invalid_transitions_answer_409_naming_the_current_status(login, qingguo):
    incident_id = accepted(login, qingguo)
    officer, manager = login(qingguo.office_officer), login(qingguo.mall_manager)

    accept_twice = officer.post_json(url(incident_id, "accept"), {}, HTTP_ACCEPT_LANGUAGE="en")
    close_early = officer.post_json(url(incident_id, "close"), {})
    officer.post_json(url(incident_id, "assign"), {"assignee": qingguo.mall_manager.pk})
    resolve_unstarted = manager.post_json(url(incident_id, "resolve"), {})
    manager.post_json(url(incident_id, "start"), {})
    start_twice = manager.post_json(url(incident_id, "start"), {}, HTTP_ACCEPT_LANGUAGE="en")
    reject_in_progress = officer.post_json(url(incident_id, "reject"), {"reason": "不是警情"})
    reopen_open = login(qingguo.merchant).post_json(url(incident_id, "reopen"), {})

    for response in (accept_twice, close_early, resolve_unstarted, start_twice, reject_in_progress, reopen_open):
        assert response.status_code == 409 and response.json()["code"] == "invalid_transition"
    assert accept_twice.json()["message"] == "The case is “Accepted”: it cannot be accepted now."
    assert start_twice.json()["message"] == "The case is “In progress”: it cannot be started now."
    assert "处理中" in reject_in_progress.json()["message"]  # zh-hans by default
    assert Incident.objects.get(pk=incident_id).status == "in_progress"


@pytest.mark.django_db
def test_only_the_police_run_the_queue_and_only_the_assignee_works_the_case(login, qingguo, user_factory):
    incident_id = report(login(qingguo.merchant), qingguo).json()["id"]
    volunteer = user_factory(roles=[Role.VOLUNTEER], display_name="志愿者小张")
    member_add(qingguo.alliance, volunteer, "volunteer")
    officer, manager = login(qingguo.office_officer), login(qingguo.mall_manager)

    accept_by_responder = manager.post_json(url(incident_id, "accept"), {})
    accept_by_reporter = login(qingguo.merchant).post_json(url(incident_id, "accept"), {})
    officer.post_json(url(incident_id, "accept"), {})
    to_a_merchant = officer.post_json(url(incident_id, "assign"), {"assignee": qingguo.other_merchant.pk})
    to_nobody = officer.post_json(url(incident_id, "assign"), {"assignee": 99999999})
    to_both = officer.post_json(url(incident_id, "assign"), {"assignee": volunteer.pk, "team": qingguo.main.pk})
    to_main_group = officer.post_json(url(incident_id, "assign"), {"team": qingguo.main.pk})
    to_volunteer = officer.post_json(url(incident_id, "assign"), {"assignee": volunteer.pk})
    start_by_other_responder = manager.post_json(url(incident_id, "start"), {})
    start_by_police = officer.post_json(url(incident_id, "start"), {})
    start_by_assignee = login(volunteer).post_json(url(incident_id, "start"), {})

    assert accept_by_responder.status_code == 403 and accept_by_reporter.status_code == 403
    assert [r.status_code for r in (to_a_merchant, to_nobody, to_both, to_main_group)] == [400] * 4
    assert to_a_merchant.json()["message"] == to_nobody.json()["message"]  # ids tell nothing about who exists
    assert to_volunteer.status_code == 200 and to_volunteer.json()["assignee"]["id"] == volunteer.pk
    assert start_by_other_responder.status_code == 403 and start_by_police.status_code == 403
    assert start_by_assignee.status_code == 200 and start_by_assignee.json()["status"] == "in_progress"
    assert f"user.{volunteer.pk}" in told(incident_id)[-1]["topics"]


@pytest.mark.django_db
def test_a_case_assigned_to_a_team_is_seen_and_worked_by_its_members_only(login, qingguo, user_factory):
    incident_id = accepted(login, qingguo)
    volunteer = user_factory(roles=[Role.VOLUNTEER], display_name="志愿者小李")
    member_add(qingguo.alliance, volunteer, "volunteer")
    outsider = user_factory(roles=[Role.VOLUNTEER], display_name="别队志愿者")
    member_add(qingguo.alliance, outsider, "volunteer")
    access = alliance_access_for(user=qingguo.mall_manager, alliance=qingguo.alliance)
    team = team_group_create(actor=qingguo.mall_manager, access=access, name="夜巡二队", member_ids=[volunteer.pk])
    login(qingguo.office_officer).post_json(url(incident_id, "assign"), {"team": team.pk})

    by_outsider = login(outsider).post_json(url(incident_id, "start"), {})
    by_member = login(volunteer).post_json(url(incident_id, "start"), {})

    assert by_outsider.status_code == 403  # a volunteer of the alliance sees the case, but it is not theirs
    assert by_member.status_code == 200 and by_member.json()["status"] == "in_progress"


# --- comments and rating ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_reporter_responders_and_police_talk_in_the_comments(login, qingguo):
    incident_id = report(login(qingguo.merchant), qingguo).json()["id"]
    comments = url(incident_id, "comments")

    asked = login(qingguo.office_officer).post_json(comments, {"body": "请问有监控吗？"})
    answered = login(qingguo.merchant).post_json(comments, {"body": "店门口有一个摄像头"})
    by_responder = login(qingguo.mall_manager).post_json(comments, {"body": "商管可以调监控"})
    empty = login(qingguo.merchant).post_json(comments, {"body": "   "})
    nul = login(qingguo.merchant).post_json(comments, {"body": "坏\x00字"})
    huge = login(qingguo.merchant).post_json(comments, {"body": "字" * 2001})
    listed = login(qingguo.merchant).get(comments).json()["results"]
    detail = login(qingguo.office_officer).get(url(incident_id)).json()

    assert [r.status_code for r in (asked, answered, by_responder)] == [201] * 3
    assert [r.status_code for r in (empty, nul, huge)] == [400] * 3
    assert [c["body"] for c in listed] == ["请问有监控吗？", "店门口有一个摄像头", "商管可以调监控"]
    assert listed[1]["author"] == {
        "id": qingguo.merchant.pk,
        "display_name": qingguo.merchant.display_name,
        "is_reporter": True,
    }
    assert [c["body"] for c in detail["comments"]] == [c["body"] for c in listed]
    assert [e["kind"] for e in detail["timeline"]].count("commented") == 3
    assert IncidentComment.objects.filter(incident_id=incident_id).count() == 3
    # the reporter hears of the officer's question live
    comment_events = [e for e in told(incident_id) if e["payload"]["type"] == "case_comment"]
    assert f"user.{qingguo.merchant.pk}" in comment_events[0]["topics"]


@pytest.mark.django_db
def test_the_reporter_rates_once_and_only_after_resolution(login, qingguo):
    open_case = accepted(login, qingguo)
    done = resolved(login, qingguo, category="traffic")
    reporter = login(qingguo.merchant)

    too_early = reporter.post_json(url(open_case, "rate"), {"satisfaction": 5})
    by_officer = login(qingguo.office_officer).post_json(url(done, "rate"), {"satisfaction": 1})
    out_of_range = reporter.post_json(url(done, "rate"), {"satisfaction": 6})
    rated = reporter.post_json(url(done, "rate"), {"satisfaction": 4, "comment": "处理及时"})
    twice = reporter.post_json(url(done, "rate"), {"satisfaction": 1})

    assert too_early.status_code == 409 and too_early.json()["code"] == "invalid_transition"
    assert by_officer.status_code == 403
    assert out_of_range.status_code == 400
    assert rated.status_code == 200 and rated.json()["satisfaction"] == 4
    assert rated.json()["satisfaction_comment"] == "处理及时"
    assert twice.status_code == 409 and twice.json()["code"] == "already_rated"
    assert Incident.objects.get(pk=done).satisfaction == 4


# --- duplicates and merging ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_duplicates_are_reports_of_the_same_kind_within_50_metres_and_2_hours(login, qingguo):
    now = timezone.now().replace(microsecond=0)
    reporter, neighbour = login(qingguo.merchant), login(qingguo.other_merchant)
    first = report(reporter, qingguo, occurred_at=(now - timedelta(hours=1)).isoformat()).json()["id"]
    report(reporter, qingguo, **at(-40), occurred_at=now.isoformat())  # 80 m from the new one
    report(reporter, qingguo, occurred_at=(now - timedelta(hours=3)).isoformat())  # 3 hours before the new one
    report(reporter, qingguo, category="traffic", occurred_at=now.isoformat())  # another kind

    # when a neighbour reports the same theft 40 m away, an hour later
    created = report(neighbour, qingguo, **at(40), occurred_at=now.isoformat())

    # then the one report within 50 m and 2 hours is suggested, without its reporter
    assert created.status_code == 201
    duplicates = created.json()["duplicates"]
    assert [d["id"] for d in duplicates] == [first]
    assert 35 < duplicates[0]["distance_m"] < 45
    assert set(duplicates[0]) == {"id", "category", "status", "status_label", "occurred_at", "created_at", "distance_m"}
    # and the police see the same list; a responder may not
    second = created.json()["id"]
    by_police = login(qingguo.office_officer).get(url(second, "duplicates"))
    by_responder = login(qingguo.mall_manager).get(url(second, "duplicates"))
    assert [d["id"] for d in by_police.json()] == [first]
    assert by_responder.status_code == 403
    assert login(qingguo.mall_manager).get(url(second)).json()["duplicates"] == []
    assert [d["id"] for d in login(qingguo.office_officer).get(url(second)).json()["duplicates"]] == [first]


@pytest.mark.django_db
def test_the_police_merge_a_duplicate_into_the_primary_case(login, qingguo, fengming):
    primary = report(login(qingguo.merchant), qingguo).json()["id"]
    duplicate = report(login(qingguo.other_merchant), qingguo, **at(10)).json()["id"]
    foreign = report(login(fengming.merchant), fengming).json()["id"]
    officer = login(qingguo.office_officer)

    by_responder = login(qingguo.mall_manager).post_json(url(duplicate, "merge"), {"into": primary})
    into_itself = officer.post_json(url(duplicate, "merge"), {"into": duplicate})
    into_foreign = officer.post_json(url(duplicate, "merge"), {"into": foreign})
    merged = officer.post_json(url(duplicate, "merge"), {"into": primary})
    again = officer.post_json(url(duplicate, "merge"), {"into": primary})
    reopen = login(qingguo.other_merchant).post_json(url(duplicate, "reopen"), {})
    primary_seen = officer.get(url(primary)).json()

    assert by_responder.status_code == 403  # responders see both cases, but merging is for the police
    assert into_itself.status_code == 400
    assert into_foreign.status_code == 404
    assert merged.status_code == 200
    assert merged.json()["status"] == "closed" and merged.json()["merged_into"] == primary
    assert (
        merged.json()["timeline"][-1]["kind"] == "merged" and merged.json()["timeline"][-1]["data"]["into"] == primary
    )
    assert (
        primary_seen["timeline"][-1]["kind"] == "merged" and primary_seen["timeline"][-1]["data"]["merged"] == duplicate
    )
    assert primary_seen["duplicates"] == []  # a merged report is no longer suggested
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    assert reopen.status_code == 409
    card = Message.objects.get(pk=Incident.objects.get(pk=duplicate).card_message_id)
    assert card.payload["status"] == "closed" and card.payload["merged_into"] == primary


# --- anonymity -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_anonymous_report_hides_the_reporter_from_everyone_but_police_admins(login, qingguo, station_admin):
    reporter = login(qingguo.merchant)
    without_location = reporter.post_json(
        f"/api/v1/alliances/{qingguo.alliance.pk}/incidents",
        {"category": "suspicious", "description": "有人在后巷撬车门", "is_anonymous": True},
    )
    created = report(reporter, qingguo, category="suspicious", description="有人在后巷撬车门", is_anonymous=True)
    incident_id = created.json()["id"]
    reporter.post_json(url(incident_id, "comments"), {"body": "他穿黑色外套"})
    login(qingguo.office_officer).post_json(url(incident_id, "accept"), {})

    seen = {
        "mall_manager": login(qingguo.mall_manager).get(url(incident_id)).json(),
        "officer": login(qingguo.office_officer).get(url(incident_id)).json(),
        "police_admin": login(station_admin).get(url(incident_id)).json(),
        "reporter": reporter.get(url(incident_id)).json(),
    }
    listed_by_officer = login(qingguo.office_officer).get("/api/v1/incidents").json()["results"]

    # an anonymous report never falls back to the reporter's store: its position would name them
    assert without_location.status_code == 400 and without_location.json()["code"] == "location_required"
    for who in ("mall_manager", "officer"):
        case = seen[who]
        assert case["reporter"] is None and case["is_anonymous"] is True and case["is_mine"] is False
        assert case["timeline"][0]["actor"] == {"id": None, "display_name": "匿名举报人", "is_reporter": True}
        assert case["comments"][0]["author"]["id"] is None
        assert qingguo.merchant.display_name not in json.dumps(case, ensure_ascii=False)
    assert listed_by_officer[0]["reporter"] is None
    assert seen["police_admin"]["reporter"] == {
        "id": qingguo.merchant.pk,
        "display_name": qingguo.merchant.display_name,
        "phone": str(qingguo.merchant.phone),
    }
    assert seen["police_admin"]["timeline"][0]["actor"]["id"] == qingguo.merchant.pk
    assert seen["reporter"]["reporter"]["id"] == qingguo.merchant.pk and seen["reporter"]["is_mine"] is True
    # the card in the group has no sender and no name; the live events carry neither
    card = Message.objects.get(pk=Incident.objects.get(pk=incident_id).card_message_id)
    assert card.sender_id is None and card.payload["is_anonymous"] is True
    assert qingguo.merchant.display_name not in json.dumps(card.payload, ensure_ascii=False)
    for event in told(incident_id):
        assert qingguo.merchant.display_name not in event["raw"] and str(qingguo.merchant.phone) not in event["raw"]
    # and yet the reporter still hears about their own case
    assert f"user.{qingguo.merchant.pk}" in told(incident_id)[-1]["topics"]


@pytest.mark.django_db
def test_reporter_phone_is_masked_for_responders_and_full_for_police(login, qingguo):
    incident_id = report(login(qingguo.merchant), qingguo).json()["id"]

    by_responder = login(qingguo.mall_manager).get(url(incident_id)).json()["reporter"]
    by_officer = login(qingguo.office_officer).get(url(incident_id)).json()["reporter"]

    assert by_responder["phone"] == f"{str(qingguo.merchant.phone)[3:6]}****{str(qingguo.merchant.phone)[-4:]}"
    assert by_officer["phone"] == str(qingguo.merchant.phone)


# --- who may see -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_the_reporter_responders_and_police_see_a_case(login, qingguo, fengming, station_admin):
    created = login(qingguo.merchant).post(
        f"/api/v1/alliances/{qingguo.alliance.pk}/incidents",
        {"category": "theft", "description": "店里丢了手机", "photos": [jpeg()], **LANE},
        format="multipart",
    )
    incident_id = created.json()["id"]
    photo_id = Incident.objects.get(pk=incident_id).photos.get().pk

    allowed = [qingguo.merchant, qingguo.mall_manager, qingguo.office_officer, qingguo.station_officer, station_admin]
    assert [login(user).get(url(incident_id)).status_code for user in allowed] == [200] * 5

    outsiders = {
        "merchant on the same street": qingguo.other_merchant,
        "other alliance merchant": fengming.merchant,
        "other alliance responder": fengming.mall_manager,
        "other alliance officer": fengming.office_officer,
    }
    for who, user in outsiders.items():
        client = login(user)
        answers = {
            "detail": client.get(url(incident_id)),
            "duplicates": client.get(url(incident_id, "duplicates")),
            "comments": client.get(url(incident_id, "comments")),
            "comment": client.post_json(url(incident_id, "comments"), {"body": "我也看到了"}),
            "photo": client.get(url(incident_id, f"photos/{photo_id}")),
            "accept": client.post_json(url(incident_id, "accept"), {}),
            "assign": client.post_json(url(incident_id, "assign"), {"assignee": user.pk}),
            "start": client.post_json(url(incident_id, "start"), {}),
            "resolve": client.post_json(url(incident_id, "resolve"), {}),
            "close": client.post_json(url(incident_id, "close"), {}),
            "reject": client.post_json(url(incident_id, "reject"), {"reason": "x"}),
            "reopen": client.post_json(url(incident_id, "reopen"), {}),
            "rate": client.post_json(url(incident_id, "rate"), {"satisfaction": 3}),
            "merge": client.post_json(url(incident_id, "merge"), {"into": incident_id}),
        }
        assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 404), who
        assert incident_id not in [i["id"] for i in client.get("/api/v1/incidents").json()["results"]], who
    # nothing an outsider did stuck
    assert Incident.objects.get(pk=incident_id).status == "submitted"
    assert not IncidentComment.objects.exists()
    # a member sees the photo, re-encoded
    photo = login(qingguo.office_officer).get(url(incident_id, f"photos/{photo_id}?size=thumbnail"))
    assert photo.status_code == 200
    assert Image.open(io.BytesIO(b"".join(photo.streaming_content))).size == (320, 240)


@pytest.mark.django_db
def test_reports_go_only_to_ones_own_alliance(login, qingguo, fengming):
    client = login(qingguo.merchant)

    foreign = report(client, fengming)
    mine = report(client, qingguo)

    assert foreign.status_code == 404
    assert mine.status_code == 201
    assert Incident.objects.get().alliance_id == qingguo.alliance.pk


@pytest.mark.django_db
def test_the_list_filters(login, qingguo):
    reporter, neighbour = login(qingguo.merchant), login(qingguo.other_merchant)
    theft = report(reporter, qingguo).json()["id"]
    traffic = report(neighbour, qingguo, category="traffic").json()["id"]
    officer = login(qingguo.office_officer)
    officer.post_json(url(traffic, "accept"), {})
    officer.post_json(url(traffic, "assign"), {"assignee": qingguo.mall_manager.pk})

    def ids(client, **params):
        response = client.get("/api/v1/incidents", params)
        assert response.status_code == 200, response.content
        return [i["id"] for i in response.json()["results"]]

    assert ids(officer) == [traffic, theft]
    assert ids(officer, category="traffic") == [traffic]
    assert ids(officer, status=["submitted", "assigned"]) == [traffic, theft]
    assert ids(officer, status="assigned") == [traffic]
    assert ids(officer, assignee=qingguo.mall_manager.pk) == [traffic]
    assert ids(officer, alliance=qingguo.alliance.pk) == [traffic, theft]
    assert ids(officer, created_after=(timezone.now() + timedelta(minutes=1)).isoformat()) == []
    assert ids(reporter, mine="true") == [theft]
    assert ids(reporter) == [theft]  # a merchant sees only their own reports
    assert officer.get("/api/v1/incidents", {"status": "lost"}).status_code == 400
    assert officer.get("/api/v1/incidents", {"created_after": "yesterday"}).status_code == 400


# --- bad input and retries -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bad_reports_are_refused_with_400(login, qingguo):
    client = login(qingguo.merchant)

    answers = {
        "latitude out of range": report(client, qingguo, latitude=95),
        "longitude out of range": report(client, qingguo, longitude=-181),
        "only latitude": client.post_json(
            f"/api/v1/alliances/{qingguo.alliance.pk}/incidents",
            {"category": "theft", "description": "x", "latitude": 31.7},
        ),
        "coordinate not a number": report(client, qingguo, latitude="north"),
        "unknown category": report(client, qingguo, category="alien_invasion"),
        "NUL byte": report(client, qingguo, description="电瓶\x00被偷"),
        "huge description": report(client, qingguo, description="偷" * 2001),
        "blank description": report(client, qingguo, description="   "),
        "description a number": report(client, qingguo, description=12),
        "in the future": report(client, qingguo, occurred_at=(timezone.now() + timedelta(hours=2)).isoformat()),
        # DRF's own field answered 500 to a naive year 1 (its local-time check overflows)
        "in year 1": report(client, qingguo, occurred_at="0001-01-01T00:00:00"),
        "in year 1 with an offset": report(client, qingguo, occurred_at="0001-01-01T00:00:00+08:00"),
        "not a photo": client.post(
            f"/api/v1/alliances/{qingguo.alliance.pk}/incidents",
            {"category": "theft", "description": "x", "photos": [io.BytesIO(b"not an image")], **LANE},
            format="multipart",
        ),
    }

    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 400)
    assert answers["NUL byte"].json()["fields"]["description"]
    assert answers["not a photo"].json()["code"] == "invalid_image"
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_a_gps_fix_with_many_decimals_is_rounded_not_refused(login, qingguo):
    response = report(login(qingguo.merchant), qingguo, latitude=31.77701234567, longitude=119.95630149)

    assert response.status_code == 201
    assert response.json()["location"] == {"latitude": 31.777012, "longitude": 119.956301}


@pytest.mark.django_db
def test_a_retried_report_is_stored_once(login, qingguo):
    client = login(qingguo.merchant)
    path = f"/api/v1/alliances/{qingguo.alliance.pk}/incidents"
    body = {"category": "theft", "description": "电瓶被偷", **LANE}

    keyed = [client.post_json(path, body, HTTP_IDEMPOTENCY_KEY="incident-retry-1") for _ in range(2)]
    with_client_id = [report(client, qingguo, client_id="phone-7-incident-1") for _ in range(2)]

    assert keyed[0].status_code == keyed[1].status_code == 201
    assert keyed[0].json()["id"] == keyed[1].json()["id"]
    assert keyed[1]["Idempotent-Replayed"] == "true"
    assert with_client_id[0].json()["id"] == with_client_id[1].json()["id"]
    assert Incident.objects.count() == 2
    assert Message.objects.filter(group=qingguo.main, kind="card").count() == 2  # one card per case


# --- from a group message --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_group_message_becomes_an_incident_in_one_step(login, qingguo, fengming):
    client = login(qingguo.merchant)
    seq = client.post_json(
        f"/api/v1/groups/{qingguo.main.pk}/messages",
        {"kind": "location", "body": "后巷有人反复拉车门", **at(20)},
    ).json()["seq"]
    path = f"/api/v1/groups/{qingguo.main.pk}/messages/{seq}/incident"

    response = client.post_json(path, {"category": "suspicious"})
    again = client.post_json(path, {"category": "suspicious"})
    outsider = login(fengming.merchant).post_json(path, {"category": "suspicious"})

    assert response.status_code == 201
    body = response.json()
    assert body["description"] == "后巷有人反复拉车门"
    assert body["location"] == at(20)
    assert body["source"] == {"group": qingguo.main.pk, "seq": seq}
    assert body["card_seq"] > seq and body["group"] == qingguo.main.pk  # the status is posted back as a card
    card = Message.objects.get(group=qingguo.main, seq=body["card_seq"])
    assert card.payload["source"] == {"group": qingguo.main.pk, "seq": seq}
    assert again.json()["id"] == body["id"] and Incident.objects.count() == 1
    assert outsider.status_code == 404


@pytest.mark.django_db
def test_an_image_message_brings_its_photo_along(login, qingguo):
    client = login(qingguo.merchant)
    seq = client.post(
        f"/api/v1/groups/{qingguo.main.pk}/images", {"image": jpeg(), "body": "门口的可疑车辆"}, format="multipart"
    ).json()["seq"]

    response = client.post_json(f"/api/v1/groups/{qingguo.main.pk}/messages/{seq}/incident", {"category": "suspicious"})
    client.delete(f"/api/v1/groups/{qingguo.main.pk}/messages/{seq}")  # the message goes; the evidence stays
    detail = login(qingguo.office_officer).get(url(response.json()["id"])).json()
    photo = login(qingguo.office_officer).get(detail["photos"][0]["url"])

    assert response.status_code == 201
    assert response.json()["location"] == {"latitude": 31.777012, "longitude": 119.956301}  # the store
    assert len(detail["photos"]) == 1 and photo.status_code == 200


# --- query counts ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_and_detail_pin_their_queries(login, qingguo, django_assert_max_num_queries):
    reporter = login(qingguo.merchant)
    officer = login(qingguo.office_officer)
    ids = [report(reporter, qingguo, **at(n), is_anonymous=n % 2 == 0).json()["id"] for n in range(12)]
    for incident_id in ids[:4]:
        officer.post_json(url(incident_id, "accept"), {})
        officer.post_json(url(incident_id, "assign"), {"assignee": qingguo.mall_manager.pk})
        officer.post_json(url(incident_id, "comments"), {"body": "收到"})

    # session, user, roles, the page; then the case, its timeline, comments and photos, the officer's standing
    # (membership, posting) and the duplicate search: none of it grows with the number of cases or steps
    with django_assert_max_num_queries(5):
        listed = officer.get("/api/v1/incidents", {"status": ["submitted", "assigned"]})
    with django_assert_max_num_queries(11):
        detail = officer.get(url(ids[0]))

    assert len(listed.json()["results"]) == 12
    assert detail.status_code == 200 and len(detail.json()["duplicates"]) == 11
    assert CaseEvent.objects.filter(incident_id=ids[0]).count() == 4
    assert Decimal(str(detail.json()["location"]["latitude"])) > Decimal("31.777")


@pytest.mark.django_db
def test_reporting_pins_its_queries(login, qingguo, django_assert_max_num_queries):
    client = login(qingguo.merchant)
    path = f"/api/v1/alliances/{qingguo.alliance.pk}/incidents"
    body = {"category": "theft", "description": "电动车电瓶被偷了", **LANE}

    # The session and the user are read once (not again for the Idempotency-Key scope), the alliance with the
    # reporter's membership in one query (the view's check goes into the service), and the new case is not read
    # back; then the idempotency record (ON CONFLICT DO NOTHING, no savepoint), the incident, its timeline step, the
    # main group's next seq (no read of the group first), the card, the outbox row and the duplicate search (30
    # queries before; docs/performance.md says what each cost). The whole request on PostgreSQL, after-commit step
    # included, is pinned in test_creation_cost.py.
    with django_assert_max_num_queries(16) as captured:
        response = client.post_json(path, body, HTTP_IDEMPOTENCY_KEY="pin-incident-1")

    assert response.status_code == 201 and response.json()["duplicates"] == []
    sql = [query["sql"] for query in captured.captured_queries]
    assert sum('FROM "accounts_user"' in q for q in sql) == 1
    assert sum('FROM "alliance_alliancemembership"' in q for q in sql) == 1
    assert not any('FROM "alliance_alliance"' in q for q in sql)  # joined to the membership
    assert not any('FROM "groups_contactgroup"' in q for q in sql)  # found by the UPDATE of its seq
    assert sum(q.startswith('SELECT "reports_incident"') for q in sql) == 1  # the duplicate search, no re-read


@pytest.mark.django_db
def test_a_group_message_becomes_one_incident_shown_again_only_to_whoever_may_see_it(login, qingguo):
    # given a message turned into an incident by its sender, with a private description
    body = {"kind": "location", "body": "后巷的路灯坏了", **at(3)}
    seq = login(qingguo.merchant).post_json(f"/api/v1/groups/{qingguo.main.pk}/messages", body).json()["seq"]
    path = f"/api/v1/groups/{qingguo.main.pk}/messages/{seq}/incident"
    first = login(qingguo.merchant).post_json(path, {"category": "hidden_danger", "description": "私密: 后门密码 1234"})
    assert first.status_code == 201, first.content
    created = first.json()

    # when the reporter taps again, the on-duty mall manager turns it too, and another merchant turns it too
    again = login(qingguo.merchant).post_json(path, {"category": "theft"})
    manager = login(qingguo.mall_manager).post_json(path, {"category": "theft"})
    other = login(qingguo.other_merchant).post_json(path, {"category": "theft"}, HTTP_ACCEPT_LANGUAGE="en")

    # then those who may see the case get it back (200: nothing was created); the other merchant learns only that
    # the message is already a case and where its card is in the group, nothing of the case itself
    assert again.status_code == 200 and again.json()["id"] == created["id"]
    assert again.json()["category"] == "hidden_danger"
    assert manager.status_code == 200 and manager.json()["id"] == created["id"]
    assert manager.json()["is_mine"] is False
    assert other.status_code == 409, other.content
    assert other.json() == {
        "code": "already_reported",
        "message": "This message has already been turned into a case.",
        "fields": {},
        "card": {"group": qingguo.main.pk, "seq": created["card_seq"]},
    }
    assert login(qingguo.other_merchant).get(f"/api/v1/incidents/{created['id']}").status_code == 404
    assert Incident.objects.count() == 1
    assert Incident.objects.get().category == "hidden_danger"
    assert Message.objects.filter(group=qingguo.main, kind="card").count() == 1


@pytest.mark.django_db
def test_accept_start_and_close_take_no_body_and_refuse_a_field_naming_it(login, qingguo):
    # given a report
    reporter, officer, manager = login(qingguo.merchant), login(qingguo.office_officer), login(qingguo.mall_manager)
    incident_id = report(reporter, qingguo).json()["id"]

    # when each step is sent first with a field it does not take, then with an empty object (or no body at all)
    answers = {}
    for client, step, then in [
        (officer, "accept", "accepted"),
        (manager, "start", "in_progress"),
        (reporter, "close", "closed"),
    ]:
        if step == "start":
            assert (
                officer.post_json(url(incident_id, "assign"), {"assignee": qingguo.mall_manager.pk}).status_code == 200
            )
        before = Incident.objects.get(pk=incident_id).status
        refused = client.post_json(url(incident_id, step), {"reason": "x"}, HTTP_ACCEPT_LANGUAGE="en")
        after_refusal = Incident.objects.get(pk=incident_id).status
        taken = client.post_json(url(incident_id, step), {}) if step != "start" else client.post(url(incident_id, step))
        answers[step] = (refused.status_code, refused.json()["fields"], before == after_refusal, taken.status_code)
        if step == "start":
            assert manager.post_json(url(incident_id, "resolve"), {"notes": "已处理"}).status_code == 200
        assert Incident.objects.get(pk=incident_id).status in {then, "resolved"}

    # then every field was refused, naming it, without moving the case, and every empty body took the step
    assert answers == dict.fromkeys(["accept", "start", "close"], (400, {"reason": ["Unknown field."]}, True, 200))
