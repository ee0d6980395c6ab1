"""The points ledger: append-only entries per person and alliance, the balance kept beside them, and the rules.

Points are earned on verified evidence only (a check-in verified by position and time, a report accepted by the
police), never on a claim. Every entry carries a ``unique_key`` naming its evidence (``patrol_hours:place:42``), so
an award that runs twice, is retried or is redelivered after its worker died writes one entry. Nothing is edited or
deleted: a correction or the reversal of evidence (a report rejected after acceptance) is a new entry with the
opposite sign. The balance on :class:`PointsAccount` changes in the same transaction as the entry it sums; a nightly
check compares the two and reports any difference.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PointsReason(models.TextChoices):
    # Earned by evidence; each has a rule per alliance (amount and daily cap, PointsRule).
    PATROL_HOUR = "patrol_hour", _("Verified patrol hour")
    ROUTE_COMPLETED = "route_completed", _("Patrol route completed")
    HIDDEN_DANGER_CONFIRMED = "hidden_danger_confirmed", _("Hidden danger confirmed by the police")
    INCIDENT_ACCEPTED = "incident_accepted", _("Incident report accepted")
    DISPUTE_RESOLVED = "dispute_resolved", _("Dispute resolved as responder")
    ALERT_ACKNOWLEDGED = "alert_acknowledged", _("Alert acknowledged")
    MERCHANT_CONTRIBUTION = "merchant_contribution", _("Merchant contribution")
    # Written by people or by the ledger itself, never by a rule.
    REVERSAL = "reversal", _("Evidence reversed")
    CORRECTION = "correction", _("Correction by a police admin")
    REDEMPTION = "redemption", _("Reward redeemed")


# The reasons a rule governs (amount, daily cap); the others are never awarded by a rule.
RULED_REASONS = (
    PointsReason.PATROL_HOUR,
    PointsReason.ROUTE_COMPLETED,
    PointsReason.HIDDEN_DANGER_CONFIRMED,
    PointsReason.INCIDENT_ACCEPTED,
    PointsReason.DISPUTE_RESOLVED,
    PointsReason.ALERT_ACKNOWLEDGED,
    PointsReason.MERCHANT_CONTRIBUTION,
)


class PointsRule(models.Model):
    """How many points one unit of a reason earns in an alliance, and at most how many a person earns by it a day
    (Asia/Shanghai). An alliance without a row for a reason uses ``settings.POINTS_DEFAULT_RULES``."""

    alliance = models.ForeignKey(
        "alliance.Alliance", verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="points_rules"
    )
    reason = models.CharField(_("reason"), max_length=32, choices=[(r.value, r.label) for r in RULED_REASONS])
    amount = models.PositiveIntegerField(_("points per unit"))
    daily_cap = models.PositiveIntegerField(
        _("daily cap"), null=True, blank=True, help_text=_("At most this many points a day per person; empty: none.")
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")
        constraints = [models.UniqueConstraint(fields=["alliance", "reason"], name="one_points_rule_per_reason")]

    def __str__(self) -> str:
        return f"{self.alliance_id} {self.reason}: {self.amount}"


class PointsAccount(models.Model):
    """A person's points in one alliance. ``balance`` is the sum of their entries there, written in the same
    transaction as each entry; ``held`` is what their pending reward requests hold back. Locked (``FOR UPDATE``) by
    every write, so concurrent awards and redemptions queue on it and never overdraw."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="points_accounts"
    )
    alliance = models.ForeignKey(
        "alliance.Alliance", verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="points_accounts"
    )
    balance = models.IntegerField(_("balance"), default=0)
    held = models.PositiveIntegerField(_("held for pending requests"), default=0)
    updated_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            models.UniqueConstraint(fields=["user", "alliance"], name="one_points_account_per_alliance"),
            models.CheckConstraint(condition=Q(held__gte=0), name="points_held_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.alliance_id}: {self.balance}"

    @property
    def available(self) -> int:
        return self.balance - self.held


class PointsEntry(models.Model):
    """One line of the ledger. Append-only: never updated, never deleted (the admin offers no change)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="points_entries"
    )
    alliance = models.ForeignKey(
        "alliance.Alliance", verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="points_entries"
    )
    amount = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=32, choices=PointsReason.choices)
    # The evidence: "<app>.<model>" and its id (a place, a route round, an incident, a dispute, a redemption).
    source_type = models.CharField(_("evidence kind"), max_length=50, blank=True)
    source_id = models.BigIntegerField(_("evidence id"), null=True, blank=True)
    # What makes the award idempotent: one entry per key, however often the award runs.
    unique_key = models.CharField(_("unique key"), max_length=120, unique=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    # The entry this one reverses (a reversal or a correction of a single entry).
    reverses = models.ForeignKey(
        "self", verbose_name=_("reverses"), null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    # The local (Asia/Shanghai) day the evidence happened: daily caps and "my history" read it.
    earned_on = models.DateField(_("earned on"))
    created_at = models.DateTimeField(_("written at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The police admin who wrote a correction; empty for awards."),
    )

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points ledger")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "alliance", "reason", "earned_on"], name="points_entry_cap"),
            models.Index(fields=["alliance", "created_at"], name="points_entry_alliance_time"),
            models.Index(fields=["source_type", "source_id"], name="points_entry_source"),
            # The settling of a batch finds the entries of its rows by id and key prefix, without the kind.
            models.Index(fields=["source_id"], name="points_entry_source_id"),
        ]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="points_entry_not_zero")]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.reason} ({self.unique_key})"
