"""The Python work behind answering one case, which the creating endpoints do on every request (docs/performance.md,
"Creating a case"): a member's alliance access compiles no ORDER BY, an answer's fields are not introspected from
the model again for every instance, and the duplicate suggestions load only what they show."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from rest_framework import serializers

from alliance.models import AllianceMembership
from alliance.selectors.alliances import alliance_access
from config.queries import unique_row
from reports.apis.incident_serializers import IncidentCreatedOutput, IncidentDuplicateOutput, IncidentOutput
from reports.models import Incident
from reports.selectors.incidents import incident_duplicates

LANE = {"latitude": 31.777012, "longitude": 119.956301}


@pytest.mark.django_db
def test_a_members_alliance_access_is_one_query_without_an_order(qingguo):
    # when a member's access to their alliance is looked up (every /alliances/{id}/ request does)
    with CaptureQueriesContext(connection) as queries:
        access = alliance_access(user=qingguo.merchant, alliance_id=qingguo.alliance.pk)

    # then it is their membership with its alliance, read without ORDER BY (at most one row matches)
    assert access.membership.user_id == qingguo.merchant.pk and access.alliance == qingguo.alliance
    membership_reads = [q["sql"] for q in queries.captured_queries if "alliance_alliancemembership" in q["sql"]]
    assert len(membership_reads) == 1
    assert "ORDER BY" not in membership_reads[0]


@pytest.mark.django_db
def test_unique_row_is_the_one_row_or_none(qingguo):
    mine = AllianceMembership.objects.filter(alliance=qingguo.alliance, user=qingguo.merchant)
    assert unique_row(mine) == mine.get()
    assert unique_row(AllianceMembership.objects.filter(pk=-1)) is None


def test_an_answers_fields_come_from_the_model_once_per_class(monkeypatch):
    IncidentCreatedOutput().fields  # noqa: B018 - the class's first answer works them out
    built = []
    real_build_field = serializers.ModelSerializer.build_field

    def counting(self, *args, **kwargs):
        built.append(args[0])
        return real_build_field(self, *args, **kwargs)

    monkeypatch.setattr(serializers.ModelSerializer, "build_field", counting)

    # when two more answers are built
    first, second = IncidentCreatedOutput().fields, IncidentCreatedOutput().fields

    # then no model field was introspected again, and each answer has fields of its own (bound to it), the same ones
    assert built == []
    assert list(first) == list(second) == [*IncidentOutput.Meta.fields, "duplicates"]
    assert all(first[name] is not second[name] for name in first)
    assert first["description"].parent is not second["description"].parent


def test_the_labels_of_fields_from_the_model_follow_the_language_of_each_request():
    class Answer(IncidentOutput):  # a class of its own: its fields are not worked out yet
        pass

    # given the fields first worked out while a request in Chinese was answered
    with translation.override("zh-hans"):
        assert str(Answer().fields["occurred_at"].label) == "发生时间"

    # then an answer (or the schema) built in English still says it in English
    with translation.override("en"):
        assert str(Answer().fields["occurred_at"].label) == "Happened at"


@pytest.mark.django_db
def test_duplicate_suggestions_are_shown_without_another_query(login, qingguo, django_assert_num_queries):
    client = login(qingguo.merchant)
    path = f"/api/v1/alliances/{qingguo.alliance.pk}/incidents"
    first = client.post_json(path, {"category": "theft", "description": "先来一条", **LANE}).json()["id"]
    second = client.post_json(path, {"category": "theft", "description": "又一条", **LANE}).json()["id"]

    # when the suggestions for the second report are found and shown
    incident = Incident.objects.get(pk=second)
    with django_assert_num_queries(1):
        found = incident_duplicates(incident=incident)
        shown = IncidentDuplicateOutput(found, many=True).data

    # then the first report is suggested with everything a suggestion shows, in the one query that found it
    assert [suggestion["id"] for suggestion in shown] == [first]
    assert shown[0]["status_label"] and shown[0]["occurred_at"] and shown[0]["distance_m"] == 0.0
