"""Where patrols go: zones (巡区) graded red, yellow or blue, grids (网格) inside them, routes (巡逻主线) as ordered
checkpoints (巡更点), and support points (巡逻支点) with their 1/3/5-minute rapid-response rings.

Every position is stored in WGS-84 degrees, whatever the phone or the map sent (GCJ-02 is converted at the edge:
``config/coordinates.py``). Polygons are GeoJSON (longitude, latitude), checked with shapely when written
(``groups/services/patrol_zones.py``); each zone also keeps its bounding box in plain columns so "which zones hold
this point" starts from an indexed range query on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

LATITUDE_VALIDATORS = [MinValueValidator(-90), MaxValueValidator(90)]
LONGITUDE_VALIDATORS = [MinValueValidator(-180), MaxValueValidator(180)]


class PatrolZone(models.Model):
    class RiskGrade(models.TextChoices):
        RED = "red", _("Red: high risk")
        YELLOW = "yellow", _("Yellow: medium risk")
        BLUE = "blue", _("Blue: low risk")

    alliance = models.ForeignKey(
        "alliance.Alliance", verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="patrol_zones"
    )
    name = models.CharField(_("name"), max_length=100)
    risk_grade = models.CharField(_("risk grade"), max_length=8, choices=RiskGrade.choices)
    boundary = models.JSONField(_("boundary"), help_text=_("A GeoJSON Polygon (longitude, latitude), WGS-84."))
    # Focus hours, local time (Asia/Shanghai); the end may be earlier than the start: 22:00-02:00 crosses midnight.
    focus_starts = models.TimeField(_("focus hours from"), null=True, blank=True)
    focus_ends = models.TimeField(_("focus hours until"), null=True, blank=True)
    # The boundary's bounding box, kept by the service that writes the boundary.
    min_latitude = models.FloatField(_("southmost latitude"), editable=False)
    max_latitude = models.FloatField(_("northmost latitude"), editable=False)
    min_longitude = models.FloatField(_("westmost longitude"), editable=False)
    max_longitude = models.FloatField(_("eastmost longitude"), editable=False)
    is_archived = models.BooleanField(_("archived"), default=False)
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
        verbose_name = _("patrol zone")
        verbose_name_plural = _("patrol zones")
        ordering = ["alliance", "name"]
        indexes = [
            models.Index(fields=["min_latitude", "max_latitude"], name="patrol_zone_latitudes"),
            models.Index(fields=["alliance", "is_archived"], name="patrol_zone_alliance"),
        ]

    def __str__(self) -> str:
        return self.name


class PatrolGrid(models.Model):
    zone = models.ForeignKey(PatrolZone, verbose_name=_("patrol zone"), on_delete=models.CASCADE, related_name="grids")
    name = models.CharField(_("name"), max_length=100)
    boundary = models.JSONField(_("boundary"), help_text=_("A GeoJSON Polygon (longitude, latitude), WGS-84."))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["zone", "name"]

    def __str__(self) -> str:
        return self.name


class PatrolRoute(models.Model):
    alliance = models.ForeignKey(
        "alliance.Alliance", verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="patrol_routes"
    )
    zone = models.ForeignKey(
        PatrolZone,
        verbose_name=_("patrol zone"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="routes",
    )
    name = models.CharField(_("name"), max_length=100)
    is_archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("patrol route")
        verbose_name_plural = _("patrol routes")
        ordering = ["alliance", "name"]

    def __str__(self) -> str:
        return self.name


class Checkpoint(models.Model):
    """A point a patrol scans on its route. Its printed QR code carries a payload signed by the server for this
    checkpoint and its ``qr_version``; reprinting the code (a lost or copied sticker) bumps the version, and older
    payloads are refused."""

    route = models.ForeignKey(
        PatrolRoute, verbose_name=_("patrol route"), on_delete=models.CASCADE, related_name="checkpoints"
    )
    position = models.PositiveSmallIntegerField(_("order on the route"))
    name = models.CharField(_("name"), max_length=100)
    latitude = models.FloatField(_("latitude"), validators=LATITUDE_VALIDATORS)
    longitude = models.FloatField(_("longitude"), validators=LONGITUDE_VALIDATORS)
    radius_metres = models.PositiveIntegerField(
        _("radius (m)"), default=50, validators=[MinValueValidator(5), MaxValueValidator(1000)]
    )
    qr_version = models.PositiveIntegerField(_("QR code version"), default=1)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["route", "position"]
        constraints = [models.UniqueConstraint(fields=["route", "position"], name="one_checkpoint_per_position")]

    def __str__(self) -> str:
        return self.name


class SupportPoint(models.Model):
    class Kind(models.TextChoices):
        WORKSTATION = "workstation", _("Police workstation")  # 警务工作站
        TRAFFIC_BOOTH = "traffic_booth", _("Traffic booth")  # 交通岗亭
        CHECKPOINT = "checkpoint", _("Checkpoint")  # 卡口
        RAPID_RESPONSE = "rapid_response", _("Rapid-response point")  # 1、3、5分钟快速反应点

    alliance = models.ForeignKey(
        "alliance.Alliance", verbose_name=_("alliance"), on_delete=models.CASCADE, related_name="support_points"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    latitude = models.FloatField(_("latitude"), validators=LATITUDE_VALIDATORS)
    longitude = models.FloatField(_("longitude"), validators=LONGITUDE_VALIDATORS)
    # The distances reached in 1, 3 and 5 minutes from this point (metres), drawn as rings on the map.
    ring_metres = models.JSONField(_("1/3/5-minute rings (m)"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("support point")
        verbose_name_plural = _("support points")
        ordering = ["alliance", "kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="support_point_position_on_earth",
            )
        ]

    def __str__(self) -> str:
        return self.name
