"""The Safe Store ranking over HTTP: the live preview, a store's breakdown, the weights, inspections, and the final
rankings with who sees which figures."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import Role
from alliance.models import (
    Alliance,
    SafeStoreRanking,
    SafeStoreWeight,
    StoreInspection,
    StoreScoreEvent,
    StoreScorePart,
)
from tests.factories.alliance import MemberRole, member_add, store_staff_make, store_verified
from tests.factories.safe_stores import inspection_make, ranking_make, score_event_make, stores_make, weights_set
from tests.fixtures.street import build_street

P = StoreScorePart
SHANGHAI = ZoneInfo("Asia/Shanghai")
H1 = date(2025, 1, 1)


@pytest.fixture
def shop_street(db, user_factory):
    """A street founded by its police admin with four stores: the street's merchant's (unverified), and three
    more (店1 verified, 店2 verified, 店3 not), scored this half-year so that 店1 leads, the merchant's is second."""
    admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="王所长")
    street = build_street(user_factory, name="青平果联盟", slug="qingpingguo", police_admin=admin)
    street.stores = stores_make(alliance=street.alliance, user_factory=user_factory, count=3)
    for store in street.stores[:2]:
        store_verified(store=store, by=admin)
    now = timezone.now() - timedelta(minutes=1)
    score_event_make(store=street.stores[0], part=P.INSPECTION_PASSED, value=2, occurred_at=now)  # 20
    score_event_make(store=street.store, part=P.HIDDEN_DANGER_FIXED, value=2, occurred_at=now)  # 6
    score_event_make(store=street.store, part=P.PATROL_HOURS, value=4, occurred_at=now)  # +4 = 10
    score_event_make(store=street.stores[2], part=P.INCIDENT_NEARBY, value=1, occurred_at=now)  # -5
    return street


def _preview(client, street, **params):
    response = client.get(f"/api/v1/alliances/{street.alliance.pk}/safe-stores/preview", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_police_admin_sees_every_store_of_the_preview_with_its_score(shop_street, login):
    # when the police admin asks for the current half-year's ranking
    body = _preview(login(shop_street.police_admin), shop_street)

    # then every store is there, best first, with its figures
    first, mine, empty, last = shop_street.stores[0], shop_street.store, shop_street.stores[1], shop_street.stores[2]
    rows = body["results"]
    assert [(row["store"]["id"], row["rank"], row["score"]) for row in rows] == [
        (first.pk, 1, 20),
        (mine.pk, 2, 10),
        (empty.pk, 3, 0),
        (last.pk, 4, -5),
    ]
    assert rows[1]["security_score"] == 6 and rows[1]["contribution_score"] == 4
    assert {part["part"]: part["quantity"] for part in rows[1]["parts"]}[P.PATROL_HOURS] == 4
    start = date.fromisoformat(body["period_start"])
    assert start.day == 1 and start.month in (1, 7) and body["next_after"] is None


def test_a_merchant_sees_ranks_and_names_and_only_their_own_score(shop_street, login):
    # when the street's merchant asks (their store is not verified yet; 店3 is neither verified nor theirs)
    body = _preview(login(shop_street.merchant), shop_street)

    # then they see the verified stores and their own, with the score of their own only
    rows = {row["store"]["id"]: row for row in body["results"]}
    assert list(rows) == [shop_street.stores[0].pk, shop_street.store.pk, shop_street.stores[1].pk]
    assert rows[shop_street.store.pk]["score"] == 10 and rows[shop_street.store.pk]["rank"] == 2
    assert rows[shop_street.stores[0].pk]["score"] is None and rows[shop_street.stores[0].pk]["parts"] is None
    assert rows[shop_street.stores[0].pk]["rank"] == 1


def test_the_preview_pages_by_position(shop_street, login):
    client = login(shop_street.police_admin)

    first = _preview(client, shop_street, limit=3)
    rest = _preview(client, shop_street, limit=3, after=first["next_after"])

    assert [row["position"] for row in first["results"]] == [1, 2, 3] and first["next_after"] == 3
    assert [row["position"] for row in rest["results"]] == [4] and rest["next_after"] is None


def test_another_alliances_preview_is_not_found(shop_street, other_street, login):
    response = login(other_street.merchant).get(f"/api/v1/alliances/{shop_street.alliance.pk}/safe-stores/preview")
    assert response.status_code == 404


def test_a_store_sees_its_breakdown_and_what_would_raise_it(shop_street, login):
    # when the merchant asks for their store's score, in English
    response = login(shop_street.merchant).get(
        f"/api/v1/stores/{shop_street.store.pk}/safe-store-score", HTTP_ACCEPT_LANGUAGE="en"
    )

    # then the score is split into its two halves, part by part, with the rank among the four stores
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["score"], body["rank"], body["store_count"]) == (10, 2, 4)
    security = {part["part"]: part for part in body["security_status"]["parts"]}
    assert body["security_status"]["score"] == 6
    assert security[P.HIDDEN_DANGER_FIXED] | {"label": ""} == {
        "part": P.HIDDEN_DANGER_FIXED,
        "label": "",
        "quantity": 2,
        "weight": 3,
        "score": 6,
    }
    assert len(body["contribution"]["parts"]) == 5 and body["contribution"]["score"] == 4
    # and what one more unit of each part would change, the most helpful first, the costs last
    advice = body["what_would_raise_it"]
    changes = [item["change"] for item in advice]
    assert changes == sorted(changes, reverse=True)
    assert advice[0] == {"part": P.INSPECTION_PASSED, "change": 10, "message": "Pass a police inspection: +10 each"}
    assert {"part": P.HIDDEN_DANGER_FIXED, "change": 3, "message": "Fix hidden dangers on time: +3 each"} in advice
    assert advice[-1]["part"] == P.INSPECTION_FAILED and advice[-1]["message"].endswith("-10 each")


