"""One error body for the whole API: ``{"code": ..., "message": ..., "fields": {...}}``.

Services raise :class:`ApplicationError` with a stable ``code`` that apps can switch on; ``message`` is for people
and follows the request's language (zh-hans unless ``Accept-Language`` asks for English).
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A domain rule said no. ``code`` is stable API; ``message`` is already translated for the caller. ``extra``:
    further top-level keys of the body, for the few errors that point somewhere (documented on their operation)."""

    def __init__(
        self, code: str, message: str, *, status_code: int = 400, fields: dict | None = None, extra: dict | None = None
    ):
        super().__init__(message)
        self.code = str(code)  # an app's error-code enum member (a StrEnum) or a plain string: the body has the string
        self.message = message
        self.status_code = status_code
        self.fields = fields or {}
        self.extra = extra or {}

    # The three answers every app gives, written once (each app lists its own codes in its ``error_codes.py``).

    @classmethod
    def not_found(cls, **fields) -> ApplicationError:
        """404 with the body of an unknown URL, so an id of something the caller may not see tells nothing.
        ``fields`` names the input that pointed at nothing: ``not_found(into=[_("Not found.")])``."""
        return cls("not_found", _("Not found."), status_code=404, fields=fields)

    @classmethod
    def permission_denied(cls, message: str) -> ApplicationError:
        """403: the caller may see it but not do this; ``message`` says who may."""
        return cls("permission_denied", message, status_code=403)

    @classmethod
    def invalid(cls, field: str, message: str) -> ApplicationError:
        """400 naming one input field, in the shape a serializer's validation error has."""
        return cls("invalid", message, fields={field: [message]})


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": str(message), "fields": fields or {}}


def _flatten(detail) -> dict:
    """DRF's nested ErrorDetail structures as ``{"field": ["message", ...]}`` (nested paths joined with dots)."""
    if isinstance(detail, dict):
        out: dict = {}
        for key, value in detail.items():
            nested = _flatten(value)
            if isinstance(value, dict):
                for sub, msgs in nested.items():
                    out[f"{key}.{sub}"] = msgs
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for sub, msgs in nested.items():
                    out[f"{key}.{sub}"] = msgs
            else:
                out[str(key)] = nested.get("", [])
        return out
    if isinstance(detail, list):
        if detail and all(isinstance(item, dict) for item in detail):
            out = {}
            for index, item in enumerate(detail):
                for sub, msgs in _flatten(item).items():
                    out[f"{index}.{sub}"] = msgs
            return out
        return {"": [str(item) for item in detail]}
    return {"": [str(detail)]}


def _validation_fields(detail) -> dict:
    fields = _flatten(detail)
    if "" in fields:
        fields["non_field_errors"] = fields.pop("") + fields.get("non_field_errors", [])
    return fields


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every failure leaves the API in the same shape."""
    answer = error_answer(exc)
    if answer is None:
        return None  # a real bug: let Django log it and answer 500 through handler500
    status_code, body, headers = answer
    return Response(body, status=status_code, headers=headers)


def error_answer(exc) -> tuple[int, dict, dict] | None:
    """The status, body and headers a failure answers with, or None for a real bug. REST renders it as the response
    (:func:`api_exception_handler`) and the socket as an ``error`` event (groups/consumers.py), so a refusal has the
    same code, message and fields whatever the transport."""
    if isinstance(exc, ApplicationError):
        return exc.status_code, {**error_body(exc.code, exc.message, exc.fields), **exc.extra}, {}
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return (
            status.HTTP_400_BAD_REQUEST,
            error_body("invalid", _("Some of the information you sent is not valid."), detail),
            {},
        )
    if isinstance(exc, RequestDataTooBig):
        return (
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            error_body("payload_too_large", _("The request is too large.")),
            {},
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        body = error_body(
            "invalid", _("Some of the information you sent is not valid."), _validation_fields(exc.detail)
        )
    elif isinstance(exc, exceptions.ParseError):
        body = error_body("malformed_request", _("The request body could not be read. Send valid JSON."))
    elif isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        body = error_body("not_authenticated", _("Please log in again."))
        exc.status_code = status.HTTP_401_UNAUTHORIZED
    elif isinstance(exc, exceptions.PermissionDenied):
        body = error_body("permission_denied", _("You do not have permission to do this."))
    elif isinstance(exc, exceptions.NotFound):
        body = error_body("not_found", _("Not found."))
    elif isinstance(exc, exceptions.MethodNotAllowed):
        body = error_body("method_not_allowed", _("This method is not allowed here."))
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        body = error_body("unsupported_media_type", _("Send the request body as JSON."))
    elif isinstance(exc, exceptions.NotAcceptable):
        body = error_body("not_acceptable", _("The requested response format is not available."))
    elif isinstance(exc, exceptions.Throttled):
        body = error_body("rate_limited", _("Too many requests. Please wait a moment and try again."))
    else:
        body = error_body(exc.default_code, str(exc.detail))
    return exc.status_code, body, headers


# Django-level handlers (urls.py): outside DRF views too, an API client never receives an HTML page.
def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(error_body("payload_too_large", _("The request is too large.")), status=413)
    return JsonResponse(error_body("bad_request", _("The request could not be understood.")), status=400)


def permission_denied(request, exception=None):
    return JsonResponse(error_body("permission_denied", _("You do not have permission to do this.")), status=403)


def page_not_found(request, exception=None):
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)


def server_error(request):
    return JsonResponse(
        error_body("server_error", _("Something went wrong on our side. Please try again later.")), status=500
    )
