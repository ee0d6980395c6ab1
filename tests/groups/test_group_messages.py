"""Contact groups over REST: posting, history by sequence number, notices, deletion, read marks, scoping."""

from __future__ import annotations

import io
import threading

import pytest
from django.db import connection
from PIL import Image

from groups.models import GroupMembership, Message
from groups.services import contact_groups as services
from groups.services.contact_groups import contact_groups_member_left, message_send
from tests.factories.alliance import member_add


def send_text(client, group, body, **extra):
    return client.post_json(f"/api/v1/groups/{group.pk}/messages", {"body": body, **extra})


@pytest.mark.django_db
def test_messages_get_gap_free_sequence_numbers_and_page_by_seq(login, qingguo):
    client = login(qingguo.merchant)
    start = qingguo.main.last_seq  # the join lines

    sent = [send_text(client, qingguo.main, f"第{n}条") for n in range(5)]
    older = client.get(f"/api/v1/groups/{qingguo.main.pk}/messages", {"limit": 2})
    catch_up = client.get(f"/api/v1/groups/{qingguo.main.pk}/messages", {"after": start + 2})

    assert [r.status_code for r in sent] == [201] * 5
    assert [r.json()["seq"] for r in sent] == list(range(start + 1, start + 6))
    assert [m["body"] for m in older.json()["results"]] == ["第3条", "第4条"]
    assert older.json()["previous_before"] == start + 4 and older.json()["next_after"] is None
    assert [m["seq"] for m in catch_up.json()["results"]] == [start + 3, start + 4, start + 5]


@pytest.mark.django_db
@pytest.mark.parametrize("returning", [True, False], ids=["update-returning", "sqlite-before-3.35"])
def test_the_next_seq_is_taken_with_or_without_returning(login, qingguo, monkeypatch, returning):
    monkeypatch.setattr(services, "_can_update_returning", lambda: returning)
    start = qingguo.main.last_seq

    sent = [message_send(sender=qingguo.merchant, group=qingguo.main, body=f"第{n}条")[0] for n in range(3)]

    assert [message.seq for message in sent] == [start + 1, start + 2, start + 3]
    qingguo.main.refresh_from_db()
    assert qingguo.main.last_seq == start + 3


@pytest.mark.django_db
def test_a_resent_message_with_the_same_client_id_is_stored_once(login, qingguo):
    client = login(qingguo.merchant)

    first = send_text(client, qingguo.main, "两个人在摊位边吵架", client_id="phone-1-msg-7")
    again = send_text(client, qingguo.main, "两个人在摊位边吵架", client_id="phone-1-msg-7")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["seq"] == again.json()["seq"]
    assert Message.objects.filter(group=qingguo.main, client_id="phone-1-msg-7").count() == 1


@pytest.mark.django_db
def test_location_messages_validate_coordinates(login, qingguo):
    client = login(qingguo.volunteer)
    url = f"/api/v1/groups/{qingguo.main.pk}/messages"

    good = client.post_json(url, {"kind": "location", "latitude": "31.777012", "longitude": "119.956301"})
    impossible = client.post_json(url, {"kind": "location", "latitude": 91, "longitude": 119.9})
    missing = client.post_json(url, {"kind": "location", "latitude": 31.7})

    assert good.status_code == 201
    assert good.json()["location"] == {"latitude": 31.777012, "longitude": 119.956301}
    assert impossible.status_code == 400 and "latitude" in impossible.json()["fields"]
    assert missing.status_code == 400


@pytest.mark.django_db
def test_only_police_post_in_the_prevention_group(login, qingguo):
    merchant_try = send_text(login(qingguo.merchant), qingguo.prevention, "我也想发")
    officer_post = send_text(login(qingguo.officer), qingguo.prevention, "警惕冒充客服退款诈骗")

    assert merchant_try.status_code == 403 and merchant_try.json()["code"] == "posting_restricted"
    assert officer_post.status_code == 201


