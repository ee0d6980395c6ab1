"""Output shapes more than one of the alliance's endpoints answer with: a person, a police unit or an alliance by
reference, and the alliance role as its named enum."""

from __future__ import annotations

from rest_framework import serializers

from accounts.permissions import can_see_full_phone_numbers
from accounts.presentation import MaskedPhoneField
from alliance.models import AllianceMembership, Station
from config.serializer_fields import NamedChoiceField


def role_field(enum_name: str, **kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=AllianceMembership.Role.choices, enum_name=enum_name, **kwargs)


class AlliancePersonOutput(serializers.Serializer):
    """A person as other members see them: the mobile number masked (138****1234) unless the viewer is police."""

    id = serializers.IntegerField()
    display_name = serializers.CharField()
    phone = MaskedPhoneField()


class StationRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = NamedChoiceField(choices=Station.Kind.choices, enum_name="PoliceUnitKindEnum")


class AllianceRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


def person_context(request) -> dict:
    """The serializer context for :class:`AlliancePersonOutput`: whether this viewer sees full numbers."""
    return {"full_phones": can_see_full_phone_numbers(request.user)}
