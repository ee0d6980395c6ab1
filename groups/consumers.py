"""The one WebSocket of the app, at ``/ws/``: authentication now; groups, messages and case events build on it.

Close codes (4xxx, with a reason): 4400 bad frame, 4401 not authenticated or session ended, 4408 no auth in time,
4413 frame too large.
"""

from __future__ import annotations

import asyncio
import json
import time

from channels.generic.websocket import AsyncWebsocketConsumer

from accounts.permissions import user_roles
from accounts.websocket import token_from_query_string, user_for_session_token

AUTH_TIMEOUT_SECONDS = 10
MAX_FRAME_BYTES = 64 * 1024
# A revoked session stops working on an open socket within this long (checked when the client next speaks).
SESSION_RECHECK_SECONDS = 30


class LiveConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.user = None
        self.token = None
        self.checked_at = 0.0
        await self.accept()
        token = token_from_query_string(self.scope)
        if token:
            await self._authenticate(token)
        else:
            self.auth_deadline = asyncio.get_running_loop().call_later(AUTH_TIMEOUT_SECONDS, self._auth_timed_out)

    def _auth_timed_out(self):
        if self.user is None:
            asyncio.ensure_future(self.close(code=4408, reason="auth timeout"))

    async def _authenticate(self, token: str) -> bool:
        user = await user_for_session_token(token)
        if user is None:
            await self.send_event({"type": "error", "code": "not_authenticated", "message": "Session token invalid"})
            await self.close(code=4401, reason="not authenticated")
            return False
        self.user, self.token, self.checked_at = user, token, time.monotonic()
        if getattr(self, "auth_deadline", None):
            self.auth_deadline.cancel()
        await self.send_event(
            {
                "type": "hello",
                "user": {"id": user.pk, "display_name": user.display_name, "roles": sorted(user_roles(user))},
            }
        )
        return True

    async def receive(self, text_data=None, bytes_data=None):
        raw = text_data if text_data is not None else bytes_data
        if raw is not None and len(raw) > MAX_FRAME_BYTES:
            await self.close(code=4413, reason="frame too large")
            return
        try:
            message = json.loads(raw)
        except (TypeError, ValueError):
            await self.send_event({"type": "error", "code": "malformed", "message": "Frames must be JSON objects"})
            return
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.send_event({"type": "error", "code": "malformed", "message": "Frames need a string 'type'"})
            return

        if self.user is None:
            if message["type"] != "auth":
                await self.close(code=4401, reason="authenticate first")
                return
            await self._authenticate(message.get("token"))
            return

        if time.monotonic() - self.checked_at > SESSION_RECHECK_SECONDS:
            if await user_for_session_token(self.token) is None:
                await self.close(code=4401, reason="session ended")
                return
            self.checked_at = time.monotonic()

        if message["type"] == "ping":
            await self.send_event({"type": "pong"})
        else:
            await self.send_event(
                {"type": "error", "code": "unknown_type", "message": f"Unknown message type {message['type'][:40]!r}"}
            )

    async def disconnect(self, code):
        if getattr(self, "auth_deadline", None):
            self.auth_deadline.cancel()

    async def send_event(self, event: dict) -> None:
        await self.send(text_data=json.dumps(event, ensure_ascii=False, default=str))