@pytest.mark.django_db
def test_police_post_pinned_notices_and_others_cannot(login, qingguo):
    url = f"/api/v1/groups/{qingguo.main.pk}/notices"

    refused = login(qingguo.merchant).post_json(url, {"body": "通知"})
    posted = login(qingguo.officer).post_json(url, {"body": "今晚22时至次日2时加强巡逻"})
    detail = login(qingguo.merchant).get(f"/api/v1/groups/{qingguo.main.pk}")

    assert refused.status_code == 403
    assert posted.status_code == 201 and posted.json()["is_pinned"]
    assert [n["body"] for n in detail.json()["pinned"]] == ["今晚22时至次日2时加强巡逻"]


@pytest.mark.django_db
def test_deleting_leaves_a_tombstone_and_a_system_line(login, qingguo):
    author = login(qingguo.merchant)
    seq = send_text(author, qingguo.main, "发错了").json()["seq"]

    by_other = login(qingguo.volunteer).delete(f"/api/v1/groups/{qingguo.main.pk}/messages/{seq}")
    by_author = author.delete(f"/api/v1/groups/{qingguo.main.pk}/messages/{seq}")
    history = author.get(f"/api/v1/groups/{qingguo.main.pk}/messages", {"after": seq - 1}).json()["results"]

    assert by_other.status_code == 403
    assert by_author.status_code == 204 and by_author.content == b""  # as the schema says: no body
    assert history[0] == {**history[0], "seq": seq, "deleted": True, "body": ""}
    assert history[1]["kind"] == "system"
    assert history[1]["payload"]["event"] == "message_deleted" and history[1]["payload"]["target_seq"] == seq


@pytest.mark.django_db
def test_police_can_remove_any_message(login, qingguo):
    seq = send_text(login(qingguo.merchant), qingguo.main, "广告：低价代购").json()["seq"]

    response = login(qingguo.officer).delete(f"/api/v1/groups/{qingguo.main.pk}/messages/{seq}")

    history = login(qingguo.merchant).get(f"/api/v1/groups/{qingguo.main.pk}/messages", {"after": seq - 1})
    assert response.status_code == 204
    assert history.json()["results"][0]["deleted"]


@pytest.mark.django_db
def test_unread_counts_read_marks_and_mute(login, qingguo):
    officer, merchant = login(qingguo.officer), login(qingguo.merchant)
    for n in range(3):
        send_text(officer, qingguo.main, f"通报{n}")

    before = {g["id"]: g for g in merchant.get("/api/v1/groups").json()["results"]}
    read = merchant.post_json(f"/api/v1/groups/{qingguo.main.pk}/read", {"seq": qingguo.main.last_seq + 2})
    backwards = merchant.post_json(f"/api/v1/groups/{qingguo.main.pk}/read", {"seq": 1})
    muted = merchant.post_json(f"/api/v1/groups/{qingguo.main.pk}/mute", {"muted": True})
    after = {g["id"]: g for g in merchant.get("/api/v1/groups").json()["results"]}

    assert before[qingguo.main.pk]["unread"] == 3
    assert read.json()["last_read_seq"] == qingguo.main.last_seq + 2
    assert backwards.json()["last_read_seq"] == qingguo.main.last_seq + 2  # never moves back
    assert muted.json()["is_muted"] is True
    assert after[qingguo.main.pk]["unread"] == 1 and after[qingguo.main.pk]["is_muted"]


@pytest.mark.django_db
def test_another_alliances_groups_answer_404_and_are_not_listed(login, qingguo, fengming):
    outsider = login(fengming.merchant)
    base = f"/api/v1/groups/{qingguo.main.pk}"
    seq = send_text(login(qingguo.merchant), qingguo.main, "内部消息").json()["seq"]

    answers = [
        outsider.get(base),
        outsider.get(f"{base}/messages"),
        outsider.get(f"{base}/members"),
        outsider.post_json(f"{base}/messages", {"body": "我能发吗"}),
        outsider.post_json(f"{base}/read", {"seq": 1}),
        outsider.delete(f"{base}/messages/{seq}"),
        outsider.get(f"{base}/messages/{seq}/image"),
    ]
    listed = {g["id"] for g in outsider.get("/api/v1/groups").json()["results"]}

    assert [a.status_code for a in answers] == [404] * len(answers)
    assert "内部消息" not in b"".join(a.content for a in answers).decode()
    assert listed == {fengming.main.pk, fengming.prevention.pk}


