"""A street with a patrol team for the roster tests: the founding police admin, a volunteer leader, four volunteers,
a merchant (who does not patrol), a red zone and the team; another jurisdiction's street with its own team."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Role, User
from alliance.models import Alliance
from groups.models import OutboxEvent, PatrolTeam, PatrolZone
from tests.factories.alliance import MemberRole, member_add
from tests.factories.patrol import team_make, zone_make
from tests.fixtures.street import build_street

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*parts) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)


@dataclass
class Patrol:
    alliance: Alliance
    police_admin: User
    leader: User
    volunteers: list[User]
    merchant: User
    zone: PatrolZone
    team: PatrolTeam


def build_patrol(user_factory, *, name: str, slug: str) -> Patrol:
    admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name=f"{name}所长")
    street = build_street(user_factory, name=name, slug=slug, police_admin=admin, people=False)
    leader = user_factory(roles=[Role.VOLUNTEER], display_name=f"{name}队长")
    volunteers = [user_factory(roles=[Role.VOLUNTEER], display_name=f"{name}义警{n}") for n in range(4)]
    merchant = user_factory(roles=[Role.MERCHANT], display_name=f"{name}李老板")
    for person in [leader, *volunteers]:
        member_add(street.alliance, person, MemberRole.VOLUNTEER)
    member_add(street.alliance, merchant, MemberRole.MERCHANT)
    zone = zone_make(alliance=street.alliance, name=f"{name}红区")
    team = team_make(alliance=street.alliance, name=f"{name}义警队", leader=leader, members=tuple(volunteers[:2]))
    return Patrol(street.alliance, admin, leader, volunteers, merchant, zone, team)


@pytest.fixture
def patrol(db, user_factory) -> Patrol:
    return build_patrol(user_factory, name="凤鸣金街", slug="fengming-patrol")


@pytest.fixture
def other_patrol(db, user_factory) -> Patrol:
    return build_patrol(user_factory, name="青果巷", slug="qingguo-patrol")


def events_of(kind: str) -> list[tuple[list[str], dict]]:
    """(topics, event) of every live event of ``kind`` written so far (durable events go through the outbox)."""
    found = []
    for row in OutboxEvent.objects.order_by("pk"):
        event = json.loads(row.payload)
        if event.get("type") == kind:
            found.append((row.topics, event))
    return found
