"""Anti-fraud alerts and safety tips (防诈预警, 安全提示): police publish once, the audience finds it in their inbox.

An alert is stored ONCE with its audience, never with a row per recipient: :class:`AlertAudience` holds one key per
place and role the police aimed at (``alliance:12``, ``station:3:merchant``, ``zone:7``, ``group:40:volunteer``), and
a person's inbox is the alerts with a key among the person's own keys (``alliance/alert_audience.py`` says whose
keys are whose). Publishing to 200,000 people writes the same few rows as publishing to 20. A person gets a row,
:class:`AlertReceipt`, only when they read or acknowledge.

Timers are deadline columns swept under ``SELECT ... FOR UPDATE SKIP LOCKED`` (``alliance/tasks.py``): an alert
published for later goes out when ``publish_at`` passes and ``sent_at`` is empty; the acknowledgement reminder is
due at ``ack_remind_at`` and done once ``ack_reminded_at`` is set; a tip schedule runs at ``next_run_at`` and each
occurrence is one :class:`TipOccurrence` row, unique per schedule and time, so it is sent exactly once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AlertKind(models.TextChoices):
    ANTI_FRAUD = "anti_fraud", _("Anti-fraud warning")  # 防诈预警
    WANTED = "wanted", _("Wanted or suspect notice")  # 协查通报
    SAFETY_TIP = "safety_tip", _("Safety tip")  # 安全提示


class TipTopic(models.TextChoices):
    FIRE = "fire", _("Fire safety")
    DRUNK_DRIVING = "drunk_driving", _("Drunk driving")
    THEFT_PREVENTION = "theft_prevention", _("Theft prevention")
    ANTI_FRAUD = "anti_fraud", _("Fraud prevention")
    OTHER = "other", _("Other")


class AudienceKind(models.TextChoices):
    STATION = "station", _("Police unit")
    ALLIANCE = "alliance", _("Alliance")
    ZONE = "zone", _("Patrol zone")
    GROUP = "group", _("Contact group")


def alert_image_path(image: AlertImage, filename: str) -> str:
    return f"alerts/{image.alert_id}/{filename}"


class Alert(models.Model):
    class Severity(models.TextChoices):
        URGENT = "urgent", _("Urgent")
        NORMAL = "normal", _("Normal")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    # The police unit that publishes it: its officers and those above it manage the alert.
    station = models.ForeignKey(
        "alliance.Station", verbose_name=_("police unit"), on_delete=models.PROTECT, related_name="alerts"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=AlertKind.choices)
    topic = models.CharField(
        _("tip topic"), max_length=20, choices=TipTopic.choices, blank=True, help_text=_("For safety tips.")
    )
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, default=Severity.NORMAL)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"))
    case_example = models.TextField(_("case example"), blank=True, help_text=_("For anti-fraud warnings: a real case."))
    # The same alert in English, shown to people whose app speaks English; empty: the text above for everyone.
    title_en = models.CharField(_("title in English"), max_length=120, blank=True)
    body_en = models.TextField(_("text in English"), blank=True)
    # What the police chose, as they chose it: {"stations": [...], "alliances": [...], "zones": [...], "groups": [...],
    # "roles": [...]}. The keys in AlertAudience are derived from it whenever it is written.
    audience = models.JSONField(_("audience"), default=dict)
    requires_ack = models.BooleanField(_("acknowledgement required"), default=False)
    ack_reminder_minutes = models.PositiveIntegerField(
        _("remind after (minutes)"),
        null=True,
        blank=True,
        help_text=_("Remind those who have not acknowledged this long after it goes out; empty: no reminder."),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    publish_at = models.DateTimeField(
        _("publish at"), null=True, blank=True, help_text=_("Empty: as soon as it is published.")
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    # The delivery step (live, cards in the groups, push) done, once: the sweep and the publish both check it.
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    ack_remind_at = models.DateTimeField(_("reminder due at"), null=True, blank=True, editable=False)
    ack_reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True, editable=False)
    # Reach, counted as it happens: the audience's size when sent, sockets reached live, devices pushed.
    targeted_count = models.PositiveIntegerField(_("people targeted"), null=True, blank=True, editable=False)
    live_count = models.PositiveIntegerField(_("delivered live"), default=0, editable=False)
    pushed_count = models.PositiveIntegerField(_("devices pushed"), default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("written by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawn by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-publish_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-publish_at", "-id"], name="alert_inbox_order"),
            models.Index(fields=["station", "-created_at"], name="alert_station"),
            models.Index(
                fields=["publish_at"], name="alert_send_due", condition=Q(status="published", sent_at__isnull=True)
            ),
            models.Index(
                fields=["ack_remind_at"],
                name="alert_remind_due",
                condition=Q(status="published", ack_reminded_at__isnull=True, ack_remind_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class AlertAudience(models.Model):
    """One place (and role) an alert is aimed at, as a key the inbox matches: ``<kind>:<id>`` for everyone there,
    ``<kind>:<id>:<role>`` for one alliance role there."""

    alert = models.ForeignKey(Alert, verbose_name=_("alert"), on_delete=models.CASCADE, related_name="audience_keys")
    kind = models.CharField(_("kind"), max_length=12, choices=AudienceKind.choices)
    target_id = models.BigIntegerField(_("target id"))
    role = models.CharField(_("alliance role"), max_length=20, blank=True)
    key = models.CharField(_("key"), max_length=64)

    class Meta:
        verbose_name = _("alert audience")
        verbose_name_plural = _("alert audiences")
        constraints = [models.UniqueConstraint(fields=["key", "alert"], name="alert_audience_key")]
        indexes = [models.Index(fields=["alert"], name="alert_audience_alert")]

    def __str__(self) -> str:
        return self.key


class AlertImage(models.Model):
    alert = models.ForeignKey(Alert, verbose_name=_("alert"), on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(_("image"), upload_to=alert_image_path)
    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("alert image")
        verbose_name_plural = _("alert images")
        ordering = ["alert", "position", "id"]

    def __str__(self) -> str:
        return self.image.name


class AlertReceipt(models.Model):
    """A person read (and perhaps acknowledged) an alert: the only per-person row an alert ever gets."""

    alert = models.ForeignKey(Alert, verbose_name=_("alert"), on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="alert_receipts"
    )
    # The alliance through which the person is in the audience (their points and their store's score go there).
    alliance = models.ForeignKey(
        "alliance.Alliance",
        verbose_name=_("alliance"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    read_at = models.DateTimeField(_("read at"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert receipt")
        verbose_name_plural = _("alert receipts")
        constraints = [models.UniqueConstraint(fields=["user", "alert"], name="one_receipt_per_alert")]
        indexes = [models.Index(fields=["alert", "acknowledged_at"], name="alert_receipt_alert")]

    def __str__(self) -> str:
        return f"{self.user} / {self.alert}"


class AlertPushBatch(models.Model):
    """Up to one provider request's worth of devices, claimed before it is sent: the unique key makes every device
    get an alert's push (or its reminder) at most once, whatever the retries."""

    class Purpose(models.TextChoices):
        ALERT = "alert", _("Alert")
        REMINDER = "reminder", _("Acknowledgement reminder")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    alert = models.ForeignKey(Alert, verbose_name=_("alert"), on_delete=models.CASCADE, related_name="push_batches")
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices)
    provider = models.CharField(_("provider"), max_length=12)
    first_device_id = models.BigIntegerField(_("first device"))
    last_device_id = models.BigIntegerField(_("last device"))
    device_ids = models.JSONField(_("devices"), default=list)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    delivered = models.PositiveIntegerField(_("delivered"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("push batch")
        verbose_name_plural = _("push batches")
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "purpose", "provider", "first_device_id"], name="one_push_batch_per_device_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.purpose} {self.provider} {self.first_device_id}-{self.last_device_id}"


class Tip(models.Model):
    """A safety tip in the library, in zh-hans and English, for the schedules to send."""

    station = models.ForeignKey(
        "alliance.Station",
        verbose_name=_("police unit"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tips",
        help_text=_("Empty: the city-wide library every unit may use."),
    )
    topic = models.CharField(_("topic"), max_length=20, choices=TipTopic.choices)
    title_zh = models.CharField(_("title (Chinese)"), max_length=120)
    body_zh = models.TextField(_("text (Chinese)"))
    title_en = models.CharField(_("title (English)"), max_length=120, blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    is_active = models.BooleanField(_("in use"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("safety tip")
        verbose_name_plural = _("safety tips")
        ordering = ["topic", "id"]

    def __str__(self) -> str:
        return self.title_zh


class TipSchedule(models.Model):
    """A recurring tip: at ``time_of_day`` (Asia/Shanghai) on ``weekdays``, the next tip of ``topics`` in turn goes
    out to ``audience`` as a safety-tip alert."""

    station = models.ForeignKey(
        "alliance.Station", verbose_name=_("police unit"), on_delete=models.CASCADE, related_name="tip_schedules"
    )
    name = models.CharField(_("name"), max_length=100)
    topics = models.JSONField(_("topics"), default=list, help_text=_("Empty: every topic."))
    audience = models.JSONField(_("audience"), default=dict)
    time_of_day = models.TimeField(_("time of day"))
    # ISO weekdays 1 (Monday) to 7 (Sunday); empty: every day.
    weekdays = models.JSONField(_("weekdays"), default=list, blank=True)
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    next_run_at = models.DateTimeField(_("next run at"), null=True, blank=True, editable=False)
    last_tip = models.ForeignKey(
        Tip, verbose_name=_("last tip sent"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
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
        verbose_name = _("tip schedule")
        verbose_name_plural = _("tip schedules")
        ordering = ["station", "name"]
        indexes = [models.Index(fields=["next_run_at"], name="tip_schedule_due", condition=Q(is_active=True))]

    def __str__(self) -> str:
        return self.name


class TipOccurrence(models.Model):
    """One run of a schedule: unique per schedule and time, so each occurrence is sent exactly once."""

    schedule = models.ForeignKey(
        TipSchedule, verbose_name=_("schedule"), on_delete=models.CASCADE, related_name="occurrences"
    )
    scheduled_for = models.DateTimeField(_("scheduled for"))
    tip = models.ForeignKey(Tip, verbose_name=_("tip"), null=True, on_delete=models.SET_NULL, related_name="+")
    alert = models.OneToOneField(
        Alert, verbose_name=_("alert"), null=True, blank=True, on_delete=models.SET_NULL, related_name="occurrence"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("tip occurrence")
        verbose_name_plural = _("tip occurrences")
        ordering = ["-scheduled_for"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "scheduled_for"], name="one_occurrence_per_schedule_time")
        ]

    def __str__(self) -> str:
        return f"{self.schedule} @ {self.scheduled_for:%Y-%m-%d %H:%M}"
