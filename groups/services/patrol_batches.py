"""An offline batch: check-ins, scans, check-outs and log entries the phone captured without signal, sent together
when it is back online.

Each item is judged against the time it happened (its ``device_time``, which may not lie in the future), in the order
it happened (a check-in before the scans that need it), each in its own transaction, and answered one by one: a
batch can partly succeed. An item whose ``client_id`` was already stored (the phone resends a batch whose answer it
lost) answers ``duplicate`` with the first outcome and writes nothing.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from config.errors import ApplicationError
from groups.patrol_refusals import PatrolRefused
from groups.services.checkpoint_scans import checkpoint_scan
from groups.services.patrol_log import patrol_log_add
from groups.services.shift_check_ins import shift_check_in, shift_check_out

MAX_ITEMS = 200

ACCEPTED, REFUSED, DUPLICATE = "accepted", "refused", "duplicate"

_POSITION = ("latitude", "longitude", "coordinate_system", "accuracy_metres", "device_time", "mock_location")
# kind -> (service, the item's fields it takes besides user, shift, client_id)
_KINDS = {
    "check_in": (shift_check_in, _POSITION),
    "check_out": (shift_check_out, _POSITION),
    "scan": (checkpoint_scan, (*_POSITION, "code", "round")),
    "log": (
        patrol_log_add,
        ("note", "flyers", "people_reached", "latitude", "longitude", "coordinate_system", "device_time"),
    ),
}


def _answer(item: dict, status: str, *, outcome: str = "", error: ApplicationError | None = None) -> dict:
    return {
        "client_id": item["client_id"],
        "status": status,
        "outcome": outcome or status,
        "code": error.code if error else "",
        "message": error.message if error else "",
        "figures": getattr(error, "figures", {}) if error else {},
    }


def _process(*, user, item: dict, received_at: datetime) -> dict:
    service, fields = _KINDS[item["kind"]]
    params = {field: item[field] for field in fields if field in item}
    if item["kind"] == "log":
        params["kind"] = item["log_kind"]
    else:
        params["offline"] = True
    try:
        done = service(user=user, shift=item["shift"], client_id=item["client_id"], received_at=received_at, **params)
    except PatrolRefused as refusal:
        return _answer(item, DUPLICATE if refusal.duplicate else REFUSED, outcome=REFUSED, error=refusal)
    except ApplicationError as error:
        return _answer(item, REFUSED, error=error)
    return _answer(item, DUPLICATE if getattr(done, "duplicate", False) else ACCEPTED, outcome=ACCEPTED)


def patrol_batch_process(*, user, items: list[dict], received_at: datetime | None = None) -> list[dict]:
    """``items``: validated by the API (``kind``, ``shift``, ``client_id``, ``device_time`` and the kind's fields;
    a log item's own kind is ``log_kind``). Answers in the order sent; processes in the order things happened.
    Not atomic as a whole (each item commits on its own): call it outside a transaction."""
    received_at = received_at or timezone.now()
    answers: list[dict | None] = [None] * len(items)
    for index in sorted(range(len(items)), key=lambda i: items[i]["device_time"]):
        answers[index] = _process(user=user, item=items[index], received_at=received_at)
    return answers
