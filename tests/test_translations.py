"""Every message a person can see exists in zh-hans: the .po is complete, every gettext call in the code is in it,
and no refusal hands a person an untranslated literal.

The code is read with ``ast`` rather than ``makemessages``: it is exact about string concatenation and escapes,
takes a fraction of a second, and does not need GNU gettext installed.
"""

from __future__ import annotations

import ast
import gettext as gettext_module
from pathlib import Path

import pytest
from django.conf import settings

PROJECT_APPS = ("accounts", "alliance", "groups", "reports", "config")
PO_PATH = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

# name -> (index of the context argument or None, index of the msgid argument)
TRANSLATION_CALLS = {
    "_": (None, 0),
    "gettext": (None, 0),
    "gettext_lazy": (None, 0),
    "gettext_noop": (None, 0),
    "ngettext": (None, 0),
    "ngettext_lazy": (None, 0),
    "pgettext": (0, 1),
    "pgettext_lazy": (0, 1),
    "npgettext": (0, 1),
    "npgettext_lazy": (0, 1),
}
# Calls whose message argument reaches a person: (index of the message argument or None for "every argument",
# keyword names that carry messages).
MESSAGE_CALLS = {
    "ApplicationError": (1, ("message", "fields")),
    "ValidationError": (None, ("message", "detail")),
    "BoundaryError": (None, ()),
    "send_error": (1, ()),
    "refuse": (2, ()),
    "error_body": (1, ()),
}


class PoEntry:
    def __init__(self):
        self.context: str | None = None
        self.msgid = ""
        self.msgid_plural: str | None = None
        self.msgstr: list[str] = []
        self.fuzzy = False
        self.obsolete = False


def _unquote(text: str) -> str:
    return ast.literal_eval(text)


def po_entries(path: Path = PO_PATH) -> list[PoEntry]:
    """A small .po reader: msgctxt, msgid, msgid_plural, msgstr / msgstr[n], multi-line strings, #, fuzzy."""
    entries: list[PoEntry] = []
    entry = PoEntry()
    target: tuple[str, int] | None = None

    def finish():
        nonlocal entry, target
        if entry.msgid or entry.msgstr:
            entries.append(entry)
        entry, target = PoEntry(), None

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            continue
        if line.startswith("#,"):
            if target is not None and target[0] == "msgstr":
                finish()
            entry.fuzzy = "fuzzy" in line
            continue
        if line.startswith("#"):
            if target is not None and target[0] == "msgstr":
                finish()
            continue
        keyword, _space, rest = line.partition(" ")
        if line.startswith('"'):
            value = _unquote(line)
        elif keyword in ("msgctxt", "msgid", "msgid_plural") or keyword.startswith("msgstr"):
            if keyword in ("msgctxt", "msgid") and target is not None and target[0] == "msgstr":
                finish()
            value = _unquote(rest)
            if keyword == "msgctxt":
                target = ("msgctxt", 0)
                entry.context = ""
            elif keyword == "msgid":
                target = ("msgid", 0)
            elif keyword == "msgid_plural":
                target = ("msgid_plural", 0)
                entry.msgid_plural = ""
            else:
                index = int(keyword[len("msgstr[") : -1]) if keyword.startswith("msgstr[") else 0
                target = ("msgstr", index)
                entry.msgstr.append("")
        else:
            raise AssertionError(f"{path}: cannot read line {line!r}")
        kind, index = target
        if kind == "msgctxt":
            entry.context += value
        elif kind == "msgid":
            entry.msgid += value
        elif kind == "msgid_plural":
            entry.msgid_plural += value
        else:
            entry.msgstr[index] += value
    finish()
    return [entry for entry in entries if entry.msgid and not entry.obsolete]


def _project_files():
    root = Path(settings.BASE_DIR)
    for app in PROJECT_APPS:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield root, path


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _string(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def gettext_calls() -> list[tuple[str, str | None, str]]:
    """(where, context, msgid) of every translation call with a literal msgid in the project's Python files."""
    found = []
    for root, path in _project_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or _call_name(node) not in TRANSLATION_CALLS:
                continue
            context_index, msgid_index = TRANSLATION_CALLS[_call_name(node)]
            if len(node.args) <= msgid_index:
                continue
            msgid = _string(node.args[msgid_index])
            if msgid is None:
                continue  # a message translated where it is defined, e.g. _(str(label)) of a lazy choice label
            context = _string(node.args[context_index]) if context_index is not None else None
            found.append((f"{path.relative_to(root)}:{node.lineno}", context, msgid))
    return found


def _literal_messages(node):
    """String literals (and f-strings) that would reach a person as they are, not through gettext."""
    if isinstance(node, ast.JoinedStr) or (_string(node) or "").strip():
        yield node
    elif isinstance(node, ast.List | ast.Tuple | ast.Set):
        for element in node.elts:
            yield from _literal_messages(element)
    elif isinstance(node, ast.Dict):
        for value in node.values:
            yield from _literal_messages(value)
    elif isinstance(node, ast.BinOp):  # "..." % values
        yield from _literal_messages(node.left)


def test_every_message_in_the_po_file_has_a_chinese_translation():
    # given the project's translations
    entries = po_entries()

    # then none is empty or fuzzy
    assert len(entries) > 100  # the reader found the file's entries
    missing = [entry.msgid for entry in entries if not all(entry.msgstr) or not entry.msgstr]
    fuzzy = [entry.msgid for entry in entries if entry.fuzzy]
    assert missing == [], "untranslated entries in django.po"
    assert fuzzy == [], "fuzzy entries in django.po: check the translation and remove the flag"


def test_every_message_in_the_code_is_in_the_po_file():
    # given every gettext call in the project's code
    calls = gettext_calls()
    known = {(entry.context, entry.msgid) for entry in po_entries()}

    # then each of its messages has an entry
    assert len(calls) > 100
    missing = sorted({f"{where}: {msgid!r}" for where, context, msgid in calls if (context, msgid) not in known})
    assert missing == [], "add these to locale/zh_Hans/LC_MESSAGES/django.po"


def test_the_compiled_catalogue_matches_the_po_file():
    # given the .mo the server loads
    with MO_PATH.open("rb") as handle:
        catalogue = gettext_module.GNUTranslations(handle)

    # then it holds every translation of the .po (run compilemessages after editing the .po)
    stale = []
    for entry in po_entries():
        key = entry.msgid if entry.context is None else f"{entry.context}\x04{entry.msgid}"
        if entry.msgid_plural is None and catalogue._catalog.get(key) != entry.msgstr[0]:
            stale.append(entry.msgid)
    assert stale == [], "run: python manage.py compilemessages -l zh_Hans"


@pytest.mark.parametrize("name", sorted(MESSAGE_CALLS))
def test_no_refusal_hands_out_an_untranslated_literal(name):
    # given every call that puts a message in front of a person
    message_index, keywords = MESSAGE_CALLS[name]
    literals = []
    for root, path in _project_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or _call_name(node) != name:
                continue
            arguments = node.args if message_index is None else node.args[message_index : message_index + 1]
            arguments = list(arguments) + [keyword.value for keyword in node.keywords if keyword.arg in keywords]
            for argument in arguments:
                for literal in _literal_messages(argument):
                    literals.append(f"{path.relative_to(root)}:{literal.lineno}: {ast.unparse(literal)[:80]}")

    # then its message goes through gettext
    assert literals == [], "wrap these messages in gettext and translate them"
