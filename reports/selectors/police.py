"""Who handles an alliance's cases: its members who respond (and its admins), and the police posted to its units or
to the units above them. Shared by the reads on flags and on reports."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.permissions import is_police
from alliance.models import Station, StationStaff
from alliance.permissions import ALLIANCE_RESPONDER_ROLES
from alliance.selectors.alliances import units_under

RESPONDING_MEMBER_ROLES = ALLIANCE_RESPONDER_ROLES | {"admin"}


def posted_units(user) -> QuerySet[Station]:
    """The police units an officer or admin is posted to, with the offices and workstations under them."""
    return units_under(StationStaff.objects.filter(user=user).values("station_id")).values("pk")


def police_posted_to_alliance(*, user, alliance) -> bool:
    if not is_police(user):
        return False
    return (
        Station.objects.filter(pk__in=posted_units(user))
        .filter(pk__in=[alliance.station_id, alliance.office_id])
        .exists()
    )