def test_the_breakdown_speaks_chinese(shop_street, login):
    response = login(shop_street.merchant).get(
        f"/api/v1/stores/{shop_street.store.pk}/safe-store-score", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    advice = {item["part"]: item["message"] for item in response.json()["what_would_raise_it"]}
    assert advice[P.HIDDEN_DANGER_FIXED] == "按时整改隐患：每次 +3"


def test_the_breakdown_is_for_the_stores_people_admins_and_police(shop_street, other_street, login, user_factory):
    # given a staff member of the merchant's store, and another merchant of the street
    staff = user_factory(roles=[Role.MERCHANT])
    member_add(shop_street.alliance, staff, MemberRole.MERCHANT)
    store_staff_make(store=shop_street.stores[0], user=staff)
    path = f"/api/v1/stores/{shop_street.stores[0].pk}/safe-store-score"

    # then the owner's staff and the police admin see it, another merchant of the alliance may not, another
    # alliance's people do not even find it
    assert login(staff).get(path).status_code == 200
    assert login(shop_street.police_admin).get(path).status_code == 200
    assert login(shop_street.other_merchant).get(path).status_code == 403
    assert login(other_street.merchant).get(path).status_code == 404


def test_members_read_the_weights_and_only_the_police_admin_sets_them(shop_street, login):
    path = f"/api/v1/alliances/{shop_street.alliance.pk}/safe-store-weights"
    # a member reads them: the defaults
    read = login(shop_street.merchant).get(path)
    assert read.status_code == 200
    assert {w["part"]: w["weight"] for w in read.json()["weights"]}[P.PATROL_HOURS] == 1

    # a merchant may not set them
    refused = login(shop_street.merchant).put(path, {"patrol_hours": 50}, format="json")
    assert refused.status_code == 403

    # the police admin does, within -100..100, and the preview follows at once
    admin = login(shop_street.police_admin)
    assert admin.put(path, {"patrol_hours": 101}, format="json").status_code == 400
    assert admin.put(path, {"nonsense": 1}, format="json").status_code == 400
    assert admin.put(path, {}, format="json").status_code == 400
    response = admin.put(path, {"patrol_hours": 5, "incident_nearby": -20}, format="json")
    assert response.status_code == 200, response.content
    weights = {w["part"]: w for w in response.json()["weights"]}
    assert weights[P.PATROL_HOURS]["weight"] == 5 and weights[P.INCIDENT_NEARBY]["half"] == "security_status"
    assert SafeStoreWeight.objects.get(alliance=shop_street.alliance, part=P.PATROL_HOURS).updated_by == (
        shop_street.police_admin
    )
    rows = {row["store"]["id"]: row["score"] for row in _preview(admin, shop_street)["results"]}
    assert rows[shop_street.store.pk] == 6 + 20 and rows[shop_street.stores[2].pk] == -20


def test_the_police_record_an_inspection_that_scores_the_store(shop_street, login):
    # when the police admin records a failed fire-safety check of the merchant's store
    path = f"/api/v1/stores/{shop_street.store.pk}/inspections"
    response = login(shop_street.police_admin).post_json(
        path, {"kind": "fire_safety", "result": "failed", "note": "灭火器过期"}
    )

    # then the inspection and its scored event are there, and the store's score drops by 10
    assert response.status_code == 201, response.content
    inspection = StoreInspection.objects.get(pk=response.json()["id"])
    assert inspection.recorded_by == shop_street.police_admin
    event = StoreScoreEvent.objects.get(unique_key=f"inspection:{inspection.pk}")
    assert (event.store_id, event.part, event.value) == (shop_street.store.pk, P.INSPECTION_FAILED, 1)
    score = login(shop_street.merchant).get(f"/api/v1/stores/{shop_street.store.pk}/safe-store-score").json()
    assert score["score"] == 0
    # and the store's people read it in the list
    listed = login(shop_street.merchant).get(path).json()["results"]
    assert [(row["id"], row["result"], row["note"]) for row in listed] == [(inspection.pk, "failed", "灭火器过期")]


def test_an_inspection_cannot_be_recorded_by_others_or_in_the_future(shop_street, other_street, login):
    path = f"/api/v1/stores/{shop_street.store.pk}/inspections"
    body = {"kind": "security", "result": "passed"}
    # the store's own merchant, another alliance's police admin, a time to come
    assert login(shop_street.merchant).post_json(path, body).status_code == 403
    assert login(other_street.station_officer).post_json(path, body).status_code == 404
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    late = login(shop_street.police_admin).post_json(path, {**body, "inspected_at": future})
    assert late.status_code == 400 and "inspected_at" in late.json()["fields"]
    assert not StoreInspection.objects.exists()
    assert not StoreScoreEvent.objects.filter(unique_key__startswith="inspection:").exists()
    # and another merchant of the alliance cannot read the store's inspections
    assert login(shop_street.other_merchant).get(path).status_code in (403, 404)


@pytest.mark.parametrize(
    "inspected_at",
    ["0001-01-01T00:00:00", "0001-01-01T00:00:00+08:00", "1066-10-14T09:00:00+00:00", "2020-01-01T00:00:00+19:00"],
)
def test_an_inspection_at_an_impossible_time_is_a_400(shop_street, login, inspected_at):
    path = f"/api/v1/stores/{shop_street.store.pk}/inspections"
    client = login(shop_street.police_admin)

    # when the police send a time no inspection can have (year 1 answered 500, and a stored one broke the list)
    response = client.post_json(path, {"kind": "fire_safety", "result": "passed", "inspected_at": inspected_at})

    # then it is refused, nothing is recorded, and the store's inspections still read
    assert response.status_code == 400 and "inspected_at" in response.json()["fields"], response.content
    assert not StoreInspection.objects.exists()
    assert client.get(path).status_code == 200


def test_a_backdated_inspection_counts_when_it_happened(shop_street):
    inspection = inspection_make(
        store=shop_street.store,
        by=shop_street.police_admin,
        inspected_at=datetime(2025, 3, 1, 10, 0, tzinfo=SHANGHAI),
    )
    event = StoreScoreEvent.objects.get(unique_key=f"inspection:{inspection.pk}")
    assert event.occurred_at == datetime(2025, 3, 1, 10, 0, tzinfo=SHANGHAI)


def test_members_see_a_final_ranking_once_published_and_their_own_score_only(shop_street, login):
    # given the H1 2025 ranking, computed, not yet published, with the merchant's store first
    Alliance.objects.filter(pk=shop_street.alliance.pk).update(created_at=datetime(2024, 1, 1, tzinfo=SHANGHAI))
    score_event_make(
        store=shop_street.store, part=P.PATROL_HOURS, value=3, occurred_at=datetime(2025, 5, 1, tzinfo=SHANGHAI)
    )
    weights_set(alliance=shop_street.alliance, by=shop_street.police_admin, patrol_hours=2)
    ranking = ranking_make(alliance=shop_street.alliance, period_start=H1)
    rankings = f"/api/v1/alliances/{shop_street.alliance.pk}/safe-store-rankings"
    entries = f"{rankings}/{ranking.pk}/entries"
    merchant, admin = login(shop_street.merchant), login(shop_street.police_admin)

    # then before publication the police see it, members do not
    assert [r["id"] for r in admin.get(rankings).json()["results"]] == [ranking.pk]
    assert admin.get(f"{rankings}/{ranking.pk}").json()["weights"][P.PATROL_HOURS] == 2
    assert merchant.get(rankings).json()["results"] == []
    assert merchant.get(f"{rankings}/{ranking.pk}").status_code == 404
    assert merchant.get(entries).status_code == 404

    # when it is published, members see it: ranks and names, their own store's score only
    SafeStoreRanking.objects.filter(pk=ranking.pk).update(status=SafeStoreRanking.Status.PUBLISHED)
    rows = merchant.get(entries).json()["results"]
    assert [(row["store"]["id"], row["rank"]) for row in rows] == [
        (shop_street.store.pk, 1),
        (shop_street.stores[0].pk, 2),
        (shop_street.stores[1].pk, 2),
    ]
    assert rows[0]["score"] == 6 and rows[0]["held_back"] is None
    assert rows[1]["score"] is None and rows[1]["parts"] is None
    full = admin.get(entries).json()["results"]
    assert len(full) == 4 and full[1]["score"] == 0 and full[0]["held_back"] is False
