"""``Idempotency-Key`` on creating POSTs: a retried request returns the first answer and creates nothing new.

Mobile networks drop answers and apps retry. For every POST under /api/v1/ that carries the header, the
middleware runs the view inside one transaction together with an :class:`IdempotencyRecord` insert (``ON CONFLICT
DO NOTHING``). The unique constraint on (scope, key) makes a concurrent duplicate wait on the first one's row lock
and then see its stored answer, so twenty identical requests at once create one object. Same key with another
body: 422. A 5xx or an exception rolls the record back with everything else, so the retry runs afresh.
"""

from __future__ import annotations

import hashlib
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from accounts.authentication import session_token_authenticate
from accounts.client_address import client_address
from accounts.error_codes import AccountErrorCode
from accounts.models import IdempotencyRecord
from config.errors import error_body

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces: UUIDs, ULIDs, random tokens
# Answers worth replaying. 401/408/409/429 are transient: a retry after logging in or waiting must run again.
TRANSIENT_STATUSES = {401, 408, 409, 429}


def _scope(request) -> str | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    if request.headers.get("X-Session-Token"):
        found = session_token_authenticate(request)
        if found:
            return f"user:{found[0].pk}"
        return None  # an invalid token: the view answers 401, nothing to remember
    return f"anon:{client_address(request)}"


def _fingerprint(request, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _record_claim(*, scope: str, key: str, method: str, path: str, fingerprint: str) -> bool:
    """Insert the request's record unless (scope, key) has one: ``INSERT ... ON CONFLICT DO NOTHING``, True when
    this request inserted it. A concurrent duplicate's insert waits on the unique index until the first request's
    transaction ends, then inserts nothing (and reads its answer) or, if the first rolled back, inserts. Nothing
    fails, so no savepoint is needed around it (an IntegrityError would have needed one: two statements more)."""
    record = IdempotencyRecord(scope=scope, key=key, method=method, path=path[:512], request_fingerprint=fingerprint)
    fields = [field for field in IdempotencyRecord._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    values = [field.get_db_prep_save(field.pre_save(record, add=True), connection) for field in fields]
    sql = (
        f"INSERT INTO {quote(IdempotencyRecord._meta.db_table)} ({columns}) "  # noqa: S608 - our own names
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT ({quote('scope')}, {quote('key')}) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.rowcount == 1


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body), status=record.status_code, content_type=record.response_content_type or None
    )
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path.startswith("/api/v1/"):
            return self.get_response(request)
        if not KEY_PATTERN.match(key):
            return JsonResponse(
                error_body(
                    AccountErrorCode.INVALID_IDEMPOTENCY_KEY,
                    _("The Idempotency-Key header must be 1 to 255 printable characters without spaces."),
                ),
                status=400,
            )
        try:
            body = request.body
        except RequestDataTooBig:
            return JsonResponse(
                error_body(AccountErrorCode.PAYLOAD_TOO_LARGE, _("The request is too large.")), status=413
            )
        scope = _scope(request)
        if scope is None:
            return self.get_response(request)
        fingerprint = _fingerprint(request, body)

        with transaction.atomic():
            if not _record_claim(
                scope=scope, key=key, method=request.method, path=request.path, fingerprint=fingerprint
            ):
                existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
                if existing is None or existing.status_code is None:
                    return JsonResponse(
                        error_body(
                            AccountErrorCode.IDEMPOTENCY_REQUEST_IN_PROGRESS,
                            _("The same request is still being processed. Try again in a moment."),
                        ),
                        status=409,
                    )
                if existing.request_fingerprint != fingerprint:
                    return JsonResponse(
                        error_body(
                            AccountErrorCode.IDEMPOTENCY_KEY_REUSED,
                            _("This Idempotency-Key was already used for a different request."),
                        ),
                        status=422,
                    )
                return _replay(existing)

            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            record = IdempotencyRecord.objects.filter(scope=scope, key=key)
            if response.status_code in TRANSIENT_STATUSES or response.streaming:
                record.delete()
                return response
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            record.update(
                status_code=response.status_code,
                response_body=response.content,
                response_content_type=response.get("Content-Type", ""),
            )
        return response


def idempotency_records_purge(*, older_than_hours: int | None = None) -> int:
    from datetime import timedelta

    from django.utils import timezone

    hours = older_than_hours if older_than_hours is not None else settings.IDEMPOTENCY_KEY_TTL_HOURS
    deleted, _per_model = IdempotencyRecord.objects.filter(
        created_at__lt=timezone.now() - timedelta(hours=hours)
    ).delete()
    return deleted
