"""Incidents and dispute flags: what merchants report, who answers, how fast, and how it ended.

A **dispute flag** (:class:`Dispute`) is the quick alarm ("two people are quarrelling by the stall"): it goes live to
the responders on duty at once and climbs the escalation ladder (mall management -> community police office ->
police station) on its own when nobody acknowledges or resolves it in time. An **incident report**
(:class:`Incident`) is the non-urgent report that the police work through a queue. Both keep a complete timeline
(:class:`CaseEvent`).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Bounds of the escalation times, in seconds: shorter and nobody can answer in time, longer and the ladder is moot.
ACKNOWLEDGE_SECONDS_RANGE = (30, 3600)
RESOLVE_SECONDS_RANGE = (60, 86400)


class EscalationPolicy(models.Model):
    """Per alliance: how long a flag may wait for an acknowledgement and for a resolution before it climbs.

    No row means the defaults (2 and 5 minutes). Police admins of the alliance's jurisdiction set the times
    (``reports.services.disputes.escalation_policy_update``, or the admin site)."""

    alliance = models.OneToOneField(
        "alliance.Alliance", verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="escalation_policy"
    )
    acknowledge_seconds = models.PositiveIntegerField(
        _("time to acknowledge (seconds)"),
        default=120,
        validators=[MinValueValidator(ACKNOWLEDGE_SECONDS_RANGE[0]), MaxValueValidator(ACKNOWLEDGE_SECONDS_RANGE[1])],
    )
    resolve_seconds = models.PositiveIntegerField(
        _("time to resolve (seconds)"),
        default=300,
        validators=[MinValueValidator(RESOLVE_SECONDS_RANGE[0]), MaxValueValidator(RESOLVE_SECONDS_RANGE[1])],
        help_text=_("Counted from the flag; longer than the time to acknowledge."),
    )
    # Who last set the times, and when: police change them through the API or the admin site.
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")

    def __str__(self) -> str:
        return str(self.alliance)

    def clean(self):
        # The resolve target is counted from the flag, so one no longer than the acknowledge time would climb the
        # ladder before anyone could both answer and settle it.
        if self.resolve_seconds is not None and self.acknowledge_seconds is not None:
            if self.resolve_seconds <= self.acknowledge_seconds:
                raise ValidationError(
                    {"resolve_seconds": _("The time to resolve must be longer than the time to acknowledge.")}
                )


class Dispute(models.Model):
    class Category(models.TextChoices):
        QUARREL = "quarrel", _("Quarrel or fight")
        THEFT = "theft", _("Theft in progress")
        FRAUD = "fraud", _("Fraud in progress")
        SUSPICIOUS = "suspicious", _("Suspicious person")
        MEDICAL = "medical", _("Medical emergency")
        FIRE = "fire", _("Fire")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for a responder")
        ACKNOWLEDGED = "acknowledged", _("Responder on the way")
        ON_SCENE = "on_scene", _("Responder on the scene")
        RESOLVED = "resolved", _("Resolved")
        CANCELLED = "cancelled", _("Cancelled by the reporter")

    class Level(models.IntegerChoices):
        MALL = 1, _("Mall management")
        OFFICE = 2, _("Community police office")
        STATION = 3, _("Police station")

    class Outcome(models.TextChoices):
        MEDIATED = "mediated", _("Mediated")
        SETTLED = "settled_on_site", _("Settled on site")
        REFERRED = "referred_to_station", _("Referred to the police station")
        FALSE_ALARM = "false_alarm", _("False alarm")

    OPEN_STATUSES = (Status.OPEN, Status.ACKNOWLEDGED, Status.ON_SCENE)

    alliance = models.ForeignKey(
        "alliance.Alliance", verbose_name=_("alliance"), on_delete=models.PROTECT, related_name="disputes"
    )
    store = models.ForeignKey(
        "alliance.Store", verbose_name=_("store"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="flagged_disputes",
    )
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    people_involved = models.PositiveSmallIntegerField(
        _("people involved"), default=2, validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    level = models.PositiveSmallIntegerField(_("escalation level"), choices=Level.choices, default=Level.MALL)
    flagged_at = models.DateTimeField(_("flagged at"), default=timezone.now, db_index=True)
    acknowledged_at = models.DateTimeField(_("first acknowledged at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("first responder arrived at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # The next moment the ladder must be checked: the acknowledge deadline while open, then the resolve deadline.
    escalate_at = models.DateTimeField(_("escalates at"), null=True, blank=True, db_index=True)
    outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices, blank=True)
    resolution_notes = models.TextField(_("resolution notes"), blank=True)
    parties = models.JSONField(_("parties"), default=list, blank=True, help_text=_("The two sides of the dispute."))
    mediation_record = models.TextField(_("mediation record"), blank=True)
    card_message = models.ForeignKey(
        "groups.Message",
        verbose_name=_("case card"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source_message = models.ForeignKey(
        "groups.Message",
        verbose_name=_("from group message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    client_id = models.CharField(
        _("client id"), max_length=64, blank=True, help_text=_("Set by the app so a resent flag is stored once.")
    )

    class Meta:
        verbose_name = _("dispute flag")
        verbose_name_plural = _("dispute flags")
        ordering = ["-flagged_at"]
        indexes = [
            models.Index(fields=["alliance", "-flagged_at"], name="dispute_alliance_time"),
            models.Index(fields=["escalate_at"], condition=Q(escalate_at__isnull=False), name="dispute_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "client_id"], condition=~Q(client_id=""), name="flag_client_id_once_per_reporter"
            ),
            # A message turned into a flag twice (a double tap, two members at once) is one alarm, not two.
            models.UniqueConstraint(
                fields=["source_message"], condition=Q(source_message__isnull=False), name="one_flag_per_message"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_category_display()}"


class DisputeResponder(models.Model):
    """A responder's part in a flag: when they said "on my way" (with ETA) and when they arrived."""

    dispute = models.ForeignKey(Dispute, verbose_name=_("dispute"), on_delete=models.CASCADE, related_name="responders")
    responder = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("responder"), on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), default=timezone.now)
    eta_minutes = models.PositiveSmallIntegerField(
        _("ETA (minutes)"), null=True, blank=True, validators=[MaxValueValidator(240)]
    )
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)

    class Meta:
        verbose_name = _("responder")
        verbose_name_plural = _("responders")
        constraints = [models.UniqueConstraint(fields=["dispute", "responder"], name="one_response_per_responder")]

    def __str__(self) -> str:
        return f"{self.responder} -> {self.dispute}"


