"""Filters shared by list endpoints."""

from __future__ import annotations

from datetime import datetime, timedelta

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from config.converters import MAX_ID

EARLIEST = datetime(2000, 1, 1)
LATEST = datetime(2100, 12, 31)
MAX_OFFSET = timedelta(hours=14)  # the widest real UTC offset (UTC+14, Kiribati)


class BoundedIsoDateTimeField(IsoDateTimeField):
    """ISO 8601 as the client sent it, within years a case can have and offsets that exist: the database refuses
    a year 657 or a +19:53 offset with an error, and the client deserves a 400 instead."""

    default_error_messages = {
        "out_of_range": _("Enter a time between the years 2000 and 2100, with a real UTC offset."),
    }

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        offset = parsed.utcoffset()
        naive = parsed.replace(tzinfo=None)
        if not EARLIEST <= naive <= LATEST or (offset is not None and abs(offset) > MAX_OFFSET):
            raise forms.ValidationError(self.error_messages["out_of_range"], code="out_of_range")
        return parsed


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class IdFilter(django_filters.NumberFilter):
    """An id in a query string (``?alliance=3``): a whole number within the database's range, else 400. (A
    NumberFilter takes 3.5, and on SQLite an id beyond 2**63 - 1 reached the database driver and answered 500.)"""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class StrictNullBooleanField(forms.Field):
    """``true``/``false`` (or ``1``/``0``), any case; empty is "no filter" like every other parameter. Anything
    else is refused: django-filter's own boolean widgets read ``?mine=yes`` as "no filter", which hides a typo."""

    default_error_messages = {"invalid": _("Enter true or false.")}
    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        try:
            return self.VALUES[str(value).lower()]
        except KeyError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def validate(self, value):
        pass  # None (no filter) is allowed; to_python has refused everything else


class StrictBooleanFilter(django_filters.BooleanFilter):
    """A boolean query parameter that answers 400 for a value that is not a boolean (documented as boolean)."""

    field_class = StrictNullBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)
