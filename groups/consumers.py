"""The one WebSocket of the app, at ``/ws/``: every group of the signed-in person over one connection.

Client frames (JSON objects with a ``type``):
    auth      {"token"}                          when the token is not in the query string
    send      {"group", and the body of POST /api/v1/groups/{id}/messages: "kind", "body", "latitude", "longitude",
               "client_id"}
    flag      {"alliance", and the body of POST /api/v1/alliances/{id}/disputes but photos}   a dispute flag
    resync    {"groups": {"<group id>": <last seq seen>, ...}}   everything after, in order, no gaps, no duplicates
    read      {"group", "seq"}                   mark read up to seq
    typing    {"group"}
    presence  {"group"}                          who in the group is online now
    ping

Server events: hello, message (every group line, with ``group`` and ``seq``), sent (ack of a send), flagged (ack of
a flag), case (a dispute you follow changed: reporter, responders, the ladder's recipients), resync_done,
resync_required (too far behind: page the rest over REST), typing, presence, group_joined, group_left, pong, error.

Frame types that other apps own (``flag``: reports) are registered with ``groups.socket_frames``. A write over the
socket (``send``, ``flag``) takes the same path as its REST operation: the same input serializer, access check and
service, so a refusal is an ``error`` event with the code, message and fields of REST's error body.

Every refusal is an ``error`` event (``code``, ``message``, and ``fields`` where a frame had unknown or invalid
keys) followed, where the socket cannot go on, by a close with a 4xxx code: 4401 not authenticated or session ended,
4408 no auth in time, 4413 frame too large, 4429 flooding. The event carries the reason because daphne does not pass
close reasons on to the client. Frames are read like REST bodies (config/json_input.py): more than
``JSON_MAX_DEPTH`` levels deep is an ``error`` (``too_deeply_nested``), and a key the frame type does not know is
an ``error`` (``invalid``) naming it. Messages follow the person's language as REST does: ``?lang=`` or the
handshake's Accept-Language (zh-hans by default), or ``lang`` in the auth frame.

Ordering: every group line has the group's gap-free sequence number. Per group this socket remembers the last seq it
delivered; a duplicate is dropped, and a hole (an event lost or published while we were subscribing) is filled from
the database before anything newer goes out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.permissions import user_roles
from accounts.websocket import (
    language_from_code,
    language_from_scope,
    token_from_query_string,
    user_for_session_token,
    user_for_token,  # the synchronous lookup, run inside _open_session's one thread hop
)
from config.converters import is_id
from config.errors import ApplicationError, error_answer
from config.json_input import JSONTooDeep, JSONTooLarge, json_loads_limited
from config.serializers import unknown_field_errors
from groups.apis.contact_groups import message_send_from_input
from groups.delivery import hub
from groups.error_codes import GroupErrorCode
from groups.events import event_publish, group_topic, user_topic
from groups.models import ContactGroup
from groups.presence import presence_mark_offline, presence_mark_online, users_online
from groups.presentation import message_payload
from groups.selectors import contact_groups as selectors
from groups.services import contact_groups as services
from groups.socket_frames import BUILT_IN_FRAME_FIELDS, SocketFrame, socket_frame
from groups.socket_wire import daphne_protocol, write_event

logger = logging.getLogger(__name__)

SEND_RATE_PER_SECOND = 5  # sustained messages per socket; bursts up to SEND_BURST
SEND_BURST = 20
FLOOD_STRIKES_BEFORE_CLOSE = 50
TYPING_INTERVAL_SECONDS = 2


# A connect's reads wait on four round trips (session, user entry, presence, the groups' seqs). On channels' one
# database thread a reconnect storm queued behind them: 5,000 connects x 4 round trips, one at a time, was most of
# the storm (docs/performance.md). Connects take a few threads of their own (each with its own database connection).
CONNECT_THREADS = 4
_connect_threads = ThreadPoolExecutor(max_workers=CONNECT_THREADS, thread_name_prefix="socket-connect")


def _open_session(token) -> tuple[object | None, dict[int, int]]:
    """Everything a connecting socket needs from the database in ONE trip to the thread pool (each
    ``database_sync_to_async`` call is a thread hop plus Django's connection checks): the session's user with
    their roles, the person marked online, and {group id: last seq} of their groups."""
    user = user_for_token(token)
    if user is None:
        return None, {}
    presence_mark_online(user.pk)
    return user, selectors.group_seqs_for_user(user=user)


_open_session = database_sync_to_async(_open_session, thread_sensitive=False, executor=_connect_threads)


@database_sync_to_async
def _load_group_seqs(user) -> dict[int, int]:
    return selectors.group_seqs_for_user(user=user)


@database_sync_to_async
def _load_group_seq(user, group_id: int) -> int | None:
    membership = selectors.membership_for(user=user, group_id=group_id)
    return None if membership is None else membership.group.last_seq


@database_sync_to_async
def _load_missing(group_id: int, after: int) -> list[tuple[int, str]]:
    return [
        (m.seq, json.dumps({"type": "message", "group": group_id, "seq": m.seq, "message": message_payload(m)}))
        for m in selectors.messages_after(group_id=group_id, after=after)
    ]


@database_sync_to_async
def _send_message(user, group_id: int, frame: dict) -> tuple[int, bool]:
    body = {key: value for key, value in frame.items() if key not in ("type", "group")}
    message, created = message_send_from_input(user=user, group_id=group_id, data=body)
    return message.seq, created


@database_sync_to_async
def _mark_read(user, group_id: int, seq: int) -> int:
    group = ContactGroup.objects.get(pk=group_id)
    return services.group_mark_read(user=user, group=group, seq=seq).last_read_seq


@database_sync_to_async
def _group_members_on_duty(group_id: int) -> tuple[list[int], set[int]]:
    group = ContactGroup.objects.get(pk=group_id)
    member_ids = list(selectors.group_members(group=group).values_list("user_id", flat=True))
    return member_ids, selectors.on_duty_user_ids(alliance_id=group.alliance_id, user_ids=member_ids)


class LiveConsumer(AsyncWebsocketConsumer):
    # No channel of its own: sockets receive through their process's hub (groups/delivery.py). A channel per socket
    # would add a channel-layer read per socket and would tear every socket down whenever Redis blips. (An alias
    # that names no layer is how Channels is told so.)
    channel_layer_alias = "none: sockets receive through groups.delivery.hub"

    async def dispatch(self, message):
        # channels runs close_old_connections in a thread hop of its own before every message (the connect, each
        # frame, the close). Every database call of this consumer goes through database_sync_to_async, which does
        # that around the call in its thread anyway, so that hop only cost a thread round trip per socket and frame.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message):
        await self.disconnect(message["code"])  # without channels' extra hop (see dispatch); no layer groups here
        raise StopConsumer()

    async def connect(self):
        self.language = language_from_scope(self.scope)
        self.user = None
        self.token = None
        self.checked_at = 0.0
        self.auth_deadline = None
        self.topics: list[str] = []
        self.delivered: dict[int, int] = {}  # group id -> last seq sent to this socket
        self.pending: dict[int, list[dict]] = {}  # group id -> events held while catching up
        self.catch_up_locks: dict[int, asyncio.Lock] = {}
        self.awaiting_resync: set[int] = set()  # groups this socket fell too far behind in
        self.send_allowance = float(SEND_BURST)
        self.send_checked = time.monotonic()
        self.flood_strikes = 0
        self.typing_sent: dict[int, float] = {}
        self.wire = daphne_protocol(self.base_send)  # hub events skip ASGI when daphne serves us (socket_wire.py)
        await self.accept()
        token = token_from_query_string(self.scope)
        if token:
            with translation.override(self.language):
                await self._authenticate(token)
        else:
            loop = asyncio.get_running_loop()
            self.auth_deadline = loop.call_later(settings.WEBSOCKET_AUTH_TIMEOUT_SECONDS, self._auth_timed_out)

    def _auth_timed_out(self):
        if self.user is None:
            with translation.override(self.language):
                message = _("Send an auth message first.")
            asyncio.ensure_future(self.refuse(4408, GroupErrorCode.AUTH_TIMEOUT, message))

    async def _authenticate(self, token) -> None:
        read_at = time.monotonic()  # before the groups' seqs are read (see Hub.heard_all_after)
        user, group_seqs = await _open_session(token)
        if user is None:
            await self.refuse(
                4401,
                GroupErrorCode.NOT_AUTHENTICATED,
                _("Your session is invalid or has expired. Please log in again."),
            )
            return
        self.user, self.token, self.checked_at = user, token, time.monotonic()
        if self.auth_deadline:
            self.auth_deadline.cancel()
        await self._subscribe_all(group_seqs, read_at)
        await self.send_event(
            {
                "type": "hello",
                "user": {"id": user.pk, "display_name": user.display_name, "roles": sorted(user_roles(user))},
                "groups": {str(group_id): seq for group_id, seq in self.delivered.items()},
            }
        )

    async def _subscribe_all(self, group_seqs: dict[int, int], read_at: float) -> None:
        """Subscribe, and know each group's last seq as of the subscription: an event published around it is either
        held (and deduplicated against that seq) or arrives after it; nothing falls between the two.

        The seqs read before subscribing (at ``read_at``) do when this process's hub was already listening to each
        group before that read and has heard no line past it (``Hub.heard_all_after``): the usual case in a
        reconnect storm, where the first socket of each group has joined it. Otherwise they are read again, now
        that the socket is subscribed."""
        for group_id in group_seqs:
            self.pending[group_id] = []
        self.topics = [user_topic(self.user.pk)] + [group_topic(group_id) for group_id in group_seqs]
        await hub.subscribe(self, self.topics)
        settled = all(hub.heard_all_after(group_topic(g), read_at, seq) for g, seq in group_seqs.items())
        current = group_seqs if settled else await _load_group_seqs(self.user)
        for group_id, seq in current.items():
            self.delivered[group_id] = seq
            await self._flush(group_id)

    # --- events from the hub --------------------------------------------------------------------------------------

    async def hub_event(self, message: dict) -> None:
        group_id, seq = message.get("group"), message.get("seq")
        if seq is None:
            await self._user_or_ephemeral_event(message)
            return
        if group_id in self.awaiting_resync:
            return  # told to resync; the app fetches this line with the rest
        if group_id in self.pending:
            self.pending[group_id].append(message)
            return
        last = self.delivered.get(group_id)
        if last is None or seq <= last:
            return  # not (yet) ours, or a duplicate
        if seq == last + 1:
            self.delivered[group_id] = seq
            await self.send_hub_event(message)
            return
        # A hole: hold this event and fill from the database, without holding up other sockets.
        self.pending[group_id] = [message]
        asyncio.ensure_future(self._catch_up(group_id))

    async def _user_or_ephemeral_event(self, message: dict) -> None:
        event = message.get("event")
        if event is None:  # decoded once per event for all the process's sockets (they only read it)
            event = message["event"] = json.loads(message["payload"])
        kind = event.get("type")
        if kind == "group_joined":
            group_id = event["group"]
            self.pending[group_id] = []
            await hub.subscribe(self, [group_topic(group_id)])
            self.topics.append(group_topic(group_id))
            seq = await _load_group_seq(self.user, group_id)
            if seq is None:
                self.pending.pop(group_id, None)
                return
            self.delivered[group_id] = seq
            await self._flush(group_id)
        elif kind == "group_left":
            group_id = event["group"]
            await hub.unsubscribe(self, [group_topic(group_id)])
            self.delivered.pop(group_id, None)
            self.pending.pop(group_id, None)
        elif kind == "typing" and event.get("user", {}).get("id") == self.user.pk:
            return
        await self.send_hub_event(message)

    async def _catch_up(self, group_id: int, from_seq: int | None = None) -> None:
        """Send what this socket is missing in a group, from the database, then what was held meanwhile.

        One catch-up per group at a time (a lock); every line is checked against the last delivered seq, so
        overlapping catch-ups and live events can neither repeat a line nor skip one."""
        async with self.catch_up_locks.setdefault(group_id, asyncio.Lock()):
            self.pending.setdefault(group_id, [])
            if from_seq is not None:
                self.delivered[group_id] = from_seq
            try:
                rows = await _load_missing(group_id, self.delivered[group_id])
            except Exception:  # noqa: BLE001 - the database hiccuped: tell the app to resync rather than lose order
                logger.exception("live delivery: catch-up failed")
                rows = None
            if rows is None or len(rows) >= selectors.RESYNC_BATCH:
                # Too far behind for the socket (or no database): the app pages the gap over REST, then resyncs.
                delivered = self.delivered[group_id]
                for seq, payload in rows or []:
                    if seq == delivered + 1:
                        delivered = seq
                        await self.send(text_data=payload)
                self.delivered[group_id] = delivered
                # Live lines for this group wait until the app has paged the gap and sends resync.
                self.awaiting_resync.add(group_id)
                self.pending.pop(group_id, None)
                await self.send_event({"type": "resync_required", "group": group_id, "from_seq": delivered})
                return
            else:
                for seq, payload in rows:
                    if seq == self.delivered[group_id] + 1:
                        self.delivered[group_id] = seq
                        await self.send(text_data=payload)
            await self._flush(group_id)

    async def _flush(self, group_id: int) -> None:
        held = sorted(self.pending.pop(group_id, []), key=lambda message: message["seq"])
        for message in held:
            await self.hub_event(message)

    # --- frames from the client -----------------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        with translation.override(self.language):
            await self._receive(text_data if text_data is not None else bytes_data)

    async def _receive(self, raw) -> None:
        try:
            frame = json_loads_limited(raw, max_bytes=settings.WEBSOCKET_MAX_FRAME_BYTES) if raw else None
        except JSONTooLarge:
            message = _("Frames are limited to %(max)s bytes.") % {"max": settings.WEBSOCKET_MAX_FRAME_BYTES}
            await self.refuse(4413, GroupErrorCode.FRAME_TOO_LARGE, message)
            return
        except JSONTooDeep as refused:
            await self.send_error(GroupErrorCode.TOO_DEEPLY_NESTED, refused.message)
            return
        except ValueError:
            frame = None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.send_error(GroupErrorCode.MALFORMED, _('Frames must be JSON objects with a text "type".'))
            return

        if self.user is None and frame["type"] != "auth":
            await self.refuse(4401, GroupErrorCode.NOT_AUTHENTICATED, _("Authenticate first."))
            return
        registered = socket_frame(frame["type"])
        known = BUILT_IN_FRAME_FIELDS.get(frame["type"], registered.fields if registered else frame.keys())
        unknown = unknown_field_errors(frame, known | {"type"})
        if unknown:
            message = _("Some of the information you sent is not valid.")
            await self.send_error(GroupErrorCode.INVALID, message, fields=unknown, client_id=frame.get("client_id"))
            return
        if self.user is None:
            self.language = language_from_code(frame.get("lang")) or self.language
            translation.activate(self.language)
            await self._authenticate(frame.get("token"))
            return

        if time.monotonic() - self.checked_at >= settings.WEBSOCKET_SESSION_RECHECK_SECONDS:
            if await user_for_session_token(self.token) is None:
                await self.refuse(
                    4401, GroupErrorCode.SESSION_ENDED, _("This session was logged out. Please log in again.")
                )
                return
            self.checked_at = time.monotonic()
            presence_mark_online(self.user.pk)

        if frame["type"] in BUILT_IN_FRAME_FIELDS:
            await getattr(self, f"frame_{frame['type']}")(frame)
        elif registered is not None:
            await self.registered_frame(registered, frame)
        else:
            message = _("Unknown message type %(type)s.") % {"type": repr(frame["type"][:40])}
            await self.send_error(GroupErrorCode.UNKNOWN_TYPE, message)

    def _group_id(self, frame: dict) -> int | None:
        group_id = frame.get("group")
        if isinstance(group_id, str) and group_id.isdigit():
            group_id = int(group_id)
        if not isinstance(group_id, int) or isinstance(group_id, bool) or group_id not in self.delivered:
            return None
        return group_id

    async def frame_ping(self, frame: dict) -> None:
        await self.send_event({"type": "pong"})

    async def frame_send(self, frame: dict) -> None:
        if not self._allow_send():
            self.flood_strikes += 1
            if self.flood_strikes >= FLOOD_STRIKES_BEFORE_CLOSE:
                await self.refuse(4429, GroupErrorCode.FLOODING, _("Too many messages. Please slow down."))
            else:
                await self.send_rate_limited(client_id=frame.get("client_id"))
            return
        group_id = self._group_id(frame)
        if group_id is None:
            await self.send_refusal(ApplicationError.not_found(), client_id=frame.get("client_id"))
            return
        try:
            seq, created = await _send_message(self.user, group_id, frame)
        except Exception as error:  # noqa: BLE001 - refused as REST refuses it; anything else is re-raised
            await self.send_refusal(error, client_id=frame.get("client_id"))
            return
        await self.send_event(
            {"type": "sent", "group": group_id, "seq": seq, "client_id": frame.get("client_id", ""), "created": created}
        )

    def _allow_send(self) -> bool:
        now = time.monotonic()
        self.send_allowance = min(SEND_BURST, self.send_allowance + (now - self.send_checked) * SEND_RATE_PER_SECOND)
        self.send_checked = now
        if self.send_allowance < 1:
            return False
        self.send_allowance -= 1
        return True

    async def registered_frame(self, registered: SocketFrame, frame: dict) -> None:
        """A write another app owns (``flag``: a dispute flag, the quickest path when the app is already connected)."""
        if not self._allow_send():
            await self.send_rate_limited(client_id=frame.get("client_id"))
            return
        try:
            event = await database_sync_to_async(registered.handler)(self.user, frame)
        except Exception as error:  # noqa: BLE001 - refused as REST refuses it; anything else is re-raised
            await self.send_refusal(error, client_id=frame.get("client_id"))
            return
        await self.send_event(event)

    async def frame_resync(self, frame: dict) -> None:
        groups = frame.get("groups")
        if not isinstance(groups, dict):
            await self.send_error(GroupErrorCode.MALFORMED, _('resync needs "groups": {group id: last seq seen}.'))
            return
        for raw_id, last_seen in groups.items():
            group_id = self._group_id({"group": raw_id})
            if group_id is None or not is_id(last_seen, minimum=0):
                message = _("Cannot resync group %(group)s.") % {"group": repr(str(raw_id)[:20])}
                await self.send_error(GroupErrorCode.NOT_FOUND, message)
                continue
            self.awaiting_resync.discard(group_id)
            await self._catch_up(group_id, from_seq=last_seen)
        await self.send_event({"type": "resync_done", "groups": {str(k): v for k, v in self.delivered.items()}})

    async def frame_read(self, frame: dict) -> None:
        group_id = self._group_id(frame)
        seq = frame.get("seq")
        if group_id is None or not is_id(seq, minimum=0):
            await self.send_error(GroupErrorCode.MALFORMED, _("read needs a group of yours and a seq."))
            return
        await _mark_read(self.user, group_id, seq)

    async def frame_typing(self, frame: dict) -> None:
        group_id = self._group_id(frame)
        if group_id is None:
            await self.send_refusal(ApplicationError.not_found())
            return
        now = time.monotonic()
        if now - self.typing_sent.get(group_id, 0) < TYPING_INTERVAL_SECONDS:
            return
        self.typing_sent[group_id] = now
        event = {
            "type": "typing",
            "group": group_id,
            "user": {"id": self.user.pk, "display_name": self.user.display_name},
        }
        await database_sync_to_async(event_publish)(topics=[group_topic(group_id)], event=event, ephemeral=True)

    async def frame_presence(self, frame: dict) -> None:
        group_id = self._group_id(frame)
        if group_id is None:
            await self.send_refusal(ApplicationError.not_found())
            return
        member_ids, on_duty = await _group_members_on_duty(group_id)
        online = sorted(users_online(member_ids))
        await self.send_event({"type": "presence", "group": group_id, "online": online, "on_duty": sorted(on_duty)})

    # --- closing --------------------------------------------------------------------------------------------------

    async def disconnect(self, code):
        if self.auth_deadline:
            self.auth_deadline.cancel()
        if self.user is not None:
            await hub.unsubscribe(self, self.topics)
            if hub.local_count(user_topic(self.user.pk)) == 0:
                presence_mark_offline(self.user.pk)

    async def send_hub_event(self, message: dict) -> None:
        """An event from the hub, as the bytes framed once for all this process's sockets where daphne serves
        this one (groups/socket_wire.py), else through ASGI."""
        if self.wire is None or not write_event(self.wire, message):
            await self.send(text_data=message["payload"])

    async def send_event(self, event: dict) -> None:
        await self.send(text_data=json.dumps(event, ensure_ascii=False, default=str))

    async def send_error(self, code: str, message: str, **extra) -> None:
        await self.send_event(
            {"type": "error", "code": code, "message": message, **{k: v for k, v in extra.items() if v}}
        )

    async def send_rate_limited(self, **extra) -> None:
        await self.send_error(GroupErrorCode.RATE_LIMITED, _("Too many messages. Please slow down."), **extra)

    async def send_refusal(self, error: Exception, **extra) -> None:
        """A write refused as REST refuses it: the code, message and fields of REST's error body
        (``config.errors.error_answer``) as an ``error`` event. A real bug is raised again, as REST answers it 500."""
        answer = error_answer(error)
        if answer is None:
            raise error
        _status, body, _headers = answer
        await self.send_error(**body, **extra)

    async def refuse(self, close_code: int, code: str, message: str) -> None:
        await self.send_error(code, message)
        await self.close(code=close_code, reason=code)
