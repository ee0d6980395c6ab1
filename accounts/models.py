from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField


class Role(models.TextChoices):
    MERCHANT = "merchant", _("Merchant")
    VOLUNTEER = "volunteer", _("Volunteer")
    OFFICER = "officer", _("Police officer")
    POLICE_ADMIN = "police_admin", _("Police admin")
    MALL_MANAGER = "mall_manager", _("Mall manager")


# Merchants and volunteers sign themselves up; every other role is granted by a police admin.
SELF_SERVICE_ROLES = frozenset({Role.MERCHANT, Role.VOLUNTEER})
POLICE_ROLES = frozenset({Role.OFFICER, Role.POLICE_ADMIN})


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, phone, password=None, **extra):
        if not phone:
            raise ValueError("A phone number is required")
        user = self.model(phone=phone, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, phone, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person using the app. The mobile number (E.164) is the login.

    ``phone`` is empty only for deleted accounts: deletion anonymises the row so the person's reports stay.
    """

    phone = PhoneNumberField(_("mobile number"), unique=True, null=True, blank=True)
    phone_verified = models.BooleanField(_("mobile number verified"), default=False)
    email = models.EmailField(_("email"), blank=True)
    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    is_real_name_verified = models.BooleanField(
        _("real-name verified"), default=False, help_text=_("Set only by police admins after checking an ID.")
    )
    real_name_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("real-name verified by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    real_name_verified_at = models.DateTimeField(_("real-name verified at"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff (may use the admin site)"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        if self.deleted_at:
            return str(_("Deleted user #%(id)s") % {"id": self.pk})
        return self.display_name or str(self.phone)

    def get_full_name(self) -> str:
        return str(self)

    def get_short_name(self) -> str:
        return str(self)


class RoleGrantQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class RoleGrant(models.Model):
    """One grant of a role to a user. Rows are never deleted: together they are the audit trail of who may do what.

    A revocation fills ``revoked_at``/``revoked_by``; granting the role again writes a new row.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="role_grants"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty when granted by the system (demo data, management command)."),
    )
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = RoleGrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        ordering = ["-granted_at"]
        constraints = [
            # At most one live grant per user and role; concurrent duplicate grants fail here, not in Python.
            models.UniqueConstraint(
                fields=["user", "role"], condition=Q(revoked_at__isnull=True), name="one_active_grant_per_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class IdempotencyRecord(models.Model):
    """The first answer to a creating POST sent with an ``Idempotency-Key`` (see accounts/idempotency.py)."""

    scope = models.CharField(max_length=64, help_text="user:<id>, or anon:<ip> before login")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=512)
    request_fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="empty while in progress")
    response_body = models.BinaryField(default=b"", blank=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_once_per_scope")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class DeviceRegistration(models.Model):
    """A phone's push token. A token belongs to whoever registered it last (a phone changes hands, or two people
    share one): registering moves it. A token the provider calls dead is deleted (``accounts/push.py``)."""

    class Platform(models.TextChoices):
        ANDROID = "android", _("Android")
        IOS = "ios", _("iOS")

    class Provider(models.TextChoices):
        JPUSH = "jpush", _("JPush (Android in mainland China)")
        APNS = "apns", _("Apple Push Notification service")
        FCM = "fcm", _("Firebase Cloud Messaging (outside mainland China)")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="devices"
    )
    platform = models.CharField(_("platform"), max_length=8, choices=Platform.choices)
    provider = models.CharField(_("push provider"), max_length=8, choices=Provider.choices)
    token = models.CharField(_("token"), max_length=255)
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        constraints = [models.UniqueConstraint(fields=["provider", "token"], name="one_owner_per_push_token")]
        indexes = [models.Index(fields=["user"], name="device_user")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.token[:12]}"
