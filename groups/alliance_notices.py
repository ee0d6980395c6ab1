"""The live side of ``alliance``'s notices (``alliance.hooks.person_notice_hooks``): a reward request decided, a
store named a Safe Store. Durable (through the outbox, in the caller's transaction), since these are not repeated."""

from __future__ import annotations

from groups.events import event_publish, user_topic


def person_notice_send(*, user_ids: list[int], event: dict) -> None:
    event_publish(topics=[user_topic(user_id) for user_id in sorted(set(user_ids))], event=event, durable=True)
