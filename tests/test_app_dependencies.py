"""The apps depend on each other one way only: ``config`` <- ``accounts`` <- ``alliance`` <- ``groups`` <- ``reports``
(docs/architecture.md, "Apps"). A module may import its own app and the apps below it, never one above: where a
lower app needs a higher one, it offers a hook that the higher app registers into from its ``AppConfig.ready()``
(personal-data parts, jurisdiction, socket frames, membership hooks). ``config``'s composition root (ASGI, WSGI,
URLs, the Celery app) wires the apps together and may import every one; the rest of ``config`` imports none.

Every import counts: at module level or inside a function (a function-level import that goes upward is a cycle in
disguise), ``import x`` and ``from x import y``, and ``import_module("x")`` with a literal name.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.servers import ROOT

LAYERS = ("config", "accounts", "alliance", "groups", "reports")  # each may import those before it
COMPOSITION_ROOT = {"config/asgi.py", "config/wsgi.py", "config/urls.py", "config/celery_app.py"}


def imports_of(source: str, *, package: str) -> list[tuple[int, str]]:
    """``(line, module)`` for every import in the source, at any depth. Relative imports are resolved against
    ``package`` (the dotted package the file is in)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return sorted(found)


def _product_files() -> list[Path]:
    return sorted(path for app in LAYERS for path in (ROOT / app).rglob("*.py"))


def _upward_imports() -> list[tuple[str, int, str, str, str]]:
    """``(file, line, module, from app, to app)`` for each import of a higher app."""
    upward = []
    for path in _product_files():
        relative = path.relative_to(ROOT).as_posix()
        app = relative.split("/")[0]
        if relative in COMPOSITION_ROOT:
            continue
        package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
        for line, module in imports_of(path.read_text(encoding="utf-8"), package=package):
            target = module.split(".")[0]
            if target in LAYERS and LAYERS.index(target) > LAYERS.index(app):
                upward.append((relative, line, module, app, target))
    return upward


def test_no_app_imports_an_app_above_it():
    upward = _upward_imports()

    order = " <- ".join(LAYERS)
    assert not upward, f"Imports against the dependency order {order}:\n" + "\n".join(
        f"  {file}:{line} imports {module}: {app} is below {target}; offer a hook in {app} and register it from "
        f"{target}'s AppConfig.ready() (docs/architecture.md)"
        for file, line, module, app, target in upward
    )


def test_the_reader_sees_every_kind_of_import():
    source = """
import groups
import reports.models as m
from alliance.selectors import alliance_access
from . import sibling
from ..services import thing

def later():
    from reports.services.disputes import dispute_flag
    importlib.import_module("groups.events")
    return import_module("reports.tasks")
"""
    found = imports_of(source, package="accounts.sub")

    assert [module for _line, module in found] == [
        "groups",
        "reports.models",
        "alliance.selectors",
        "accounts.sub",
        "accounts.services",
        "reports.services.disputes",
        "groups.events",
        "reports.tasks",
    ]
    assert found[5][0] == 9  # the line, for the failure message
