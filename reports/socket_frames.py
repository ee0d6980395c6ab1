"""The ``flag`` frame of the live channel: a dispute flag from the app's open socket, the quickest path when it is
already connected. Registered with groups' frame registry (groups/socket_frames.py) from ``ReportsConfig.ready()``:
``groups`` is below ``reports`` and does not import it.

The frame carries ``alliance`` (the id in REST's path) and the body of ``POST /api/v1/alliances/{id}/disputes`` but
``photos`` (a socket carries no files), and goes through that operation's own path, ``dispute_flag_from_input``.
"""

from __future__ import annotations

from django.http import Http404

from config.converters import is_id
from config.serializers import input_fields
from groups.socket_frames import socket_frame_register
from reports.apis.disputes import DisputeFlagInput, dispute_flag_from_input


def _flag(user, frame: dict) -> dict:
    alliance_id = frame.get("alliance")
    if not is_id(alliance_id):
        raise Http404  # names no alliance: answered as REST answers an alliance that is not yours
    body = {key: value for key, value in frame.items() if key not in ("type", "alliance")}
    dispute = dispute_flag_from_input(user=user, alliance_id=alliance_id, data=body)
    return {
        "type": "flagged",
        "client_id": frame.get("client_id", ""),
        "dispute": {"id": dispute.pk, "status": dispute.status, "level": dispute.level},
    }


socket_frame_register("flag", _flag, fields={"alliance"} | (input_fields(DisputeFlagInput) - {"photos"}))
