"""A small alliance with its contact groups, built through the group services (as alliance membership does)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.models import Role, User
from alliance.models import Alliance, Station
from groups.models import ContactGroup
from groups.services import contact_groups_create_defaults, contact_groups_member_joined


@dataclass
class Street:
    alliance: Alliance
    main: ContactGroup
    prevention: ContactGroup
    officer: User
    merchant: User
    volunteer: User


def build_street(user_factory, name: str, slug: str) -> Street:
    station = Station.objects.create(name=f"{name}派出所", city="常州")
    alliance = Alliance.objects.create(name=name, slug=slug, station=station)
    main, prevention = contact_groups_create_defaults(alliance=alliance)
    officer = user_factory(roles=[Role.OFFICER], display_name=f"{name}民警")
    merchant = user_factory(roles=[Role.MERCHANT], display_name=f"{name}商户")
    volunteer = user_factory(roles=[Role.VOLUNTEER], display_name=f"{name}志愿者")
    contact_groups_member_joined(alliance=alliance, user=officer, admin=True)
    contact_groups_member_joined(alliance=alliance, user=merchant)
    contact_groups_member_joined(alliance=alliance, user=volunteer)
    for group in (main, prevention):
        group.refresh_from_db()
    return Street(alliance, main, prevention, officer, merchant, volunteer)


@pytest.fixture
def qingguo(db, user_factory) -> Street:
    return build_street(user_factory, "青平果联盟", "qingpingguo")


@pytest.fixture
def fengming(db, user_factory) -> Street:
    return build_street(user_factory, "凤鸣金街联盟", "fengming")
