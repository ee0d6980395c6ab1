"""Qingguo Lane with its whole ladder: an on-duty mall manager (level 1), an officer posted to the community police
office (level 2), an officer posted to the police station (level 3), a merchant with a store, and a second alliance.
This is the shared street (tests/fixtures/street.py); the reports tests call it a ladder."""

from __future__ import annotations

import pytest

from tests.factories.alliance import member_add as member  # noqa: F401 - the reports tests' name for it
from tests.fixtures.street import Street as Ladder
from tests.fixtures.street import build_street


def build_ladder(user_factory, name: str, slug: str, *, mall_manager_on_duty: bool = True) -> Ladder:
    return build_street(user_factory, name=name, slug=slug, mall_manager_on_duty=mall_manager_on_duty)


@pytest.fixture
def qingguo(street) -> Ladder:
    return street


@pytest.fixture
def fengming(other_street) -> Ladder:
    return other_street


# What a transaction queued for the points ledger after commit (tests/points_settling.py).
from tests.points_settling import queued  # noqa: E402, F401
