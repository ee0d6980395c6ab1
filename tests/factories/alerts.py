"""Alerts, made through ``alliance``'s services as the police make them."""

from __future__ import annotations

from accounts.models import User
from alliance.alert_audience import AudienceSpec
from alliance.models import Alert, AlertKind, Station
from alliance.services.alerts import (
    AlertContent,
    alert_acknowledge,
    alert_create,
    alert_publish,
    alert_read,
    alert_withdraw,
)

__all__ = ["alert_acknowledge", "alert_make", "alert_read", "alert_withdraw"]


def alert_make(
    *,
    actor: User,
    station: Station,
    audience: dict,
    publish: bool = True,
    kind: str = AlertKind.ANTI_FRAUD,
    title: str = "警惕冒充客服退款诈骗",
    body: str = "近期有骗子冒充电商客服，以退款为由诱导商户转账。",
    **fields,
) -> Alert:
    """A draft written by ``actor`` (a police admin over ``station``), published at once unless ``publish`` is
    False; ``fields`` are the rest of AlertContent (severity, requires_ack, publish_at, ...)."""
    content = AlertContent(kind=kind, title=title, body=body, audience=AudienceSpec.from_json(audience), **fields)
    alert = alert_create(actor=actor, station=station, content=content)
    if publish:
        alert = alert_publish(actor=actor, alert=alert)
    return alert
