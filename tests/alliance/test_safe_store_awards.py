"""Publishing a Safe Store ranking: the top ten not held back get a badge, the property-fee reduction and a notice;
publishing again changes nothing; holding back is recorded and refused once published; certificates follow."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from accounts.personal_data import personal_data_export
from alliance.error_codes import AllianceErrorCode
from alliance.hooks import person_notice_hooks
from alliance.models import Redemption, Reward, SafeStoreBadge, SafeStoreRanking, SafeStoreRankingEntry
from alliance.selectors.safe_store_awards import safe_stores_current
from alliance.tasks import make_safe_store_certificates_task
from config.errors import ApplicationError
from tests.factories.alliance import MemberRole, member_add, store_staff_make
from tests.factories.safe_store_awards import (
    badges_of,
    entry_held_back,
    entry_of,
    entry_released,
    last_period_start,
    merchant_stores_make,
    ranking_published,
    ranking_snapshot_make,
)
from tests.fixtures.street import build_street

H1 = date(2026, 1, 1)


@pytest.fixture
def notices():
    """Every person notice sent while the test runs, as (user_ids, event)."""
    sent: list[tuple[list[int], dict]] = []

    def record(*, user_ids, event):
        sent.append((sorted(user_ids), event))

    person_notice_hooks.register(record)
    yield sent
    person_notice_hooks._senders.remove(record)


@pytest.fixture
def fengming(db, user_factory):
    admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="奉贤所长")
    street = build_street(
        user_factory, name="凤鸣金街", slug="fengming", station_name="南桥派出所", police_admin=admin, people=False
    )
    street.stores = merchant_stores_make(street.alliance, user_factory, 12)
    return street


def _twelve_scores(stores):
    # Store 1 scores highest, store 12 lowest: rank = store number.
    return [(store, 100.0 - number) for number, store in enumerate(stores)]


def test_publishing_gives_the_top_ten_a_badge_a_fee_reduction_and_a_notice(fengming, notices, user_factory):
    # given a computed ranking of 12 stores, the first with a member of staff
    stores = fengming.stores
    staff = user_factory(roles=[Role.MERCHANT], display_name="店员")
    member_add(fengming.alliance, staff, MemberRole.MERCHANT)
    store_staff_make(store=stores[0], user=staff)
    ranking = ranking_snapshot_make(fengming.alliance, H1, scores=_twelve_scores(stores))

    # when the police admin publishes it
    published = ranking_published(ranking=ranking, by=fengming.police_admin)

    # then it is published, by whom and when
    assert published.status == SafeStoreRanking.Status.PUBLISHED
    assert published.published_by == fengming.police_admin and published.published_at is not None
    # and the first ten stores have badges, place = rank, shown during the second half of 2026
    badges = badges_of(ranking)
    assert [(b.store, b.place) for b in badges] == [(store, n) for n, store in enumerate(stores[:10], start=1)]
    assert {(b.valid_from, b.valid_until) for b in badges} == {(date(2026, 7, 1), date(2026, 12, 31))}
    # and each owner got the property-fee reduction, granted for this ranking and store
    grants = Redemption.objects.filter(granted_for__startswith=f"safe_store:{ranking.pk}:")
    assert sorted(g.user_id for g in grants) == sorted(s.owner_id for s in stores[:10])
    assert {(g.reward.kind, g.points, g.status) for g in grants} == {
        (Reward.Kind.FEE_REDUCTION, 0, Redemption.Status.APPROVED)
    }
    # and the store's people were told, owner and staff together
    assert len(notices) == 10
    first_ids, first = notices[0]
    assert first_ids == sorted([stores[0].owner_id, staff.pk])
    assert first["type"] == "safe_store_awarded"
    assert (first["store_id"], first["place"], first["period"]) == (stores[0].pk, 1, "2026H1")
    assert first["valid_until"] == "2026-12-31"


def test_equal_ranks_are_ordered_by_store_id_and_the_eleventh_gets_nothing(fengming, notices):
    # given 11 stores all ranked first (equal scores)
    stores = fengming.stores[:11]
    ranking = ranking_snapshot_make(fengming.alliance, H1, scores=[(store, 50.0) for store in reversed(stores)])
    assert set(SafeStoreRankingEntry.objects.filter(ranking=ranking).values_list("rank", flat=True)) == {1}

    # when it is published
    ranking_published(ranking=ranking, by=fengming.police_admin)

    # then places follow the store ids, and the store with the highest id has no badge
    by_id = sorted(stores, key=lambda store: store.pk)
    assert [b.store for b in badges_of(ranking)] == by_id[:10]
    assert not SafeStoreBadge.objects.filter(store=by_id[10]).exists()


def test_publishing_twice_changes_nothing_and_tells_nobody_again(fengming, notices):
    # given a published ranking
    ranking = ranking_snapshot_make(fengming.alliance, H1, scores=_twelve_scores(fengming.stores))
    first = ranking_published(ranking=ranking, by=fengming.police_admin)
    badges, grants, told = badges_of(ranking), Redemption.objects.count(), len(notices)

    # when it is published again (another admin, a retried request)
    again = ranking_published(ranking=SafeStoreRanking.objects.get(pk=ranking.pk), by=fengming.police_admin)

    # then nothing changed
    assert again.published_at == first.published_at
    assert badges_of(ranking) == badges and Redemption.objects.count() == grants and len(notices) == told


def test_a_publish_retried_after_a_partial_one_makes_no_second_badge_or_grant(fengming, notices):
    # given a publish that wrote the first store's badge and grant and then did not commit its status
    ranking = ranking_snapshot_make(fengming.alliance, H1, scores=_twelve_scores(fengming.stores))
    ranking_published(ranking=ranking, by=fengming.police_admin)
    SafeStoreRanking.objects.filter(pk=ranking.pk).update(status=SafeStoreRanking.Status.COMPUTED, published_at=None)
    badges, grants = badges_of(ranking), Redemption.objects.count()

    # when it is published again
    ranking_published(ranking=SafeStoreRanking.objects.get(pk=ranking.pk), by=fengming.police_admin)

    # then the unique keys kept one badge per store and one grant per owner and store
    assert badges_of(ranking) == badges
    assert Redemption.objects.count() == grants == 10


def test_the_alliances_offered_fee_reduction_is_granted_else_one_made_for_the_winners(fengming, notices):
    # given an alliance whose catalogue has no property-fee reduction
    alliance = fengming.alliance
    first = ranking_snapshot_make(alliance, H1, scores=_twelve_scores(fengming.stores))

    # when two rankings are published
    ranking_published(ranking=first, by=fengming.police_admin)
    second = ranking_snapshot_make(alliance, date(2025, 7, 1), scores=_twelve_scores(fengming.stores))
    ranking_published(ranking=second, by=fengming.police_admin)

    # then one voucher was made for them, priced 0 and not offered for points
    made = Reward.objects.get(alliance=alliance)
    assert (made.name, made.kind, made.price, made.is_active) == ("物业费减免", Reward.Kind.FEE_REDUCTION, 0, False)
    assert Redemption.objects.filter(reward=made).count() == 20

    # and when the alliance offers its own, the next ranking's winners get that one
    offered = Reward.objects.create(alliance=alliance, kind=Reward.Kind.FEE_REDUCTION, name="物业费八折", price=500)
    third = ranking_snapshot_make(alliance, date(2025, 1, 1), scores=_twelve_scores(fengming.stores))
    ranking_published(ranking=third, by=fengming.police_admin)
    assert Redemption.objects.filter(reward=offered).count() == 10


def test_a_held_back_store_gets_nothing_and_the_eleventh_moves_up(fengming, notices):
    # given the first store held back, with a reason
    stores = fengming.stores
    ranking = ranking_snapshot_make(fengming.alliance, H1, scores=_twelve_scores(stores))
    entry_held_back(ranking=ranking, store=stores[0], by=fengming.police_admin, reason="消防检查未通过")

    # when the ranking is published
    ranking_published(ranking=ranking, by=fengming.police_admin)

    # then the hold-back is recorded, who, when and why
    held = entry_of(ranking, stores[0])
    assert (held.held_back, held.held_back_reason, held.held_back_by) == (True, "消防检查未通过", fengming.police_admin)
    assert held.held_back_at is not None
    # and the second to eleventh stores are the Safe Stores, places 1..10
    assert [(b.store, b.place) for b in badges_of(ranking)] == [(s, n) for n, s in enumerate(stores[1:11], start=1)]
    assert not Redemption.objects.filter(user=stores[0].owner).exists()


def test_a_released_store_competes_again(fengming, notices):
    # given a store held back, then released before publishing
    stores = fengming.stores
    ranking = ranking_snapshot_make(fengming.alliance, H1, scores=_twelve_scores(stores))
    entry_held_back(ranking=ranking, store=stores[0], by=fengming.police_admin)
    entry_released(ranking=ranking, store=stores[0], by=fengming.police_admin)

    # when published
    ranking_published(ranking=ranking, by=fengming.police_admin)

    # then it is first again, and the hold-back record is cleared
    released = entry_of(ranking, stores[0])
    assert (released.held_back, released.held_back_reason, released.held_back_by) == (False, "", None)
    assert badges_of(ranking)[0].store == stores[0]


def test_holding_back_needs_a_reason(fengming):
    # given a computed ranking
    ranking = ranking_snapshot_make(fengming.alliance, H1, scores=_twelve_scores(fengming.stores))

    # when a store is held back with a blank reason, then it is refused naming the field
    with pytest.raises(ApplicationError) as refused:
        entry_held_back(ranking=ranking, store=fengming.stores[0], by=fengming.police_admin, reason="   ")
    assert "reason" in refused.value.fields
    assert not entry_of(ranking, fengming.stores[0]).held_back


def test_holding_back_or_releasing_after_publishing_is_refused(fengming, notices):
    # given a published ranking, one store held back before
    stores = fengming.stores
    ranking = ranking_snapshot_make(fengming.alliance, H1, scores=_twelve_scores(stores))
    entry_held_back(ranking=ranking, store=stores[11], by=fengming.police_admin)
    ranking_published(ranking=ranking, by=fengming.police_admin)

    # when a winner is held back, or the held-back store released, then both are refused with 409
    for act in (
        lambda: entry_held_back(ranking=ranking, store=stores[0], by=fengming.police_admin),
        lambda: entry_released(ranking=ranking, store=stores[11], by=fengming.police_admin),
    ):
        with pytest.raises(ApplicationError) as refused:
            act()
        assert (refused.value.code, refused.value.status_code) == (AllianceErrorCode.SAFE_STORE_RANKING_PUBLISHED, 409)
    # and the badge stayed
    assert badges_of(ranking)[0].store == stores[0]
    assert entry_of(ranking, stores[11]).held_back


def test_only_police_admins_of_the_jurisdiction_publish_or_hold_back(fengming, user_factory, notices):
    # given a computed ranking, an alliance admin who is no police admin, and another jurisdiction's police admin
    ranking = ranking_snapshot_make(fengming.alliance, H1, scores=_twelve_scores(fengming.stores))
    alliance_admin = fengming.stores[0].owner
    member_add(fengming.alliance, alliance_admin, MemberRole.ADMIN)
    stranger = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER])
    build_street(user_factory, name="青平果联盟", slug="qingpingguo", police_admin=stranger, people=False)

    # when either publishes or holds back, then it is refused and nothing is written
    for actor in (alliance_admin, stranger):
        with pytest.raises(ApplicationError) as refused:
            ranking_published(ranking=ranking, by=actor)
        assert refused.value.status_code == 403
        with pytest.raises(ApplicationError):
            entry_held_back(ranking=ranking, store=fengming.stores[1], by=actor)
    assert SafeStoreRanking.objects.get(pk=ranking.pk).status == SafeStoreRanking.Status.COMPUTED
    assert not SafeStoreBadge.objects.exists() and not notices


def test_certificates_are_made_after_commit_once_per_badge(fengming, notices, django_capture_on_commit_callbacks):
    # given a computed ranking
    ranking = ranking_snapshot_make(fengming.alliance, H1, scores=_twelve_scores(fengming.stores))

    # when it is published and the transaction commits (the task runs eagerly in tests)
    with django_capture_on_commit_callbacks(execute=True):
        ranking_published(ranking=ranking, by=fengming.police_admin)

    # then every badge has its certificate, a PDF
    badges = badges_of(ranking)
    assert all(b.certificate.name.endswith(".pdf") for b in badges)
    with badges[0].certificate.open("rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    # and running the task again makes none
    assert make_safe_store_certificates_task(ranking.pk) == 0
    assert [b.certificate.name for b in badges_of(ranking)] == [b.certificate.name for b in badges]


def test_a_badge_is_shown_during_the_period_after_the_ranked_one_only(fengming, notices):
    # given the last half-year's ranking and the one before, both published
    last = last_period_start(timezone.localdate())
    before = date(last.year - 1, 7, 1) if last.month == 1 else date(last.year, 1, 1)
    for start in (before, last):
        ranking = ranking_snapshot_make(fengming.alliance, start, scores=_twelve_scores(fengming.stores))
        ranking_published(ranking=ranking, by=fengming.police_admin)

    # then only the last one's badges are current: valid from the day after it ended until the end of this half-year
    current = list(safe_stores_current(alliance=fengming.alliance))
    assert len(current) == 10
    assert {b.ranking.period_start for b in current} == {last}
    assert all(b.valid_from <= timezone.localdate() <= b.valid_until for b in current)
    assert all(b.valid_from == b.ranking.period_end + timedelta(days=1) for b in current)


# --- the admin site ------------------------------------------------------------------------------------------------


def _admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_action_publishes_through_the_service(fengming, notices, user_factory):
    # given a computed ranking, and another jurisdiction's ranking
    ranking = ranking_snapshot_make(fengming.alliance, H1, scores=_twelve_scores(fengming.stores))
    other = build_street(user_factory, name="青平果联盟", slug="qingpingguo", people=False)
    foreign = ranking_snapshot_make(other.alliance, H1, scores=[])

    # when the police admin selects both and runs the publish action
    response = _admin_client(fengming.police_admin).post(
        "/admin/alliance/safestoreranking/",
        {"action": "safe_store_rankings_publish", "_selected_action": [ranking.pk, foreign.pk]},
    )

    # then their own is published with its ten badges, and the other jurisdiction's untouched
    assert response.status_code == 302
    assert SafeStoreRanking.objects.get(pk=ranking.pk).status == SafeStoreRanking.Status.PUBLISHED
    assert len(badges_of(ranking)) == 10
    assert SafeStoreRanking.objects.get(pk=foreign.pk).status == SafeStoreRanking.Status.COMPUTED


def test_holding_back_on_the_admin_site_needs_a_reason_and_is_recorded(fengming, notices):
    # given a computed ranking
    ranking = ranking_snapshot_make(fengming.alliance, H1, scores=_twelve_scores(fengming.stores))
    entry = entry_of(ranking, fengming.stores[0])
    client = _admin_client(fengming.police_admin)
    url = f"/admin/alliance/safestorerankingentry/{entry.pk}/change/"

    # when the police admin ticks "held back" without a reason
    blank = client.post(url, {"held_back": "on", "held_back_reason": ""})

    # then the form refuses it
    assert blank.status_code == 200 and not entry_of(ranking, fengming.stores[0]).held_back

    # and with a reason it is recorded through the service
    assert client.post(url, {"held_back": "on", "held_back_reason": "营业执照过期"}).status_code == 302
    entry = entry_of(ranking, fengming.stores[0])
    assert (entry.held_back, entry.held_back_reason) == (True, "营业执照过期")
    assert entry.held_back_by == fengming.police_admin

    # and once published, the form refuses a release
    ranking_published(ranking=ranking, by=fengming.police_admin)
    late = client.post(url, {"held_back_reason": ""})
    assert late.status_code == 200 and entry_of(ranking, fengming.stores[0]).held_back


def test_a_merchants_export_holds_their_stores_rankings_and_badges(fengming, notices):
    # given a published ranking where the merchant's store came first, and the one before where it was held back
    stores = fengming.stores
    ranking = ranking_snapshot_make(fengming.alliance, H1, _twelve_scores(stores))
    ranking_published(ranking=ranking, by=fengming.police_admin)
    earlier = ranking_snapshot_make(fengming.alliance, date(2025, 7, 1), _twelve_scores(stores))
    entry_held_back(ranking=earlier, store=stores[0], by=fengming.police_admin, reason="消防检查未通过")
    owner = stores[0].owner

    # when the merchant exports their data
    exported = personal_data_export(user=owner)

    # then their store's place in each ranking, the hold-back and its reason, and the badge are in it
    rankings = exported["safe_store_rankings"]
    assert [(r["store"], r["period_start"], r["rank"], r["held_back"]) for r in rankings] == [
        (stores[0].name, "2026-01-01", 1, False),
        (stores[0].name, "2025-07-01", 1, True),
    ]
    assert rankings[1]["held_back_reason"] == "消防检查未通过"
    assert [(b["store"], b["place"]) for b in exported["safe_store_badges"]] == [(stores[0].name, 1)]
    # and another merchant's export holds only their own store
    assert {r["store"] for r in personal_data_export(user=stores[1].owner)["safe_store_rankings"]} == {stores[1].name}
