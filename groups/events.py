"""Publishing live events: the one function every service calls, after the database has the data.

The database is the source of truth and a socket is only delivery: events go out on commit, so nobody is told of
something that then rolls back, and a phone that misses an event finds it again with ``resync``. Topics are
``group.<id>`` (members of a contact group) and ``user.<id>`` (all sockets of one person); the caller names them,
because a wrong recipient list is a data leak.
"""

from __future__ import annotations

import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)


def group_topic(group_id: int) -> str:
    return f"group.{group_id}"


def user_topic(user_id: int) -> str:
    return f"user.{user_id}"


def event_publish(*, topics: list[str], event: dict) -> None:
    """Send ``event`` to every socket subscribed to ``topics`` once the current transaction commits.

    The event is serialised once here; each server process receives it once and fans it out to its own sockets
    (groups/delivery.py). A failure to publish is logged, not raised: the data is committed and clients resync.
    """
    payload = json.dumps(event, ensure_ascii=False, cls=DjangoJSONEncoder)
    meta = {"group": event.get("group"), "seq": event.get("seq")}
    transaction.on_commit(lambda: _send(topics, payload, meta), robust=True)


def _send(topics: list[str], payload: str, meta: dict) -> None:
    layer = get_channel_layer()
    for topic in topics:
        async_to_sync(layer.group_send)(topic, {"type": "fanout", "topic": topic, "payload": payload, **meta})
