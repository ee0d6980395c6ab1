"""An alert reaching its audience's open sockets and the contact groups it names (``alert_delivery_hooks``,
alliance/hooks.py; registered from ``GroupsConfig.ready()``).

Live: the alert's audience can be 200,000 people of whom a few thousand are online, spread over the server
processes. Naming them would mean reading the whole audience and sending a list that every process mostly ignores.
Instead ONE message crosses the channel layer on the ``alerts`` topic, carrying the alert's id and which of its
audience it is for (``audience``, or ``unacknowledged`` for a reminder); every process's hub receives it, takes the
people it holds sockets for, asks the database once which of THEM are in the audience (a thread hop off the event
loop), and hands the event to their sockets. A connecting socket does nothing for alerts: a reconnect storm is not
slowed down. The message goes through the outbox (durable): an alert is not lost when Redis blips, and the embedded
default's server relays it from there (groups/events.py).

Each process adds the people it reached to ``Alert.live_count`` (one UPDATE), for the alert's first delivery only:
a reminder or a withdrawal reaches people the count already holds.

Cards: the alert is a card line in each contact group its audience names; a withdrawal updates those cards.
"""

from __future__ import annotations

import logging

from channels.db import database_sync_to_async
from django.db import connection
from django.db.models import F
from django.db.models.expressions import RawSQL

from alliance.alert_audience import AudienceSpec, audience_user_ids
from alliance.models import Alert, AlertReceipt
from config.times import api_datetime
from groups.delivery import Hub, hub_broadcast_register
from groups.events import ALERTS_TOPIC, event_publish
from groups.models import ContactGroup, Message
from groups.services.contact_groups import card_post, card_update

logger = logging.getLogger(__name__)

AUDIENCE = "audience"  # everyone in the alert's audience
UNACKNOWLEDGED = "unacknowledged"  # those of them who have not acknowledged it (a reminder)
SENT, REMINDER, WITHDRAWN = "sent", "reminder", "withdrawn"


def alert_card(alert: Alert) -> dict:
    """The group's view of the alert: enough to draw the card and open the alert; the text is read in the app.

    An alert narrowed to roles (merchants only) shows no title: every member of the group sees the card, and those
    outside the roles could not open the alert. ``roles`` says whom it is for, so their apps can say so."""
    roles = sorted(alert.audience.get("roles") or [])
    return {
        "card": "alert",
        "type": "alert",
        "alert": alert.pk,
        "kind": alert.kind,
        "severity": alert.severity,
        "title": "" if roles else alert.title,
        "roles": roles,
        "requires_ack": alert.requires_ack,
        "publish_at": api_datetime(alert.publish_at or alert.published_at),
        "status": alert.status,
    }


def _live_publish(*, alert: Alert, event: dict, audience: str, purpose: str) -> None:
    event_publish(
        topics=[ALERTS_TOPIC],
        event=event,
        durable=True,
        routing={"alert": alert.pk, "audience": audience, "purpose": purpose},
    )


def _named_groups(alert: Alert):
    """The contact groups the audience names that are in use, in id order (the order their rows are locked in)."""
    group_ids = AudienceSpec.from_json(alert.audience).groups
    return ContactGroup.objects.filter(pk__in=group_ids, is_archived=False).order_by("pk")


class AlertDelivery:
    """Registered into ``alert_delivery_hooks``; each method runs inside the caller's transaction."""

    def on_alert_sent(self, *, alert: Alert, event: dict) -> None:
        _live_publish(alert=alert, event=event, audience=AUDIENCE, purpose=SENT)
        card = alert_card(alert)
        for group in _named_groups(alert):
            card_post(group=group, sender=alert.published_by, card=card)

    def on_alert_reminder(self, *, alert: Alert, event: dict) -> None:
        _live_publish(alert=alert, event=event, audience=UNACKNOWLEDGED, purpose=REMINDER)

    def on_alert_withdrawn(self, *, alert: Alert, event: dict) -> None:
        _live_publish(alert=alert, event=event, audience=AUDIENCE, purpose=WITHDRAWN)
        cards = (
            Message.objects.filter(
                group__in=_named_groups(alert), kind=Message.Kind.CARD, payload__type="alert", payload__alert=alert.pk
            )
            .select_related("group")
            .order_by("group_id", "seq")
        )
        for message in cards:
            card_update(message=message, card={**message.payload, "status": Alert.Status.WITHDRAWN.value})


alert_delivery = AlertDelivery()


# --- in each server process ---------------------------------------------------------------------------------------


def _as_one_parameter(user_ids: list[int]):
    """On PostgreSQL the ids as ONE array parameter: ``user_id__in=user_ids`` makes a placeholder per id, and with
    5,000 sockets building and quoting them took 80-400 ms of the hub's time, against 40-60 ms (bench/alert_live.py).
    SQLite (the embedded default, a few sockets) takes the list."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (list(user_ids),))
    return user_ids


def _reached_here(*, alert_id: int, audience: str, count: bool, user_ids: list[int]) -> list[int]:
    """Of ``user_ids`` (people with a socket in this process), those the event is for; with ``count``, added to the
    alert's live count. One query for the alert, one for the people, one UPDATE."""
    alert = Alert.objects.filter(pk=alert_id).only("audience").first()
    if alert is None:
        return []
    people = audience_user_ids(AudienceSpec.from_json(alert.audience)).filter(user_id__in=_as_one_parameter(user_ids))
    if audience == UNACKNOWLEDGED:
        acknowledged = AlertReceipt.objects.filter(alert_id=alert_id, acknowledged_at__isnull=False)
        people = people.exclude(user_id__in=acknowledged.values("user_id"))
    reached = [row["user_id"] for row in people]
    if count and reached:
        Alert.objects.filter(pk=alert_id).update(live_count=F("live_count") + len(reached))
    return reached


# Off the thread the sockets' queries run on: a slow audience query must not hold up connects and frames.
_reached_here_async = database_sync_to_async(_reached_here, thread_sensitive=False)


async def alert_event_arrived(hub: Hub, message: dict) -> None:
    """The hub's handler of the ``alerts`` topic: hand the event to this process's people in its audience."""
    local = hub.local_user_ids()
    if not local:
        return
    reached = await _reached_here_async(
        alert_id=message["alert"],
        audience=message.get("audience", AUDIENCE),
        count=message.get("purpose") == SENT,
        user_ids=local,
    )
    if reached:
        await hub.hand_to_users(reached, message)


hub_broadcast_register(ALERTS_TOPIC, alert_event_arrived)
