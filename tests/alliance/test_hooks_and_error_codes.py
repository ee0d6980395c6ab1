"""The alliance app's seams: the membership hooks the apps above register into, and its one list of error codes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from accounts.models import Role
from alliance.error_codes import AllianceErrorCode
from alliance.hooks import AllianceMembershipHooks, alliance_membership_hooks
from alliance.models import AllianceMembership
from alliance.services.members import alliance_member_add
from groups.alliance_membership import contact_groups_follow_membership
from groups.models import GroupMembership

ALLIANCE_APP = Path(__file__).resolve().parents[2] / "alliance"


def test_groups_registers_its_receiver_from_its_app_config():
    # then
    assert contact_groups_follow_membership in alliance_membership_hooks._receivers


def test_registering_a_receiver_twice_calls_it_once():
    # given
    calls = []

    class Receiver:
        def on_member_left(self, *, alliance, user):
            calls.append((alliance, user))

    hooks, receiver = AllianceMembershipHooks(), Receiver()

    # when
    hooks.register(receiver)
    hooks.register(receiver)
    hooks.member_left(alliance="a", user="u")

    # then
    assert calls == [("a", "u")]


def test_a_receiver_that_fails_rolls_the_membership_back(city, user_factory, monkeypatch):
    # given: a receiver registered after the groups' one, which refuses
    class Refuses:
        def on_member_joined(self, *, alliance, user, role):
            raise RuntimeError("refused")

    monkeypatch.setattr(alliance_membership_hooks, "_receivers", [*alliance_membership_hooks._receivers, Refuses()])
    volunteer = user_factory(roles=[Role.VOLUNTEER])

    # when
    with pytest.raises(RuntimeError):
        alliance_member_add(alliance=city.alliance_a, user=volunteer, role=AllianceMembership.Role.VOLUNTEER)

    # then: neither the membership nor the group memberships the first receiver wrote are left
    assert not AllianceMembership.objects.filter(alliance=city.alliance_a, user=volunteer).exists()
    assert not GroupMembership.objects.filter(group__alliance=city.alliance_a, user=volunteer).exists()


def _error_code_literals(path: Path) -> list[str]:
    """String literals given as the code of an ``ApplicationError`` or ``field_error`` in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        first = node.args[0]
        if name in {"ApplicationError", "field_error"} and isinstance(first, ast.Constant):
            found.append(f"{path.relative_to(ALLIANCE_APP.parent)}:{node.lineno} {first.value!r}")
    return found


def test_the_alliance_app_names_its_error_codes_from_its_list_only():
    # when
    literals = [hit for path in sorted(ALLIANCE_APP.rglob("*.py")) for hit in _error_code_literals(path)]

    # then: a new code goes into alliance/error_codes.py, so the list stays the whole of what the app answers
    assert literals == []


def test_error_codes_are_the_strings_the_api_sends():
    # then
    assert AllianceErrorCode.INVITE_USED_UP == "invite_used_up"
    assert f"{AllianceErrorCode.LAST_ADMIN}" == "last_admin"
    assert len({code.value for code in AllianceErrorCode}) == len(AllianceErrorCode)
