"""Police jurisdictions, alliances and their stores.

This is the organisational base the later issues build on (membership rules, contact groups, Safe Store ranking,
points); it holds what the demo city and the role model need today.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
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
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
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

    class Meta:
        verbose_name = _("alliance member")
        verbose_name_plural = _("alliance members")
        constraints = [models.UniqueConstraint(fields=["alliance", "user"], name="one_membership_per_alliance")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.alliance}"


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
    is_verified = models.BooleanField(_("verified by the alliance"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["alliance", "name"]

    def __str__(self) -> str:
        return self.name
