"""The rewards an alliance offers for points, and the requests to redeem them.

A request holds its points (``PointsAccount.held``) and one unit of stock; the alliance admin approves it (the
points are spent: a ledger entry) or rejects it (points and stock return), and a request nobody decided by
``expires_at`` expires the same way, by a sweep. An approved request is fulfilled when the reward is handed over.
The Safe Store winners' property-fee reduction arrives as a granted request (``points`` 0, already approved).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Reward(models.Model):
    class Kind(models.TextChoices):
        FEE_REDUCTION = "fee_reduction", _("Property-fee reduction voucher")
        CERTIFICATE = "certificate", _("Commendation certificate")
        GOODS = "goods", _("Goods")

    alliance = models.ForeignKey(
        "alliance.Alliance", verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="rewards"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    price = models.PositiveIntegerField(_("price in points"))
    stock = models.PositiveIntegerField(_("in stock"), null=True, blank=True, help_text=_("Empty: no limit."))
    per_person_limit = models.PositiveIntegerField(
        _("per-person limit"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    is_active = models.BooleanField(_("offered"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["alliance", "price", "id"]

    def __str__(self) -> str:
        return self.name


class Redemption(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")
        FULFILLED = "fulfilled", _("Handed over")

    reward = models.ForeignKey(Reward, verbose_name=_("reward"), on_delete=models.PROTECT, related_name="redemptions")
    alliance = models.ForeignKey(
        "alliance.Alliance", verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="redemptions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="redemptions"
    )
    points = models.PositiveIntegerField(_("points"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    # The deadline of a pending request (the expiry sweep reads it); cleared once decided.
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)
    fulfilled_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    # Why a reward was granted without points ("safe_store:<ranking id>"); empty for a request.
    granted_for = models.CharField(_("granted for"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["reward", "user", "status"], name="redemption_per_person")]
        constraints = [
            # A grant is made once per reward, person and cause (a retried publish grants nothing twice).
            models.UniqueConstraint(
                fields=["reward", "user", "granted_for"],
                condition=~Q(granted_for=""),
                name="one_grant_per_cause",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reward} -> {self.user_id} ({self.status})"
