"""The demo city's patrol (manage.py seed_demo): Fengming Golden Street's zones hold its stores, its main line has
its checkpoints, and tonight's night shift has volunteers signed up and places left; a second run makes nothing."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone
from shapely.geometry import Point

from alliance.models import Store
from groups.demo_patrol import LEADER, POLICE_ADMIN, tonight_starts
from groups.models import (
    Checkpoint,
    ContactGroup,
    GroupMembership,
    PatrolGrid,
    PatrolRoute,
    PatrolTeam,
    PatrolTeamMember,
    PatrolZone,
    Shift,
    ShiftSignup,
    ShiftTemplate,
    SupportPoint,
)
from groups.patrol_geometry import metres_outside, polygon_from_geojson
from groups.services.shifts import shift_deadlines

SHANGHAI = ZoneInfo("Asia/Shanghai")
PATROL_MODELS = (
    PatrolZone,
    PatrolGrid,
    PatrolRoute,
    Checkpoint,
    SupportPoint,
    PatrolTeam,
    PatrolTeamMember,
    ShiftTemplate,
    Shift,
    ShiftSignup,
    ContactGroup,
    GroupMembership,
)


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_red_zone_holds_every_store_of_the_street_and_the_route_runs_inside_it():
    # when the demo city is seeded
    seed("--quiet")

    # then the street has a red, a yellow and a blue zone, each with its bounding box and grids inside it
    zones = {zone.risk_grade: zone for zone in PatrolZone.objects.filter(alliance__slug="fengming-golden-street")}
    assert set(zones) == {"red", "yellow", "blue"}
    for zone in zones.values():
        polygon = polygon_from_geojson(zone.boundary)
        assert polygon.is_valid
        west, south, east, north = polygon.bounds
        assert (zone.min_longitude, zone.min_latitude, zone.max_longitude, zone.max_latitude) == (
            west,
            south,
            east,
            north,
        )
        grids = list(zone.grids.all())
        assert grids and all(polygon.covers(polygon_from_geojson(grid.boundary)) for grid in grids)
    # the zones do not overlap: a position is in one grade
    red = polygon_from_geojson(zones["red"].boundary)
    for other in ("yellow", "blue"):
        assert red.intersection(polygon_from_geojson(zones[other].boundary)).area == 0
    stores = Store.objects.filter(alliance__slug="fengming-golden-street")
    assert stores.count() == 15
    for store in stores:
        assert (
            metres_outside(zones["red"].boundary, latitude=float(store.latitude), longitude=float(store.longitude)) == 0
        )
    route = PatrolRoute.objects.get(zone=zones["red"])
    checkpoints = list(route.checkpoints.order_by("position"))
    assert 4 <= len(checkpoints) <= 5
    assert all(red.contains(Point(c.longitude, c.latitude)) for c in checkpoints)
    kinds = set(SupportPoint.objects.filter(alliance=zones["red"].alliance).values_list("kind", flat=True))
    assert {"workstation", "traffic_booth", "rapid_response"} <= kinds


@pytest.mark.django_db
def test_tonights_night_shift_has_volunteers_signed_up_and_places_left():
    # when the demo city is seeded
    output = seed()

    # then the volunteer police team has its leader, and tonight's 22:00-02:00 shift on the main line is not over
    team = PatrolTeam.objects.get(alliance__slug="fengming-golden-street", kind="volunteer_police")
    leader = PatrolTeamMember.objects.get(team=team, role="leader").user
    shift = Shift.objects.get(team=team, starts_at=tonight_starts())
    local_start = timezone.localtime(shift.starts_at, SHANGHAI)
    assert local_start.time() == time(22, 0)
    assert shift.ends_at - shift.starts_at == timedelta(hours=4) and shift.ends_at > timezone.now()
    assert shift.template.rrule == "FREQ=DAILY" and shift.route.checkpoints.count() == 5
    assert shift.zone.risk_grade == "red"
    signed_up = ShiftSignup.objects.filter(shift=shift, status="confirmed")
    assert signed_up.count() == 3 and signed_up.filter(user=leader).exists()
    assert sum(shift.slots.values()) > signed_up.count()  # places left for a volunteer to sign up in the demo
    team_people = set(team.members.values_list("user", flat=True))
    assert set(signed_up.values_list("user", flat=True)) <= team_people and len(team_people) == 5
    # and the logins of the patrol people are printed like the others
    assert f"team leader  {leader.display_name}" in output and str(leader.phone) in output
    assert "+8613800000036" in output and "not signed up yet" in output


@pytest.mark.django_db
def test_the_team_has_its_contact_group_with_its_members_and_its_leader_leads_it():
    # when the demo city is seeded
    seed("--quiet")

    # then the team was made as the app makes it: its own team group holds every member, the leader as an admin
    team = PatrolTeam.objects.select_related("contact_group").get(alliance__slug="fengming-golden-street")
    group = team.contact_group
    assert group is not None and group.kind == ContactGroup.Kind.TEAM and group.alliance_id == team.alliance_id
    assert group.name == team.name
    in_group = dict(GroupMembership.objects.filter(group=group).values_list("user__phone", "role"))
    team_phones = {str(phone) for phone in team.members.values_list("user__phone", flat=True)}
    assert team_phones <= {str(phone) for phone in in_group}
    roles = {str(phone): role for phone, role in in_group.items()}
    assert roles[LEADER] == "admin" and roles["+8613800000034"] == "member"
    # the police admin who made it is there too (its maker, as in the app), and nobody else
    assert set(roles) == team_phones | {POLICE_ADMIN}


@pytest.mark.django_db
def test_tonights_shift_has_the_deadlines_of_a_generated_shift_and_the_nights_after_it_are_planned():
    # when the demo city is seeded
    seed("--quiet")

    # then tonight's shift came from the template's generator: its reminder, no-show check and close are set
    template = ShiftTemplate.objects.get(name="凤鸣金街夜巡")
    shift = Shift.objects.get(template=template, starts_at=tonight_starts())
    assert shift.remind_at < shift.starts_at < shift.no_show_check_at < shift.ends_at <= shift.close_at
    assert {
        "remind_at": shift.remind_at,
        "no_show_check_at": shift.no_show_check_at,
        "close_at": shift.close_at,
    } == shift_deadlines(starts_at=shift.starts_at, ends_at=shift.ends_at)
    # the template was planned by the team's leader, and the next nights exist as the periodic generation makes them
    assert str(template.created_by.phone) == LEADER
    tomorrow = Shift.objects.get(template=template, starts_at=shift.starts_at + timedelta(days=1))
    assert tomorrow.remind_at is not None and not tomorrow.signups.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("clock", ["23:30", "01:30"])
def test_seeded_while_the_night_shift_is_on_tonights_shift_still_has_its_places(monkeypatch, clock):
    # given a seed run while tonight's shift is on (the generator makes shifts from "now" on)
    today = timezone.localtime(timezone.now(), SHANGHAI).date()
    seeded_at = datetime.combine(today, time.fromisoformat(clock), tzinfo=SHANGHAI)
    monkeypatch.setattr(timezone, "now", lambda: seeded_at)

    # when the demo city is seeded
    seed("--quiet")

    # then the shift on now (started 22:00 tonight, or last night after midnight) exists with its three places,
    # signed up for before it began
    starts_at = seeded_at.replace(hour=22, minute=0) - timedelta(days=1 if clock < "22:00" else 0)
    shift = Shift.objects.get(name="凤鸣金街夜巡", starts_at=starts_at)
    assert shift.starts_at <= seeded_at < shift.ends_at
    assert shift.no_show_check_at is not None and shift.close_at is not None
    signed_up = ShiftSignup.objects.filter(shift=shift, status="confirmed")
    assert signed_up.count() == 3
    assert all(signup.created_at < shift.starts_at for signup in signed_up)


@pytest.mark.django_db
def test_a_team_seeded_before_teams_had_contact_groups_gets_one():
    # given a city seeded when the team had no contact group
    seed("--quiet")
    team = PatrolTeam.objects.get(alliance__slug="fengming-golden-street")
    old_group = team.contact_group
    PatrolTeam.objects.filter(pk=team.pk).update(contact_group=None)
    old_group.delete()

    # when it is seeded again
    seed("--quiet")

    # then the team has its group again, with its members in it
    team.refresh_from_db()
    assert team.contact_group is not None
    in_group = set(GroupMembership.objects.filter(group=team.contact_group).values_list("user", flat=True))
    assert set(team.members.values_list("user", flat=True)) <= in_group


@pytest.mark.django_db
def test_a_second_run_makes_no_patrol_rows():
    # given a seeded city
    seed("--quiet")
    first = {model.__name__: model.objects.count() for model in PATROL_MODELS}

    # when it is seeded again
    output = seed("--quiet")

    # then nothing new
    assert {model.__name__: model.objects.count() for model in PATROL_MODELS} == first
    assert "nothing new" in output


def test_tonight_is_the_night_shift_not_yet_over():
    def local(clock: str) -> datetime:
        return datetime.fromisoformat(f"2026-12-02T{clock}").replace(tzinfo=SHANGHAI)

    # before 02:00 the night shift that began yesterday is still on; after it, tonight's is next
    assert tonight_starts(local("01:30")) == local("22:00") - timedelta(days=1)
    assert tonight_starts(local("02:00")) == local("22:00")
    assert tonight_starts(local("23:00")) == local("22:00")
