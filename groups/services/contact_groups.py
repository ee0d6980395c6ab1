"""Writes on contact groups: creating them, who is in them, and every message, notice and system line.

Every function that adds a line to a group goes through :func:`_append`, which takes the group's next sequence
number under the group row's lock (so numbers are gap-free and in commit order) and publishes the line after commit.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import ApplicationError
from groups.error_codes import GroupErrorCode
from groups.events import event_publish, group_topic, user_topic
from groups.models import ContactGroup, GroupMembership, Message
from groups.permissions import (
    can_create_team_group,
    can_delete_message,
    can_manage_team_group,
    can_post_in_group,
    can_post_notice,
)
from groups.presentation import message_payload
from groups.store_scores import group_participation_record

MAX_TEXT_LENGTH = 4000


# --- groups and membership ----------------------------------------------------------------------------------------


@transaction.atomic
def contact_groups_create_defaults(*, alliance) -> list[ContactGroup]:
    """Every alliance has its contact group (联系群) and its anti-fraud prevention group (防宣群, police post)."""
    main, _created = ContactGroup.objects.get_or_create(
        alliance=alliance,
        kind=ContactGroup.Kind.MAIN,
        defaults={"name": f"{alliance.name}联系群"},
    )
    prevention, _created = ContactGroup.objects.get_or_create(
        alliance=alliance,
        kind=ContactGroup.Kind.PREVENTION,
        defaults={"name": f"{alliance.name}防宣群", "posting_policy": ContactGroup.PostingPolicy.ADMINS},
    )
    return [main, prevention]


@transaction.atomic
def contact_groups_member_joined(*, alliance, user, admin: bool = False) -> None:
    """A new alliance member joins the alliance's main and prevention groups (team groups are by invitation)."""
    for group in contact_groups_create_defaults(alliance=alliance):
        group_member_add(group=group, user=user, role=GroupMembership.Role.ADMIN if admin else None)


@transaction.atomic
def contact_groups_member_left(*, alliance, user) -> None:
    """Leaving (or being removed from) an alliance leaves all of its groups, team groups included."""
    for membership in GroupMembership.objects.filter(group__alliance=alliance, user=user).select_related("group"):
        group_member_remove(group=membership.group, user=user)


def group_member_add(*, group: ContactGroup, user, role: str | None = None) -> GroupMembership:
    """Idempotent: adding a member twice changes nothing (except raising them to admin when asked)."""
    with transaction.atomic():
        membership, created = GroupMembership.objects.get_or_create(
            group=group, user=user, defaults={"role": role or GroupMembership.Role.MEMBER, "last_read_seq": 0}
        )
        if not created and role and membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
        if created:
            line = _append(group=group, kind=Message.Kind.SYSTEM, payload=_member_event("member_joined", user))
            # They start "read" up to their own join line: history before it is there, but not unread.
            membership.last_read_seq = line.seq
            membership.save(update_fields=["last_read_seq"])
            event_publish(topics=[user_topic(user.pk)], event={"type": "group_joined", "group": group.pk})
    return membership


def group_member_remove(*, group: ContactGroup, user) -> None:
    with transaction.atomic():
        deleted, _by_model = GroupMembership.objects.filter(group=group, user=user).delete()
        if deleted:
            _append(group=group, kind=Message.Kind.SYSTEM, payload=_member_event("member_left", user))
            event_publish(topics=[user_topic(user.pk)], event={"type": "group_left", "group": group.pk})


def _member_event(event: str, user) -> dict:
    return {"event": event, "user": {"id": user.pk, "display_name": user.display_name}}


def _require_alliance_members(*, alliance, user_ids: list[int]) -> list:
    from alliance.models import AllianceMembership

    members = {m.user_id: m.user for m in AllianceMembership.objects.filter(alliance=alliance, user_id__in=user_ids)}
    missing = [user_id for user_id in user_ids if user_id not in members]
    if missing:
        raise ApplicationError(
            GroupErrorCode.NOT_ALLIANCE_MEMBERS,
            _("Only members of the alliance can be added to its groups."),
            fields={"members": [_("Not members of this alliance: %(ids)s") % {"ids": ", ".join(map(str, missing))}]},
        )
    return [members[user_id] for user_id in user_ids]


@transaction.atomic
def team_group_create(*, actor, access, name: str, description: str = "", member_ids: list[int]) -> ContactGroup:
    """A team group (a patrol team, a mall's staff) with its creator as admin and the given alliance members."""
    if not can_create_team_group(actor, access):
        raise ApplicationError.permission_denied(
            _("Only alliance admins, police liaisons and mall managers create team groups.")
        )
    members = _require_alliance_members(alliance=access.alliance, user_ids=[i for i in dict.fromkeys(member_ids)])
    group = ContactGroup.objects.create(
        alliance=access.alliance, kind=ContactGroup.Kind.TEAM, name=name, description=description
    )
    group_member_add(group=group, user=actor, role=GroupMembership.Role.ADMIN)
    for user in members:
        group_member_add(group=group, user=user)
    return group


