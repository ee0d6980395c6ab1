"""What happened on a shift: every check-in, check-out and scan attempt (accepted or refused, with the reason), the
checkpoints scanned per round, and the patrol log (hidden dangers, disputes mediated, people helped, flyers).

Each attempt names the client's own id when the app sent one, so an offline batch sent twice is stored once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CoordinateSystem(models.TextChoices):
    """What a position was measured in: GPS gives WGS-84; Amap's and Tencent's map SDKs give GCJ-02."""

    WGS84 = "wgs84", _("WGS-84 (GPS)")
    GCJ02 = "gcj02", _("GCJ-02 (Amap, Tencent)")


class PatrolAttempt(models.Model):
    class Kind(models.TextChoices):
        CHECK_IN = "check_in", _("Check-in")
        CHECK_OUT = "check_out", _("Check-out")
        SCAN = "scan", _("Checkpoint scan")

    shift = models.ForeignKey(
        "groups.Shift", verbose_name=_("shift"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    signup = models.ForeignKey(
        "groups.ShiftSignup",
        verbose_name=_("place"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attempts",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="patrol_attempts"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    checkpoint = models.ForeignKey(
        "groups.Checkpoint",
        verbose_name=_("checkpoint"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    accepted = models.BooleanField(_("accepted"))
    refusal_code = models.CharField(_("refused because"), max_length=40, blank=True)
    refusal_detail = models.JSONField(_("refusal figures"), default=dict, blank=True)
    # The position as stored: WGS-84, whatever the phone sent (``coordinate_system`` says what that was).
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    coordinate_system = models.CharField(
        _("sent as"), max_length=8, choices=CoordinateSystem.choices, default=CoordinateSystem.WGS84
    )
    accuracy_metres = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    mock_location = models.BooleanField(_("mock location reported"), default=False)
    device_time = models.DateTimeField(_("time on the phone"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    client_id = models.CharField(_("client id"), max_length=64, blank=True)
    offline = models.BooleanField(_("sent later from an offline batch"), default=False)

    class Meta:
        verbose_name = _("patrol attempt")
        verbose_name_plural = _("patrol attempts")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "client_id"], condition=~Q(client_id=""), name="patrol_attempt_client_id_once"
            )
        ]
        indexes = [models.Index(fields=["shift", "kind"], name="patrol_attempt_shift")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.user} ({'ok' if self.accepted else self.refusal_code})"


class CheckpointScan(models.Model):
    """An accepted scan: one per place, checkpoint and round (a replayed code in the same round is refused)."""

    signup = models.ForeignKey(
        "groups.ShiftSignup", verbose_name=_("place"), on_delete=models.CASCADE, related_name="scans"
    )
    checkpoint = models.ForeignKey(
        "groups.Checkpoint", verbose_name=_("checkpoint"), on_delete=models.CASCADE, related_name="scans"
    )
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    scanned_at = models.DateTimeField(_("scanned at"))
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    attempt = models.OneToOneField(
        PatrolAttempt, verbose_name=_("attempt"), on_delete=models.CASCADE, related_name="scan"
    )

    class Meta:
        verbose_name = _("checkpoint scan")
        verbose_name_plural = _("checkpoint scans")
        ordering = ["signup", "scanned_at"]
        constraints = [
            models.UniqueConstraint(fields=["signup", "checkpoint", "round"], name="one_scan_per_checkpoint_round")
        ]

    def __str__(self) -> str:
        return f"{self.checkpoint} #{self.round}"


class PatrolLogEntry(models.Model):
    class Kind(models.TextChoices):
        HIDDEN_DANGER = "hidden_danger", _("Hidden danger found")  # 安全隐患
        DISPUTE_MEDIATED = "dispute_mediated", _("Dispute mediated")  # 矛盾调处
        PERSON_HELPED = "person_helped", _("Person helped")
        FLYERS = "flyers", _("Flyers handed out")  # 发放宣传单

    signup = models.ForeignKey(
        "groups.ShiftSignup", verbose_name=_("place"), on_delete=models.CASCADE, related_name="log_entries"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=1000, blank=True)
    flyers = models.PositiveIntegerField(_("flyers handed out"), default=0)
    people_reached = models.PositiveIntegerField(_("people reached"), default=0)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    # The incident report a hidden danger became (reports.Incident; an id, not a foreign key: groups sits below
    # reports, which makes the report through the hook in groups/patrol_hooks.py).
    incident_id = models.BigIntegerField(_("incident report"), null=True, blank=True)
    client_id = models.CharField(_("client id"), max_length=64, blank=True)
    device_time = models.DateTimeField(_("time on the phone"), null=True, blank=True)
    created_at = models.DateTimeField(_("logged at"), default=timezone.now)

    class Meta:
        verbose_name = _("patrol log entry")
        verbose_name_plural = _("patrol log entries")
        ordering = ["signup", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["signup", "client_id"], condition=~Q(client_id=""), name="patrol_log_client_id_once"
            )
        ]

    def __str__(self) -> str:
        return self.get_kind_display()
