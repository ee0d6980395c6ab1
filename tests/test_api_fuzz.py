"""Property-based fuzzing of every operation in our own OpenAPI schema (schemathesis).

No operation may answer 5xx or answer outside its documented schema, whatever the input. New endpoints are
fuzzed automatically because the schema lists them. A police admin's token is sent so the admin endpoints are
exercised past their permission check.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis import checks

from accounts.models import Role

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fuzz_token(user_factory, client_factory):
    admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER])
    user_factory(roles=[Role.MERCHANT])  # someone to find, grant and revoke
    return client_factory().login_with_password(str(admin.phone))


# Loaded at collection through the WSGI app itself: the schema view touches no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


# What the issue asks: never a 5xx, never an answer outside the documented statuses, types and bodies.
# Left out on purpose: positive_data_acceptance, because a schema-valid request may still break a domain rule
# (revoking one's own admin role, a wrong confirmation number) and must then get a 4xx; negative_data_rejection,
# because an empty query parameter (?role=) means "no filter" on every list, as browsers and forms send it.
# Wrong types in bodies are refused all the same: tests/test_api_conventions.py.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_fails_or_breaks_its_schema(case, fuzz_token):
    case.call_and_validate(headers={"X-Session-Token": fuzz_token}, checks=CHECKS)