@transaction.atomic
def team_group_member_add(*, actor, group: ContactGroup, user_id: int) -> GroupMembership:
    if not can_manage_team_group(actor, _membership_for(group=group, user=actor)):
        raise (
            ApplicationError.not_found()
            if _membership_for(group=group, user=actor) is None
            else ApplicationError.permission_denied(_("Only the team group's admins add people."))
        )
    [user] = _require_alliance_members(alliance=group.alliance, user_ids=[user_id])
    return group_member_add(group=group, user=user)


@transaction.atomic
def team_group_member_remove(*, actor, group: ContactGroup, user_id: int) -> None:
    """Group admins remove people from a team group; anyone may leave one."""
    membership = _membership_for(group=group, user=actor)
    if membership is None:
        raise ApplicationError.not_found()
    if group.kind != ContactGroup.Kind.TEAM:
        raise ApplicationError(
            GroupErrorCode.MEMBERSHIP_FOLLOWS_ALLIANCE,
            _("Membership of this group follows the alliance."),
            status_code=409,
        )
    if user_id != actor.pk and not can_manage_team_group(actor, membership):
        raise ApplicationError.permission_denied(_("Only the team group's admins remove people."))
    if not GroupMembership.objects.filter(group=group, user_id=user_id).exists():
        raise ApplicationError.not_found()
    group_member_remove(group=group, user=GroupMembership.objects.get(group=group, user_id=user_id).user)


# --- lines in a group ---------------------------------------------------------------------------------------------


def _can_update_returning() -> bool:
    """PostgreSQL, and SQLite from 3.35 on (Django 5.2 still supports 3.31)."""
    return connection.features.can_return_columns_from_insert


def _seq_taken(where: str, params: list) -> tuple[int, int] | None:
    """Take the next sequence number of the group matching ``where``: (group id, number), None when no group
    matches. The UPDATE locks the group's row until commit; RETURNING reads the new value in the same statement
    (Django's update() cannot), one round trip less on every line posted."""
    if not connection.in_atomic_block:
        raise TransactionManagementError("a group line must be appended inside the caller's transaction")
    table = connection.ops.quote_name(ContactGroup._meta.db_table)
    if not _can_update_returning():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {table} WHERE {where}", params)  # noqa: S608 - our own table and columns
            row = cursor.fetchone()
        if row is None:
            return None
        group_id = row[0]
        ContactGroup.objects.filter(pk=group_id).update(last_seq=F("last_seq") + 1)
        return group_id, ContactGroup.objects.values_list("last_seq", flat=True).get(pk=group_id)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET last_seq = last_seq + 1 WHERE {where} RETURNING id, last_seq", params)  # noqa: S608 - our own table and columns
        row = cursor.fetchone()
    return None if row is None else (row[0], row[1])


def _next_seq(group_id: int) -> int:
    taken = _seq_taken("id = %s", [group_id])
    if taken is None:
        raise ContactGroup.DoesNotExist(f"contact group {group_id} does not exist")
    return taken[1]


def _append(*, group: ContactGroup, kind: str, sender=None, **fields) -> Message:
    """Add one line with the group's next sequence number. Caller holds a transaction; the UPDATE takes the group
    row's lock until commit, so concurrent senders queue here."""
    seq = _next_seq(group.pk)
    group.last_seq = seq
    return _line_write(group_id=group.pk, seq=seq, kind=kind, sender=sender, group=group, **fields)


def _line_write(*, group_id: int, seq: int, kind: str, sender=None, group: ContactGroup | None = None, **fields):
    """The line itself, and its live event after commit."""
    owner = {"group": group} if group is not None else {"group_id": group_id}
    message = Message.objects.create(**owner, seq=seq, kind=kind, sender=sender, **fields)
    event_publish(
        topics=[group_topic(group_id)],
        event={"type": "message", "group": group_id, "seq": seq, "message": message_payload(message)},
    )
    return message


def _membership_for(*, group: ContactGroup, user) -> GroupMembership | None:
    return GroupMembership.objects.select_related("group").filter(group=group, user=user).first()


