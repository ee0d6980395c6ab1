"""allauth's hooks for phone-number accounts: where the number is stored, how it is validated, how codes are sent."""

from __future__ import annotations

import phonenumbers
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core.exceptions import RateLimited
from allauth.core.internal import ratelimit
from django import forms
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.client_address import client_address
from accounts.error_codes import AccountErrorCode
from accounts.models import User
from accounts.sms import sms_send
from accounts.user_cache import user_cache_forget
from config.errors import ApplicationError


def phone_normalise(raw: str) -> str:
    """E.164 for a valid mobile or fixed number; mainland numbers may come without +86. Raises ValidationError."""
    if not isinstance(raw, str) or not raw or "\x00" in raw or len(raw) > 32:
        raise _invalid_phone()
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException as exc:
        raise _invalid_phone() from exc
    if not phonenumbers.is_valid_number(number):
        raise _invalid_phone()
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        # Codes go by SMS; a landline cannot receive them.
        raise forms.ValidationError(
            _("Enter a mobile number that can receive text messages."), code=AccountErrorCode.NOT_MOBILE
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _invalid_phone() -> forms.ValidationError:
    return forms.ValidationError(_("Enter a valid mobile number."), code=AccountErrorCode.INVALID_PHONE)


# The user whose password this client chose (sign-up) or proved (password login), kept in the client's session.
PASSWORD_SHOWN_SESSION_KEY = "pingan_password_shown_for"
# The password a sign-up request carries, on that request only (see AccountAdapter.clean_password).
SIGNUP_PASSWORD_ATTR = "_pingan_signup_password"


def _url_name(request) -> str | None:
    match = getattr(request, "resolver_match", None)
    return match.url_name if match else None


class AccountAdapter(DefaultAccountAdapter):
    def clean_phone(self, phone: str) -> str:
        return phone_normalise(phone)

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        self._consume_text_quota(phone)
        sms_send(phone=phone, code=code, purpose="verification")

    def _consume_text_quota(self, phone: str) -> None:
        """Every text to a number (a login or verification code, a notice without one) counts here first, so a
        stranger cannot use up the owner's codes. The limits per number AND client address (one a minute, ten a day)
        come first; only a text they let through counts against the number's own (one a minute, thirty a day: SMS
        bombing, cost). So one address stops at ten a day without touching the number's allowance, and the owner's
        codes still come; it takes several addresses to reach the number's ceiling. Raises RateLimited (429 "wait a
        moment", accounts.middleware) alike for registered and unregistered numbers. allauth's own limit on code
        requests (``request_login_code``) is per address only: its per-number key would be spent before these ran."""
        per_address = ratelimit.consume(
            self.request,
            app="allauth.account",
            action="sms_per_number_and_address",
            key=self._number_at_address(self.request, phone),
        )
        if not per_address:
            raise RateLimited
        if not ratelimit.consume(self.request, app="allauth.account", action="sms_per_number", key=phone):
            per_address.rollback()
            raise RateLimited

    @staticmethod
    def _number_at_address(request, phone: str) -> str:
        # allauth's reading of the address: an IPv6 client counts by its /64, which it can rotate within at will.
        return f"{phone}@{ratelimit.get_ip(request)}"

    def send_account_already_exists_sms(self, phone: str, **kwargs) -> None:
        # A sign-up for a registered number: allauth answers as for a new one (the same pending verify_phone step),
        # and here it must also take as long, or the answer's timing tells that the number is registered.
        self._consume_text_quota(phone)
        self._mirror_new_signup_work(phone)
        sms_send(phone=phone, code="", purpose="account_exists")

    def _mirror_new_signup_work(self, phone: str) -> None:
        """The work a sign-up for a new number does that a registered number's would skip: hash the chosen password,
        write the user row and commit, read it back twice (allauth's e-mail set-up, the pending login's reload);
        the verification text is matched by the notice sent to the owner. Measured without it: 47 vs 27 ms median,
        443 vs 21 ms with a password."""
        password = getattr(self.request, SIGNUP_PASSWORD_ATTR, None)
        if password:
            make_password(password)
        owner_pk = User.objects.filter(phone=phone).values_list("pk", flat=True).first()
        if owner_pk is None:
            return
        # A committed write to the same table in place of the INSERT: it changes nothing (same value).
        User.objects.filter(pk=owner_pk).update(phone=F("phone"))
        EmailAddress.objects.filter(user_id=owner_pk).exists()

    def clean_password(self, password: str, user=None) -> str:
        password = super().clean_password(password, user=user)
        if user is None and self.request is not None:
            # A sign-up's password (change and reset pass their user): kept for this request only, so that a sign-up
            # for a registered number hashes it as a new number's does (_mirror_new_signup_work).
            setattr(self.request, SIGNUP_PASSWORD_ATTR, password)
        return password

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        # Prevent enumeration: the API answers alike for known and unknown numbers; only the phone's owner learns.
        self._consume_text_quota(phone)
        sms_send(phone=phone, code="", purpose="unknown_account")

    def set_phone(self, user: User, phone: str, verified: bool) -> None:
        user.phone = phone
        user.phone_verified = verified
        if user.pk:
            user.save(update_fields=["phone", "phone_verified"])

    def get_phone(self, user: User) -> tuple[str, bool] | None:
        if not user.phone:
            return None
        return str(user.phone), user.phone_verified

    def set_phone_verified(self, user: User, phone: str) -> None:
        """Pre-takeover guard. Anyone can sign up with somebody else's number and a password, then never verify it;
        when the owner later proves the number (typically by a code login: their own sign-up finds it taken), that
        password must not keep a way into the owner's account. So a password survives the first verification only
        when this same client chose it (the sign-up's own verification) or proved it (a password login that then
        verifies the number); otherwise it is discarded and the owner sets their own.
        """
        with transaction.atomic():
            # Locked and read again: the hourly purge of unverified sign-ups (users_unverified_purge) skips a row
            # held here, and once this commits the row is verified and out of its reach. If the purge deleted the
            # row first (it locked it before this login did), the login cannot go on: its user is gone.
            current = User.objects.select_for_update().filter(pk=user.pk, phone=phone).first()
            if current is None:
                raise ApplicationError(
                    AccountErrorCode.SIGNUP_EXPIRED,
                    _("This sign-up expired before the number was verified. Please sign up again."),
                    status_code=409,
                )
            changes: dict = {"phone_verified": True}
            if not current.phone_verified and current.has_usable_password() and not self._password_shown_here(user):
                user.set_unusable_password()
                changes["password"] = user.password
            User.objects.filter(pk=user.pk).update(**changes)
            user_cache_forget(user.pk)  # update() sends no post_save: a discarded password must end the sessions
        user.phone_verified = True

    def get_client_ip(self, request) -> str:
        # One reading of the client's address for rate limits, the session list and idempotency scopes.
        return client_address(request) or super().get_client_ip(request)

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """The failed-password lockout counts per number AND client address. allauth keys it by email or username,
        which for phone logins is empty: five wrong passwords on any number locked every number's password login.
        Keyed by number alone, anyone who knows a number could keep its owner out; per number and address, a
        stranger's failures lock only the stranger's address out of that number.

        What one address cannot do, many can: a distributed guesser meets the per-number ceiling
        (``login_failed_per_number``, thirty an hour), which then refuses that number's password login from every
        address, the owner's included, until the hour has passed; it is checked before the password, or the ceiling
        would stop nobody who guessed right. The owner still gets in by SMS code meanwhile: no password failure
        counts against code login, and one address cannot use up the number's texts (:meth:`_consume_text_quota`)."""
        return self._number_at_address(request, str(credentials.get("phone") or ""))

    def pre_authenticate(self, request, **credentials) -> None:
        super().pre_authenticate(request, **credentials)  # login_failed: per address, and per number and address
        per_number = ratelimit.consume(
            request, app="allauth.account", action="login_failed_per_number", key=str(credentials.get("phone") or "")
        )
        if not per_number:
            self._rollback_login_failed_rl_usage()
            raise self.validation_error(AccountErrorCode.TOO_MANY_LOGIN_ATTEMPTS)
        # A successful login rolls back what it consumed, the per-number count included.
        self._login_failed_rl_usage.usage.extend(per_number.usage)

    def validation_error(self, code, *args):
        if code == AccountErrorCode.TOO_MANY_LOGIN_ATTEMPTS and _url_name(self.request) == "request_login_code":
            # allauth reports a throttled code request as a failed login (400); it only means "wait a minute":
            # accounts.middleware answers 429 with a message that says so.
            raise RateLimited
        return super().validation_error(code, *args)

    def save_user(self, request, user, form, commit=True):
        # The number is set before the row is written: one INSERT, not an INSERT and an UPDATE (set_phone saves
        # only a saved user).
        user = super().save_user(request, user, form, commit=False)
        if commit:
            user.save()
        if user.pk and user.has_usable_password():
            self._remember_password_shown(user)
        return user

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None and credentials.get("password"):
            self._remember_password_shown(user)
        return user

    def _remember_password_shown(self, user: User) -> None:
        session = getattr(self.request, "session", None)
        if session is not None:
            session[PASSWORD_SHOWN_SESSION_KEY] = user.pk

    def _password_shown_here(self, user: User) -> bool:
        session = getattr(self.request, "session", None)
        return session is not None and session.get(PASSWORD_SHOWN_SESSION_KEY) == user.pk

    def get_user_by_phone(self, phone: str) -> User | None:
        return User.objects.filter(phone=phone, is_active=True).order_by("pk").first()
