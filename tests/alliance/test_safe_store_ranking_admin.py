"""The Safe Store ranking in the admin site: police add inspections (each scoring the store) and set weights within
their jurisdiction; rankings are read-only."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from alliance.models import Alliance, SafeStoreWeight, StoreInspection, StoreScoreEvent
from tests.factories.alliance import MemberRole, member_add, store_make
from tests.factories.safe_stores import ranking_make

pytestmark = pytest.mark.django_db


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def stores(city, user_factory):
    """A store in each of the city's alliances (A: admin_x's jurisdiction, B: admin_y's)."""
    made = []
    for alliance in (city.alliance_a, city.alliance_b):
        owner = user_factory(roles=[Role.MERCHANT])
        member_add(alliance, owner, MemberRole.MERCHANT)
        made.append(store_make(owner=owner, alliance=alliance))
    return made


def test_a_police_admin_adds_an_inspection_that_scores_the_store(city, stores):
    # when admin X records a passed fire-safety check of their store in the admin
    inspected_at = timezone.localtime() - timedelta(hours=2)
    response = admin_client(city.admin_x).post(
        "/admin/alliance/storeinspection/add/",
        {
            "store": stores[0].pk,
            "kind": "fire_safety",
            "result": "passed",
            "note": "消防通道畅通",
            "inspected_at_0": inspected_at.strftime("%Y-%m-%d"),
            "inspected_at_1": inspected_at.strftime("%H:%M:%S"),
        },
    )

    # then it is there, recorded by them, with its scored event
    assert response.status_code == 302, response.content.decode()[:2000]
    inspection = StoreInspection.objects.get()
    assert (inspection.store, inspection.recorded_by, inspection.note) == (stores[0], city.admin_x, "消防通道畅通")
    event = StoreScoreEvent.objects.get(unique_key=f"inspection:{inspection.pk}")
    assert (event.part, event.value) == ("inspection_passed", 1)


def test_the_admin_refuses_an_inspection_in_the_future_or_of_another_jurisdiction(city, stores):
    client = admin_client(city.admin_x)
    later = timezone.localtime() + timedelta(days=1)
    form = {"kind": "security", "result": "failed", "note": ""}
    when = {"inspected_at_0": later.strftime("%Y-%m-%d"), "inspected_at_1": later.strftime("%H:%M:%S")}

    future = client.post("/admin/alliance/storeinspection/add/", {**form, **when, "store": stores[0].pk})
    foreign = client.post("/admin/alliance/storeinspection/add/", {**form, "store": stores[1].pk})

    assert future.status_code == 200 and "inspected_at" in future.context["adminform"].form.errors
    assert foreign.status_code == 200 and "store" in foreign.context["adminform"].form.errors
    assert not StoreInspection.objects.exists() and not StoreScoreEvent.objects.exists()


def test_a_police_admin_sets_a_weight_within_bounds(city):
    client = admin_client(city.admin_x)
    form = {"alliance": city.alliance_a.pk, "part": "patrol_hours"}

    too_much = client.post("/admin/alliance/safestoreweight/add/", {**form, "weight": "150"})
    saved = client.post("/admin/alliance/safestoreweight/add/", {**form, "weight": "2.5"})
    foreign = client.post("/admin/alliance/safestoreweight/add/", {**form, "alliance": city.alliance_b.pk, "weight": 1})

    assert too_much.status_code == 200 and "weight" in too_much.context["adminform"].form.errors
    assert saved.status_code == 302
    weight = SafeStoreWeight.objects.get()
    assert (weight.alliance, weight.weight, weight.updated_by) == (city.alliance_a, 2.5, city.admin_x)
    assert foreign.status_code == 200 and "alliance" in foreign.context["adminform"].form.errors


def test_rankings_are_read_only_and_scoped_in_the_admin(city, stores):
    # given each alliance's ranking of January-June 2025
    Alliance.objects.update(created_at=datetime(2024, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")))
    own = ranking_make(alliance=city.alliance_a, period_start=date(2025, 1, 1))
    other = ranking_make(alliance=city.alliance_b, period_start=date(2025, 1, 1))
    client = admin_client(city.admin_x)

    # then admin X sees their own, without a way to change it, and not the other jurisdiction's
    page = client.get(f"/admin/alliance/safestoreranking/{own.pk}/change/")
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert client.post(f"/admin/alliance/safestoreranking/{own.pk}/delete/").status_code == 403
    assert [r.pk for r in client.get("/admin/alliance/safestoreranking/").context["cl"].result_list] == [own.pk]
    assert client.get(f"/admin/alliance/safestoreranking/{other.pk}/change/").status_code == 302
    entries = client.get("/admin/alliance/safestorerankingentry/").context["cl"].result_list
    assert [entry.store_id for entry in entries] == [stores[0].pk]
