"""Who is on duty where changed (a check-in, a check-out, an automatic close, the police's duty switch): tell the
police clients live.

Called by the check-in, check-out and close services, and (through ``alliance.hooks.alliance_duty_hooks``) by
``alliance.services.members.alliance_duty_set``, inside their transaction; the event is published after commit (kept in
the outbox only if that fails), so a change that rolls back is never announced. The event is what one row of
``GET /alliances/{id}/on-duty`` shows, so a police screen redraws from it without a request::

    {"type": "on_duty", "alliance": 7, "change": "checked_in", "responder": {...}}

``change``: "checked_in", "checked_out", "closed" (volunteers); "on", "off", "moved" (the duty switch: going on or
off duty, a new position while on duty). Recipients: ``groups.selectors.patrol_on_duty.on_duty_watchers``.
"""

from __future__ import annotations

from accounts.permissions import is_police
from groups.events import event_publish, user_topic
from groups.presentation import on_duty_responder_payload
from groups.selectors.patrol_on_duty import (
    SWITCH_RESPONDER_ROLES,
    OnDutyResponder,
    ResponderKind,
    on_duty_watchers,
)

SIGNUP_CHANGES = ("checked_in", "checked_out", "closed")
SWITCH_CHANGES = ("on", "off", "moved")


def _publish(*, alliance_id: int, change: str, responder: OnDutyResponder) -> None:
    watchers = on_duty_watchers(alliance_id=alliance_id)
    event = {
        "type": "on_duty",
        "alliance": alliance_id,
        "change": change,
        "responder": on_duty_responder_payload(responder),
    }
    # Not durable: published on commit, and kept in the outbox only if that fails. A state, not a case step: the
    # police screen redraws from GET /alliances/{id}/on-duty on reconnect; no outbox row per check-in (the burst).
    event_publish(topics=[user_topic(user_id) for user_id in watchers], event=event)


def on_duty_changed(*, signup, change: str) -> None:
    """A volunteer checked in to ``signup``'s shift, checked out, or was checked out by the close sweep.

    Precondition: inside the transaction that changed the sign-up (publishes on its commit). Costs the watchers'
    query, plus the sign-up's shift and user when the caller did not load them."""
    if change not in SIGNUP_CHANGES:
        raise ValueError(f"unknown on-duty change {change!r}")
    shift = signup.shift
    responder = OnDutyResponder(
        user_id=signup.user_id,
        display_name=signup.user.display_name,
        kind=ResponderKind.VOLUNTEER,
        role=signup.role,
        since=signup.checked_in_at,
        latitude=signup.last_latitude,
        longitude=signup.last_longitude,
        shift_id=shift.pk,
        zone_id=shift.zone_id,
    )
    _publish(alliance_id=shift.alliance_id, change=change, responder=responder)


def member_duty_changed(*, membership, change: str) -> None:
    """A police officer or mall manager went on or off duty, or sent a new position while on duty. A volunteer's
    duty switch is not dispatch (check-ins are), so it announces nothing."""
    if change not in SWITCH_CHANGES:
        raise ValueError(f"unknown on-duty change {change!r}")
    user = membership.user
    if membership.role in SWITCH_RESPONDER_ROLES:
        kind = membership.role
    elif is_police(user):
        kind = ResponderKind.POLICE
    else:
        return
    responder = OnDutyResponder(
        user_id=membership.user_id,
        display_name=user.display_name,
        kind=kind,
        role=membership.role,
        since=membership.on_duty_since,
        latitude=membership.duty_latitude,
        longitude=membership.duty_longitude,
    )
    _publish(alliance_id=membership.alliance_id, change=change, responder=responder)


class OnDutyFollowsDutySwitch:
    """Registered into ``alliance.hooks.alliance_duty_hooks`` from ``GroupsConfig.ready()``."""

    def on_duty_changed(self, *, membership, change: str) -> None:
        member_duty_changed(membership=membership, change=change)


on_duty_follows_duty_switch = OnDutyFollowsDutySwitch()
