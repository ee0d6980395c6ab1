"""The cases' evidence for the points ledger: an accepted report earns its reporter (a hidden danger by its own
rule) while it stands, a rejection after acceptance or a merge takes it back on the next settle, and a flag resolved
earns each responder who arrived. Every step that changes it queues a settle after commit, never before."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from alliance.points_evidence import points_claims_for, points_recent_ids
from reports.points_evidence import DISPUTE_RESOLVED, INCIDENT_ACCEPTED
from reports.services.disputes import dispute_acknowledge, dispute_arrive, dispute_resolve
from reports.services.incident_workflow import (
    incident_accept,
    incident_assign,
    incident_merge,
    incident_reject,
    incident_reopen,
    incident_resolve,
    incident_start,
)
from tests.factories.alliance import MemberRole, member_add
from tests.factories.reports import dispute_make, incident_make

LANE = {"latitude": Decimal("31.777012"), "longitude": Decimal("119.956301")}


def _report(street, reporter=None, **fields):
    return incident_make(reporter=reporter or street.merchant, alliance=street.alliance, **LANE, **fields)


def _resolved(street, incident):
    incident_assign(actor=street.office_officer, incident=incident, assignee_id=street.mall_manager.pk)
    incident_start(actor=street.mall_manager, incident=incident)
    return incident_resolve(actor=street.mall_manager, incident=incident, notes="已处理")


# --- incidents -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_accepted_report_earns_its_reporter_after_commit(street, queued):
    # given a merchant's report in the queue: submitted, it earns nothing
    incident = _report(street)
    assert points_claims_for(INCIDENT_ACCEPTED, [incident.pk]) == []

    # when the police accept it
    with queued.committing():
        incident = incident_accept(actor=street.office_officer, incident=incident)

    # then its settle was queued after commit, and it claims one accepted report for the reporter
    assert queued.of(INCIDENT_ACCEPTED) == [[incident.pk]]
    [claim] = points_claims_for(INCIDENT_ACCEPTED, [incident.pk])
    assert (claim.user_id, claim.alliance_id, claim.reason, claim.units) == (
        street.merchant.pk,
        street.alliance.pk,
        "incident_accepted",
        1,
    )
    assert claim.unique_key == f"incident_accepted:incident:{incident.pk}" and claim.happened_at == incident.accepted_at


@pytest.mark.django_db
def test_a_hidden_danger_confirmed_earns_by_its_own_rule(street):
    incident = _report(street, category="hidden_danger", description="消防通道堆放杂物")

    incident_accept(actor=street.office_officer, incident=incident)

    [claim] = points_claims_for(INCIDENT_ACCEPTED, [incident.pk])
    assert claim.reason == "hidden_danger_confirmed" and claim.unique_key == f"incident_accepted:incident:{incident.pk}"


@pytest.mark.django_db
def test_an_anonymous_reporter_earns_too(street):
    incident = _report(street, is_anonymous=True)

    incident_accept(actor=street.office_officer, incident=incident)

    assert [claim.user_id for claim in points_claims_for(INCIDENT_ACCEPTED, [incident.pk])] == [street.merchant.pk]


@pytest.mark.django_db
def test_a_report_rejected_after_acceptance_is_settled_again_and_claims_nothing(street, queued):
    # given an accepted report
    incident = incident_accept(actor=street.office_officer, incident=_report(street))

    # when the police reject it after all
    with queued.committing():
        incident_reject(actor=street.office_officer, incident=incident, reason="经核实不属实")

    # then the next settle finds nothing claimed, so the ledger reverses the award
    assert queued.of(INCIDENT_ACCEPTED) == [[incident.pk]]
    assert points_claims_for(INCIDENT_ACCEPTED, [incident.pk]) == []


@pytest.mark.django_db
def test_a_report_rejected_before_acceptance_queues_nothing(street, queued):
    incident = _report(street)

    with queued.committing():
        incident_reject(actor=street.office_officer, incident=incident, reason="不属于联盟事务")

    assert queued.calls == []


@pytest.mark.django_db
def test_a_duplicate_merged_away_stops_earning_and_the_primary_keeps_it(street, queued):
    # given two accepted reports of the same theft, by two merchants
    primary = incident_accept(actor=street.office_officer, incident=_report(street))
    duplicate = incident_accept(actor=street.office_officer, incident=_report(street, reporter=street.other_merchant))

    # when the police merge the second into the first
    with queued.committing():
        incident_merge(actor=street.office_officer, duplicate=duplicate, primary=primary)

    # then the duplicate is settled again and claims nothing; the primary still earns
    assert queued.of(INCIDENT_ACCEPTED) == [[duplicate.pk]]
    assert points_claims_for(INCIDENT_ACCEPTED, [duplicate.pk]) == []
    assert len(points_claims_for(INCIDENT_ACCEPTED, [primary.pk])) == 1


@pytest.mark.django_db
def test_a_reopened_report_is_settled_and_still_earns(street, queued):
    incident = _resolved(street, incident_accept(actor=street.office_officer, incident=_report(street)))

    with queued.committing():
        incident_reopen(actor=street.merchant, incident=incident, reason="还没修好")

    assert queued.of(INCIDENT_ACCEPTED) == [[incident.pk]]
    assert len(points_claims_for(INCIDENT_ACCEPTED, [incident.pk])) == 1


@pytest.mark.django_db
def test_an_acceptance_rolled_back_queues_nothing(street, queued):
    incident = _report(street)

    with queued.committing():
        with pytest.raises(RuntimeError), transaction.atomic():
            incident_accept(actor=street.office_officer, incident=incident)
            raise RuntimeError("the request failed after the acceptance")

    assert queued.calls == []
    assert points_claims_for(INCIDENT_ACCEPTED, [incident.pk]) == []


@pytest.mark.django_db
def test_the_catch_up_finds_the_reports_whose_standing_changed(street):
    # given one report accepted and another only submitted
    accepted = incident_accept(actor=street.office_officer, incident=_report(street))
    submitted = _report(street, reporter=street.other_merchant)

    # then the catch-up names the accepted one since a minute ago, and none since tomorrow
    recent = points_recent_ids(INCIDENT_ACCEPTED, timezone.now() - timedelta(minutes=1))
    assert accepted.pk in recent and submitted.pk not in recent
    assert points_recent_ids(INCIDENT_ACCEPTED, timezone.now() + timedelta(days=1)) == []


# --- disputes ------------------------------------------------------------------------------------------------------


@pytest.fixture
def second_responder(street, user_factory):
    manager = user_factory(roles=[Role.MALL_MANAGER], display_name="二号商管")
    member_add(street.alliance, manager, MemberRole.MALL_MANAGER, on_duty=True)
    return manager


@pytest.mark.django_db
def test_a_resolved_flag_earns_each_responder_who_arrived(street, second_responder, queued):
    # given a flag answered by two responders, only one of whom reached the scene
    dispute = dispute_make(reporter=street.merchant, alliance=street.alliance, category="quarrel")
    dispute_acknowledge(responder=second_responder, dispute=dispute)
    dispute_arrive(responder=street.mall_manager, dispute=dispute)

    # when it is resolved as mediated
    with queued.committing():
        dispute = dispute_resolve(responder=street.mall_manager, dispute=dispute, outcome="mediated")

    # then it was settled after commit, and only the one who arrived earns, keyed per dispute and responder
    assert queued.of(DISPUTE_RESOLVED) == [[dispute.pk]]
    [claim] = points_claims_for(DISPUTE_RESOLVED, [dispute.pk])
    assert (claim.user_id, claim.reason, claim.happened_at) == (
        street.mall_manager.pk,
        "dispute_resolved",
        dispute.resolved_at,
    )
    assert claim.unique_key == f"dispute_resolved:dispute:{dispute.pk}:responder:{street.mall_manager.pk}"
    assert dispute.pk in points_recent_ids(DISPUTE_RESOLVED, timezone.now() - timedelta(minutes=1))


@pytest.mark.django_db
def test_a_false_alarm_or_an_open_flag_earns_nothing(street):
    # given a flag the responder reached, still open
    dispute = dispute_make(reporter=street.merchant, alliance=street.alliance, category="suspicious")
    dispute_arrive(responder=street.mall_manager, dispute=dispute)
    assert points_claims_for(DISPUTE_RESOLVED, [dispute.pk]) == []

    # when it turns out a false alarm
    dispute_resolve(responder=street.mall_manager, dispute=dispute, outcome="false_alarm")

    # then nobody earns
    assert points_claims_for(DISPUTE_RESOLVED, [dispute.pk]) == []
