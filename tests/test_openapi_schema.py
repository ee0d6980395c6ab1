"""The generated OpenAPI schema is valid for strict validators and client generators, not only for Swagger UI."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

# Keys whose values are maps of names (a property called "default" is not a default value).
NAME_MAPS = {"properties", "schemas", "paths", "responses", "parameters", "headers", "securitySchemes", "examples"}


@pytest.fixture(scope="module")
def schema() -> dict:
    from django.test import Client

    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    # drf-spectacular's own check: no generator warning or error, and valid against the OpenAPI meta-schema
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_the_served_schema_is_valid_openapi(schema):
    validate_schema(schema)  # raises jsonschema.ValidationError naming the place


def _defaults(node, pointer=""):
    """Every (JSON pointer, schema object) whose schema object carries a ``default``."""
    if isinstance(node, dict):
        if "default" in node:
            yield pointer, node
        for key, value in node.items():
            escaped = key.replace("~", "~0").replace("/", "~1")
            if key in NAME_MAPS and isinstance(value, dict):
                for name, child in value.items():
                    yield from _defaults(child, f"{pointer}/{escaped}/{name.replace('~', '~0').replace('/', '~1')}")
            elif key != "default":
                yield from _defaults(value, f"{pointer}/{escaped}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _defaults(value, f"{pointer}/{index}")


def _broken_defaults(schema: dict) -> dict[str, str]:
    # Each default is checked against the very schema object that carries it (its pattern, enum, lengths, type),
    # with $refs resolved in the whole document. Generic validators check the document's shape, not this.
    broken = {}
    for pointer, node in _defaults(schema):
        if node["default"] is None and node.get("nullable"):
            continue
        root = copy.copy(schema)
        root["$ref"] = f"#{pointer}"  # draft 4: a $ref replaces its siblings, so this validates against the node
        error = jsonschema.exceptions.best_match(jsonschema.Draft4Validator(root).iter_errors(node["default"]))
        if error is not None:
            broken[pointer] = error.message
    return broken


def test_every_default_satisfies_its_own_schema(schema):
    assert list(_defaults(schema)), "the walk finds the defaults there are"

    assert _broken_defaults(schema) == {}


def test_the_default_check_catches_a_default_its_pattern_refuses():
    schema = {"components": {"schemas": {"A": {"properties": {"slug": {"type": "string", "pattern": "^[a-z]+$"}}}}}}
    schema["components"]["schemas"]["A"]["properties"]["slug"]["default"] = ""

    assert list(_broken_defaults(schema)) == ["/components/schemas/A/properties/slug"]
