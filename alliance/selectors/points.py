"""Reads of the points ledger: a person's accounts and history, an alliance's ledger, rules and leaderboards, and
the nightly reconciliation's comparison."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db.models import F, OuterRef, QuerySet, Subquery, Sum, Value, Window
from django.db.models.functions import Coalesce, Rank
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.models import AllianceMembership, PointsAccount, PointsEntry, PointsReason, PointsRule, Redemption
from alliance.models.points import RULED_REASONS
from config.errors import ApplicationError


def points_accounts_of_user(*, user) -> QuerySet[PointsAccount]:
    return PointsAccount.objects.filter(user=user).select_related("alliance")


def points_history_of_user(*, user, alliance_id: int | None = None) -> QuerySet[PointsEntry]:
    entries = PointsEntry.objects.filter(user=user).select_related("alliance")
    if alliance_id is not None:
        entries = entries.filter(alliance_id=alliance_id)
    return entries


def points_ledger_of_alliance(*, alliance, user_id: int | None = None) -> QuerySet[PointsEntry]:
    entries = PointsEntry.objects.filter(alliance=alliance).select_related("alliance", "user", "created_by")
    if user_id is not None:
        entries = entries.filter(user_id=user_id)
    return entries


@dataclass(frozen=True)
class RuleRow:
    reason: str
    amount: int
    daily_cap: int | None
    is_default: bool


def points_rules_of_alliance(*, alliance) -> list[RuleRow]:
    """Every ruled reason with the alliance's own rule or the settings' default."""
    own = {rule.reason: rule for rule in PointsRule.objects.filter(alliance=alliance)}
    rows = []
    for reason in RULED_REASONS:
        default = settings.POINTS_DEFAULT_RULES[reason.value]
        rule = own.get(reason.value)
        if rule is not None:
            rows.append(RuleRow(reason.value, rule.amount, rule.daily_cap, False))
        else:
            rows.append(RuleRow(reason.value, default["amount"], default["daily_cap"], True))
    return rows


# --- leaderboards -------------------------------------------------------------------------------------------------

# ASCII digits and no year 0 (``date`` has none: year 0000 was a 500; ``\d`` took Arabic-Indic digits too).
MONTH = re.compile(r"^([1-9][0-9]{3})-(0[1-9]|1[0-2])$")
HALF = re.compile(r"^([1-9][0-9]{3})H([12])$")
BOARD_ROLES = (AllianceMembership.Role.VOLUNTEER, AllianceMembership.Role.MERCHANT)


@dataclass(frozen=True)
class BoardPeriod:
    kind: str  # "month" or "half_year"
    label: str  # "2026-11" or "2026H2"
    first_day: date
    last_day: date


def board_period(*, kind: str, month: str | None = None, half: str | None = None, today: date | None = None):
    """The month (``2026-11``) or half-year (``2026H2``: July-December) asked, the current one by default (local
    days, Asia/Shanghai)."""
    today = today or timezone.localdate()
    if kind == "month":
        if half:
            raise ApplicationError.invalid("half", _("A monthly board takes a month, not a half-year."))
        if month:
            found = MONTH.match(month)
            if not found:
                raise ApplicationError.invalid("month", _("Give the month as YYYY-MM, e.g. 2026-11."))
            year, number = int(found[1]), int(found[2])
        else:
            year, number = today.year, today.month
        last = calendar.monthrange(year, number)[1]
        return BoardPeriod(kind, f"{year}-{number:02d}", date(year, number, 1), date(year, number, last))
    if month:
        raise ApplicationError.invalid("month", _("A half-year board takes a half-year, not a month."))
    if half:
        found = HALF.match(half)
        if not found:
            raise ApplicationError.invalid("half", _("Give the half-year as YYYYH1 or YYYYH2, e.g. 2026H2."))
        year, number = int(found[1]), int(found[2])
    else:
        year, number = today.year, 1 if today.month <= 6 else 2
    if number == 1:
        return BoardPeriod(kind, f"{year}H1", date(year, 1, 1), date(year, 6, 30))
    return BoardPeriod(kind, f"{year}H2", date(year, 7, 1), date(year, 12, 31))


def _board_points(*, alliance, role: str, period: BoardPeriod) -> QuerySet:
    """Points earned in the period by the members holding ``role``, per person: every entry earned in it except
    reward redemptions (spending is not earning; reversals and corrections count against what they cancel)."""
    members = AllianceMembership.objects.filter(alliance=alliance, role=role).values("user_id")
    return (
        PointsEntry.objects.filter(
            alliance=alliance,
            user_id__in=members,
            earned_on__gte=period.first_day,
            earned_on__lte=period.last_day,
        )
        .exclude(reason=PointsReason.REDEMPTION)
        .values("user_id")
        .annotate(points=Sum("amount"))
    )


def points_leaderboard(*, alliance, role: str, period: BoardPeriod) -> QuerySet:
    """Ranked rows (``rank`` by RANK(): equal points share a rank and the next rank skips), with the person's name
    and number; best first, then by person id so pages are stable."""
    return (
        _board_points(alliance=alliance, role=role, period=period)
        .annotate(
            rank=Window(Rank(), order_by=F("points").desc()),
            display_name=F("user__display_name"),
            phone=F("user__phone"),
        )
        .order_by("-points", "user_id")
    )


def points_leaderboard_rank_of(*, alliance, role: str, period: BoardPeriod, user) -> tuple[int | None, int]:
    """(rank, points) of ``user`` on the board: the rank RANK() gives them, i.e. one more than the number of people
    with more points; None when they are not on the board (not of that role, or nothing earned)."""
    board = _board_points(alliance=alliance, role=role, period=period)
    mine = board.filter(user_id=user.pk).order_by("user_id").first()
    if mine is None:
        return None, 0
    ahead = board.filter(points__gt=mine["points"]).count()
    return ahead + 1, mine["points"]


# --- the nightly reconciliation -----------------------------------------------------------------------------------


def points_differences() -> list[dict]:
    """Accounts whose balance is not the sum of their entries, or whose hold is not the sum of their pending reward
    requests. Two correlated sums per account, in one statement."""
    ledger = (
        PointsEntry.objects.filter(user_id=OuterRef("user_id"), alliance_id=OuterRef("alliance_id"))
        .order_by()
        .values("user_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    requested = (
        Redemption.objects.filter(
            user_id=OuterRef("user_id"), alliance_id=OuterRef("alliance_id"), status=Redemption.Status.REQUESTED
        )
        .order_by()
        .values("user_id")
        .annotate(total=Sum("points"))
        .values("total")
    )
    rows = (
        PointsAccount.objects.annotate(
            ledger=Coalesce(Subquery(ledger), Value(0)), requested=Coalesce(Subquery(requested), Value(0))
        )
        .exclude(balance=F("ledger"), held=F("requested"))
        .values("pk", "user_id", "alliance_id", "balance", "ledger", "held", "requested")
        .order_by("pk")
    )
    return [
        {
            "account": row["pk"],
            "user": row["user_id"],
            "alliance": row["alliance_id"],
            "balance": row["balance"],
            "ledger": row["ledger"],
            "held": row["held"],
            "requested": row["requested"],
        }
        for row in rows
    ]
