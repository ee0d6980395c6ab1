from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

from config.converters import MAX_ID


class DefaultCursorPagination(CursorPagination):
    """Feeds page by an opaque cursor: stable under inserts, which offset paging is not on a busy feed."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def get_page_size(self, request):
        # DRF silently falls back to the default on a bad page_size; a client bug should be told instead.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            message = _("Enter a whole number from 1 to %(max)s.") % {"max": self.max_page_size}
            raise ValidationError({self.page_size_query_param: [message]})
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        self.model = queryset.model  # decode_cursor checks the cursor's position against the ordering field
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        """A cursor the client did not get from us is a bad request (DRF answers 404, as if the list were gone),
        and so is one whose position the ordering field cannot hold (DRF would pass it to the database)."""
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise self._invalid_cursor()
        if cursor is None or cursor.position is None:
            return cursor
        try:
            field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
        except (AttributeError, FieldDoesNotExist):
            return cursor
        try:
            position = field.to_python(cursor.position)
        except DjangoValidationError:
            raise self._invalid_cursor()
        if isinstance(position, int) and not -MAX_ID - 1 <= position <= MAX_ID:
            raise self._invalid_cursor()
        return cursor

    def _invalid_cursor(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: [_("Invalid cursor.")]})
