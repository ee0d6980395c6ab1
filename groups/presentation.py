"""How a message looks to apps, the same over REST and the live channel."""

from __future__ import annotations

from django.urls import reverse

from config.times import api_datetime
from groups.models import Message


def message_payload(message: Message) -> dict:
    deleted = message.deleted_at is not None
    data = {
        "group": message.group_id,
        "seq": message.seq,
        "kind": message.kind,
        "sender": None
        if message.sender_id is None
        else {"id": message.sender_id, "display_name": message.sender.display_name if message.sender else ""},
        "body": message.body,
        "payload": message.payload,
        "client_id": message.client_id,
        "is_pinned": message.is_pinned,
        "created_at": api_datetime(message.created_at),
        "deleted": deleted,
        "location": None,
        "image": None,
    }
    if message.latitude is not None and not deleted:
        data["location"] = {"latitude": float(message.latitude), "longitude": float(message.longitude)}
    if message.image and not deleted:
        base = reverse("group-message-image", kwargs={"group_id": message.group_id, "seq": message.seq})
        data["image"] = {"url": base, "thumbnail_url": f"{base}?size=thumbnail"}
    return data


def on_duty_responder_payload(responder) -> dict:
    """One person on duty (``groups.selectors.patrol_on_duty.OnDutyResponder``), the same in the on-duty list and
    in the live ``on_duty`` event. Distances in whole metres."""
    located = responder.latitude is not None and responder.longitude is not None
    return {
        "user": {"id": responder.user_id, "display_name": responder.display_name},
        "kind": responder.kind,
        "role": responder.role,
        "since": api_datetime(responder.since),
        "location": {"latitude": responder.latitude, "longitude": responder.longitude} if located else None,
        "distance_metres": None if responder.distance_metres is None else round(responder.distance_metres),
        "shift": responder.shift_id,
        "zone": responder.zone_id,
    }