@pytest.mark.django_db
def test_member_list_masks_numbers_for_everyone_but_police(login, qingguo):
    as_merchant = login(qingguo.merchant).get(f"/api/v1/groups/{qingguo.main.pk}/members").json()["results"]
    as_officer = login(qingguo.officer).get(f"/api/v1/groups/{qingguo.main.pk}/members").json()["results"]

    volunteer_phone = str(qingguo.volunteer.phone)
    seen_by_merchant = next(m for m in as_merchant if m["user"] == qingguo.volunteer.pk)["phone"]
    seen_by_officer = next(m for m in as_officer if m["user"] == qingguo.volunteer.pk)["phone"]
    assert seen_by_merchant == f"{volunteer_phone[3:6]}****{volunteer_phone[-4:]}"
    assert seen_by_officer == volunteer_phone


@pytest.mark.django_db
def test_leaving_the_alliance_leaves_its_groups(login, qingguo):
    client = login(qingguo.volunteer)

    contact_groups_member_left(alliance=qingguo.alliance, user=qingguo.volunteer)

    assert not GroupMembership.objects.filter(user=qingguo.volunteer).exists()
    assert client.get(f"/api/v1/groups/{qingguo.main.pk}/messages").status_code == 404
    last = Message.objects.filter(group=qingguo.main).order_by("-seq").first()
    assert last.payload == {
        "event": "member_left",
        "user": {"id": qingguo.volunteer.pk, "display_name": "青平果联盟志愿者"},
    }


def _photo_with_gps() -> bytes:
    picture = Image.new("RGB", (3000, 2000), (200, 30, 30))
    exif = Image.Exif()
    exif[0x8825] = {2: (31.0, 46.0, 37.0)}  # GPSInfo: where the photo was taken
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


@pytest.mark.django_db
def test_image_messages_are_re_encoded_thumbnailed_and_served_to_members_only(login, qingguo, fengming):
    client = login(qingguo.merchant)
    upload = io.BytesIO(_photo_with_gps())
    upload.name = "scene.jpg"

    response = client.post(
        f"/api/v1/groups/{qingguo.main.pk}/images", {"image": upload, "body": "现场"}, format="multipart"
    )
    image_url = response.json()["image"]["url"]
    full = client.get(image_url)
    thumbnail = client.get(response.json()["image"]["thumbnail_url"])
    outsider = login(fengming.merchant).get(image_url)

    assert response.status_code == 201
    stored = Image.open(io.BytesIO(b"".join(full.streaming_content)))
    assert stored.size == (2048, 1365) and not stored.getexif()
    assert Image.open(io.BytesIO(b"".join(thumbnail.streaming_content))).size == (320, 213)
    assert outsider.status_code == 404


@pytest.mark.django_db
def test_a_file_that_is_not_an_image_is_refused(login, qingguo):
    fake = io.BytesIO(b"#!/bin/sh\necho not a photo\n")
    fake.name = "photo.jpg"

    response = login(qingguo.merchant).post(
        f"/api/v1/groups/{qingguo.main.pk}/images", {"image": fake}, format="multipart"
    )

    assert response.status_code == 400 and response.json()["code"] == "invalid_image"
    assert not Message.objects.filter(group=qingguo.main, kind="image").exists()


@pytest.mark.django_db
def test_group_list_query_count_does_not_grow_with_groups(login, qingguo, django_assert_max_num_queries):
    client = login(qingguo.officer)
    for n in range(10):
        send_text(client, qingguo.main, f"消息{n}")

    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/groups")
    with django_assert_max_num_queries(6):
        history = client.get(f"/api/v1/groups/{qingguo.main.pk}/messages")

    assert response.status_code == 200 and len(response.json()["results"]) == 2
    assert len(history.json()["results"]) == qingguo.main.last_seq + 10


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_get_distinct_gap_free_numbers(qingguo):
    # given twenty phones posting into the same group at the same moment
    barrier = threading.Barrier(20)
    start = qingguo.main.last_seq
    errors = []

    def post(n):
        try:
            barrier.wait()
            message_send(sender=qingguo.merchant, group=qingguo.main, body=f"并发{n}")
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then every message has its own number and the numbers have no holes
    seqs = sorted(Message.objects.filter(group=qingguo.main, seq__gt=start).values_list("seq", flat=True))
    assert not errors
    assert seqs == list(range(start + 1, start + 21))


