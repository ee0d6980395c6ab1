"""The statistics as a spreadsheet's rows, for the CSV download."""

from __future__ import annotations

from django.utils.translation import gettext as _

from reports.statistics.catalogue import Figure, figure_list


def statistics_table(stats: dict, *, figures: list[Figure] | None = None, extra_rows: list[list] = ()) -> list[list]:
    """The statistics as rows for a spreadsheet, one per figure, headed in the active language: section, figure,
    this period, previous period, change %, same period last year, change % (year on year).

    ``figures``: which figures (default: the case statistics'); ``extra_rows`` (section, label, value of this
    period) follow them (the patrol statistics' routes)."""
    header = [
        _("Section"),
        _("Figure"),
        _("This period"),
        _("Previous period"),
        _("Change on previous period (%)"),
        _("Same period last year"),
        _("Change year on year (%)"),
    ]
    period_section = _("Period")
    periods = (stats["period"], stats["previous_period"], stats["last_year_period"])
    rows = [
        header,
        [period_section, _("From"), *(periods[0]["from"], periods[1]["from"], "", periods[2]["from"], "")],
        [period_section, _("To"), *(periods[0]["to"], periods[1]["to"], "", periods[2]["to"], "")],
        [period_section, _("Days"), *(periods[0]["days"], periods[1]["days"], "", periods[2]["days"], "")],
    ]
    for figure in figure_list() if figures is None else figures:
        row = stats["changes"][figure.key]
        rows.append(
            [
                figure.section,
                figure.label,
                row["value"],
                row["previous_period"]["value"],
                row["previous_period"]["change_pct"],
                row["last_year"]["value"],
                row["last_year"]["change_pct"],
            ]
        )
    hotspot_section = _("Hotspots (cases per grid cell)")
    for rank, spot in enumerate(stats.get("hotspots", ()), start=1):
        label = _("No. %(rank)s near %(latitude)s, %(longitude)s") % {
            "rank": rank,
            "latitude": f"{spot['latitude']:.3f}",
            "longitude": f"{spot['longitude']:.3f}",
        }
        rows.append([hotspot_section, label, spot["cases"], "", "", "", ""])
    rows += [[section, label, value, "", "", "", ""] for section, label, value in extra_rows]
    return [["" if cell is None else cell for cell in row] for row in rows]
