"""Who patrols when: teams (街巡队, 义警队, 警商联动队), shift templates with a recurrence rule, the shifts made from
them, sign-ups with a waitlist, swaps, and the personal calendar feed.

Times: a template speaks local time (Asia/Shanghai: "every night 22:00 for 4 hours"); a shift is stored as two
aware instants, so a night shift that crosses midnight is simply ``starts_at < ends_at`` on two dates.
Timers (the reminder before a shift, the no-show check after its start, the automatic check-out at its end) are
deadline columns read by a periodic sweep under ``SELECT ... FOR UPDATE SKIP LOCKED``, never delayed tasks.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SlotRole(models.TextChoices):
    """The places in a "1+3+1" patrol: one officer fixed at a post, three on foot, one in the patrol car."""

    FIXED = "fixed", _("Fixed post")
    MOBILE = "mobile", _("Mobile patrol")
    VEHICLE = "vehicle", _("Patrol car")


class PatrolTeam(models.Model):
    class Kind(models.TextChoices):
        STREET_PATROL = "street_patrol", _("Street patrol team")  # 街巡队
        VOLUNTEER_POLICE = "volunteer_police", _("Volunteer police team")  # 义警队
        POLICE_MERCHANT = "police_merchant", _("Police-merchant team")  # 警商联动队

    alliance = models.ForeignKey(
        "alliance.Alliance", verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="patrol_teams"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    contact_group = models.OneToOneField(
        "groups.ContactGroup",
        verbose_name=_("contact group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patrol_team",
    )
    is_archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("patrol team")
        verbose_name_plural = _("patrol teams")
        ordering = ["alliance", "name"]

    def __str__(self) -> str:
        return self.name


class PatrolTeamMember(models.Model):
    class Role(models.TextChoices):
        LEADER = "leader", _("Team leader")
        MEMBER = "member", _("Member")

    team = models.ForeignKey(PatrolTeam, verbose_name=_("team"), on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="patrol_teams"
    )
    role = models.CharField(_("role in the team"), max_length=8, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="one_place_per_team")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.team}"


class ShiftTemplate(models.Model):
    """A recurring shift: the RRULE (RFC 5545, e.g. ``FREQ=DAILY``) is expanded in Asia/Shanghai local time from
    ``starts_on`` at ``start_time``; each occurrence lasts ``duration_minutes`` and may end after midnight."""

    team = models.ForeignKey(
        PatrolTeam, verbose_name=_("team"), on_delete=models.CASCADE, related_name="shift_templates"
    )
    name = models.CharField(_("name"), max_length=100)
    rrule = models.CharField(_("recurrence (RRULE)"), max_length=300)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"), null=True, blank=True)
    start_time = models.TimeField(_("start time (local)"))
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(15), MaxValueValidator(24 * 60)]
    )
    zone = models.ForeignKey(
        "groups.PatrolZone", verbose_name=_("patrol zone"), on_delete=models.PROTECT, related_name="shift_templates"
    )
    route = models.ForeignKey(
        "groups.PatrolRoute",
        verbose_name=_("patrol route"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="shift_templates",
    )
    # Places per role, e.g. {"fixed": 1, "mobile": 3, "vehicle": 1}: the "1+3+1" layout.
    slots = models.JSONField(_("places per role"))
    is_active = models.BooleanField(_("active"), default=True)
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
        verbose_name = _("shift template")
        verbose_name_plural = _("shift templates")
        ordering = ["team", "name"]

    def __str__(self) -> str:
        return self.name


class Shift(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")

    template = models.ForeignKey(
        ShiftTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="shifts",
    )
    team = models.ForeignKey(PatrolTeam, verbose_name=_("team"), on_delete=models.CASCADE, related_name="shifts")
    # Kept beside the team for scoping and the on-duty queries, which filter shifts by alliance.
    alliance = models.ForeignKey(
        "alliance.Alliance", verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="patrol_shifts"
    )
    zone = models.ForeignKey(
        "groups.PatrolZone", verbose_name=_("patrol zone"), on_delete=models.PROTECT, related_name="shifts"
    )
    route = models.ForeignKey(
        "groups.PatrolRoute",
        verbose_name=_("patrol route"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="shifts",
    )
    name = models.CharField(_("name"), max_length=100)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    slots = models.JSONField(_("places per role"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    # Deadlines read by the patrol sweep (groups/tasks.py); each is cleared when its work is done.
    remind_at = models.DateTimeField(_("reminders due at"), null=True, blank=True)
    no_show_check_at = models.DateTimeField(_("no-show check due at"), null=True, blank=True)
    close_at = models.DateTimeField(_("automatic check-out due at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["starts_at", "id"]
        constraints = [
            # A template makes each occurrence once, however often the generating job runs.
            models.UniqueConstraint(fields=["template", "starts_at"], name="one_shift_per_template_start"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="shift_ends_after_start"),
        ]
        indexes = [
            models.Index(fields=["alliance", "starts_at"], name="shift_alliance_start"),
            models.Index(fields=["remind_at"], condition=Q(remind_at__isnull=False), name="shift_remind_due"),
            models.Index(
                fields=["no_show_check_at"], condition=Q(no_show_check_at__isnull=False), name="shift_no_show_due"
            ),
            models.Index(fields=["close_at"], condition=Q(close_at__isnull=False), name="shift_close_due"),
        ]

    def __str__(self) -> str:
        return self.name


class ShiftSignup(models.Model):
    """One person's place on one shift, and what they did there: check-in, check-out, verified time.

    ``status`` moves: waitlisted -> offered (promoted after a cancellation; may decline) -> confirmed; confirmed ->
    cancelled / removed / swapped (a swap moves the place to another person's new row)."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Signed up")
        WAITLISTED = "waitlisted", _("On the waitlist")
        OFFERED = "offered", _("Offered a place from the waitlist")
        CANCELLED = "cancelled", _("Cancelled")
        DECLINED = "declined", _("Declined")
        REMOVED = "removed", _("Removed by the leader")
        SWAPPED = "swapped", _("Swapped to someone else")

    # A person holds at most one of these rows per shift.
    HOLDING_STATUSES = (Status.CONFIRMED, Status.WAITLISTED, Status.OFFERED)

    class Attendance(models.TextChoices):
        EXPECTED = "expected", _("Expected")
        ON_DUTY = "on_duty", _("Checked in")
        DONE = "done", _("Checked out")
        CLOSED_AUTOMATICALLY = "closed", _("Checked out automatically")
        NO_SHOW = "no_show", _("Did not come")

    shift = models.ForeignKey(Shift, verbose_name=_("shift"), on_delete=models.CASCADE, related_name="signups")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("volunteer"), on_delete=models.CASCADE, related_name="shift_signups"
    )
    role = models.CharField(_("place"), max_length=8, choices=SlotRole.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("signed up at"), default=timezone.now)
    offered_at = models.DateTimeField(_("offered at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)

    attendance = models.CharField(
        _("attendance"), max_length=12, choices=Attendance.choices, default=Attendance.EXPECTED
    )
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    verified_seconds = models.PositiveIntegerField(_("verified time (s)"), default=0)
    needs_review = models.BooleanField(
        _("needs the leader's review"), default=False, help_text=_("Checked out automatically: hours capped.")
    )
    # Where the person was last seen on this shift (check-in, a scan, a log entry): dispatch measures from here.
    last_latitude = models.FloatField(_("last latitude"), null=True, blank=True)
    last_longitude = models.FloatField(_("last longitude"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True)

    class Meta:
        verbose_name = _("shift sign-up")
        verbose_name_plural = _("shift sign-ups")
        ordering = ["shift", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shift", "user"],
                condition=Q(status__in=["confirmed", "waitlisted", "offered"]),
                name="one_live_signup_per_shift",
            )
        ]
        indexes = [
            models.Index(fields=["user", "status"], name="signup_user_status"),
            models.Index(fields=["shift"], condition=Q(attendance="on_duty"), name="signup_on_duty"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.shift}"


class ShiftSwapRequest(models.Model):
    """A volunteer asks to hand their place to another; it takes effect only when the team leader approves."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the leader")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    signup = models.ForeignKey(
        ShiftSignup, verbose_name=_("place"), on_delete=models.CASCADE, related_name="swap_requests"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("to"), on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)

    class Meta:
        verbose_name = _("swap request")
        verbose_name_plural = _("swap requests")
        constraints = [
            models.UniqueConstraint(
                fields=["signup"], condition=Q(status="pending"), name="one_pending_swap_per_signup"
            )
        ]

    def __str__(self) -> str:
        return f"{self.signup} -> {self.to_user}"


class CalendarFeed(models.Model):
    """The secret address of a person's shift calendar (iCalendar): calendar apps cannot send a session token.
    Only a hash of the secret is kept; revoking sets ``revoked_at`` and the person asks for a new address."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token_hash = models.CharField(_("secret (hashed)"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(revoked_at__isnull=True), name="one_live_feed")
        ]

    def __str__(self) -> str:
        return f"{self.user}"
