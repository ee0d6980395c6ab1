"""Escalation timers. Deadlines live in the database; this sweep fires what is due, exactly once per deadline."""

from celery import shared_task

from reports.services.disputes import disputes_escalate_due


@shared_task
def escalate_due_disputes_task() -> int:
    return disputes_escalate_due()
