"""Reading JSON from strangers: one depth and size limit for every request body and every socket frame.

Python's json module recurses once per nesting level, so a body of 5,000 ``[`` exhausts the interpreter's stack
(a RecursionError: a 500 on REST, a 1011 close on the socket), and a few hundred levels parse but then recurse
through every serializer and validator that walks them. Nothing the API takes needs more than a handful of levels
(an alliance boundary with holes is five), so deeper input is refused before any view or handler sees it.

:func:`json_loads_limited` is the one place the limits are checked. It is used by the DRF parser below (every REST
endpoint: ``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``), by :class:`JSONBodyLimitMiddleware` for the views that are
not DRF's (allauth's login endpoints read ``request.body`` themselves) and by the socket consumer.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from config.errors import ApplicationError, error_body

FORM_CONTENT_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class JSONLimitExceeded(ValueError):
    """The JSON is refused for its shape, not for what it says."""


class JSONTooLarge(JSONLimitExceeded):
    pass


class JSONTooDeep(JSONLimitExceeded):
    @property
    def message(self) -> str:
        return _("The JSON sent is nested too deeply (at most %(max)s levels).") % {"max": settings.JSON_MAX_DEPTH}


def _deeper_than(value, max_depth: int) -> bool:
    """Whether containers nest more than ``max_depth`` levels (a bare scalar is 0, ``{}`` is 1). Iterative: the
    point is not to recurse over what a stranger sent."""
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > max_depth:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def json_loads_limited(raw: bytes | str, *, max_bytes: int):
    """The JSON value in ``raw``, at most ``max_bytes`` long (UTF-8) and ``settings.JSON_MAX_DEPTH`` levels deep.

    Raises :class:`JSONTooLarge`, :class:`JSONTooDeep`, or ``ValueError`` for anything that is not JSON (NaN and
    Infinity included, as DRF's strict parser does).
    """
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise JSONTooLarge
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        # Deep enough to exhaust the stack while parsing; the C parser unwinds cleanly, nothing half-built escapes.
        raise JSONTooDeep from None
    if isinstance(value, dict | list) and _deeper_than(value, settings.JSON_MAX_DEPTH):
        raise JSONTooDeep
    return value


def too_large_message() -> str:
    return _("The request is too large.")


class LimitedJSONParser(JSONParser):
    """DRF's JSON parser with the depth and size limits: 400 ``too_deeply_nested``, 413 ``payload_too_large``."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read(settings.JSON_MAX_BODY_BYTES + 1) if stream is not None else b""
        try:
            return json_loads_limited(raw, max_bytes=settings.JSON_MAX_BODY_BYTES)
        except JSONTooLarge:
            raise ApplicationError("payload_too_large", too_large_message(), status_code=413)
        except JSONTooDeep as refused:
            raise ApplicationError("too_deeply_nested", refused.message)
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}")


class JSONBodyLimitMiddleware:
    """The same limits for the views DRF does not parse for: allauth's headless endpoints, which ``json.loads``
    any non-GET body whatever its Content-Type. A body that is not JSON at all is left to the view to refuse in
    its own format; a refusal here uses allauth's error format under ``/_allauth/`` and ours elsewhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method == "GET":
            return None
        # allauth reads every other method's body as JSON, whatever it announces (a 5,000-deep body sent as a form
        # reached its json.loads); other views (the admin site's forms and uploads) parse what they announce.
        if not request.path.startswith("/_allauth/") and (
            request.method in ("HEAD", "OPTIONS") or request.content_type in FORM_CONTENT_TYPES
        ):
            return None
        # (imported here: DRF's settings import this module while rest_framework.views is being imported)
        from rest_framework.views import APIView

        view_class = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            return None  # LimitedJSONParser checks these, and only when the view reads its body
        try:
            announced = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            announced = 0
        try:
            if announced > settings.JSON_MAX_BODY_BYTES:
                raise JSONTooLarge
            body = request.body
            if body:
                json_loads_limited(body, max_bytes=settings.JSON_MAX_BODY_BYTES)
        except (JSONTooLarge, RequestDataTooBig):
            return self._refuse(request, 413, "payload_too_large", too_large_message())
        except JSONTooDeep as refused:
            return self._refuse(request, 400, "too_deeply_nested", refused.message)
        except ValueError:
            return None
        return None

    def _refuse(self, request, status: int, code: str, message: str) -> JsonResponse:
        if request.path.startswith("/_allauth/"):
            return JsonResponse({"status": status, "errors": [{"code": code, "message": message}]}, status=status)
        return JsonResponse(error_body(code, message), status=status)
