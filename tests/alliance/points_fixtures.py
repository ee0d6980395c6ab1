"""Fixtures of the points ledger's tests: the tests' own evidence source, and a street run by its police admin."""

from __future__ import annotations

import pytest

from accounts.models import Role
from alliance import points_evidence
from tests.alliance.points_sources import CLAIMS, TEST_SOURCE, register_test_source
from tests.factories.alliance import MemberRole, member_add
from tests.fixtures.street import build_street


@pytest.fixture
def test_evidence():
    """The ``test_evidence`` source registered for the test, with no claims; removed afterwards."""
    CLAIMS.clear()
    register_test_source()
    yield CLAIMS
    CLAIMS.clear()
    points_evidence._sources.pop(TEST_SOURCE, None)
    points_evidence._recent.pop(TEST_SOURCE, None)


@pytest.fixture
def ledger_street(db, user_factory):
    """Qingguo Lane founded by its police admin (posted to its station), with two volunteers."""
    admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER], display_name="陈所长")
    street = build_street(user_factory, name="青平果联盟", slug="qingpingguo", police_admin=admin)
    street.volunteer = user_factory(roles=[Role.VOLUNTEER], display_name="志愿者甲")
    street.other_volunteer = user_factory(roles=[Role.VOLUNTEER], display_name="志愿者乙")
    member_add(street.alliance, street.volunteer, MemberRole.VOLUNTEER)
    member_add(street.alliance, street.other_volunteer, MemberRole.VOLUNTEER)
    return street
