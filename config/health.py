"""Liveness and readiness probes for load balancers and the README walk-through."""

from __future__ import annotations

import asyncio
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request):
    """The process is up and serving; says nothing about its dependencies on purpose."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _round_trip_channel_layer() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel("readyz.")
    token = uuid.uuid4().hex
    await layer.send(channel, {"type": "readyz.ping", "token": token})
    message = await asyncio.wait_for(layer.receive(channel), timeout=2)
    if message.get("token") != token:
        raise RuntimeError("channel layer returned another message")


def _check_channel_layer() -> None:
    async_to_sync(_round_trip_channel_layer)()


def _check_broker() -> None:
    from config.celery_app import app

    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


CHECKS = {"database": _check_database, "channel_layer": _check_channel_layer, "broker": _check_broker}


@never_cache
@require_GET
def readyz(request):
    """Every dependency a request may touch: 200 when all answer, 503 naming the ones that did not."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", and the name says which
            results[name] = f"failed: {type(exc).__name__}"
    failed = sorted(name for name, result in results.items() if result != "ok")
    return JsonResponse(
        {"status": "ok" if not failed else "unavailable", "checks": results, "failed": failed},
        status=200 if not failed else 503,
    )
