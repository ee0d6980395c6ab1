"""Personal data (China's PIPL): what the service holds about a person, for the export and for account deletion.

``accounts`` is the bottom app: it cannot know the tables the apps above it add. So each app declares its own
parts in ``<app>/personal_data.py``, registered from its ``AppConfig.ready()``: a part exports some rows that name
the person and may erase some on account deletion. Each app also lists the foreign keys to the user it holds
deliberately outside the export (an officer's official act on somebody else's case, for instance), with the reason.

``personal_data_fields_unaccounted()`` names every foreign key to the user model that is in neither list;
tests/accounts/test_personal_data.py fails on any, so a new table that names a person joins the export when it is
written, not when somebody notices. (The idea is Zulip's ``zerver/lib/export.py``, which declares every table and
checks that none is missing.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models

from config.times import api_datetime


@dataclass(frozen=True)
class PersonalDataPart:
    """One section of the export. ``covers`` names the foreign keys to the user whose rows it exports, as
    ``"app_label.Model.field"``. ``erase`` runs inside the account deletion's transaction, before the user row is
    anonymised; a part without it leaves its rows in place, pointing at the anonymised row."""

    key: str
    export: Callable[[Any], Any]
    covers: tuple[str, ...] = ()
    erase: Callable[[Any], None] | None = None


_parts: dict[str, PersonalDataPart] = {}
_left_out: dict[str, str] = {}


def personal_data_part_register(part: PersonalDataPart) -> None:
    # Registering the same key again replaces it (a reloaded module in a development server), never duplicates it.
    _parts[part.key] = part


def personal_data_left_out(field: str, *, why: str) -> None:
    """Declare a foreign key to the user that the export leaves out on purpose, and why."""
    _left_out[field] = why


def personal_data_export(*, user) -> dict:
    """Everything every app holds about the person, one key per part, in the order the apps were installed."""
    return {key: part.export(user) for key, part in _parts.items()}


def personal_data_erase(*, user) -> None:
    """The apps' share of an account deletion (accounts.services.user_account_delete). Expects a transaction."""
    for part in _parts.values():
        if part.erase is not None:
            part.erase(user)


def _declared() -> set[str]:
    declared = set(_left_out)
    for part in _parts.values():
        declared.update(part.covers)
    return declared


def _user_foreign_keys() -> set[str]:
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    return {
        f"{model._meta.app_label}.{model.__name__}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.ForeignKey) and field.related_model is user_model  # OneToOneField included
    }


def personal_data_fields_unaccounted() -> list[str]:
    """Foreign keys to the user model, in every installed model, that no part exports and none leaves out."""
    return sorted(_user_foreign_keys() - _declared())


def personal_data_declarations_stale() -> list[str]:
    """Declared fields that are no foreign key to the user (renamed or removed): the declaration is out of date."""
    return sorted(_declared() - _user_foreign_keys())


# --- what accounts itself holds ------------------------------------------------------------------------------------


def _profile(user) -> dict:
    return {
        "id": user.pk,
        "phone": str(user.phone) if user.phone else None,
        "phone_verified": user.phone_verified,
        "email": user.email,
        "display_name": user.display_name,
        "is_real_name_verified": user.is_real_name_verified,
        "date_joined": api_datetime(user.date_joined),
        "last_login": api_datetime(user.last_login),
    }


def _role_grants(user) -> list[dict]:
    from accounts.models import RoleGrant

    return [
        {
            "role": grant.role,
            "granted_at": api_datetime(grant.granted_at),
            "revoked_at": api_datetime(grant.revoked_at),
            "reason": grant.reason,
        }
        for grant in RoleGrant.objects.filter(user=user).order_by("granted_at")
    ]


def _email_addresses(user) -> list[dict]:
    from allauth.account.models import EmailAddress

    return [
        {"email": address.email, "verified": address.verified, "primary": address.primary}
        for address in EmailAddress.objects.filter(user=user).order_by("id")
    ]


def _email_addresses_erase(user) -> None:
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=user).delete()


def _sessions(user) -> list[dict]:
    from allauth.usersessions.models import UserSession

    return [
        {
            "created_at": api_datetime(session.created_at),
            "last_seen_at": api_datetime(session.last_seen_at),
            "ip": session.ip,
            "user_agent": session.user_agent,
        }
        for session in UserSession.objects.filter(user=user).order_by("created_at")
    ]


def _devices(user) -> list[dict]:
    from accounts.models import DeviceRegistration

    return [
        {
            "platform": device.platform,
            "provider": device.provider,
            "token": device.token,
            "registered_at": api_datetime(device.registered_at),
        }
        for device in DeviceRegistration.objects.filter(user=user).order_by("registered_at", "id")
    ]


def _devices_erase(user) -> None:
    from accounts.models import DeviceRegistration

    # A deleted account gets no more notifications: its phones' tokens go with it.
    DeviceRegistration.objects.filter(user=user).delete()


# The profile is the user row itself; deletion anonymises it (accounts.services.user_account_delete).
personal_data_part_register(PersonalDataPart("profile", _profile))
personal_data_part_register(PersonalDataPart("role_grants", _role_grants, covers=("accounts.RoleGrant.user",)))
personal_data_part_register(
    PersonalDataPart(
        "email_addresses", _email_addresses, covers=("account.EmailAddress.user",), erase=_email_addresses_erase
    )
)
# Sessions end on deletion through accounts.services.user_sessions_end, which also clears the session store.
personal_data_part_register(PersonalDataPart("sessions", _sessions, covers=("usersessions.UserSession.user",)))
personal_data_part_register(
    PersonalDataPart("devices", _devices, covers=("accounts.DeviceRegistration.user",), erase=_devices_erase)
)
_OFFICIAL_ACT = "a police admin's act on somebody else's account, kept as the audit trail of that act"
personal_data_left_out("accounts.User.real_name_verified_by", why=_OFFICIAL_ACT)
personal_data_left_out("accounts.RoleGrant.granted_by", why=_OFFICIAL_ACT)
personal_data_left_out("accounts.RoleGrant.revoked_by", why=_OFFICIAL_ACT)
personal_data_left_out("admin.LogEntry.user", why="the admin site's record of a staff member's changes: an audit trail")
