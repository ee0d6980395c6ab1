"""Reads on the safety-tip library and its schedules: what a police admin manages (their jurisdiction's units, and
the city-wide library every unit may use) and a schedule's occurrences."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.permissions import is_police_admin
from alliance.models import Tip, TipOccurrence, TipSchedule
from alliance.selectors.alliances import jurisdiction_station_ids
from config.errors import ApplicationError


def tips_managed_by(*, user) -> QuerySet[Tip]:
    """The tips of the units in a police admin's jurisdiction and the city-wide ones (which they read and send but
    do not change); none for anyone else."""
    if not is_police_admin(user):
        return Tip.objects.none()
    units = jurisdiction_station_ids(user=user)
    return Tip.objects.filter(Q(station_id__in=units) | Q(station__isnull=True)).order_by("-pk")


def managed_tip_or_404(*, user, tip_id: int) -> Tip:
    tip = tips_managed_by(user=user).filter(pk=tip_id).first()
    if tip is None:
        raise ApplicationError.not_found(tip=[str(tip_id)])
    return tip


def tip_schedules_managed_by(*, user) -> QuerySet[TipSchedule]:
    if not is_police_admin(user):
        return TipSchedule.objects.none()
    return TipSchedule.objects.filter(station_id__in=jurisdiction_station_ids(user=user)).order_by("-pk")


def managed_tip_schedule_or_404(*, user, schedule_id: int) -> TipSchedule:
    schedule = tip_schedules_managed_by(user=user).filter(pk=schedule_id).first()
    if schedule is None:
        raise ApplicationError.not_found(schedule=[str(schedule_id)])
    return schedule


def tip_occurrences_of(*, schedule: TipSchedule) -> QuerySet[TipOccurrence]:
    """The schedule's runs, newest first, each with its tip's title (one query per page)."""
    return TipOccurrence.objects.filter(schedule=schedule).select_related("tip").order_by("-pk")


def tip_rotation(*, schedule: TipSchedule) -> QuerySet[Tip]:
    """The tips a schedule sends in turn, by id: the active ones of its topics (every topic when it names none),
    from its unit's library and the city-wide one."""
    tips = Tip.objects.filter(Q(station_id=schedule.station_id) | Q(station__isnull=True), is_active=True)
    if schedule.topics:
        tips = tips.filter(topic__in=schedule.topics)
    return tips.order_by("pk")
