"""Which people a police admin's jurisdiction holds: the one question about jurisdictions the accounts app asks.

``accounts`` is the bottom app, and jurisdictions (police units, who is posted there, the alliances under them) are
``alliance``'s. So alliance answers the question through this hook, registered from ``AllianceConfig.ready()``
(alliance/jurisdiction.py), and the rules about people stay here in accounts (accounts/selectors.py): whom a police
admin may look up (``/users``, the user admin), act on (roles, real-name check, posting) and audit
(``/role-grants``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q


@dataclass(frozen=True)
class JurisdictionPeople:
    """Filters on the user model. ``of_admin(admin)``: the people of the admin's jurisdiction (posted to its police
    units, or members of its alliances). ``attached()``: the people of any jurisdiction (posted anywhere, or members
    of any alliance). Both lazy, so they sit inside one query."""

    of_admin: Callable[[Any], Q]
    attached: Callable[[], Q]


_registered: list[JurisdictionPeople] = []


def jurisdiction_people_register(people: JurisdictionPeople) -> None:
    # Registering again replaces it (a reloaded module in a development server).
    _registered[:] = [people]


def _people() -> JurisdictionPeople:
    if not _registered:
        # Fail loudly: a police admin who silently saw nobody (or everybody) would be a bug nobody reports.
        raise ImproperlyConfigured("No jurisdiction registered: the alliance app registers it from its ready().")
    return _registered[0]


def people_in_jurisdiction(*, admin) -> Q:
    return _people().of_admin(admin)


def people_in_any_jurisdiction() -> Q:
    return _people().attached()
