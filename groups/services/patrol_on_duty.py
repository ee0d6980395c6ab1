"""Who is on duty where changed (a check-in, a check-out, an automatic close): tell the police clients live.

Called by the check-in, check-out and close services inside their transaction; publishes on commit.
"""

from __future__ import annotations


def on_duty_changed(*, signup, change: str) -> None:
    """``change``: "checked_in", "checked_out" or "closed". Implemented by the on-duty work (issue 11)."""
