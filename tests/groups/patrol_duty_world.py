"""A shift under way on Fengming Golden Street, for the check-in, scan, log and batch tests: the street's alliance
founded by its police admin, a 600 m square red zone, a route of three checkpoints 100 m apart, a team with its
leader, and a volunteer with a confirmed place on a four-hour shift that started ten minutes ago."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from accounts.models import Role, User
from config.times import api_datetime
from groups.models import PatrolRoute, PatrolZone, Shift, ShiftSignup
from tests.factories.alliance import MemberRole, member_add
from tests.factories.patrol import FENGMING_CENTRE, route_make, shift_make, signup_make, team_make, zone_make
from tests.fixtures.street import Street, build_street


@dataclass
class Duty:
    street: Street
    police_admin: User
    leader: User
    volunteer: User
    zone: PatrolZone
    route: PatrolRoute
    shift: Shift
    signup: ShiftSignup

    def checkpoint(self, position: int = 1):
        return self.route.checkpoints.get(position=position)


def build_duty(user_factory, *, name: str = "凤鸣金街联盟", slug: str = "fengming-duty") -> Duty:
    police_admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="奉贤所长")
    street = build_street(user_factory, name=name, slug=slug, police_admin=police_admin)
    leader = user_factory(roles=[Role.VOLUNTEER], display_name="队长老周")
    volunteer = user_factory(roles=[Role.VOLUNTEER], display_name="义警小陈")
    member_add(street.alliance, leader, MemberRole.VOLUNTEER)
    member_add(street.alliance, volunteer, MemberRole.VOLUNTEER)
    zone = zone_make(alliance=street.alliance, half_metres=300)
    route = route_make(alliance=street.alliance, zone=zone)
    team = team_make(alliance=street.alliance, leader=leader, members=(volunteer,))
    shift = shift_make(team=team, zone=zone, route=route, starts_at=timezone.now() - timedelta(minutes=10), hours=4)
    return Duty(street, police_admin, leader, volunteer, zone, route, shift, signup_make(shift=shift, user=volunteer))


def position_body(latitude: float, longitude: float, **extra) -> dict:
    """A check-in body as the app sends it: a good GPS fix, the phone's clock right."""
    return {
        "latitude": latitude,
        "longitude": longitude,
        "accuracy": 10,
        "device_time": api_datetime(timezone.now()),
        "mock_location": False,
        **extra,
    }


def centre_body(**extra) -> dict:
    return {**position_body(*FENGMING_CENTRE), **extra}
