"""Safety tips and schedules, made through the tip services as a police admin makes them."""

from __future__ import annotations

from datetime import time

from alliance.alert_audience import AudienceSpec
from alliance.models import Station, Tip, TipSchedule, TipTopic
from alliance.services.tips import TipScheduleFields, tip_create, tip_schedule_create


def tip_make(*, station: Station | None, by, topic: str = TipTopic.FIRE, title: str = "用火安全", **fields) -> Tip:
    """A tip of ``station``'s library (``by`` a police admin of it), or the city-wide one (``by`` a superuser)."""
    return tip_create(
        actor=by,
        station=station,
        topic=topic,
        title_zh=title,
        body_zh=fields.pop("body_zh", f"{title}：出摊前检查气罐。"),
        title_en=fields.pop("title_en", "Fire safety"),
        body_en=fields.pop("body_en", "Check the gas cylinder before opening."),
        **fields,
    )


def schedule_make(
    *,
    station: Station,
    by,
    audience: AudienceSpec,
    name: str = "每晚七点夜市提示",
    time_of_day: time = time(19, 0),
    **fields,
) -> TipSchedule:
    return tip_schedule_create(
        actor=by,
        station=station,
        values=TipScheduleFields(name=name, audience=audience, time_of_day=time_of_day, **fields),
    )
