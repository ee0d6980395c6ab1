"""Two jurisdictions, each with an alliance: station X (青平果联盟) and station Y (凤鸣金街), for scoping tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.models import Role, User
from alliance.models import Alliance, AllianceMembership, Station, StationStaff
from alliance.services.members import alliance_member_add
from groups.services import contact_groups_create_defaults

MemberRole = AllianceMembership.Role


@dataclass
class City:
    station_x: Station
    office_x: Station
    station_y: Station
    admin_x: User  # police admin posted to station X
    admin_y: User  # police admin posted to station Y
    alliance_a: Alliance  # station X, office X
    alliance_b: Alliance  # station Y


def make_member(alliance: Alliance, user: User, role: str) -> AllianceMembership:
    membership, _created = alliance_member_add(alliance=alliance, user=user, role=role)
    return membership


@pytest.fixture
def city(db, user_factory) -> City:
    station_x = Station.objects.create(name="局前街派出所", city="常州市")
    office_x = Station.objects.create(name="青果巷警务室", kind=Station.Kind.OFFICE, parent=station_x, city="常州市")
    station_y = Station.objects.create(name="中阳里派出所", city="徐州市")
    admin_x = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="陈所长")
    admin_y = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="李所长")
    StationStaff.objects.create(user=admin_x, station=station_x)
    StationStaff.objects.create(user=admin_y, station=station_y)
    alliance_a = Alliance.objects.create(name="青平果联盟", slug="qingpingguo", station=station_x, office=office_x)
    alliance_b = Alliance.objects.create(name="凤鸣金街平安门店联盟", slug="fengming", station=station_y)
    for alliance, admin in ((alliance_a, admin_x), (alliance_b, admin_y)):
        contact_groups_create_defaults(alliance=alliance)
        make_member(alliance, admin, MemberRole.ADMIN)
    return City(station_x, office_x, station_y, admin_x, admin_y, alliance_a, alliance_b)


@pytest.fixture
def member_of(user_factory):
    """``member_of(alliance, platform_role, alliance_role)`` -> a new user who is a member with that role."""

    def _member_of(alliance: Alliance, platform_role: str, alliance_role: str, **user_fields) -> User:
        user = user_factory(roles=[platform_role], **user_fields)
        make_member(alliance, user, alliance_role)
        return user

    return _member_of
