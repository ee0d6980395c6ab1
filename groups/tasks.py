"""Periodic delivery work. Idempotent: an outbox row is marked sent once, claimed with SKIP LOCKED."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from groups.events import outbox_relay
from groups.models import OutboxEvent
from groups.services.shift_check_ins import shifts_close_due


@shared_task
def relay_outbox_task() -> int:
    return outbox_relay()


@shared_task
def purge_outbox_task() -> int:
    deleted, _by_model = OutboxEvent.objects.filter(sent_at__lt=timezone.now() - timedelta(days=7)).delete()
    return deleted


@shared_task
def close_forgotten_check_outs_task() -> int:
    """Shifts past their end (+ grace) whose volunteers never checked out: closed once, hours capped, leader told."""
    return shifts_close_due()
