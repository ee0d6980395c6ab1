"""The Safe Store awards over HTTP: publishing and holding back (police admins of the jurisdiction), the badge shown
with the store, the alliance's Safe Stores, and the certificate download (the store's people and those who run the
alliance; 404 for anyone else)."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from django.utils import timezone

from accounts.models import Role
from alliance.error_codes import AllianceErrorCode
from alliance.models import SafeStoreBadge, SafeStoreRanking
from tests.factories.alliance import MemberRole, member_add, store_staff_make, store_verified
from tests.factories.safe_store_awards import (
    badges_of,
    entry_of,
    last_period_start,
    merchant_stores_make,
    period_before,
    ranking_published,
    ranking_snapshot_make,
)
from tests.fixtures.street import build_street


@pytest.fixture
def fengming(db, user_factory):
    admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="奉贤所长")
    street = build_street(
        user_factory, name="凤鸣金街", slug="fengming", station_name="南桥派出所", police_admin=admin, people=False
    )
    street.stores = merchant_stores_make(street.alliance, user_factory, 11)
    for store in street.stores:
        store_verified(store=store, by=admin)
    street.ranking = ranking_snapshot_make(
        street.alliance,
        last_period_start(timezone.localdate()),
        scores=[(store, 100.0 - number) for number, store in enumerate(street.stores)],
    )
    return street


@pytest.fixture
def other_admin(db, user_factory):
    admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="别处所长")
    build_street(user_factory, name="青平果联盟", slug="qingpingguo", police_admin=admin, people=False)
    return admin


def _ranking_url(street, tail: str = "") -> str:
    return f"/api/v1/alliances/{street.alliance.pk}/safe-store-rankings/{street.ranking.pk}{tail}"


def _hold_back_url(street, store) -> str:
    return _ranking_url(street, f"/entries/{entry_of(street.ranking, store).pk}/hold-back")


def test_a_police_admin_publishes_and_the_answer_lists_the_safe_stores(fengming, login):
    # when the police admin of the jurisdiction publishes the ranking
    response = login(fengming.police_admin).post(_ranking_url(fengming, "/publish"))

    # then it is published with its ten Safe Stores, by place
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "published" and body["published_at"]
    assert [row["store"]["id"] for row in body["safe_stores"]] == [s.pk for s in fengming.stores[:10]]
    assert [row["place"] for row in body["safe_stores"]] == list(range(1, 11))
    assert body["period"] == body["safe_stores"][0]["period"]


def test_publishing_is_refused_to_others(fengming, other_admin, login):
    # given a merchant of the alliance and another jurisdiction's police admin
    merchant = fengming.stores[0].owner

    # when they publish, then the merchant is refused and the stranger told the ranking does not exist
    assert login(merchant).post(_ranking_url(fengming, "/publish")).status_code == 403
    assert login(other_admin).post(_ranking_url(fengming, "/publish")).status_code == 404
    assert SafeStoreRanking.objects.get(pk=fengming.ranking.pk).status == SafeStoreRanking.Status.COMPUTED


def test_publish_takes_no_body_and_another_alliances_ranking_is_not_found(fengming, login, user_factory):
    # given another alliance's ranking, in another jurisdiction
    client = login(fengming.police_admin)
    other = build_street(user_factory, name="忠义联盟", slug="zhongyi", people=False)
    other_ranking = ranking_snapshot_make(other.alliance, fengming.ranking.period_start, scores=[])

    # when the ranking is published with a body, or through the wrong alliance's path
    with_body = client.post_json(_ranking_url(fengming, "/publish"), {"force": True})
    crossed = client.post(f"/api/v1/alliances/{fengming.alliance.pk}/safe-store-rankings/{other_ranking.pk}/publish")

    # then the body is refused by name, and the crossed path answers 404
    assert with_body.status_code == 400 and "force" in with_body.json()["fields"]
    assert crossed.status_code == 404


def test_holding_back_and_releasing_over_http(fengming, login):
    # given the police admin
    client = login(fengming.police_admin)
    first = fengming.stores[0]

    # when the first store is held back without a reason, then with one
    blank = client.post_json(_hold_back_url(fengming, first), {"reason": ""})
    held = client.post_json(_hold_back_url(fengming, first), {"reason": "店内发生过消防隐患"})

    # then the blank reason is refused, and the hold-back recorded
    assert blank.status_code == 400 and "reason" in blank.json()["fields"]
    assert held.status_code == 200, held.content
    assert (held.json()["held_back"], held.json()["held_back_reason"]) == (True, "店内发生过消防隐患")

    # and when it is released, it competes again
    released = client.delete(_hold_back_url(fengming, first))
    assert released.status_code == 204 and not entry_of(fengming.ranking, first).held_back


def test_holding_back_after_publishing_answers_409(fengming, login):
    # given a published ranking
    client = login(fengming.police_admin)
    client.post(_ranking_url(fengming, "/publish"))

    # when a winner is held back
    response = client.post_json(_hold_back_url(fengming, fengming.stores[0]), {"reason": "迟到的举报"})

    # then it is refused with its own code, and the badge stays
    assert response.status_code == 409
    assert response.json()["code"] == AllianceErrorCode.SAFE_STORE_RANKING_PUBLISHED
    assert SafeStoreBadge.objects.filter(store=fengming.stores[0]).exists()


def test_holding_back_is_refused_to_a_merchant(fengming, login):
    response = login(fengming.stores[5].owner).post_json(
        _hold_back_url(fengming, fengming.stores[0]), {"reason": "看他不顺眼"}
    )
    assert response.status_code == 403
    assert not entry_of(fengming.ranking, fengming.stores[0]).held_back


def test_the_store_shows_its_badge_in_the_list_and_alone(fengming, login):
    # given the last half-year's ranking published, and an older one too
    ranking_published(ranking=fengming.ranking, by=fengming.police_admin)
    older = ranking_snapshot_make(
        fengming.alliance,
        period_before(fengming.ranking.period_start),
        scores=[(fengming.stores[10], 100.0)],
    )
    ranking_published(ranking=older, by=fengming.police_admin)
    client = login(fengming.stores[10].owner)

    # when a member reads the stores, and the third store alone
    listed = {row["id"]: row["safe_store"] for row in client.get("/api/v1/stores?page_size=50").json()["results"]}
    third = client.get(f"/api/v1/stores/{fengming.stores[2].pk}").json()["safe_store"]

    # then the winners show this period's badge, and the 11th store (first of an expired period) none
    badge = badges_of(fengming.ranking)[2]
    expected = {
        "badge_id": badge.pk,
        "period": third["period"],
        "place": 3,
        "valid_from": badge.valid_from.isoformat(),
        "valid_until": badge.valid_until.isoformat(),
    }
    assert third == expected and listed[fengming.stores[2].pk] == expected
    assert third["period"] in (f"{badge.valid_from.year - 1}H2", f"{badge.valid_from.year}H1")
    assert listed[fengming.stores[10].pk] is None


def test_the_alliances_safe_stores_now(fengming, other_admin, login):
    # given a published ranking
    ranking_published(ranking=fengming.ranking, by=fengming.police_admin)
    url = f"/api/v1/alliances/{fengming.alliance.pk}/safe-stores"

    # when a member reads the alliance's Safe Stores
    response = login(fengming.stores[10].owner).get(url)

    # then the ten are listed by place; another jurisdiction's admin gets 404
    assert response.status_code == 200
    assert [row["store"]["name"] for row in response.json()["results"]] == [s.name for s in fengming.stores[:10]]
    assert login(other_admin).get(url).status_code == 404


def _certificate_url(badge) -> str:
    return f"/api/v1/stores/{badge.store_id}/safe-store-badges/{badge.pk}/certificate.pdf"


def test_the_certificate_downloads_for_the_stores_people_and_the_police(fengming, login, user_factory):
    # given a published ranking whose certificates were not made yet (the task has not run)
    ranking_published(ranking=fengming.ranking, by=fengming.police_admin)
    badge = badges_of(fengming.ranking)[0]
    assert not badge.certificate
    staff = user_factory(roles=[Role.MERCHANT], display_name="店员小王")
    member_add(fengming.alliance, staff, MemberRole.MERCHANT)
    store_staff_make(store=badge.store, user=staff)

    # when the owner, the staff and the police admin download it
    for person in (badge.store.owner, staff, fengming.police_admin):
        response = login(person).get(_certificate_url(badge))

        # then it is the PDF, named after the period and the store
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content).startswith(b"%PDF-")
        disposition = unquote(response["Content-Disposition"])
        assert (
            disposition.startswith("attachment;") and f"平安门店证书-{badge.ranking.period_start.year}" in disposition
        )
        assert f"{badge.store.name}.pdf" in disposition

    # and it was made once, on the first download
    badge.refresh_from_db()
    assert badge.certificate.name.endswith(".pdf")


def test_the_certificate_is_not_found_for_anyone_else(fengming, other_admin, login):
    # given a published ranking
    ranking_published(ranking=fengming.ranking, by=fengming.police_admin)
    first, second = badges_of(fengming.ranking)[:2]

    # then another merchant of the alliance (who sees the verified store), another jurisdiction's police admin, and
    # the owner asking with another store's badge get 404
    assert login(second.store.owner).get(_certificate_url(first)).status_code == 404
    assert login(other_admin).get(_certificate_url(first)).status_code == 404
    crossed = f"/api/v1/stores/{first.store_id}/safe-store-badges/{second.pk}/certificate.pdf"
    assert login(first.store.owner).get(crossed).status_code == 404
