"""Which alliances the statistics of a police unit cover, and whether an officer may see them."""

from __future__ import annotations

from django.db.models import Q

from accounts.permissions import is_police
from alliance.models import Alliance, Station, StationStaff
from alliance.selectors.alliances import unit_and_units_above, units_under


def police_posted_to_station(*, user, station: Station) -> bool:
    """Police posted to the unit itself or to a unit above it (a station's officers answer for its offices).

    ``station`` comes with ``parent`` selected."""
    if not is_police(user):
        return False
    return StationStaff.objects.filter(user=user, station_id__in=unit_and_units_above(station)).exists()


def alliances_under_station(*, station: Station) -> list[Alliance]:
    """The alliances whose police station or community police office is the unit or a unit under it (units are
    at most three tiers deep), whatever their status: archived alliances had cases too."""
    units = units_under([station.pk]).values("pk")
    return list(Alliance.objects.filter(Q(station_id__in=units) | Q(office_id__in=units)).only("pk", "name"))
