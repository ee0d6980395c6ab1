"""Why a check-in, check-out or checkpoint scan was refused: a stable code, the figures behind it (minutes early,
metres outside), and the message a person reads, made from the two.

The code and figures are what is stored on the attempt (``PatrolAttempt.refusal_code`` / ``refusal_detail``), so the
same message can be given again later: to the phone resending an offline item, and to the leader reading the
shift's attempts, each in their own language.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from config.errors import ApplicationError
from groups.error_codes import GroupErrorCode as Code

# A rule refused what the phone sent: the request was understood, the answer is no.
REFUSAL_STATUS = 422

# The input a refusal is about, for the error body's ``fields``.
_FIELD = {
    Code.OUTSIDE_ZONE: "latitude",
    Code.TOO_FAR_FROM_CHECKPOINT: "latitude",
    Code.ACCURACY_TOO_POOR: "accuracy",
    Code.MOCK_LOCATION: "mock_location",
    Code.DEVICE_TIME_IMPLAUSIBLE: "device_time",
    Code.CODE_FORGED: "code",
    Code.CODE_EXPIRED: "code",
    Code.CODE_FOREIGN: "code",
    Code.ALREADY_SCANNED: "round",
}


def refusal_message(code: str, figures: dict) -> str:
    """The sentence for a stored refusal, in the active language (unknown codes from an older release: generic)."""
    f = figures or {}
    match code:
        case Code.NOT_SIGNED_UP:
            return _("You are not signed up for this shift.")
        case Code.SHIFT_CANCELLED:
            return _("This shift was cancelled.")
        case Code.TOO_EARLY:
            return _("Too early by %(minutes)s minutes: check-in opens %(grace)s minutes before the start.") % {
                "minutes": f.get("minutes_early", 0),
                "grace": f.get("grace_minutes", 0),
            }
        case Code.TOO_LATE:
            return _("Too late: the shift ended %(minutes)s minutes ago.") % {"minutes": f.get("minutes_late", 0)}
        case Code.OUTSIDE_ZONE:
            return _("You are %(metres)s m outside the patrol zone (your position is accurate to %(accuracy)s m).") % {
                "metres": f.get("metres_outside", 0),
                "accuracy": f.get("accuracy_metres", 0),
            }
        case Code.ACCURACY_TOO_POOR:
            return _("Your position is only accurate to %(accuracy)s m; at most %(max)s m is needed. Wait for GPS.") % {
                "accuracy": f.get("accuracy_metres", 0),
                "max": f.get("max_accuracy_metres", 0),
            }
        case Code.MOCK_LOCATION:
            return _("Your phone reports a simulated location. Turn off mock locations and try again.")
        case Code.DEVICE_TIME_IMPLAUSIBLE:
            if f.get("in_future"):
                return _("The time on your phone is in the future. Check its clock.")
            return _("The time on your phone is %(minutes)s minutes away from the real time. Check its clock.") % {
                "minutes": f.get("minutes_off", 0)
            }
        case Code.ALREADY_CHECKED_IN:
            return _("You are already checked in to this shift.")
        case Code.NOT_CHECKED_IN:
            return _("Check in to this shift first.")
        case Code.ALREADY_CHECKED_OUT:
            return _("You have already checked out of this shift.")
        case Code.CODE_FORGED:
            return _("This is not a checkpoint code we issued.")
        case Code.CODE_EXPIRED:
            return _("This checkpoint code was replaced by a newer one. Scan the current sticker.")
        case Code.CODE_FOREIGN:
            return _("This checkpoint is not on this shift's route.")
        case Code.TOO_FAR_FROM_CHECKPOINT:
            return _("You are %(metres)s m from the checkpoint; scan it within %(radius)s m.") % {
                "metres": f.get("metres_away", 0),
                "radius": f.get("radius_metres", 0),
            }
        case Code.ALREADY_SCANNED:
            return _("You already scanned this checkpoint in round %(round)s.") % {"round": f.get("round", 1)}
    return _("Refused.")


class PatrolRefused(ApplicationError):
    """A patrol rule said no. ``attempt``: the PatrolAttempt row recording it (committed before this is raised), or
    None for refusals that are not attempts (the log). ``duplicate``: the phone resent an item already stored."""

    def __init__(self, code: str, figures: dict | None = None, *, attempt=None, duplicate: bool = False):
        figures = figures or {}
        message = refusal_message(code, figures)
        field = _FIELD.get(code)
        super().__init__(
            code,
            message,
            status_code=REFUSAL_STATUS,
            fields={field: [message]} if field else {},
            extra={"figures": figures},
        )
        self.figures = figures
        self.attempt = attempt
        self.duplicate = duplicate

    @classmethod
    def of_attempt(cls, attempt, *, duplicate: bool = False) -> PatrolRefused:
        return cls(attempt.refusal_code, attempt.refusal_detail, attempt=attempt, duplicate=duplicate)
