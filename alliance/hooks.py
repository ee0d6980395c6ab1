"""Where the apps above ``alliance`` act on its membership changes, without ``alliance`` importing them.

The dependency order is ``config`` <- ``accounts`` <- ``alliance`` <- ``groups`` <- ``reports``: ``alliance`` never
imports an app above it. Yet founding an alliance makes its contact groups, and whoever joins or leaves it joins or
leaves them. So ``alliance`` offers this registry: an upper app registers a receiver from its ``AppConfig.ready()``
(``groups.apps.GroupsConfig`` registers ``groups.alliance_membership``), and ``alliance``'s services call every
receiver, in registration order, inside their own transaction: a receiver's writes commit or roll back with the
membership, exactly as when the services called ``groups.services.contact_groups`` directly.

A receiver has all four methods (:class:`AllianceMembershipReceiver`); each must be idempotent, because the
services announce again what may already be in place (adding a member who is one already, the demo seed finding
an alliance it made before), so that anything missing catches up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from accounts.models import User
    from alliance.models import Alliance


class AllianceMembershipReceiver(Protocol):
    def on_alliance_created(self, *, alliance: Alliance) -> None:
        """An alliance was founded (or the demo seed found one it had made): set up what it needs."""

    def on_member_joined(self, *, alliance: Alliance, user: User, role: str) -> None:
        """``user`` is (or already was) a member with the alliance role ``role``."""

    def on_member_role_changed(self, *, alliance: Alliance, user: User, role: str) -> None:
        """A member's alliance role is now ``role``."""

    def on_member_left(self, *, alliance: Alliance, user: User) -> None:
        """``user`` is no longer a member: they left, were removed, or deleted their account."""


class AllianceMembershipHooks:
    def __init__(self) -> None:
        self._receivers: list[AllianceMembershipReceiver] = []

    def register(self, receiver: AllianceMembershipReceiver) -> None:
        """Called from an ``AppConfig.ready()``; registering the same receiver twice keeps one."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)

    def alliance_created(self, *, alliance: Alliance) -> None:
        for receiver in self._receivers:
            receiver.on_alliance_created(alliance=alliance)

    def member_joined(self, *, alliance: Alliance, user: User, role: str) -> None:
        for receiver in self._receivers:
            receiver.on_member_joined(alliance=alliance, user=user, role=role)

    def member_role_changed(self, *, alliance: Alliance, user: User, role: str) -> None:
        for receiver in self._receivers:
            receiver.on_member_role_changed(alliance=alliance, user=user, role=role)

    def member_left(self, *, alliance: Alliance, user: User) -> None:
        for receiver in self._receivers:
            receiver.on_member_left(alliance=alliance, user=user)


alliance_membership_hooks = AllianceMembershipHooks()


class AllianceDutyReceiver(Protocol):
    def on_duty_changed(self, *, membership, change: str) -> None:
        """``membership`` went on duty ("on"), off duty ("off"), or sent a new position while on duty ("moved");
        it is saved already, inside the duty switch's transaction."""


class AllianceDutyHooks:
    """The duty switch (``alliance.services.members.alliance_duty_set``) announces each change here: ``groups``
    registers ``groups.services.patrol_on_duty.on_duty_follows_duty_switch``, which tells the police live."""

    def __init__(self) -> None:
        self._receivers: list[AllianceDutyReceiver] = []

    def register(self, receiver: AllianceDutyReceiver) -> None:
        if receiver not in self._receivers:
            self._receivers.append(receiver)

    def duty_changed(self, *, membership, change: str) -> None:
        for receiver in self._receivers:
            receiver.on_duty_changed(membership=membership, change=change)


alliance_duty_hooks = AllianceDutyHooks()


class PersonNoticeHooks:
    """How ``alliance`` tells people something live (a reward request decided, a store named a Safe Store) without
    importing ``groups``: ``groups`` registers ``groups.alliance_notices.person_notice_send``, which publishes the
    event to each person's ``user.<id>`` topic through the outbox (durable), in the caller's transaction."""

    def __init__(self) -> None:
        self._senders: list = []

    def register(self, sender) -> None:
        if sender not in self._senders:
            self._senders.append(sender)

    def notify(self, *, user_ids: list[int], event: dict) -> None:
        """``event`` has a ``type``; it reaches every socket of these people after commit."""
        for sender in self._senders:
            sender(user_ids=user_ids, event=event)


person_notice_hooks = PersonNoticeHooks()


class AlertDeliveryReceiver(Protocol):
    def on_alert_sent(self, *, alert, event: dict) -> None:
        """``alert`` goes out now (inside the send's transaction): tell its audience's online people ``event`` and
        post its card in the contact groups it names."""

    def on_alert_reminder(self, *, alert, event: dict) -> None:
        """Remind the audience's online people who have not acknowledged ``alert``."""

    def on_alert_withdrawn(self, *, alert, event: dict) -> None:
        """``alert`` was withdrawn: its audience's apps drop it, its cards say so."""


class AlertDeliveryHooks:
    """How an alert reaches sockets and contact groups without ``alliance`` importing ``groups``: ``groups``
    registers ``groups.alert_delivery.AlertDelivery`` (the live event through every server's hub, the cards)."""

    def __init__(self) -> None:
        self._receivers: list[AlertDeliveryReceiver] = []

    def register(self, receiver: AlertDeliveryReceiver) -> None:
        if receiver not in self._receivers:
            self._receivers.append(receiver)

    def alert_sent(self, *, alert, event: dict) -> None:
        for receiver in self._receivers:
            receiver.on_alert_sent(alert=alert, event=event)

    def alert_reminder(self, *, alert, event: dict) -> None:
        for receiver in self._receivers:
            receiver.on_alert_reminder(alert=alert, event=event)

    def alert_withdrawn(self, *, alert, event: dict) -> None:
        for receiver in self._receivers:
            receiver.on_alert_withdrawn(alert=alert, event=event)


alert_delivery_hooks = AlertDeliveryHooks()
