"""Reads on contact groups."""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery

from groups.models import ContactGroup, GroupMembership, Message

RESYNC_BATCH = 500


def memberships_for_user(*, user) -> QuerySet[GroupMembership]:
    """The user's groups with their unread count (lines after last_read_seq that are not system lines)."""
    last_message = Message.objects.filter(group=OuterRef("group")).order_by("-seq")
    return (
        GroupMembership.objects.filter(user=user, group__is_archived=False)
        .select_related("group", "group__alliance")
        .annotate(
            unread=Count(
                "group__messages",
                filter=Q(group__messages__seq__gt=F("last_read_seq"))
                & ~Q(group__messages__kind=Message.Kind.SYSTEM)
                & Q(group__messages__deleted_at__isnull=True),
            ),
            last_message_at=Subquery(last_message.values("created_at")[:1]),
        )
        .order_by("-group__last_seq", "group_id")
    )


def membership_for(*, user, group_id: int) -> GroupMembership | None:
    """The user's membership in a group, or None: callers answer 404, so no one learns a group they are not in."""
    return GroupMembership.objects.select_related("group").filter(user=user, group_id=group_id).first()


@cache
def _group_seqs_sql() -> str:
    # The table names are the models' own; the user id is a parameter.
    sql = 'SELECT m."group_id", g."last_seq" FROM "{}" m JOIN "{}" g ON g."id" = m."group_id" '  # noqa: S608
    return sql.format(GroupMembership._meta.db_table, ContactGroup._meta.db_table) + (
        'WHERE m."user_id" = %s AND NOT g."is_archived"'
    )


def group_seqs_for_user(*, user) -> dict[int, int]:
    """{group id: last seq} for every group the user is in (not archived): what a socket subscribes to.

    Every connecting socket runs it, so it is one plain statement: building the same query with the ORM
    (``filter(user=user, group__is_archived=False).values_list(...)``) cost more CPU than running it, a tenth of a
    connect in a reconnect storm (docs/performance.md)."""
    with connection.cursor() as cursor:
        cursor.execute(_group_seqs_sql(), [user.pk])
        return dict(cursor.fetchall())


def messages_page(*, group: ContactGroup, before: int | None = None, after: int | None = None, limit: int = 50):
    """History by sequence number: ``before`` pages back (newest first within the page), ``after`` pages forward."""
    qs = Message.objects.filter(group=group).select_related("sender")
    if after is not None:
        return list(qs.filter(seq__gt=after).order_by("seq")[:limit])
    if before is not None:
        qs = qs.filter(seq__lt=before)
    return list(reversed(qs.order_by("-seq")[:limit]))


def messages_after(*, group_id: int, after: int) -> list[Message]:
    """At most RESYNC_BATCH lines after ``after``, oldest first: what a socket catching up sends in one go."""
    qs = Message.objects.filter(group_id=group_id, seq__gt=after).select_related("sender").order_by("seq")
    return list(qs[:RESYNC_BATCH])


def pinned_notices(*, group: ContactGroup) -> QuerySet[Message]:
    return Message.objects.filter(group=group, is_pinned=True, deleted_at__isnull=True).select_related("sender")


def group_members(*, group: ContactGroup) -> QuerySet[GroupMembership]:
    return GroupMembership.objects.filter(group=group).select_related("user").order_by("id")


def on_duty_user_ids(*, alliance_id: int, user_ids: list[int]) -> set[int]:
    """Which of these people are on duty in the group's alliance: responders the app can dispatch."""
    from alliance.models import AllianceMembership

    return set(
        AllianceMembership.objects.filter(alliance_id=alliance_id, user_id__in=user_ids, on_duty=True).values_list(
            "user_id", flat=True
        )
    )
