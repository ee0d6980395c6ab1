"""The half-yearly Safe Store ranking (平安门店): what a store is scored on, the weights, the snapshot, the badge.

A store's score is built from scored events (:class:`StoreScoreEvent`), each recorded once (``unique_key``) when its
evidence happens: an incident at or near the store (weighted by severity), a hidden danger fixed on time or late,
an inspection result recorded by the police (security status), and the merchant's contribution (a report accepted,
a flag handled well, patrol hours, an alert acknowledged, taking part in the groups). The ranking of a period is one
database computation over these events with the alliance's weights (:class:`SafeStoreWeight`), stored once per
alliance and period as :class:`SafeStoreRanking` with one :class:`SafeStoreRankingEntry` per store. Once the police
publish it, the top ten not held back get a :class:`SafeStoreBadge` for the next period and a certificate.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StoreScorePart(models.TextChoices):
    # The store's security status.
    INCIDENT_NEARBY = "incident_nearby", _("Incidents at or near the store")
    HIDDEN_DANGER_FIXED = "hidden_danger_fixed", _("Hidden dangers fixed on time")
    HIDDEN_DANGER_OVERDUE = "hidden_danger_overdue", _("Hidden dangers fixed late or not at all")
    INSPECTION_PASSED = "inspection_passed", _("Inspections passed")
    INSPECTION_FAILED = "inspection_failed", _("Inspections failed")
    # The merchant's contribution.
    REPORT_ACCEPTED = "report_accepted", _("Reports accepted")
    FLAG_HANDLED_WELL = "flag_handled_well", _("Flags handled well")
    PATROL_HOURS = "patrol_hours", _("Patrol hours")
    ALERT_ACKNOWLEDGED = "alert_acknowledged", _("Alerts acknowledged")
    GROUP_PARTICIPATION = "group_participation", _("Days active in the groups")


SECURITY_PARTS = (
    StoreScorePart.INCIDENT_NEARBY,
    StoreScorePart.HIDDEN_DANGER_FIXED,
    StoreScorePart.HIDDEN_DANGER_OVERDUE,
    StoreScorePart.INSPECTION_PASSED,
    StoreScorePart.INSPECTION_FAILED,
)
CONTRIBUTION_PARTS = (
    StoreScorePart.REPORT_ACCEPTED,
    StoreScorePart.FLAG_HANDLED_WELL,
    StoreScorePart.PATROL_HOURS,
    StoreScorePart.ALERT_ACKNOWLEDGED,
    StoreScorePart.GROUP_PARTICIPATION,
)


class StoreInspection(models.Model):
    """An inspection of a store recorded by the police (a fire-safety check, say) and its result."""

    class Kind(models.TextChoices):
        FIRE_SAFETY = "fire_safety", _("Fire safety")
        SECURITY = "security", _("Security (locks, cameras, alarms)")
        OTHER = "other", _("Other")

    class Result(models.TextChoices):
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")

    store = models.ForeignKey(
        "alliance.Store", verbose_name=_("store"), on_delete=models.CASCADE, related_name="inspections"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    result = models.CharField(_("result"), max_length=16, choices=Result.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    inspected_at = models.DateTimeField(_("inspected at"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("store inspection")
        verbose_name_plural = _("store inspections")
        ordering = ["-inspected_at", "-id"]

    def __str__(self) -> str:
        return f"{self.store} {self.kind} {self.result}"


class StoreScoreEvent(models.Model):
    """One piece of evidence about a store, counted in the ranking of the period its ``occurred_at`` falls in.
    ``value`` is the quantity (1 per incident times its severity, hours of patrol, one per active day...); the
    alliance's weight for the part turns it into score."""

    store = models.ForeignKey(
        "alliance.Store", verbose_name=_("store"), on_delete=models.CASCADE, related_name="score_events"
    )
    alliance = models.ForeignKey(
        "alliance.Alliance", verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="+"
    )
    part = models.CharField(_("part"), max_length=24, choices=StoreScorePart.choices)
    value = models.FloatField(_("quantity"))
    occurred_at = models.DateTimeField(_("happened at"))
    unique_key = models.CharField(_("unique key"), max_length=120, unique=True)

    class Meta:
        verbose_name = _("store score event")
        verbose_name_plural = _("store score events")
        indexes = [models.Index(fields=["alliance", "occurred_at"], name="store_score_event_period")]

    def __str__(self) -> str:
        return f"{self.store_id} {self.part} {self.value}"


