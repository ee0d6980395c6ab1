from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.converters import MAX_ID
from config.filters import EARLIEST, LATEST, MAX_OFFSET
from config.geojson import MAX_POINTS


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of turning them into text.

    DRF's CharField accepts ``0`` for a name and stores "0"; a phone app sending a number where text belongs has a
    bug, and it is told so.
    """

    default_error_messages = {"not_a_string": _("Enter text.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class BoundedDateTimeField(serializers.DateTimeField):
    """A time in a request body within the years 2000 to 2100, with a real UTC offset (the bounds of
    ``config.filters.BoundedIsoDateTimeField``): DRF's own field answers 500 to a naive year 1 (its check that the
    local time exists overflows), and a time near year 1 stored with an offset cannot be read back."""

    default_error_messages = {
        "out_of_range": _("Enter a time between the years 2000 and 2100, with a real UTC offset."),
    }

    def enforce_timezone(self, value):
        offset = value.utcoffset()
        if not EARLIEST <= value.replace(tzinfo=None) <= LATEST or (offset is not None and abs(offset) > MAX_OFFSET):
            self.fail("out_of_range")
        return super().enforce_timezone(value)


class IdField(serializers.IntegerField):
    """The id of something in a request body: a whole number from 1 to the database's largest id.

    Beyond 2**63 - 1 an id names nothing, and on SQLite it reached the database driver and answered 500.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object by id, with :class:`IdField`'s bounds; ``true`` is not the object with id 1."""

    def to_internal_value(self, data):
        if isinstance(data, str) and data.isascii() and data.isdigit():
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class NamedChoiceField(serializers.ChoiceField):
    """A ChoiceField documented as its own named enum. Apps reuse "role", "kind" and "status" for different choice
    sets; left unnamed, drf-spectacular has to invent colliding names for them and warns."""

    def __init__(self, *args, enum_name: str, **kwargs):
        self.enum_name = enum_name
        super().__init__(*args, **kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        values = [value for value in self.target.choices if value not in ("", None)]
        component = ResolvedComponent(
            name=self.target.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=self.target.enum_name,
            schema={"type": "string", "enum": values},
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


GEOJSON_POLYGON = {
    "type": "object",
    "description": (
        f"A GeoJSON Polygon: rings of [longitude, latitude] positions, each closed (last = first), "
        f"at most {MAX_POINTS} positions in all."
    ),
    "properties": {
        "type": {"type": "string", "enum": ["Polygon"]},
        "coordinates": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
        },
    },
    "required": ["type", "coordinates"],
}


@extend_schema_field(GEOJSON_POLYGON)
class BoundaryField(serializers.JSONField):
    """Any JSON on the way in (the service checks it and says what is wrong); a GeoJSON Polygon on the way out."""