class Incident(models.Model):
    class Category(models.TextChoices):
        THEFT = "theft", _("Theft")
        FRAUD = "fraud_attempt", _("Fraud attempt")
        DISPUTE = "dispute", _("Dispute")
        HIDDEN_DANGER = "hidden_danger", _("Hidden danger or fire risk")
        TRAFFIC = "traffic", _("Traffic")
        SUSPICIOUS = "suspicious", _("Suspicious person or vehicle")
        LOST_FOUND = "lost_found", _("Lost and found")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        ACCEPTED = "accepted", _("Accepted")
        ASSIGNED = "assigned", _("Assigned")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")
        REJECTED = "rejected", _("Rejected")

    alliance = models.ForeignKey(
        "alliance.Alliance", verbose_name=_("alliance"), on_delete=models.PROTECT, related_name="incidents"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_incidents",
    )
    is_anonymous = models.BooleanField(
        _("anonymous"), default=False, help_text=_("The reporter is hidden from everyone but police admins.")
    )
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    description = models.TextField(_("description"))
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    occurred_at = models.DateTimeField(_("happened at"), default=timezone.now)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    rejection_reason = models.CharField(_("reason for rejection"), max_length=500, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_incidents",
    )
    assigned_team = models.ForeignKey(
        "groups.ContactGroup",
        verbose_name=_("assigned team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("reported at"), default=timezone.now, db_index=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction (1-5)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    satisfaction_comment = models.CharField(_("satisfaction comment"), max_length=500, blank=True)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.SET_NULL, related_name="merged"
    )
    resolution_notes = models.TextField(_("resolution notes"), blank=True)
    source_message = models.ForeignKey(
        "groups.Message",
        verbose_name=_("from group message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    card_message = models.ForeignKey(
        "groups.Message",
        verbose_name=_("case card"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    client_id = models.CharField(
        _("client id"), max_length=64, blank=True, help_text=_("Set by the app so a resent report is stored once.")
    )

    class Meta:
        verbose_name = _("incident report")
        verbose_name_plural = _("incident reports")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["alliance", "-created_at"], name="incident_alliance_time"),
            models.Index(fields=["alliance", "category", "created_at"], name="incident_duplicates"),
            # Duplicate suggestions look for the same category around the same time of happening.
            models.Index(fields=["alliance", "category", "occurred_at"], name="incident_nearby"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "client_id"],
                condition=~Q(client_id=""),
                name="incident_client_id_once_per_reporter",
            ),
            models.UniqueConstraint(
                fields=["source_message"], condition=Q(source_message__isnull=False), name="one_incident_per_message"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_category_display()}"


def case_photo_path(photo, filename: str) -> str:
    return f"cases/{timezone.now():%Y/%m}/{filename}"


class CasePhoto(models.Model):
    dispute = models.ForeignKey(Dispute, null=True, blank=True, on_delete=models.CASCADE, related_name="photos")
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to=case_photo_path)
    thumbnail = models.ImageField(_("thumbnail"), upload_to=case_photo_path)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("case photo")
        verbose_name_plural = _("case photos")
        constraints = [
            models.CheckConstraint(
                condition=Q(dispute__isnull=False, incident__isnull=True)
                | Q(dispute__isnull=True, incident__isnull=False),
                name="photo_of_one_case",
            )
        ]

    def __str__(self) -> str:
        return f"photo of {self.dispute or self.incident}"


class CaseEvent(models.Model):
    """One step of a case's timeline: who did what, when. Append-only."""

    class Kind(models.TextChoices):
        FLAGGED = "flagged", _("Flagged")
        REPORTED = "reported", _("Reported")
        NOTIFIED = "notified", _("Responders notified")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        ARRIVED = "arrived", _("Arrived")
        ESCALATED = "escalated", _("Escalated")
        RESOLVED = "resolved", _("Resolved")
        CANCELLED = "cancelled", _("Cancelled")
        STATUS_CHANGED = "status_changed", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        COMMENTED = "commented", _("Commented")
        REOPENED = "reopened", _("Reopened")
        RATED = "rated", _("Rated")
        MERGED = "merged", _("Merged")

    dispute = models.ForeignKey(Dispute, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("what happened"), max_length=16, choices=Kind.choices)
    data = models.JSONField(_("details"), default=dict, blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(dispute__isnull=False, incident__isnull=True)
                | Q(dispute__isnull=True, incident__isnull=False),
                name="event_of_one_case",
            )
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"


class IncidentComment(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment on {self.incident}"
