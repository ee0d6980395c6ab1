"""Periodic housekeeping for accounts. Each task is idempotent: running it twice deletes nothing more."""

from celery import shared_task
from django.core.management import call_command

from accounts.idempotency import idempotency_records_purge
from accounts.services import users_unverified_purge


@shared_task
def purge_expired_sessions_task() -> None:
    call_command("clearsessions")


@shared_task
def purge_idempotency_records_task() -> int:
    return idempotency_records_purge()


@shared_task
def purge_unverified_signups_task() -> int:
    """Sign-ups never verified within a day hold a number nobody proved (twenty a minute from one address)."""
    return users_unverified_purge()
