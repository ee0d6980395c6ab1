"""The one WebSocket of the app, at ``/ws/``: authentication now; groups, messages and case events build on it.

Every refusal is an ``error`` event (``code``, ``message``) followed, where the socket cannot go on, by a close with
a 4xxx code: 4400 bad frame, 4401 not authenticated or session ended, 4408 no auth in time, 4413 frame too large.
The event carries the reason because daphne does not pass close reasons on to the client.
"""

from __future__ import annotations

import asyncio
import json
import time

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from accounts.permissions import user_roles
from accounts.websocket import token_from_query_string, user_for_session_token


class LiveConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.user = None
        self.token = None
        self.checked_at = 0.0
        self.auth_deadline = None
        await self.accept()
        token = token_from_query_string(self.scope)
        if token:
            await self._authenticate(token)
        else:
            loop = asyncio.get_running_loop()
            self.auth_deadline = loop.call_later(settings.WEBSOCKET_AUTH_TIMEOUT_SECONDS, self._auth_timed_out)

    def _auth_timed_out(self):
        if self.user is None:
            asyncio.ensure_future(self.refuse(4408, "auth_timeout", "Send an auth message first"))

    async def _authenticate(self, token) -> None:
        user = await user_for_session_token(token)
        if user is None:
            await self.refuse(4401, "not_authenticated", "Session token invalid or expired: log in again")
            return
        self.user, self.token, self.checked_at = user, token, time.monotonic()
        if self.auth_deadline:
            self.auth_deadline.cancel()
        await self.send_event(
            {
                "type": "hello",
                "user": {"id": user.pk, "display_name": user.display_name, "roles": sorted(user_roles(user))},
            }
        )

    async def receive(self, text_data=None, bytes_data=None):
        raw = text_data if text_data is not None else bytes_data
        if raw is not None and len(raw) > settings.WEBSOCKET_MAX_FRAME_BYTES:
            await self.refuse(
                4413, "frame_too_large", f"Frames are limited to {settings.WEBSOCKET_MAX_FRAME_BYTES} bytes"
            )
            return
        try:
            message = json.loads(raw)
        except (TypeError, ValueError):
            await self.send_error("malformed", "Frames must be JSON objects")
            return
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.send_error("malformed", "Frames need a string 'type'")
            return

        if self.user is None:
            if message["type"] != "auth":
                await self.refuse(4401, "not_authenticated", "Authenticate first")
                return
            await self._authenticate(message.get("token"))
            return

        if time.monotonic() - self.checked_at >= settings.WEBSOCKET_SESSION_RECHECK_SECONDS:
            if await user_for_session_token(self.token) is None:
                await self.refuse(4401, "session_ended", "This session was logged out")
                return
            self.checked_at = time.monotonic()

        if message["type"] == "ping":
            await self.send_event({"type": "pong"})
        else:
            await self.send_error("unknown_type", f"Unknown message type {message['type'][:40]!r}")

    async def disconnect(self, code):
        if self.auth_deadline:
            self.auth_deadline.cancel()

    async def send_event(self, event: dict) -> None:
        await self.send(text_data=json.dumps(event, ensure_ascii=False, default=str))

    async def send_error(self, code: str, message: str) -> None:
        await self.send_event({"type": "error", "code": code, "message": message})

    async def refuse(self, close_code: int, code: str, message: str) -> None:
        await self.send_error(code, message)
        await self.close(code=close_code, reason=code)
