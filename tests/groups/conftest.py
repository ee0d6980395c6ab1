"""A small alliance with its contact groups (the shared street without its people), and three people in the contact
groups only: an officer (group admin), a merchant and a volunteer, added through the group services."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.models import Role, User
from alliance.models import Alliance
from groups.models import ContactGroup
from tests.factories.groups import contact_group_member_join
from tests.fixtures.street import build_street


@dataclass
class GroupStreet:
    alliance: Alliance
    main: ContactGroup
    prevention: ContactGroup
    officer: User
    merchant: User
    volunteer: User


def build_group_street(user_factory, name: str, slug: str) -> GroupStreet:
    street = build_street(user_factory, name=name, slug=slug, office_name=None, people=False)
    officer = user_factory(roles=[Role.OFFICER], display_name=f"{name}民警")
    merchant = user_factory(roles=[Role.MERCHANT], display_name=f"{name}商户")
    volunteer = user_factory(roles=[Role.VOLUNTEER], display_name=f"{name}志愿者")
    contact_group_member_join(alliance=street.alliance, user=officer, admin=True)
    contact_group_member_join(alliance=street.alliance, user=merchant)
    contact_group_member_join(alliance=street.alliance, user=volunteer)
    street.refresh()
    return GroupStreet(street.alliance, street.main, street.prevention, officer, merchant, volunteer)


@pytest.fixture
def qingguo(db, user_factory) -> GroupStreet:
    return build_group_street(user_factory, "青平果联盟", "qingpingguo")


@pytest.fixture
def fengming(db, user_factory) -> GroupStreet:
    return build_group_street(user_factory, "凤鸣金街联盟", "fengming")


# Patrol rosters: a street with a team, and another jurisdiction's (tests/groups/patrol_roster_fixtures.py).
from tests.groups.patrol_roster_fixtures import other_patrol, patrol  # noqa: E402, F401

# What a transaction queued for the points ledger after commit (tests/points_settling.py).
from tests.points_settling import queued  # noqa: E402, F401