def message_send(
    *,
    sender,
    group: ContactGroup,
    kind: str = Message.Kind.TEXT,
    body: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    payload: dict | None = None,
    client_id: str = "",
    image=None,
    thumbnail=None,
) -> tuple[Message, bool]:
    """Post a text, location, image or card. Returns (message, created); a repeated ``client_id`` from the same
    sender returns the stored message instead of a second copy (phones resend when an answer is lost). A sender who
    owns or staffs a store of the alliance gives it a day of group participation (groups/store_scores.py)."""
    membership = _membership_for(group=group, user=sender)
    if membership is None:
        raise ApplicationError.not_found()
    if not can_post_in_group(sender, membership):
        raise ApplicationError(
            GroupErrorCode.POSTING_RESTRICTED,
            _("Only the police and group admins post in this group."),
            status_code=403,
        )
    if group.is_archived:
        raise ApplicationError(GroupErrorCode.GROUP_ARCHIVED, _("This group is archived."), status_code=409)
    if client_id:
        existing = Message.objects.filter(group=group, sender=sender, client_id=client_id).first()
        if existing:
            return existing, False
    fields = {"body": body, "payload": payload or {}, "client_id": client_id}
    if kind == Message.Kind.LOCATION:
        fields.update(latitude=latitude, longitude=longitude)
    if image is not None:
        fields.update(image=image, thumbnail=thumbnail)
    try:
        with transaction.atomic():
            message = _append(group=group, kind=kind, sender=sender, **fields)
            # A merchant or their staff taking part in the alliance's groups counts for their stores' Safe Store
            # score, once a day: one INSERT ... ON CONFLICT DO NOTHING, which inserts nothing for everyone else.
            group_participation_record(message=message, alliance_id=group.alliance_id)
            return message, True
    except IntegrityError:
        # The same client_id raced in from a second connection; the first one stored it.
        existing = Message.objects.filter(group=group, sender=sender, client_id=client_id).first()
        if existing is None:
            raise
        return existing, False


def card_post(*, group: ContactGroup, sender, card: dict) -> Message:
    """A structured card (a dispute flag, an incident, an alert) in a group. Caller holds a transaction."""
    return _append(group=group, kind=Message.Kind.CARD, sender=sender, payload=card)


def main_group_card_post(*, alliance, sender, card: dict) -> Message | None:
    """A card in the alliance's contact group (联系群), None if it has none. The group is found by the UPDATE that
    takes its next sequence number: no read before it. Caller holds a transaction."""
    taken = _seq_taken("alliance_id = %s AND kind = %s", [alliance.pk, ContactGroup.Kind.MAIN.value])
    if taken is None:
        return None
    group_id, seq = taken
    return _line_write(group_id=group_id, seq=seq, kind=Message.Kind.CARD, sender=sender, payload=card)


def card_update(*, message: Message, card: dict) -> Message:
    """The card's current state replaces its payload (history shows it as it is now), and a system line tells
    every member's app to redraw it. Caller holds a transaction."""
    message.payload = card
    message.save(update_fields=["payload"])
    _append(
        group=message.group,
        kind=Message.Kind.SYSTEM,
        payload={"event": "card_updated", "target_seq": message.seq, "card": card},
    )
    return message


@transaction.atomic
def notice_post(*, actor, group: ContactGroup, body: str) -> Message:
    """A pinned notice (案件通报, safety tip) from the police; it stays on top of the group until unpinned."""
    membership = _membership_for(group=group, user=actor)
    if membership is None:
        raise ApplicationError.not_found()
    if not can_post_notice(actor, membership):
        raise ApplicationError.permission_denied(_("Only the police post notices."))
    return _append(group=group, kind=Message.Kind.NOTICE, sender=actor, body=body, is_pinned=True)


@transaction.atomic
def message_delete(*, actor, group: ContactGroup, seq: int) -> Message:
    """The author or an admin removes a message. The row stays as a tombstone so sequence numbers keep no holes,
    and a system line tells every member's app to hide it."""
    membership = _membership_for(group=group, user=actor)
    if membership is None:
        raise ApplicationError.not_found()
    message = Message.objects.select_for_update().filter(group=group, seq=seq).first()
    if message is None or message.kind == Message.Kind.SYSTEM:
        raise ApplicationError.not_found()
    if not can_delete_message(actor, membership, message):
        raise ApplicationError.permission_denied(_("You can only delete your own messages."))
    if message.deleted_at:
        return message
    for file_field in (message.image, message.thumbnail):
        if file_field:
            file_field.delete(save=False)
    message.body = ""
    message.payload = {}
    message.latitude = message.longitude = None
    message.is_pinned = False
    message.deleted_at = timezone.now()
    message.deleted_by = actor
    message.save()
    _append(
        group=group,
        kind=Message.Kind.SYSTEM,
        payload={"event": "message_deleted", "target_seq": seq, "by": {"id": actor.pk}},
    )
    return message


def group_mark_read(*, user, group: ContactGroup, seq: int) -> GroupMembership:
    """Read up to ``seq``. Never moves backwards, so an old device catching up cannot un-read newer messages."""
    membership = _membership_for(group=group, user=user)
    if membership is None:
        raise ApplicationError.not_found()
    seq = min(seq, group.last_seq)
    GroupMembership.objects.filter(pk=membership.pk, last_read_seq__lt=seq).update(last_read_seq=seq)
    membership.refresh_from_db(fields=["last_read_seq"])
    return membership


def group_mute(*, user, group: ContactGroup, muted: bool) -> GroupMembership:
    membership = _membership_for(group=group, user=user)
    if membership is None:
        raise ApplicationError.not_found()
    membership.is_muted = muted
    membership.save(update_fields=["is_muted"])
    return membership
