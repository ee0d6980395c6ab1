"""Spreadsheets as downloads (statistics, an alert's unread stores): CSV in UTF-8 with a byte-order mark."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse


def csv_response(rows: list[list], *, filename: str) -> HttpResponse:
    """UTF-8 with a byte-order mark: Excel in China opens it as UTF-8 only then."""
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    response = HttpResponse(("\ufeff" + text.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


class CsvDownloadMixin:
    """The spreadsheet is the answer whatever the ``Accept`` header says; errors still come as JSON."""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)
