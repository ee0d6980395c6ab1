"""What a patrol log entry needs from the apps above groups: a hidden danger (安全隐患) found on patrol becomes an
incident report, made by the reports app (groups does not import reports). reports/patrol_hooks.py registers the
reporter from ``ReportsConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Callable

# (entry: PatrolLogEntry, photo: config.images.PreparedImage | None) -> the new incident's id
HiddenDangerReporter = Callable[..., int]

_reporter: HiddenDangerReporter | None = None


def hidden_danger_reporter_register(fn: HiddenDangerReporter) -> HiddenDangerReporter:
    """One reporter: registering again (a reloaded app) replaces it."""
    global _reporter
    _reporter = fn
    return fn


def hidden_danger_report(entry, photo) -> int | None:
    """The incident the hidden danger became, or None when no app reports incidents (groups alone). Called inside
    the log entry's transaction: a refused report refuses the entry too."""
    if _reporter is None:
        return None
    return _reporter(entry, photo)
