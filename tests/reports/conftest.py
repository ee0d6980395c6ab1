"""Qingguo Lane with its whole ladder: an on-duty mall manager (level 1), an officer posted to the community police
office (level 2), an officer posted to the police station (level 3), a merchant with a store, and a second alliance."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role, User
from alliance.models import Alliance, AllianceMembership, Station, StationStaff, Store
from groups.models import ContactGroup
from groups.services import contact_groups_create_defaults, contact_groups_member_joined


@dataclass
class Ladder:
    alliance: Alliance
    main: ContactGroup
    store: Store
    merchant: User
    other_merchant: User
    mall_manager: User
    office_officer: User
    station_officer: User


def member(alliance: Alliance, user: User, role: str, *, on_duty: bool = False) -> AllianceMembership:
    membership = AllianceMembership.objects.create(
        alliance=alliance, user=user, role=role, on_duty=on_duty, on_duty_since=timezone.now() if on_duty else None
    )
    contact_groups_member_joined(alliance=alliance, user=user, admin=role in ("admin", "police_liaison"))
    return membership


def build_ladder(user_factory, name: str, slug: str, *, mall_manager_on_duty: bool = True) -> Ladder:
    station = Station.objects.create(name=f"{name}派出所", city="常州", kind=Station.Kind.STATION)
    office = Station.objects.create(name=f"{name}警务室", city="常州", kind=Station.Kind.OFFICE, parent=station)
    alliance = Alliance.objects.create(name=name, slug=slug, station=station, office=office)
    main, _prevention = contact_groups_create_defaults(alliance=alliance)
    merchant = user_factory(roles=[Role.MERCHANT], display_name=f"{name}李老板")
    other_merchant = user_factory(roles=[Role.MERCHANT], display_name=f"{name}王老板")
    mall_manager = user_factory(roles=[Role.MALL_MANAGER], display_name=f"{name}商管")
    office_officer = user_factory(roles=[Role.OFFICER], display_name=f"{name}社区民警")
    station_officer = user_factory(roles=[Role.OFFICER], display_name=f"{name}所里民警")
    member(alliance, merchant, "merchant")
    member(alliance, other_merchant, "merchant")
    member(alliance, mall_manager, "mall_manager", on_duty=mall_manager_on_duty)
    StationStaff.objects.create(user=office_officer, station=office)
    StationStaff.objects.create(user=station_officer, station=station)
    store = Store.objects.create(
        alliance=alliance,
        owner=merchant,
        name="花漾花店",
        address="青果巷 12 号",
        latitude=Decimal("31.777012"),
        longitude=Decimal("119.956301"),
    )
    main.refresh_from_db()
    return Ladder(alliance, main, store, merchant, other_merchant, mall_manager, office_officer, station_officer)


@pytest.fixture
def qingguo(db, user_factory) -> Ladder:
    return build_ladder(user_factory, "青平果联盟", "qingpingguo")


@pytest.fixture
def fengming(db, user_factory) -> Ladder:
    return build_ladder(user_factory, "凤鸣金街联盟", "fengming")
