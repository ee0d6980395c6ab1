"""The patrol's evidence for the points ledger and the Safe Store score: verified hours and completed rounds are
claimed only once a place is checked out, queued after commit, and counted for the stores the volunteer keeps; a
message in the groups counts a store's day of participation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alliance.models import StoreScoreEvent
from alliance.points_evidence import points_claims_for, points_recent_ids
from config.times import api_datetime
from groups.checkpoint_codes import checkpoint_code_for
from groups.models import Checkpoint, ShiftSignup
from groups.points_evidence import PATROL_HOURS, ROUTE_COMPLETED
from groups.services.checkpoint_scans import checkpoint_scan
from groups.services.contact_groups import message_send
from groups.services.shift_check_ins import shift_check_in, shift_check_out, shifts_close_due
from tests.factories.alliance import store_staff_make
from tests.factories.patrol import FENGMING_CENTRE
from tests.groups.patrol_duty_world import build_duty, centre_body

STARTED_MINUTES_AGO = 150


@pytest.fixture
def duty(db, user_factory):
    """The shift started 150 minutes ago (four hours long); the volunteer checked in 5 minutes into it."""
    built = build_duty(user_factory)
    shift = built.shift
    shift.starts_at = timezone.now() - timedelta(minutes=STARTED_MINUTES_AGO)
    shift.ends_at = shift.starts_at + timedelta(hours=4)
    shift.save(update_fields=["starts_at", "ends_at"])
    here = {"latitude": FENGMING_CENTRE[0], "longitude": FENGMING_CENTRE[1], "accuracy_metres": 10}
    shift_check_in(
        user=built.volunteer, shift=shift, device_time=shift.starts_at + timedelta(minutes=5), offline=True, **here
    )
    return built


def _here(**extra) -> dict:
    return {"latitude": FENGMING_CENTRE[0], "longitude": FENGMING_CENTRE[1], "device_time": timezone.now(), **extra}


def _check_out(duty, **extra):
    return shift_check_out(user=duty.volunteer, shift=duty.shift, **_here(**extra))


def _scan(duty, position: int, round_number: int = 1):
    checkpoint = duty.checkpoint(position)
    return checkpoint_scan(
        user=duty.volunteer,
        shift=duty.shift,
        code=checkpoint_code_for(checkpoint),
        latitude=checkpoint.latitude,
        longitude=checkpoint.longitude,
        accuracy_metres=10,
        device_time=timezone.now(),
        round=round_number,
    )


# --- patrol hours --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_check_out_claims_the_verified_hours_in_whole_minutes_after_commit(duty, queued):
    # when the volunteer checks out, 145 minutes after checking in
    with queued.committing():
        _check_out(duty)

    # then both patrol sources were queued for the place once it committed
    place = duty.signup.pk
    assert queued.of(PATROL_HOURS) == [[place]] and queued.of(ROUTE_COMPLETED) == [[place]]
    # and the place claims its verified time, in whole minutes, for the volunteer in the shift's alliance
    signup = ShiftSignup.objects.get(pk=place)
    [claim] = points_claims_for(PATROL_HOURS, [place])
    assert claim.units == (signup.verified_seconds // 60) / 60 == pytest.approx(145 / 60)
    assert (claim.user_id, claim.alliance_id, claim.reason) == (
        duty.volunteer.pk,
        duty.shift.alliance_id,
        "patrol_hour",
    )
    assert claim.unique_key == f"patrol_hours:place:{place}" and claim.happened_at == signup.checked_out_at
    assert (claim.source_type, claim.source_id) == ("groups.ShiftSignup", place)


@pytest.mark.django_db
def test_a_place_on_duty_or_refused_its_check_out_claims_nothing(duty, queued, login):
    # given the volunteer on duty (checked in, not out): their time is not verified yet
    place = duty.signup.pk
    assert points_claims_for(PATROL_HOURS, [place]) == []

    # when their check-out is refused (a mocked location)
    with queued.committing():
        refused = login(duty.volunteer).post_json(
            f"/api/v1/shifts/{duty.shift.pk}/check-out", centre_body(mock_location=True)
        )

    # then nothing was queued and the place still claims nothing
    assert refused.status_code == 422 and refused.json()["code"] == "mock_location"
    assert queued.calls == []
    assert points_claims_for(PATROL_HOURS, [place]) == [] and points_claims_for(ROUTE_COMPLETED, [place]) == []


@pytest.mark.django_db
def test_a_place_that_never_checked_in_claims_nothing_even_if_marked_done(duty, user_factory):
    # given a second place marked checked out without any verified time (a no-show closed by hand)
    other = ShiftSignup.objects.create(shift=duty.shift, user=user_factory(), role="mobile", status="confirmed")
    ShiftSignup.objects.filter(pk=other.pk).update(attendance="done", checked_out_at=timezone.now())

    # then it claims no hours
    assert points_claims_for(PATROL_HOURS, [other.pk]) == []


@pytest.mark.django_db
def test_the_automatic_close_claims_the_capped_hours(duty, queued):
    # given the shift ended an hour ago with the volunteer never checking out, its close due
    shift = duty.shift
    ShiftSignup.objects.filter(pk=duty.signup.pk).update(checked_in_at=timezone.now() - timedelta(hours=5))
    shift.starts_at = timezone.now() - timedelta(hours=5)
    shift.ends_at = timezone.now() - timedelta(hours=1)
    shift.close_at = timezone.now() - timedelta(minutes=1)
    shift.save()

    # when the sweep closes it
    with queued.committing():
        assert shifts_close_due() == 1

    # then the place is settled with its four capped hours
    assert queued.of(PATROL_HOURS) == [[duty.signup.pk]]
    [claim] = points_claims_for(PATROL_HOURS, [duty.signup.pk])
    assert claim.units == 4 and claim.happened_at == shift.ends_at


@pytest.mark.django_db
def test_the_offline_batchs_check_out_is_settled(duty, queued, login):
    # when the check-out arrives in an offline batch, done ten minutes ago
    body = {
        "items": [
            {
                "kind": "check_out",
                "client_id": "co-1",
                "shift": duty.shift.pk,
                "device_time": api_datetime(timezone.now() - timedelta(minutes=10)),
                "latitude": FENGMING_CENTRE[0],
                "longitude": FENGMING_CENTRE[1],
            }
        ]
    }
    with queued.committing():
        response = login(duty.volunteer).post_json("/api/v1/me/patrol-batch", body)

    # then it is settled, and the catch-up finds the place by the batch's arrival though its time is older
    assert response.status_code == 200 and response.json()["items"][0]["status"] == "accepted", response.content
    assert queued.of(PATROL_HOURS) == [[duty.signup.pk]]
    assert points_claims_for(PATROL_HOURS, [duty.signup.pk])[0].units == pytest.approx(135 / 60)
    assert duty.signup.pk in points_recent_ids(PATROL_HOURS, timezone.now() - timedelta(minutes=1))
    assert duty.signup.pk not in points_recent_ids(PATROL_HOURS, timezone.now() + timedelta(days=2))


@pytest.mark.django_db
def test_a_check_out_rolled_back_queues_nothing(duty, queued):
    # when the check-out's transaction is rolled back by its caller
    with queued.committing():
        with pytest.raises(RuntimeError), transaction.atomic():
            _check_out(duty)
            raise RuntimeError("the caller failed after the check-out")

    # then nothing was queued and nothing scored
    assert queued.calls == []
    assert ShiftSignup.objects.get(pk=duty.signup.pk).attendance == "on_duty"
    assert not StoreScoreEvent.objects.exists()


# --- completed rounds ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_round_with_every_checkpoint_scanned_claims_one_completion(duty):
    # given round 1 complete (three checkpoints), round 2 missing its last checkpoint, then the check-out
    for position in (1, 2, 3):
        _scan(duty, position, 1)
    _scan(duty, 1, 2)
    _scan(duty, 2, 2)
    place = duty.signup.pk
    assert points_claims_for(ROUTE_COMPLETED, [place]) == []  # still on duty: the rounds are not final
    _check_out(duty)

    # then one completion, for round 1, keyed per place and round; asking again gives the same claim
    claims = points_claims_for(ROUTE_COMPLETED, [place])
    assert [claim.unique_key for claim in claims] == [f"route_completed:place:{place}:round:1"]
    assert (claims[0].reason, claims[0].units, claims[0].user_id) == ("route_completed", 1, duty.volunteer.pk)
    assert points_claims_for(ROUTE_COMPLETED, [place]) == claims


@pytest.mark.django_db
def test_a_checkpoint_added_to_the_route_later_does_not_undo_a_finished_round(duty):
    # given round 1 complete and the place checked out
    for position in (1, 2, 3):
        _scan(duty, position, 1)
    _check_out(duty)

    # when the police add a fourth checkpoint to the route afterwards
    first = duty.checkpoint(1)
    Checkpoint.objects.create(
        route=duty.route, position=4, name="4号", latitude=first.latitude, longitude=first.longitude
    )

    # then the round still counts
    assert len(points_claims_for(ROUTE_COMPLETED, [duty.signup.pk])) == 1


# --- the stores' share ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_volunteer_working_in_a_store_scores_their_hours_for_it_once(duty):
    # given the volunteer works in the street's store
    store = duty.street.store
    store_staff_make(store=store, user=duty.volunteer)

    # when they check out, and the check-out is sent again (the phone lost the answer)
    _check_out(duty, client_id="out-1")
    _check_out(duty, client_id="out-1")

    # then the store has the hours once, keyed per store and place
    event = StoreScoreEvent.objects.get()
    assert (event.store_id, event.alliance_id, event.part) == (store.pk, store.alliance_id, "patrol_hours")
    assert event.value == pytest.approx(145 / 60)
    assert event.unique_key == f"patrol_hours:store:{store.pk}:place:{duty.signup.pk}"


@pytest.mark.django_db
def test_a_volunteer_without_a_store_scores_no_store(duty):
    _check_out(duty)

    assert not StoreScoreEvent.objects.exists()


@pytest.mark.django_db
def test_a_store_owner_posting_in_the_groups_scores_one_day_of_participation(duty, user_factory):
    # given the street's merchant (owner of its store) and a volunteer with no store, in the contact group
    street = duty.street
    store = street.store

    # when the merchant posts twice today and the volunteer once
    message_send(sender=street.merchant, group=street.main, body="今晚门口有人吵架")
    message_send(sender=street.merchant, group=street.main, body="已经好了")
    message_send(sender=duty.volunteer, group=street.main, body="收到")

    # then the store has one day of participation, dated today (Asia/Shanghai)
    event = StoreScoreEvent.objects.get()
    assert (event.store_id, event.part, event.value) == (store.pk, "group_participation", 1)
    assert event.unique_key == f"group_participation:store:{store.pk}:{timezone.localdate().isoformat()}"


@pytest.mark.django_db
def test_participation_costs_the_message_one_statement(duty):
    # given the merchant already posted today
    street = duty.street
    message_send(sender=street.merchant, group=street.main, body="早")

    # when they post again, and when someone without a store posts
    with CaptureQueriesContext(connection) as merchant_queries:
        message_send(sender=street.merchant, group=street.main, body="今天人多")
    with CaptureQueriesContext(connection) as volunteer_queries:
        message_send(sender=duty.volunteer, group=street.main, body="收到")

    # then each send wrote the score with one statement, which added nothing
    for queries in (merchant_queries, volunteer_queries):
        assert sum("storescoreevent" in query["sql"] for query in queries.captured_queries) == 1
    assert StoreScoreEvent.objects.count() == 1
