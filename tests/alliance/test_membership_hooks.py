"""The alliance app's seam: the membership hooks the apps above register into (its list of error codes:
tests/test_error_codes.py)."""

from __future__ import annotations

import pytest

from accounts.models import Role
from alliance.hooks import AllianceMembershipHooks, alliance_membership_hooks
from alliance.models import AllianceMembership
from alliance.services.members import alliance_member_add
from groups.alliance_membership import contact_groups_follow_membership
from groups.models import GroupMembership


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
