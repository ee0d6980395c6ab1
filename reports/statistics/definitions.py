"""What each figure means: the one-sentence definitions returned with the figures so that a report can quote them
honestly, beside the numbers they quote (change one, change the other)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from reports.models import Dispute, Incident

HANDLED_WITHIN_SECONDS = 300
REPEAT_DISTANCE_METRES = 50.0
REPEAT_WINDOW = timedelta(days=30)
HOTSPOT_GRID = Decimal("0.001")  # degrees: cells about 111 m north-south, 95 m east-west at 31 degrees north
HOTSPOT_COUNT = 10

LEVEL_KEYS = {Dispute.Level.MALL: "mall", Dispute.Level.OFFICE: "office", Dispute.Level.STATION: "station"}
CLOSED_INCIDENT_STATUSES = (Incident.Status.RESOLVED, Incident.Status.CLOSED)
SATISFACTION_SCORES = ("1", "2", "3", "4", "5")

DEFINITIONS = {
    "period": (
        "A case counts in the period in which it was raised (a dispute flag when it was flagged, an incident report "
        "when it was reported), over Asia/Shanghai calendar days from `from` to `to`, both included."
    ),
    "cases.total": "Dispute flags and incident reports raised in the period, whatever their status.",
    "cases.repeat": (
        "A repeat case is a case raised within 50 m of an earlier case of the same alliance raised at most 30 days "
        "before it, where cases are flags and reports except reports rejected or merged into another report and "
        "flags resolved as false alarms; the rate is repeat cases divided by all such cases of the period (`of`)."
    ),
    "hotspots": (
        "The period's cases (counted as for repeat cases) grouped into grid cells by rounding latitude and "
        "longitude to 0.001 degree (about 111 m by 95 m), the ten cells with the most cases first, each with the "
        "cell's centre."
    ),
    "disputes.total": "Dispute flags raised in the period, including cancelled and still open ones.",
    "disputes.by_category": "Dispute flags of the period by the category the reporter chose.",
    "disputes.by_status": "Dispute flags of the period by their status at the time of the request.",
    "disputes.by_level_reached": (
        "Dispute flags of the period by the highest rung of the handling ladder they reached (mall management, "
        "community police office, police station); a flag starts higher when nobody is on duty below."
    ),
    "disputes.by_outcome": (
        "Resolved dispute flags of the period by how they ended: mediated, settled on site, referred to the police "
        "station, or false alarm."
    ),
    "disputes.time_to_acknowledge": (
        "Seconds from flagging to the first responder's acknowledgement (or first arrival or resolution when nobody "
        "acknowledged before), over the period's flags that got one (`count`)."
    ),
    "disputes.time_to_arrive": (
        "Seconds from flagging to the first responder's arrival on the scene, over the period's flags with an "
        "arrival (`count`)."
    ),
    "disputes.time_to_resolve": ("Seconds from flagging to resolution, over the period's resolved flags (`count`)."),
    "disputes.handled_within_5_minutes": (
        "Dispute flags resolved at most 300 seconds after they were flagged (`count`), divided by all flags raised "
        "in the period (`of`), cancelled, unresolved and still open flags included."
    ),
    "incidents.total": "Incident reports raised in the period, whatever their status.",
    "incidents.by_category": "Incident reports of the period by the category the reporter chose.",
    "incidents.by_status": "Incident reports of the period by their status at the time of the request.",
    "incidents.merged": "Incident reports of the period merged into another report of the same incident.",
    "incidents.closure": (
        "Incident reports of the period now resolved or closed (`closed`), divided by the period's reports that "
        "were neither rejected nor merged into another report (`of`)."
    ),
    "incidents.time_to_accept": (
        "Seconds from reporting to acceptance by the police, over the period's reports, not merged, that were "
        "accepted (`count`)."
    ),
    "incidents.time_to_resolve": (
        "Seconds from reporting to resolution, over the period's reports, not merged, that were resolved (`count`)."
    ),
    "incidents.satisfaction": (
        "The reporters' ratings from 1 to 5 of the period's reports: how many were rated (`responses`), their mean "
        "rounded to two decimals (`average`), and how many gave each rating (`distribution`)."
    ),
    "median_seconds": (
        "The middle one of the sorted times (the mean of the two middle ones when their number is even), rounded "
        "to 0.1 s; null when there is none."
    ),
    "p90_seconds": (
        "The 90th percentile by nearest rank: the shortest of the sorted times that at least 90% of the measured "
        "cases did not exceed, rounded to 0.1 s; null when there is none."
    ),
    "percentages": "Percentages are rounded half up to one decimal and are null when the denominator is 0.",
    "changes": (
        "Each figure against the previous period of the same number of days and against the same calendar dates "
        "one year earlier (29 February becomes 28 February): `change` is this period's value minus the base, and "
        "`change_pct` that difference as a percentage of the base (for a rate: a relative change, not percentage "
        "points), null when the base is 0 or missing."
    ),
}
