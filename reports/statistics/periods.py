"""Periods: Asia/Shanghai calendar days from a first to a last day, both included, and the periods a figure is
compared with (the previous period of the same length, the same dates a year earlier)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

DEFAULT_DAYS = 30
MAX_YEARS = 2
# Outside these the previous period and last year's would leave the calendar; nobody reports on them anyway.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def latest_last_day(first_day: date) -> date:
    """The last day a period starting on ``first_day`` may end on: at most two years, both ends included."""
    return years_before(first_day, -MAX_YEARS) - timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """Asia/Shanghai calendar days from ``first_day`` to ``last_day``, both included."""

    first_day: date
    last_day: date

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as a half-open interval of aware datetimes: [first day 00:00, day after the last 00:00)."""
        tz = timezone.get_default_timezone()
        return (
            datetime.combine(self.first_day, time.min, tzinfo=tz),
            datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=tz),
        )

    def previous(self) -> Period:
        return Period(self.first_day - timedelta(days=self.days), self.first_day - timedelta(days=1))

    def a_year_earlier(self) -> Period:
        return Period(years_before(self.first_day, 1), years_before(self.last_day, 1))

    def as_dict(self) -> dict:
        return {"from": self.first_day, "to": self.last_day, "days": self.days}


def default_period(*, today: date | None = None) -> Period:
    today = today or timezone.localdate()
    return Period(today - timedelta(days=DEFAULT_DAYS - 1), today)
