"""Reads of what happened on a shift: its attempts (for leaders and the police), a checkpoint for its codes."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from alliance.selectors.alliances import alliance_access_for
from config.errors import ApplicationError
from groups.models import Checkpoint, PatrolAttempt, PatrolTeamMember, Shift
from groups.permissions import can_print_checkpoint_codes, can_see_patrol_attempts


def shift_for_attempts_or_404(*, user, shift_id: int) -> Shift:
    """The shift, for someone who may read its attempts; 404 when its alliance is not theirs to see, 403 for a
    member who neither leads its team nor runs the alliance."""
    shift = Shift.objects.select_related("alliance").filter(pk=shift_id).first()
    access = alliance_access_for(user=user, alliance=shift.alliance) if shift is not None else None
    if access is None:
        raise ApplicationError.not_found()
    leads_team = PatrolTeamMember.objects.filter(
        team_id=shift.team_id, user=user, role=PatrolTeamMember.Role.LEADER
    ).exists()
    if not can_see_patrol_attempts(user, access, leads_team=leads_team):
        raise ApplicationError.permission_denied(_("Only the team's leaders and the alliance's admins see attempts."))
    return shift


def shift_attempts(*, shift: Shift) -> QuerySet[PatrolAttempt]:
    return PatrolAttempt.objects.filter(shift=shift).select_related("user", "checkpoint").order_by("-id")


def checkpoint_for_codes_or_404(*, user, checkpoint_id: int) -> Checkpoint:
    checkpoint = Checkpoint.objects.select_related("route__alliance").filter(pk=checkpoint_id).first()
    access = alliance_access_for(user=user, alliance=checkpoint.route.alliance) if checkpoint is not None else None
    if access is None:
        raise ApplicationError.not_found()
    if not can_print_checkpoint_codes(user, access):
        raise ApplicationError.permission_denied(_("Only the alliance's admins and its police print checkpoint codes."))
    return checkpoint
