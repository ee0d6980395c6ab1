"""Request bodies are strict: a field the operation does not know is a 400 naming it, never silently ignored.

A misspelt ``"anonymous": true`` (the field is ``is_anonymous``) used to store a report that showed who sent it.
Every input serializer derives from :class:`InputSerializer`; the OpenAPI schema says so with
``additionalProperties: false`` on each request body, and the WebSocket refuses unknown keys in its frames with the
same message (:func:`unknown_field_errors`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

UNKNOWN_FIELD = _("Unknown field.")
MAX_NAMED_UNKNOWN_FIELDS = 20  # a body of ten thousand made-up keys gets a short answer, not a long echo


def unknown_field_errors(sent: Iterable, known: Iterable[str]) -> dict[str, list[str]]:
    """``{name: ["Unknown field."]}`` for each key of ``sent`` not in ``known`` (the first few, names shortened)."""
    known = set(known)
    unknown = sorted(str(name) for name in sent if name not in known)
    return {name[:64]: [str(UNKNOWN_FIELD)] for name in unknown[:MAX_NAMED_UNKNOWN_FIELDS]}


# A request body (JSON or multipart): its fields are the only ones accepted. (A comment, not a docstring:
# drf-spectacular would make a docstring the description of every request body that has none of its own.)
class InputSerializer(serializers.Serializer):
    def to_internal_value(self, data):
        unknown = unknown_field_errors(data, self._accepted_fields()) if isinstance(data, Mapping) else {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if unknown and isinstance(error.detail, dict):
                error.detail.update(unknown)
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value

    def _accepted_fields(self) -> set[str]:
        return {field.field_name for field in self._writable_fields if not isinstance(field, serializers.HiddenField)}


def input_fields(serializer_class: type[InputSerializer]) -> frozenset[str]:
    """The fields a body of this input serializer may carry: what a socket frame carrying the same input accepts."""
    return frozenset(serializer_class()._accepted_fields())


class InputSerializerSchema(OpenApiSerializerExtension):
    """Documents the strictness: ``additionalProperties: false`` on every request body built from one."""

    target_class = InputSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


# The body of an operation that takes none (approve, arrive, leave, remove...): empty, or ``{}``. Any field is
# unknown and answers 400 naming it, as everywhere else: a client that sends ``{"reason": ...}`` to an endpoint that
# ignores it learns so, instead of believing it was recorded. Views call :func:`no_body` first, and declare
# ``request=NoBodyInput`` so the schema says additionalProperties: false.
class NoBodyInput(InputSerializer):
    pass


def no_body(request) -> None:
    """Refuse any field in the request's body (before anything is looked up: a field is refused whatever the ids)."""
    NoBodyInput(data=request.data).is_valid(raise_exception=True)


# An answer's ModelSerializer whose fields are worked out from the model once per class, not once per instance.
# DRF introspects the model (field kinds, labels, null, lengths) every time a serializer's fields are first read: for
# an incident, two thirds of building its answer, on every request that answers one case (docs/performance.md).
# What it builds depends only on the class and the model, and labels and help texts stay lazy (translated when
# shown), so the result is kept on the class; each instance gets deep copies, as DRF does for declared fields
# (a field is bound to its serializer). A comment, not a docstring: drf-spectacular would describe every answer
# without a docstring of its own with it.
class OutputModelSerializer(serializers.ModelSerializer):
    def get_fields(self):
        built = type(self).__dict__.get("_fields_from_model")
        if built is None:
            built = super().get_fields()
            type(self)._fields_from_model = built
        return copy.deepcopy(built)


# An answer whose fields are bound once per class and shared by every instance. DRF deep-copies a serializer's
# declared fields and binds the copies for each instance it builds: for ``/api/v1/me`` a sixth of the request's
# CPU, for a dict of eight plain values (docs/performance.md). Sharing is safe only for fields that read nothing
# from their serializer but their name and source (plain values: numbers, text, dates, lists of those), never the
# context (the request, hyperlinks) nor the instance being answered: the shared fields are bound to an instance
# made for the purpose, without context. A comment, not a docstring (see OutputModelSerializer).
class SharedFieldsOutputSerializer(serializers.Serializer):
    @property
    def fields(self):
        cls = type(self)
        bound = cls.__dict__.get("_shared_fields")
        if bound is None:
            bound = serializers.Serializer.fields.func(cls())  # DRF's own binding, once
            cls._shared_fields = bound
        return bound
