"""Property-based fuzzing of every operation in our own OpenAPI schema (schemathesis), on objects that exist.

No operation may answer 5xx or answer outside its documented schema, whatever the input. New endpoints are
fuzzed automatically because the schema lists them. Two alliances in two jurisdictions are seeded once for the
module with real objects of every kind (tests/world.py); every case acts as a police admin or a merchant of one of
them, and its path parameters are either generated or the ids of real objects of either alliance, so an operation
runs past its 404 on its own alliance's objects and is refused on the other's. Each case runs in a savepoint
that is rolled back, so every case sees the same seeded world whatever the previous one deleted.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import checks

from tests.conftest import PinganClient
from tests.factories.accounts import UserFactory
from tests.world import build_side

pytestmark = pytest.mark.django_db

ROLES = ["police_admin", "merchant"]
ACTORS = [(side, role) for side in ("a", "b") for role in ROLES]
MISSING_ID = 2_000_000_000  # within the integer range, never a seeded id

# The seeded world, for the path-parameter hook, which runs while a case is drawn (after the fixture below).
WORLD: dict = {}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        try:
            sides = {
                "a": build_side(UserFactory, name="青平果", city="常州市", phone_prefix="+86139110"),
                "b": build_side(UserFactory, name="凤鸣金街", city="徐州市", phone_prefix="+86139220"),
            }
            tokens = {
                (key, role): PinganClient().login_with_password(str(sides[key].people[role].phone))
                for key, role in ACTORS
            }
            WORLD.update(sides=sides, tokens=tokens)
            yield WORLD
        finally:
            WORLD.clear()
            # The seed was committed outside any test's transaction: empty the tables as a transactional test does.
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """Django's WSGI handler closes the connection at each request's start and end when it is not in autocommit,
    as it never is inside a test's transaction; Django's own test client unhooks this the same way."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


# Loaded at collection through the WSGI app itself: the schema view touches no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Most cases name a real object of either alliance (an invite with its own alliance, a line with its own
    group); the others keep the generated values. Hypothesis leans to the first branch, hence the order."""
    if not path_parameters:
        return st.just(path_parameters)
    rows = [row for side in WORLD.get("sides", {}).values() for row in side.paths.get(frozenset(path_parameters), [])]
    if not rows:
        return st.just(path_parameters)
    return st.one_of(st.sampled_from(rows), st.just(path_parameters))


@schema.hook
def flatmap_body(context, body):
    """Body fields that name objects (an assignee, a station, an invite code) mostly name real ones too."""
    if not isinstance(body, dict) or not WORLD:
        return st.just(body)
    fields = {}
    for name, generated in body.items():
        values = [value for side in WORLD["sides"].values() for value in side.body_values.get(name, [])]
        fields[name] = st.one_of(st.sampled_from(values), st.just(generated)) if values else st.just(generated)
    return st.fixed_dictionaries(fields)


def _side_of(path_parameters) -> str | None:
    """Which alliance the path parameters name objects of, if they name real ones."""
    for key, side in WORLD["sides"].items():
        if path_parameters and path_parameters in side.paths.get(frozenset(path_parameters), []):
            return key
    return None


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
@schema.given(own=st.booleans(), role=st.sampled_from(ROLES))
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_fails_or_breaks_its_schema(case, own, role, world, wsgi_keeps_the_test_connection):
    # the actor is, half the time, of the alliance whose objects the case names, and of the other one otherwise
    named = _side_of(case.path_parameters) or "a"
    actor = (named if own else {"a": "b", "b": "a"}[named], role)
    with transaction.atomic():
        response = case.call(headers={"X-Session-Token": world["tokens"][actor]})
        transaction.set_rollback(True)  # the next case sees the seeded world again
    cache.clear()  # and no jurisdiction or rate-limit entry that the rolled-back case left behind
    case.validate_response(response, checks=CHECKS)


# --- the other alliance's objects -----------------------------------------------------------------------------------


def _operations_on_objects():
    raw = schema.raw_schema
    for path, item in raw["paths"].items():
        for method, operation in item.items():
            names = frozenset(p["name"] for p in operation.get("parameters", []) if p["in"] == "path")
            if names - {"role"}:
                yield method, path, names


OPERATIONS_ON_OBJECTS = sorted(_operations_on_objects())


def _request(client: PinganClient, method: str, path: str, values: dict):
    url = path.format(**values)
    if method in ("get", "delete"):
        return getattr(client, method)(url)
    return getattr(client, method)(url, json.dumps({}), content_type="application/json")


def _code(response) -> str | None:
    return response.json().get("code") if response.content and response["Content-Type"] == "application/json" else None


def _missing(values: dict) -> dict:
    return {name: value if name == "role" else MISSING_ID for name, value in values.items()}


@pytest.mark.parametrize(("method", "path", "names"), OPERATIONS_ON_OBJECTS, ids=lambda v: str(v))
def test_the_other_alliances_objects_answer_as_if_they_did_not_exist(world, method, path, names):
    # given each actor of one alliance, and the real objects of the other that this operation takes
    answers = []
    for own, other in (("a", "b"), ("b", "a")):
        for role in ("police_admin", "merchant"):
            client = PinganClient()
            client.credentials(HTTP_X_SESSION_TOKEN=world["tokens"][(own, role)])
            for values in world["sides"][other].paths.get(names, []):
                if values.get("user_id") in world["sides"][other].unattached:
                    continue
                # when they call the operation on it, and on ids that name nothing
                with transaction.atomic():
                    foreign = _request(client, method, path, values)
                    missing = _request(client, method, path, _missing(values))
                    transaction.set_rollback(True)
                cache.clear()
                answers.append((own, role, values, foreign, missing))
    assert answers, f"the seeded world has objects for {sorted(names)}"

    # then the answer is the one for an id that names nothing: 404 (or the refusal every id gets), never 5xx
    for own, role, values, foreign, missing in answers:
        assert foreign.status_code < 500, (own, role, values, foreign.content)
        assert (foreign.status_code, _code(foreign)) == (missing.status_code, _code(missing)), (
            own,
            role,
            values,
            foreign.content,
            missing.content,
        )
        if method in ("get", "delete"):
            assert foreign.status_code in (403, 404), (own, role, values, foreign.content)


# --- hostile bodies -------------------------------------------------------------------------------------------------

DEPTH = 5000


def _nested(depth: int = DEPTH) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def _json_body_operations():
    for path, item in schema.raw_schema["paths"].items():
        for method, operation in item.items():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                names = frozenset(p["name"] for p in operation.get("parameters", []) if p["in"] == "path")
                yield method, path, names


def test_a_body_nested_5000_levels_deep_is_refused_by_every_operation(world):
    # given the police admin of alliance A, and for each operation that reads JSON a real object of A to act on
    client = PinganClient()
    client.credentials(HTTP_X_SESSION_TOKEN=world["tokens"][("a", "police_admin")])
    answers = {}
    for method, path, names in sorted(_json_body_operations()):
        rows = world["sides"]["a"].paths.get(names, [{}]) if names else [{}]
        # when the body is an object nested 5,000 levels deep
        with transaction.atomic():
            response = client.generic(method.upper(), path.format(**rows[0]), _nested(), "application/json")
            transaction.set_rollback(True)
        cache.clear()
        answers[f"{method.upper()} {path}"] = response

    # then every operation refuses it with a clear 4xx error body, never a 500
    refused_badly = {
        name: (response.status_code, response.content[:200])
        for name, response in answers.items()
        if not (400 <= response.status_code < 500 and _code(response))
    }
    assert refused_badly == {}
