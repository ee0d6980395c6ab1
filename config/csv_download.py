"""Spreadsheets as downloads (statistics, an alert's unread stores): CSV in UTF-8 with a byte-order mark."""

from __future__ import annotations

import csv
import io
import re

from django.http import HttpResponse

# Excel and WPS run a cell that starts with one of these as a formula (CSV injection): a store's name, a route's
# name, anything people type, could then fetch a URL or start a program on the officer's computer.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A plain number (a phone "+86138...", a change "-12.5") is no formula: it stays as it is, so it still adds up.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def csv_cell(value):
    """Text that a spreadsheet would run as a formula, written as text (a leading apostrophe, OWASP's advice)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_response(rows: list[list], *, filename: str) -> HttpResponse:
    """UTF-8 with a byte-order mark: Excel in China opens it as UTF-8 only then. No cell is written as a formula."""
    text = io.StringIO()
    csv.writer(text).writerows([csv_cell(value) for value in row] for row in rows)
    response = HttpResponse(("\ufeff" + text.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


class CsvDownloadMixin:
    """The spreadsheet is the answer whatever the ``Accept`` header says; errors still come as JSON."""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)