def _alliance_member(alliance, user, role, on_duty=False):
    return member_add(alliance, user, role, on_duty=on_duty)


@pytest.mark.django_db
def test_a_mall_manager_opens_a_team_group_of_alliance_members_only(login, qingguo, fengming, user_factory):
    manager = user_factory(roles=["mall_manager"], display_name="顾经理")
    for user, role in [(manager, "mall_manager"), (qingguo.volunteer, "volunteer"), (qingguo.merchant, "merchant")]:
        _alliance_member(qingguo.alliance, user, role)
    client = login(manager)
    url = f"/api/v1/alliances/{qingguo.alliance.pk}/groups"

    created = client.post_json(url, {"name": "夜巡二队", "members": [qingguo.volunteer.pk]})
    foreign = client.post_json(url, {"name": "混编", "members": [fengming.volunteer.pk]})
    by_merchant = login(qingguo.merchant).post_json(url, {"name": "商户自建群"})

    assert created.status_code == 201 and created.json()["kind"] == "team" and created.json()["role"] == "admin"
    team_id = created.json()["id"]
    assert {m["user"] for m in client.get(f"/api/v1/groups/{team_id}/members").json()["results"]} == {
        manager.pk,
        qingguo.volunteer.pk,
    }
    assert foreign.status_code == 400 and foreign.json()["code"] == "not_alliance_members"
    assert by_merchant.status_code == 403
    assert login(fengming.volunteer).get(f"/api/v1/groups/{team_id}").status_code == 404


@pytest.mark.django_db
def test_team_admins_add_and_remove_members_and_anyone_may_leave(login, qingguo, user_factory):
    manager = user_factory(roles=["mall_manager"])
    _alliance_member(qingguo.alliance, manager, "mall_manager")
    _alliance_member(qingguo.alliance, qingguo.volunteer, "volunteer")
    _alliance_member(qingguo.alliance, qingguo.merchant, "merchant")
    admin = login(manager)
    team_id = admin.post_json(f"/api/v1/alliances/{qingguo.alliance.pk}/groups", {"name": "保安队"}).json()["id"]

    added = admin.post_json(f"/api/v1/groups/{team_id}/team-members", {"user": qingguo.volunteer.pk})
    by_member = login(qingguo.volunteer).post_json(
        f"/api/v1/groups/{team_id}/team-members", {"user": qingguo.merchant.pk}
    )
    left = login(qingguo.volunteer).delete(f"/api/v1/groups/{team_id}/team-members/{qingguo.volunteer.pk}")
    main_group = admin.delete(f"/api/v1/groups/{qingguo.main.pk}/team-members/{qingguo.merchant.pk}")

    assert added.status_code == 201 and added.json()["user"] == qingguo.volunteer.pk
    assert by_member.status_code == 403
    assert left.status_code == 204
    assert not GroupMembership.objects.filter(group_id=team_id, user=qingguo.volunteer).exists()
    assert main_group.status_code in (
        404,
        409,
    )  # the manager is not in this fixture's main group, or it follows the alliance


@pytest.mark.django_db
def test_member_list_marks_who_is_on_duty(login, qingguo):
    # (volunteers are on duty by checking in to a patrol shift; the duty switch is the police's and managers')
    _alliance_member(qingguo.alliance, qingguo.officer, "police_liaison", on_duty=True)
    _alliance_member(qingguo.alliance, qingguo.merchant, "merchant")

    members = login(qingguo.officer).get(f"/api/v1/groups/{qingguo.main.pk}/members").json()["results"]

    assert {m["user"]: m["on_duty"] for m in members} == {
        qingguo.officer.pk: True,
        qingguo.merchant.pk: False,
        qingguo.volunteer.pk: False,
    }
