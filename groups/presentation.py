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
