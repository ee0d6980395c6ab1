"""One rendering of times for everything the API says: REST bodies, live events, group lines and case cards.

DRF renders a ``DateTimeField`` in the current time zone (Asia/Shanghai) as ISO 8601; live events used to render the
same moment with ``datetime.isoformat()`` (UTC as stored) or ``DjangoJSONEncoder`` (UTC, milliseconds), so an app saw
``+00:00`` on the socket and ``+08:00`` over REST for the same case. Everything now goes through DRF's own field.
"""

from __future__ import annotations

import datetime

from django.core.serializers.json import DjangoJSONEncoder
from rest_framework.fields import DateTimeField

_FIELD = DateTimeField()


def api_datetime(moment: datetime.datetime | None) -> str | None:
    """``moment`` exactly as a REST answer shows it (``None`` stays ``None``)."""
    return _FIELD.to_representation(moment) if moment else None


class ApiJSONEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder (decimals, UUIDs, dates) with datetimes rendered as REST renders them."""

    def default(self, o):
        if isinstance(o, datetime.datetime):
            return api_datetime(o)
        return super().default(o)
