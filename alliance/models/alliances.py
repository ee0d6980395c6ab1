"""Police jurisdictions, alliances, their members and their stores.

A police admin's jurisdiction is the police units they are posted to (:class:`StationStaff`) with the offices and
workstations under them; every alliance belongs to one station. People join an alliance by an invite code (or its
QR code), at once or after an alliance admin approves; merchants register their stores, which the alliance verifies.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Station(models.Model):
    """A police unit: a station (派出所) with its community police offices (警务室) and workstations (警务工作站).

    The tier is explicit so the escalation ladder (mall management -> office -> station) can find each level.
    """

    class Kind(models.TextChoices):
        STATION = "station", _("Police station")
        OFFICE = "office", _("Community police office")
        WORKSTATION = "workstation", _("Police workstation")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.STATION)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent station"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text=_("The police station an office or workstation belongs to."),
    )
    city = models.CharField(_("city"), max_length=50)
    district = models.CharField(_("district"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("duty phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("police unit")
        verbose_name_plural = _("police units")
        ordering = ["city", "name"]

    def __str__(self) -> str:
        return self.name


class StationStaff(models.Model):
    """A police officer or admin posted to a police unit.

    A police admin's jurisdiction is every unit they are posted to plus the offices and workstations under it
    (``alliance.selectors.alliances.jurisdiction_station_ids``): they create and run alliances there and nowhere else.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("officer"), on_delete=models.CASCADE, related_name="station_posts"
    )
    station = models.ForeignKey(Station, verbose_name=_("police unit"), on_delete=models.CASCADE, related_name="staff")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("posted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty when posted by the system (demo data, admin site import)."),
    )
    created_at = models.DateTimeField(_("posted at"), default=timezone.now)

    class Meta:
        verbose_name = _("station staff")
        verbose_name_plural = _("station staff")
        constraints = [models.UniqueConstraint(fields=["user", "station"], name="one_post_per_station")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.station}"


class Alliance(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        ARCHIVED = "archived", _("Archived")

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    area_description = models.TextField(_("area"), blank=True)
    station = models.ForeignKey(
        Station, verbose_name=_("police station"), on_delete=models.PROTECT, related_name="alliances"
    )
    office = models.ForeignKey(
        Station,
        verbose_name=_("community police office"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="office_alliances",
    )
    boundary = models.JSONField(
        _("boundary"),
        null=True,
        blank=True,
        help_text=_("A GeoJSON Polygon (longitude, latitude) around the alliance's streets."),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
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
        verbose_name = _("alliance")
        verbose_name_plural = _("alliances")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AllianceMembership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Alliance admin")
        POLICE_LIAISON = "police_liaison", _("Police liaison")
        MALL_MANAGER = "mall_manager", _("Mall manager")
        MERCHANT = "merchant", _("Merchant")
        VOLUNTEER = "volunteer", _("Volunteer")

    alliance = models.ForeignKey(
        Alliance, verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="alliance_memberships"
    )
    role = models.CharField(_("role in the alliance"), max_length=20, choices=Role.choices)
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Who approved the join request or created the alliance; empty for auto-approved invites."),
    )
    # Responders (officers, mall managers, volunteers) say when they can be dispatched to an incident.
    on_duty = models.BooleanField(_("on duty"), default=False)
    on_duty_since = models.DateTimeField(_("on duty since"), null=True, blank=True)
    # Where a responder on duty said they are (WGS-84), so dispatch can send the nearest first; empty when unknown.
    duty_latitude = models.FloatField(_("on-duty latitude"), null=True, blank=True)
    duty_longitude = models.FloatField(_("on-duty longitude"), null=True, blank=True)
    duty_position_at = models.DateTimeField(_("on-duty position at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alliance member")
        verbose_name_plural = _("alliance members")
        constraints = [models.UniqueConstraint(fields=["alliance", "user"], name="one_membership_per_alliance")]
        indexes = [models.Index(fields=["alliance", "on_duty"], name="membership_on_duty")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.alliance}"


class AllianceInvite(models.Model):
    """An invite code (and the QR code carrying it) that lets people join an alliance.

    The code is random and unguessable; it expires, has a maximum number of uses and can be revoked. With
    ``auto_approve`` whoever redeems it joins at once; otherwise it opens a join request for an alliance admin.
    """

    alliance = models.ForeignKey(Alliance, verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="invites")
    code = models.CharField(_("code"), max_length=32, unique=True)
    role = models.CharField(
        _("role on joining"),
        max_length=20,
        choices=AllianceMembership.Role.choices,
        blank=True,
        help_text=_("Empty: whoever joins says which role they take (and must be eligible for it)."),
    )
    auto_approve = models.BooleanField(_("join without approval"), default=False)
    max_uses = models.PositiveIntegerField(_("maximum uses"))
    use_count = models.PositiveIntegerField(_("uses"), default=0)
    expires_at = models.DateTimeField(_("expires at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("alliance invite")
        verbose_name_plural = _("alliance invites")
        constraints = [
            # The redeeming UPDATE checks this too; the constraint is the last line if anything else writes counts.
            models.CheckConstraint(condition=Q(use_count__lte=F("max_uses")), name="invite_uses_within_maximum")
        ]

    def __str__(self) -> str:
        return f"{self.alliance} · {self.code}"


class AllianceJoinRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    alliance = models.ForeignKey(
        Alliance, verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="join_requests"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="alliance_join_requests",
    )
    role = models.CharField(_("requested role"), max_length=20, choices=AllianceMembership.Role.choices)
    invite = models.ForeignKey(
        AllianceInvite,
        verbose_name=_("invite"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="join_requests",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("join request")
        verbose_name_plural = _("join requests")
        constraints = [
            models.UniqueConstraint(
                fields=["alliance", "user"], condition=Q(status="pending"), name="one_pending_join_request"
            )
        ]
        indexes = [models.Index(fields=["alliance", "status"], name="join_request_queue")]

    def __str__(self) -> str:
        return f"{self.user} -> {self.alliance} ({self.get_status_display()})"


def store_photo_path(store: Store, filename: str) -> str:
    # The file name is random (config.images); the photo is served only through the store's authenticated view.
    return f"stores/{store.alliance_id}/{filename}"


class Store(models.Model):
    class Category(models.TextChoices):
        RESTAURANT = "restaurant", _("Restaurant")
        SNACK = "snack", _("Snack stall")
        RETAIL = "retail", _("Retail shop")
        CLOTHING = "clothing", _("Clothing")
        FLOWERS = "flowers", _("Florist")
        TEAHOUSE = "teahouse", _("Teahouse or café")
        ENTERTAINMENT = "entertainment", _("Entertainment")
        SERVICE = "service", _("Services")
        OTHER = "other", _("Other")

    alliance = models.ForeignKey(Alliance, verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="stores")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="owned_stores"
    )
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.OTHER)
    address = models.CharField(_("address"), max_length=200)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    business_licence_number = models.CharField(_("business licence number"), max_length=32, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=100, blank=True)
    photo = models.ImageField(_("photo"), upload_to=store_photo_path, blank=True)
    is_verified = models.BooleanField(_("verified by the alliance"), default=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["alliance", "name"]

    def __str__(self) -> str:
        return self.name


class StoreStaff(models.Model):
    """Someone who works in a store and may edit it for the owner. Staff are members of the store's alliance."""

    store = models.ForeignKey(Store, verbose_name=_("store"), on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="store_posts"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("store staff member")
        verbose_name_plural = _("store staff")
        constraints = [models.UniqueConstraint(fields=["store", "user"], name="one_staff_post_per_store")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.store}"
