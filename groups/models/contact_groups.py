"""Contact groups and their messages: the WeChat groups the alliances run on today, with nothing lost.

Every change a group's members must see is a :class:`Message` row with the group's next sequence number: texts,
images, locations, case cards, pinned notices, and system lines (someone joined, a message was deleted, a card
changed). So "everything since seq N" is one indexed query, which is what a reconnecting phone asks for.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ContactGroup(models.Model):
    class Kind(models.TextChoices):
        MAIN = "main", _("Contact group")  # 联系群
        PREVENTION = "prevention", _("Anti-fraud prevention group")  # 防宣群
        TEAM = "team", _("Team group")

    class PostingPolicy(models.TextChoices):
        EVERYONE = "everyone", _("Every member may post")
        ADMINS = "admins", _("Only police and group admins post")

    alliance = models.ForeignKey(
        "alliance.Alliance", verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="contact_groups"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=500, blank=True)
    posting_policy = models.CharField(
        _("who may post"), max_length=16, choices=PostingPolicy.choices, default=PostingPolicy.EVERYONE
    )
    last_seq = models.BigIntegerField(_("last sequence number"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    is_archived = models.BooleanField(_("archived"), default=False)

    class Meta:
        verbose_name = _("contact group")
        verbose_name_plural = _("contact groups")
        ordering = ["alliance", "kind", "name"]
        constraints = [
            # One main and one prevention group per alliance; any number of team groups.
            models.UniqueConstraint(
                fields=["alliance", "kind"], condition=~Q(kind="team"), name="one_main_and_prevention_group"
            )
        ]

    def __str__(self) -> str:
        return self.name


class GroupMembership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        ADMIN = "admin", _("Group admin")

    group = models.ForeignKey(
        ContactGroup, verbose_name=_("group"), on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="group_memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now)
    last_read_seq = models.BigIntegerField(_("last read sequence number"), default=0)
    is_muted = models.BooleanField(_("muted"), default=False)

    class Meta:
        verbose_name = _("group member")
        verbose_name_plural = _("group members")
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="one_membership_per_group")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.group}"


def message_image_path(message: Message, filename: str) -> str:
    return f"groups/{message.group_id}/{timezone.now():%Y/%m}/{filename}"


class Message(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        IMAGE = "image", _("Image")
        LOCATION = "location", _("Location")
        CARD = "card", _("Card")  # a dispute, an incident, an alert: payload says which
        NOTICE = "notice", _("Notice")  # posted by police, pinned
        SYSTEM = "system", _("System")  # joined, left, deleted, card updated: payload["event"] says which

    group = models.ForeignKey(ContactGroup, verbose_name=_("group"), on_delete=models.CASCADE, related_name="messages")
    seq = models.BigIntegerField(_("sequence number"))
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sender"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    body = models.TextField(_("text"), blank=True)
    image = models.ImageField(_("image"), upload_to=message_image_path, blank=True)
    thumbnail = models.ImageField(_("thumbnail"), upload_to=message_image_path, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    payload = models.JSONField(_("data"), default=dict, blank=True)
    client_id = models.CharField(
        _("client id"), max_length=64, blank=True, help_text=_("Set by the app so a resent message is stored once.")
    )
    is_pinned = models.BooleanField(_("pinned"), default=False)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deleted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["group", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["group", "seq"], name="gap_free_seq_per_group"),
            models.UniqueConstraint(
                fields=["group", "sender", "client_id"], condition=~Q(client_id=""), name="client_id_once_per_sender"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group} #{self.seq}"


class OutboxEvent(models.Model):
    """A live event that must not be lost: written in the same transaction as the change it announces, relayed to
    the channel layer after commit, and again by a periodic task for as long as Redis is unreachable."""

    topics = models.JSONField(_("topics"))
    payload = models.TextField(_("event"))
    meta = models.JSONField(_("routing data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        indexes = [models.Index(fields=["id"], condition=Q(sent_at__isnull=True), name="outbox_unsent")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.topics}"
