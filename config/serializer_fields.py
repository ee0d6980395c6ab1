from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


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
