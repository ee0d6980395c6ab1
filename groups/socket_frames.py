"""The frame types of the live channel (groups/consumers.py) that other apps own.

``groups`` sits below ``reports`` in the dependency order, yet the socket carries the ``flag`` frame, a dispute
flag. So the app that owns a write registers its frame type here, from its ``AppConfig.ready()``, like the
personal-data parts (accounts/personal_data.py): ``reports/socket_frames.py`` registers ``flag``. The consumer looks
a frame type up here when it is none of its own (``BUILT_IN_FRAME_FIELDS``).

A handler runs in a worker thread (``database_sync_to_async``) with the signed-in user and the frame, in the person's
language. It goes through the same input serializer and the same service as the REST operation it mirrors, and
returns the event that acknowledges the frame. A refusal is whatever REST raises (a DRF ``ValidationError``,
``Http404``, ``config.errors.ApplicationError``): the consumer answers it with an ``error`` event carrying the code,
message and fields REST's body would (``config.errors.error_answer``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from config.serializers import input_fields
from groups.apis.contact_groups import MessageSendInput

# The keys each of the consumer's own client frames may carry besides "type": anything else is refused by name, as in
# REST bodies. ``send`` carries the body of ``POST /api/v1/groups/{id}/messages`` and the group it goes to.
BUILT_IN_FRAME_FIELDS: dict[str, frozenset[str]] = {
    "auth": frozenset({"token", "lang"}),
    "send": frozenset({"group"}) | input_fields(MessageSendInput),
    "resync": frozenset({"groups"}),
    "read": frozenset({"group", "seq"}),
    "typing": frozenset({"group"}),
    "presence": frozenset({"group"}),
    "ping": frozenset(),
}


@dataclass(frozen=True)
class SocketFrame:
    """A client frame type another app owns. ``fields``: the keys it may carry besides ``type`` (derive them from
    the REST operation's input serializer with ``config.serializers.input_fields``, so the two cannot drift).
    Registered frames are writes: they count against the socket's send rate."""

    type: str
    handler: Callable[[Any, dict], dict]
    fields: frozenset[str]


_frames: dict[str, SocketFrame] = {}


def socket_frame_register(type_: str, handler: Callable[[Any, dict], dict], *, fields: Iterable[str]) -> None:
    if type_ in BUILT_IN_FRAME_FIELDS:
        raise ValueError(f"the live channel's own frame type {type_!r} cannot be registered again")
    # Registering the same type again replaces it (a reloaded module in a development server), never duplicates it.
    _frames[type_] = SocketFrame(type_, handler, frozenset(fields))


def socket_frame(type_: str) -> SocketFrame | None:
    return _frames.get(type_)
