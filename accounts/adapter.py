"""allauth's hooks for phone-number accounts: where the number is stored, how it is validated, how codes are sent."""

from __future__ import annotations

import phonenumbers
from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.sms import sms_send


def phone_normalise(raw: str) -> str:
    """E.164 for a valid mobile or fixed number; mainland numbers may come without +86. Raises ValidationError."""
    if not isinstance(raw, str) or not raw or "\x00" in raw or len(raw) > 32:
        raise forms.ValidationError(_("Enter a valid mobile number."), code="invalid_phone")
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException as exc:
        raise forms.ValidationError(_("Enter a valid mobile number."), code="invalid_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise forms.ValidationError(_("Enter a valid mobile number."), code="invalid_phone")
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        # Codes go by SMS; a landline cannot receive them.
        raise forms.ValidationError(_("Enter a mobile number that can receive text messages."), code="not_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class AccountAdapter(DefaultAccountAdapter):
    def clean_phone(self, phone: str) -> str:
        return phone_normalise(phone)

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        sms_send(phone=phone, code=code, purpose="verification")

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        # Prevent enumeration: the API answers alike for known and unknown numbers; only the phone's owner learns.
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
        User.objects.filter(pk=user.pk, phone=phone).update(phone_verified=True)
        user.phone_verified = True

    def get_user_by_phone(self, phone: str) -> User | None:
        return User.objects.filter(phone=phone, is_active=True).order_by("pk").first()
