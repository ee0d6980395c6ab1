"""Who is in a police admin's jurisdiction, answered for the accounts app (accounts/jurisdiction.py), which sits below
alliance and does not import it. Registered from ``AllianceConfig.ready()``."""

from __future__ import annotations

from django.db.models import Q

from accounts.jurisdiction import JurisdictionPeople, jurisdiction_people_register
from alliance.models import AllianceMembership, StationStaff
from alliance.selectors.alliances import jurisdiction_filter


def _people_of_admin(admin) -> Q:
    """People posted to the admin's police units or members of the alliances there (subqueries: no round trip)."""
    posted = StationStaff.objects.filter(jurisdiction_filter(user=admin, station_path="station")).values("user_id")
    members = AllianceMembership.objects.filter(jurisdiction_filter(user=admin, alliance_path="alliance"))
    return Q(pk__in=posted) | Q(pk__in=members.values("user_id"))


def _people_attached() -> Q:
    """People posted to any police unit or members of any alliance."""
    return Q(pk__in=StationStaff.objects.values("user_id")) | Q(pk__in=AllianceMembership.objects.values("user_id"))


jurisdiction_people_register(JurisdictionPeople(of_admin=_people_of_admin, attached=_people_attached))
