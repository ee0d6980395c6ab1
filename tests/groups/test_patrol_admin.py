"""The duty records in the admin site: a police admin reads their jurisdiction's check-in and scan attempts, scans and
patrol log (with the link to the incident a hidden danger became), never another jurisdiction's, and changes none of
them; calendar feeds (secret addresses) are not there at all."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from groups.error_codes import GroupErrorCode
from groups.models import CalendarFeed, CheckpointScan, PatrolAttempt, PatrolLogEntry
from reports.models import Incident
from tests.factories.patrol import (
    FENGMING_CENTRE,
    route_make,
    support_point_make,
    team_make,
    template_make,
    zone_make,
)
from tests.groups.patrol_duty_world import Duty, build_duty

pytestmark = pytest.mark.django_db


@dataclass
class Records:
    duty: Duty
    refused: PatrolAttempt
    accepted: PatrolAttempt
    scan: CheckpointScan
    log: PatrolLogEntry
    incident: Incident


def _records(duty: Duty, *, round_number: int = 1) -> Records:
    """What a patrol leaves: a check-in refused 120 m outside the zone, the accepted one, a scan (of the round), a
    hidden danger reported as an incident."""
    now = timezone.now()
    latitude, longitude = FENGMING_CENTRE
    common = {"shift": duty.shift, "signup": duty.signup, "user": duty.volunteer, "accuracy_metres": 10}
    refused = PatrolAttempt.objects.create(
        **common,
        kind=PatrolAttempt.Kind.CHECK_IN,
        accepted=False,
        refusal_code=GroupErrorCode.OUTSIDE_ZONE,
        refusal_detail={"metres_outside": 120, "accuracy_metres": 10},
        latitude=latitude + 0.01,
        longitude=longitude,
    )
    accepted = PatrolAttempt.objects.create(
        **common, kind=PatrolAttempt.Kind.CHECK_IN, accepted=True, latitude=latitude, longitude=longitude
    )
    checkpoint = duty.checkpoint(1)
    scanned = PatrolAttempt.objects.create(
        **common,
        kind=PatrolAttempt.Kind.SCAN,
        accepted=True,
        checkpoint=checkpoint,
        latitude=checkpoint.latitude,
        longitude=checkpoint.longitude,
    )
    scan = CheckpointScan.objects.create(
        signup=duty.signup,
        checkpoint=checkpoint,
        round=round_number,
        scanned_at=now,
        latitude=checkpoint.latitude,
        longitude=checkpoint.longitude,
        attempt=scanned,
    )
    incident = Incident.objects.create(
        alliance=duty.street.alliance,
        reporter=duty.volunteer,
        category="other",
        description="巡逻发现：路灯损坏",
        latitude=latitude,
        longitude=longitude,
    )
    log = PatrolLogEntry.objects.create(
        signup=duty.signup,
        kind=PatrolLogEntry.Kind.HIDDEN_DANGER,
        note="路灯损坏",
        latitude=latitude,
        longitude=longitude,
        incident_id=incident.pk,
    )
    return Records(duty, refused, accepted, scan, log, incident)


@pytest.fixture
def two_streets(user_factory) -> tuple[Records, Records]:
    """Records on Fengming (police admin X's jurisdiction) and on another street under another station."""
    mine = _records(build_duty(user_factory))
    theirs = _records(build_duty(user_factory, name="青果巷联盟", slug="qingguo-duty"))
    return mine, theirs


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _pks(response) -> set[int]:
    return {obj.pk for obj in response.context["cl"].result_list}


DUTY_CHANGELISTS = {
    "/admin/groups/patrolattempt/": lambda records: {records.refused.pk, records.accepted.pk, records.scan.attempt_id},
    "/admin/groups/checkpointscan/": lambda records: {records.scan.pk},
    "/admin/groups/patrollogentry/": lambda records: {records.log.pk},
}


@pytest.mark.parametrize("url", list(DUTY_CHANGELISTS))
def test_a_police_admin_reads_their_jurisdictions_duty_records_and_not_anothers(two_streets, url):
    # given duty records on two streets under two stations
    mine, theirs = two_streets
    rows = DUTY_CHANGELISTS[url]

    # when the police admin of the first street's station opens the list
    response = admin_client(mine.duty.police_admin).get(url)

    # then they read their street's records, and nothing of the other street
    assert response.status_code == 200
    assert _pks(response) == rows(mine)
    assert "青果巷联盟" not in response.content.decode()


def test_another_jurisdictions_attempt_by_id_is_not_found(two_streets):
    # given the police admin of the first street
    mine, theirs = two_streets
    client = admin_client(mine.duty.police_admin)

    # when they open the other street's attempt by id, and their own
    foreign = client.get(f"/admin/groups/patrolattempt/{theirs.refused.pk}/change/")
    own = client.get(f"/admin/groups/patrolattempt/{mine.refused.pk}/change/")

    # then the other's answers like an id that does not exist; their own opens, read-only, with its figures
    assert foreign.status_code == 302 and foreign["Location"] == "/admin/"
    assert own.status_code == 200
    assert "metres_outside" in own.content.decode()
    assert 'name="_save"' not in own.content.decode()


@pytest.mark.parametrize("model", ["patrolattempt", "checkpointscan", "patrollogentry"])
def test_duty_records_are_never_added_changed_or_deleted_in_the_admin(two_streets, user_factory, model):
    # given a police admin and a superuser, and one record of each kind
    mine, _theirs = two_streets
    pk = {"patrolattempt": mine.refused.pk, "checkpointscan": mine.scan.pk, "patrollogentry": mine.log.pk}[model]
    for person in (mine.duty.police_admin, user_factory(is_superuser=True, is_staff=True)):
        client = admin_client(person)

        # when they try to add one, change one and delete one
        add = client.get(f"/admin/groups/{model}/add/")
        change = client.post(f"/admin/groups/{model}/{pk}/change/", {})
        delete = client.post(f"/admin/groups/{model}/{pk}/delete/", {"post": "yes"})

        # then none of it works: the record stays as the app wrote it
        assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    assert PatrolAttempt.objects.filter(pk=mine.refused.pk, accepted=False).exists()
    assert CheckpointScan.objects.filter(pk=mine.scan.pk).exists()
    assert PatrolLogEntry.objects.filter(pk=mine.log.pk, note="路灯损坏").exists()


def test_attempts_filter_by_outcome_and_refusal_and_search_by_person(two_streets, user_factory):
    # given a refused and two accepted attempts, and another volunteer's attempt on the same shift
    mine, _theirs = two_streets
    other = user_factory(display_name="义警小王")
    PatrolAttempt.objects.create(
        shift=mine.duty.shift, user=other, kind=PatrolAttempt.Kind.CHECK_IN, accepted=False, refusal_code="no_place"
    )
    client = admin_client(mine.duty.police_admin)

    # when the police admin filters the refusals, one refusal code, and searches a phone and a name
    refused = _pks(client.get("/admin/groups/patrolattempt/?accepted__exact=0"))
    outside = _pks(client.get(f"/admin/groups/patrolattempt/?refusal_code={GroupErrorCode.OUTSIDE_ZONE}"))
    by_phone = _pks(client.get("/admin/groups/patrolattempt/", {"q": str(mine.duty.volunteer.phone)}))
    by_name = _pks(client.get("/admin/groups/patrolattempt/", {"q": "小王"}))

    # then each answers the rows it names
    assert outside == {mine.refused.pk}
    assert refused == {mine.refused.pk} | (by_name)
    assert by_phone == {mine.refused.pk, mine.accepted.pk, mine.scan.attempt_id}
    assert len(by_name) == 1 and not by_name & by_phone


def test_the_attempt_list_shows_how_far_a_refused_check_in_was(two_streets):
    # given a check-in refused 120 m outside the zone and a scan refused 80 m from a 50 m checkpoint
    mine, _theirs = two_streets
    too_far = PatrolAttempt(
        kind=PatrolAttempt.Kind.SCAN,
        accepted=False,
        refusal_code=GroupErrorCode.TOO_FAR_FROM_CHECKPOINT,
        refusal_detail={"metres_away": 80, "radius_metres": 50},
    )
    attempt_admin = admin.site.get_model_admin(PatrolAttempt)

    # when the list's distance column is read
    with translation.override("en"):
        figures = [str(attempt_admin.distance(attempt)) for attempt in (mine.refused, too_far, mine.accepted)]

    # then it gives the figures the refusal was decided on, and nothing for an accepted one
    assert figures == ["120 m outside the zone", "80 m from the checkpoint (radius 50 m)", "-"]
    assert (
        "在区域外 120 米" in admin_client(mine.duty.police_admin).get("/admin/groups/patrolattempt/").content.decode()
    )


def test_a_log_entry_links_to_the_incident_it_became(two_streets):
    # given a hidden danger reported as an incident
    mine, _theirs = two_streets

    # when the police admin lists the patrol log
    page = admin_client(mine.duty.police_admin).get("/admin/groups/patrollogentry/").content.decode()

    # then the entry links to the incident's own admin page, which opens for them
    link = f"/admin/reports/incident/{mine.incident.pk}/change/"
    assert f'href="{link}"' in page
    assert admin_client(mine.duty.police_admin).get(link).status_code == 200


def test_calendar_feeds_are_not_in_the_admin(two_streets, user_factory):
    # given the police admin of the first street and a superuser
    mine, _theirs = two_streets

    # when they open the admin index
    index = admin_client(mine.duty.police_admin).get("/admin/")
    root = admin_client(user_factory(is_superuser=True, is_staff=True)).get("/admin/groups/calendarfeed/")

    # then the duty records are there and calendar feeds (secret addresses) are not, even for a superuser
    models = {model["object_name"] for app in index.context["app_list"] for model in app["models"]}
    assert {"PatrolAttempt", "CheckpointScan", "PatrolLogEntry", "Shift"} <= models
    assert "CalendarFeed" not in models
    assert not admin.site.is_registered(CalendarFeed)
    assert root.status_code == 404


PATROL_CHANGELISTS = [
    "/admin/groups/patrolzone/",
    "/admin/groups/patrolroute/",
    "/admin/groups/supportpoint/",
    "/admin/groups/patrolteam/",
    "/admin/groups/shifttemplate/",
    "/admin/groups/shift/",
    *DUTY_CHANGELISTS,
]


def _more_patrol(records: Records, n: int) -> None:
    """One more of every patrol row on the street: a zone, a route, a support point, a team with a template (and
    its generated shifts), and another round of records."""
    duty = records.duty
    alliance = duty.street.alliance
    zone = zone_make(alliance=alliance, name=f"黄区{n}", risk_grade="yellow")
    route_make(alliance=alliance, zone=zone, name=f"支线{n}")
    support_point_make(alliance=alliance, name=f"快反点{n}")
    team = team_make(alliance=alliance, name=f"街巡队{n}")
    template_make(team=team, zone=zone, name=f"夜巡{n}")
    _records(duty, round_number=n)


@pytest.mark.parametrize("url", PATROL_CHANGELISTS)
def test_patrol_changelists_render_in_a_fixed_number_of_queries(two_streets, url):
    # given a street with one of every patrol row, seen by its police admin
    mine, _theirs = two_streets
    _more_patrol(mine, 2)
    client = admin_client(mine.duty.police_admin)
    client.get(url)  # warm the session and content types
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200

    # when the street has more of every row
    for n in (3, 4, 5):
        _more_patrol(mine, n)
    with CaptureQueriesContext(connection) as more:
        response = client.get(url)

    # then the changelist lists them in the same, small number of queries
    assert response.status_code == 200 and len(_pks(response)) > 1
    assert len(more) == len(few) <= 20, url
