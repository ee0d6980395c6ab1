"""Each app's error codes are listed in one place, its ``error_codes.py`` (Saleor's ``order/error_codes.py``), and
named from that list: a string literal given as a code anywhere else in the app fails here, so the list stays the
whole of what the app answers with (REST bodies, allauth's flows, the live channel's ``error`` events)."""

from __future__ import annotations

import ast
import importlib
import json
from enum import StrEnum
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# app -> its list. ``reports`` joins with one line, ("reports", "ReportErrorCode"), once it has its list.
APPS = [
    ("alliance", "AllianceErrorCode"),
    ("groups", "GroupErrorCode"),
    ("accounts", "AccountErrorCode"),
    ("reports", "ReportsErrorCode"),
]

# Calls whose argument at this position is an error code: raising a refusal, building an error body, a socket
# ``error`` event or close (groups/consumers.py), allauth's ``validation_error``.
CODE_ARGUMENT = {
    "ApplicationError": 0,
    "field_error": 0,
    "error_body": 0,
    "send_error": 0,
    "validation_error": 0,
    "refuse": 1,
}
# Calls whose ``code=`` keyword is an error code (allauth and the admin site show a form error's code).
CODE_KEYWORD = {"ValidationError", "ApplicationError"}


def _code_nodes(node: ast.AST) -> list[ast.expr]:
    """What one node gives as an error code: a call's code argument, or the ``"code"`` of a body written out
    (``{"code": ..., "message": ...}``, allauth's shape in accounts/middleware.py)."""
    if isinstance(node, ast.Dict):
        return [
            value for key, value in zip(node.keys, node.values) if isinstance(key, ast.Constant) and key.value == "code"
        ]
    if not isinstance(node, ast.Call):
        return []
    name = getattr(node.func, "id", getattr(node.func, "attr", ""))
    given = []
    if name in CODE_ARGUMENT and len(node.args) > CODE_ARGUMENT[name]:
        given.append(node.args[CODE_ARGUMENT[name]])
    if name in CODE_KEYWORD:
        given += [keyword.value for keyword in node.keywords if keyword.arg == "code"]
    return given


def error_code_literals(source: str, filename: str = "<source>") -> list[str]:
    """String literals given as an error code in one module, as ``filename:line 'code'``."""
    return [
        f"{filename}:{value.lineno} {value.value!r}"
        for node in ast.walk(ast.parse(source, filename=filename))
        for value in _code_nodes(node)
        if isinstance(value, ast.Constant) and isinstance(value.value, str)
    ]


@pytest.mark.parametrize(("app", "_codes"), APPS)
def test_the_app_names_its_error_codes_from_its_list_only(app, _codes):
    # when
    literals = [
        hit
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
        for hit in error_code_literals(path.read_text(), str(path.relative_to(ROOT)))
    ]

    # then: a new code goes into <app>/error_codes.py, so the list stays the whole of what the app answers
    assert literals == []


@pytest.mark.parametrize(("app", "codes"), APPS)
def test_error_codes_are_the_strings_the_api_sends(app, codes):
    # when
    listed = getattr(importlib.import_module(f"{app}.error_codes"), codes)

    # then: the members are the strings the API sends, each once
    assert issubclass(listed, StrEnum)
    assert all(f"{code}" == code.value and json.dumps(code) == f'"{code.value}"' for code in listed)
    assert len({code.value for code in listed}) == len(listed)


def test_the_reader_finds_every_way_of_giving_a_code():
    # given
    source = """
ApplicationError("a", "m")
field_error("b", "f", "m")
error_body("c", "m")
self.send_error("d", "m")
self.refuse(4401, "e", "m")
self.validation_error("f")
forms.ValidationError("m", code="g")
ApplicationError(Code.NAMED, "m")
sms_send(phone=p, code="", purpose="p")
body = {"status": 429, "errors": [{"code": "h", "message": "m"}]}
"""

    # when
    literals = error_code_literals(source)

    # then: the literals, not the named code nor an SMS's code
    assert [hit.split()[1] for hit in literals] == ["'a'", "'b'", "'c'", "'d'", "'e'", "'f'", "'g'", "'h'"]
