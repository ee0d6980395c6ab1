"""How people are shown to other people: the same in member lists of alliances, stores and contact groups."""

from __future__ import annotations

import phonenumbers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


def mask_phone(phone) -> str:
    """``+8613812341234`` -> ``138****1234``: enough for a merchant to recognise a neighbour, not to call a stranger.

    Takes a ``PhoneNumber``, an E.164 string or None (deleted accounts have no number; they show as ""). Numbers
    outside mainland China keep their country code so they are not mistaken for local ones. Only the police see
    full numbers (``accounts.permissions.can_see_full_phone_numbers``).
    """
    if not phone:
        return ""
    text = str(phone)
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        digits = "".join(char for char in text if char.isdigit())
        return "*" * len(digits)  # not a number we understand: show nothing of it
    national = str(number.national_number)
    if len(national) >= 8:
        masked = f"{national[:3]}****{national[-4:]}"
    else:
        masked = f"{'*' * (len(national) - 2)}{national[-2:]}"
    if number.country_code == 86:
        return masked
    return f"+{number.country_code} {masked}"


@extend_schema_field(OpenApiTypes.STR)
class MaskedPhoneField(serializers.Field):
    """A person's mobile number as this viewer may see it: in full for the police, ``138****1234`` for everyone else.

    The one privacy rule for numbers in API answers. The view decides once per request who looks and puts
    ``full_phones = accounts.permissions.can_see_full_phone_numbers(viewer)`` in the serializer's context; without
    it the number is masked (the safe side). ``source`` points at the phone (``source="user.phone"``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        # A deleted account has no number: show "" as mask_phone does (DRF would render a None attribute as null).
        phone = super().get_attribute(instance)
        return "" if phone is None else phone

    def to_representation(self, phone) -> str:
        if self.context.get("full_phones"):
            return str(phone or "")
        return mask_phone(phone)
