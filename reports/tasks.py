"""Escalation timers. Deadlines live in the database; this sweep fires what is due, exactly once per deadline."""

from celery import shared_task

from reports.services.disputes import disputes_escalate_due
from reports.store_scores import hidden_dangers_overdue_record


@shared_task
def escalate_due_disputes_task() -> int:
    return disputes_escalate_due()


@shared_task
def hidden_dangers_overdue_task() -> int:
    """Hidden dangers left open past ``SAFE_STORE_HIDDEN_DANGER_FIX_DAYS`` count against the stores near them, once."""
    return hidden_dangers_overdue_record()
