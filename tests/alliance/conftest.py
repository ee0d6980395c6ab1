"""Two jurisdictions, each with an alliance: station X (青平果联盟) and station Y (凤鸣金街), for scoping tests.
Each is the shared street (tests/fixtures/street.py) without its people, founded by its police admin."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.models import Role, User
from alliance.models import Alliance, AllianceMembership, Station
from tests.factories.alliance import MemberRole, member_add
from tests.fixtures.street import build_street

__all__ = ["MemberRole", "make_member"]


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
    return member_add(alliance, user, role)


@pytest.fixture
def city(db, user_factory) -> City:
    admin_x = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="陈所长")
    admin_y = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="李所长")
    x = build_street(
        user_factory,
        name="青平果联盟",
        slug="qingpingguo",
        city="常州市",
        station_name="局前街派出所",
        office_name="青果巷警务室",
        police_admin=admin_x,
        people=False,
    )
    y = build_street(
        user_factory,
        name="凤鸣金街平安门店联盟",
        slug="fengming",
        city="徐州市",
        station_name="中阳里派出所",
        office_name=None,
        police_admin=admin_y,
        people=False,
    )
    return City(x.station, x.office, y.station, admin_x, admin_y, x.alliance, y.alliance)


@pytest.fixture
def member_of(user_factory):
    """``member_of(alliance, platform_role, alliance_role)`` -> a new user who is a member with that role."""

    def _member_of(alliance: Alliance, platform_role: str, alliance_role: str, **user_fields) -> User:
        user = user_factory(roles=[platform_role], **user_fields)
        member_add(alliance, user, alliance_role)
        return user

    return _member_of


# The points ledger's fixtures (its own evidence source, a street run by its police admin).
from tests.alliance.points_fixtures import ledger_street, test_evidence  # noqa: E402, F401