class SafeStoreWeight(models.Model):
    """The weight of one part in an alliance's score, set by the police; missing rows take
    ``settings.SAFE_STORE_DEFAULT_WEIGHTS``. Negative weights (incidents, failed inspections) lower the score."""

    alliance = models.ForeignKey(
        "alliance.Alliance", verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="safe_store_weights"
    )
    part = models.CharField(_("part"), max_length=24, choices=StoreScorePart.choices)
    weight = models.FloatField(_("weight"))
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
        verbose_name = _("Safe Store weight")
        verbose_name_plural = _("Safe Store weights")
        constraints = [models.UniqueConstraint(fields=["alliance", "part"], name="one_weight_per_part")]

    def __str__(self) -> str:
        return f"{self.alliance_id} {self.part}: {self.weight}"


class SafeStoreRanking(models.Model):
    """The final ranking of one alliance for one half-year (January-June or July-December, Asia/Shanghai), computed
    once: the unique (alliance, period_start) key makes a second beat or a retried job find it done."""

    class Status(models.TextChoices):
        COMPUTED = "computed", _("Computed, not yet published")
        PUBLISHED = "published", _("Published")

    alliance = models.ForeignKey(
        "alliance.Alliance", verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="safe_store_rankings"
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"), help_text=_("The last day of the period."))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.COMPUTED)
    # The weights the scores were computed with, as they were then.
    weights = models.JSONField(_("weights"), default=dict)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("Safe Store ranking")
        verbose_name_plural = _("Safe Store rankings")
        ordering = ["-period_start", "alliance"]
        constraints = [
            models.UniqueConstraint(fields=["alliance", "period_start"], name="one_ranking_per_alliance_and_period")
        ]

    def __str__(self) -> str:
        return f"{self.alliance} {self.period_start:%Y-%m}"


class SafeStoreRankingEntry(models.Model):
    ranking = models.ForeignKey(
        SafeStoreRanking, verbose_name=_("ranking"), on_delete=models.CASCADE, related_name="entries"
    )
    store = models.ForeignKey(
        "alliance.Store", verbose_name=_("store"), on_delete=models.CASCADE, related_name="ranking_entries"
    )
    rank = models.PositiveIntegerField(_("rank"))
    score = models.FloatField(_("score"))
    security_score = models.FloatField(_("security status"))
    contribution_score = models.FloatField(_("merchant's contribution"))
    # {part: {"quantity": q, "weight": w, "score": q * w}} for every part.
    parts = models.JSONField(_("parts"), default=dict)
    held_back = models.BooleanField(_("held back"), default=False)
    held_back_reason = models.CharField(_("reason for holding back"), max_length=500, blank=True)
    held_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("held back by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    held_back_at = models.DateTimeField(_("held back at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Safe Store ranking entry")
        verbose_name_plural = _("Safe Store ranking entries")
        ordering = ["ranking", "rank", "store_id"]
        constraints = [models.UniqueConstraint(fields=["ranking", "store"], name="one_entry_per_store_and_ranking")]

    def __str__(self) -> str:
        return f"{self.rank}. {self.store_id} ({self.score:.1f})"


def safe_store_certificate_path(badge: SafeStoreBadge, filename: str) -> str:
    return f"certificates/{badge.ranking.alliance_id}/{filename}"


class SafeStoreBadge(models.Model):
    """A Safe Store badge: one of the top ten of a published ranking, shown with the store during the next
    period, with its certificate (a PDF made once and kept)."""

    ranking = models.ForeignKey(
        SafeStoreRanking, verbose_name=_("ranking"), on_delete=models.CASCADE, related_name="badges"
    )
    store = models.ForeignKey(
        "alliance.Store", verbose_name=_("store"), on_delete=models.CASCADE, related_name="safe_store_badges"
    )
    place = models.PositiveSmallIntegerField(_("place among the Safe Stores"))
    valid_from = models.DateField(_("shown from"))
    valid_until = models.DateField(_("shown until"))
    certificate = models.FileField(_("certificate"), upload_to=safe_store_certificate_path, blank=True)
    created_at = models.DateTimeField(_("awarded at"), default=timezone.now)

    class Meta:
        verbose_name = _("Safe Store badge")
        verbose_name_plural = _("Safe Store badges")
        ordering = ["-valid_from", "place"]
        indexes = [models.Index(fields=["store", "valid_until"], name="safe_store_badge_current")]
        constraints = [models.UniqueConstraint(fields=["ranking", "store"], name="one_badge_per_store_and_ranking")]

    def __str__(self) -> str:
        return f"{self.store} #{self.place} ({self.valid_from:%Y-%m})"
