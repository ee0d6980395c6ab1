"""The cases' share of the Safe Store score: incidents near a store by severity, a report or a well-handled flag of
the store's people, hidden dangers fixed on time or late, and each removed again when its evidence is taken back."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from alliance.models import StoreScoreEvent
from reports.models import Incident
from reports.services.disputes import dispute_arrive, dispute_resolve
from reports.services.incident_workflow import (
    incident_accept,
    incident_assign,
    incident_merge,
    incident_reject,
    incident_reopen,
    incident_resolve,
    incident_start,
)
from reports.store_scores import INCIDENT_SEVERITY, hidden_dangers_overdue_record, incident_accepted_store_scores
from tests.factories.alliance import MemberRole, member_add, store_make, store_staff_make
from tests.factories.reports import dispute_make, incident_make

# The street's store stands here; 0.00001 degree of latitude is about 1.11 m.
LANE = (Decimal("31.777012"), Decimal("119.956301"))


def north(metres: float) -> dict:
    return {"latitude": LANE[0] + Decimal(str(round(metres / 111_195, 6))), "longitude": LANE[1]}


def _accepted(street, *, reporter=None, category="theft", metres_north: float = 0, **fields) -> Incident:
    incident = incident_make(
        reporter=reporter or street.other_merchant,
        alliance=street.alliance,
        category=category,
        **north(metres_north),
        **fields,
    )
    return incident_accept(actor=street.office_officer, incident=incident)


def _resolved(street, incident: Incident) -> Incident:
    incident_assign(actor=street.office_officer, incident=incident, assignee_id=street.mall_manager.pk)
    incident_start(actor=street.mall_manager, incident=incident)
    return incident_resolve(actor=street.mall_manager, incident=incident, notes="已整改")


def scores(part: str) -> dict[int, float]:
    return dict(StoreScoreEvent.objects.filter(part=part).values_list("store_id", "value"))


# --- incidents near a store ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_accepted_theft_scores_its_severity_on_every_store_within_50_m(street):
    # given a second store 40 m north of the first and a third 120 m north, of the other merchant
    near = store_make(owner=street.other_merchant, alliance=street.alliance, name="隔壁茶馆", **north(40))
    far = store_make(owner=street.other_merchant, alliance=street.alliance, name="远处小吃", **north(120))

    # when a theft 10 m north of the first store is accepted
    incident = _accepted(street, metres_north=10)

    # then both stores within 50 m score the theft's severity, dated by its acceptance, and the far one nothing
    assert scores("incident_nearby") == {street.store.pk: 3, near.pk: 3}
    assert far.pk not in scores("incident_nearby")
    event = StoreScoreEvent.objects.get(store=street.store, part="incident_nearby")
    assert event.unique_key == f"incident_nearby:incident:{incident.pk}:store:{street.store.pk}"
    assert event.occurred_at == incident.accepted_at


@pytest.mark.parametrize(("category", "severity"), [("dispute", 2), ("suspicious", 1), ("fraud_attempt", 3)])
@pytest.mark.django_db
def test_the_value_is_the_categorys_severity(street, category, severity):
    _accepted(street, category=category)

    assert scores("incident_nearby") == {street.store.pk: severity} and INCIDENT_SEVERITY[category] == severity


@pytest.mark.django_db
def test_lost_and_found_and_hidden_dangers_do_not_count_as_incidents(street):
    _accepted(street, category="lost_found")
    _accepted(street, category="hidden_danger")

    assert scores("incident_nearby") == {}


@pytest.mark.django_db
def test_recording_the_same_acceptance_again_adds_nothing(street):
    incident = _accepted(street)

    incident_accepted_store_scores(incident=incident)

    assert StoreScoreEvent.objects.filter(part="incident_nearby").count() == 1


@pytest.mark.django_db
def test_a_submitted_report_scores_nothing(street):
    incident_make(reporter=street.merchant, alliance=street.alliance, **north(0))

    assert not StoreScoreEvent.objects.exists()


# --- reports by the store's people ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_report_by_the_stores_owner_or_staff_counts_for_the_store(street, user_factory):
    # given a volunteer working in the store
    clerk = user_factory()
    member_add(street.alliance, clerk, MemberRole.VOLUNTEER)
    store_staff_make(store=street.store, user=clerk)

    # when a report by the owner and one by the clerk are accepted (far from any store)
    by_owner = _accepted(street, reporter=street.merchant, metres_north=500)
    by_clerk = _accepted(street, reporter=clerk, metres_north=600)

    # then the store counts two accepted reports
    keys = set(StoreScoreEvent.objects.filter(part="report_accepted").values_list("unique_key", flat=True))
    assert keys == {
        f"report_accepted:incident:{by_owner.pk}:store:{street.store.pk}",
        f"report_accepted:incident:{by_clerk.pk}:store:{street.store.pk}",
    }


@pytest.mark.django_db
def test_an_anonymous_report_does_not_count_for_the_reporters_store(street):
    _accepted(street, reporter=street.merchant, metres_north=500, is_anonymous=True)

    assert scores("report_accepted") == {}


# --- evidence taken back -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_report_rejected_after_acceptance_takes_its_scores_back(street):
    # given an accepted theft at the store, reported by its owner, and another accepted report
    incident = _accepted(street, reporter=street.merchant)
    other = _accepted(street, reporter=street.merchant)
    assert StoreScoreEvent.objects.count() == 4

    # when the first is rejected after all
    incident_reject(actor=street.office_officer, incident=incident, reason="经核实不属实")

    # then its nearby incident and its accepted report are gone; the other's stay
    assert set(StoreScoreEvent.objects.values_list("unique_key", flat=True)) == {
        f"incident_nearby:incident:{other.pk}:store:{street.store.pk}",
        f"report_accepted:incident:{other.pk}:store:{street.store.pk}",
    }


@pytest.mark.django_db
def test_a_duplicate_merged_away_takes_its_scores_back(street):
    primary = _accepted(street)
    duplicate = _accepted(street, reporter=street.merchant)

    incident_merge(actor=street.office_officer, duplicate=duplicate, primary=primary)

    assert list(StoreScoreEvent.objects.values_list("unique_key", flat=True)) == [
        f"incident_nearby:incident:{primary.pk}:store:{street.store.pk}"
    ]


# --- hidden dangers ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_hidden_danger_resolved_within_the_days_allowed_is_fixed_on_time(street):
    incident = _resolved(street, _accepted(street, category="hidden_danger"))

    event = StoreScoreEvent.objects.get()
    assert (event.store_id, event.part, event.value) == (street.store.pk, "hidden_danger_fixed", 1)
    assert event.occurred_at == incident.resolved_at


@pytest.mark.django_db
def test_a_hidden_danger_resolved_late_is_overdue_and_reopening_it_takes_it_back(street, settings):
    # given a hidden danger accepted 8 days ago (the setting allows 7)
    settings.SAFE_STORE_HIDDEN_DANGER_FIX_DAYS = 7
    incident = _accepted(street, category="hidden_danger")
    Incident.objects.filter(pk=incident.pk).update(accepted_at=timezone.now() - timedelta(days=8))
    incident.refresh_from_db()

    # when it is resolved now
    incident = _resolved(street, incident)

    # then it counts as overdue
    assert scores("hidden_danger_overdue") == {street.store.pk: 1} and scores("hidden_danger_fixed") == {}

    # and when its reporter reopens it ("not fixed"), it counts as neither until resolved again
    incident_reopen(actor=street.other_merchant, incident=incident, reason="还在")
    assert not StoreScoreEvent.objects.exists()


@pytest.mark.django_db
def test_a_hidden_danger_left_open_past_its_days_counts_overdue_once_even_when_fixed_later(street, settings):
    # given a hidden danger accepted 8 days ago (the setting allows 7), still not fixed, and one accepted yesterday
    settings.SAFE_STORE_HIDDEN_DANGER_FIX_DAYS = 7
    late = _accepted(street, category="hidden_danger")
    Incident.objects.filter(pk=late.pk).update(accepted_at=timezone.now() - timedelta(days=8))
    recent = _accepted(street, category="hidden_danger", metres_north=5)
    Incident.objects.filter(pk=recent.pk).update(accepted_at=timezone.now() - timedelta(days=1))

    # when the periodic sweep runs, twice
    first, second = hidden_dangers_overdue_record(), hidden_dangers_overdue_record()

    # then the late one counts as overdue for the store near it, once, and the recent one not yet
    assert (first, second) == (1, 0)
    assert scores("hidden_danger_overdue") == {street.store.pk: 1}

    # and when it is fixed at last, it still counts once, as overdue
    late.refresh_from_db()
    _resolved(street, late)
    assert scores("hidden_danger_overdue") == {street.store.pk: 1} and scores("hidden_danger_fixed") == {}


@pytest.mark.django_db
def test_the_days_allowed_come_from_the_setting(street, settings):
    settings.SAFE_STORE_HIDDEN_DANGER_FIX_DAYS = 0
    incident = _accepted(street, category="hidden_danger")
    Incident.objects.filter(pk=incident.pk).update(accepted_at=timezone.now() - timedelta(hours=1))
    incident.refresh_from_db()

    _resolved(street, incident)

    assert scores("hidden_danger_overdue") == {street.store.pk: 1}


# --- flags at a store ----------------------------------------------------------------------------------------------


def _flag_resolved(street, *, reporter, outcome: str, category: str = "quarrel"):
    dispute = dispute_make(reporter=reporter, alliance=street.alliance, category=category, store=street.store)
    dispute_arrive(responder=street.mall_manager, dispute=dispute)
    return dispute_resolve(responder=street.mall_manager, dispute=dispute, outcome=outcome)


@pytest.mark.django_db
def test_a_flag_by_the_owner_mediated_at_the_store_counts_as_handled_well_and_as_an_incident(street):
    dispute = _flag_resolved(street, reporter=street.merchant, outcome="mediated")

    assert scores("flag_handled_well") == {street.store.pk: 1}
    assert scores("incident_nearby") == {street.store.pk: 2}  # a quarrel
    assert StoreScoreEvent.objects.get(part="flag_handled_well").unique_key == (
        f"flag_handled_well:dispute:{dispute.pk}:store:{street.store.pk}"
    )


@pytest.mark.django_db
def test_a_flag_at_the_store_by_someone_else_is_not_the_stores_merit(street):
    _flag_resolved(street, reporter=street.other_merchant, outcome="settled_on_site", category="theft")

    assert scores("flag_handled_well") == {} and scores("incident_nearby") == {street.store.pk: 3}


@pytest.mark.django_db
def test_a_false_alarm_at_the_store_counts_for_nothing(street):
    _flag_resolved(street, reporter=street.merchant, outcome="false_alarm")

    assert not StoreScoreEvent.objects.exists()


@pytest.mark.django_db
def test_a_flag_referred_to_the_station_is_an_incident_but_not_handled_well(street):
    _flag_resolved(street, reporter=street.merchant, outcome="referred_to_station", category="fraud")

    assert scores("flag_handled_well") == {} and scores("incident_nearby") == {street.store.pk: 3}
