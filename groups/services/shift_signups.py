"""Writes on places on shifts: signing up (or onto the waitlist), giving a place up, the waitlist's offers, leaders
assigning and removing people, and swaps the leader approves.

Locks, always in this order so two writers never wait on each other in a circle: the person's ``User`` row (so two
sign-ups of one person cannot both pass the overlap check), then the ``Shift`` row (so two sign-ups for the last
place cannot both take it). A service that only frees a place locks the shift alone.

Places: ``confirmed`` and ``offered`` rows hold a place of their role (``shift.slots``); ``waitlisted`` rows wait in
order of sign-up. An offer that is not answered keeps holding the place (no deadline): it shows in the roster as
offered, gets no reminder and is not marked a no-show, and the leader may remove it to offer the place onward.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from config.errors import ApplicationError
from groups.error_codes import GroupErrorCode
from groups.events import event_publish, user_topic
from groups.models import PatrolTeamMember, Shift, ShiftSignup, ShiftSwapRequest
from groups.selectors.patrol_rosters import TeamAccess, team_leader_ids
from groups.services.patrol_teams import require_patrol_eligible

PLACE_HOLDING = (ShiftSignup.Status.CONFIRMED, ShiftSignup.Status.OFFERED)


def _lock_person(user_id: int) -> None:
    User.objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True).first()


def _lock_shift(shift: Shift) -> Shift:
    return Shift.objects.select_for_update().get(pk=shift.pk)


def _require_open(shift: Shift, now: datetime) -> None:
    if shift.status != Shift.Status.SCHEDULED:
        raise ApplicationError(GroupErrorCode.SHIFT_NOT_OPEN, _("This shift was cancelled."), status_code=409)
    if shift.starts_at <= now:
        raise ApplicationError(GroupErrorCode.SHIFT_NOT_OPEN, _("This shift has already started."), status_code=409)


def _require_role(shift: Shift, role: str) -> int:
    places = shift.slots.get(role, 0)
    if not places:
        raise ApplicationError.invalid("role", _("This shift has no place of that kind."))
    return places


def _require_free_time(*, user_id: int, shift: Shift) -> None:
    """Refuses a second place at the same time: any held place (waitlist included) on a scheduled shift that
    overlaps this one. Call with the person's row locked."""
    clash = (
        ShiftSignup.objects.filter(
            user_id=user_id,
            status__in=ShiftSignup.HOLDING_STATUSES,
            shift__status=Shift.Status.SCHEDULED,
            shift__starts_at__lt=shift.ends_at,
            shift__ends_at__gt=shift.starts_at,
        )
        .exclude(shift=shift)
        .select_related("shift")
        .first()
    )
    if clash is not None:
        raise ApplicationError(
            GroupErrorCode.SHIFT_OVERLAP,
            _("This overlaps another shift already held: %(name)s at %(start)s.")
            % {
                "name": clash.shift.name,
                "start": timezone.localtime(clash.shift.starts_at).strftime("%Y-%m-%d %H:%M"),
            },
            status_code=409,
        )


def _require_not_on_shift(*, user_id: int, shift: Shift) -> None:
    if ShiftSignup.objects.filter(shift=shift, user_id=user_id, status__in=ShiftSignup.HOLDING_STATUSES).exists():
        raise ApplicationError(
            GroupErrorCode.ALREADY_SIGNED_UP, _("This person already has a place on this shift."), status_code=409
        )


def _places_taken(shift: Shift, role: str) -> int:
    return ShiftSignup.objects.filter(shift=shift, role=role, status__in=PLACE_HOLDING).count()


def _signup_event(signup: ShiftSignup, kind: str, **extra) -> dict:
    shift = signup.shift
    return {
        "type": kind,
        "signup": signup.pk,
        "shift": shift.pk,
        "name": shift.name,
        "role": signup.role,
        "starts_at": shift.starts_at,
        "ends_at": shift.ends_at,
        **extra,
    }


@transaction.atomic
def shift_signup(*, actor, shift: Shift, role: str, now: datetime | None = None) -> ShiftSignup:
    """The actor takes a place of ``role``, or joins the waitlist when the role is full. Members of the shift's
    alliance who patrol may sign up for any of its teams' shifts."""
    now = now or timezone.now()
    require_patrol_eligible(alliance=shift.alliance, user_id=actor.pk, field="user")
    _lock_person(actor.pk)
    shift = _lock_shift(shift)
    _require_open(shift, now)
    places = _require_role(shift, role)
    _require_not_on_shift(user_id=actor.pk, shift=shift)
    _require_free_time(user_id=actor.pk, shift=shift)
    status = ShiftSignup.Status.CONFIRMED if _places_taken(shift, role) < places else ShiftSignup.Status.WAITLISTED
    return ShiftSignup.objects.create(shift=shift, user=actor, role=role, status=status, created_at=now)


@transaction.atomic
def shift_assign(*, actor, shift: Shift, team_access: TeamAccess, user_id: int, role: str, now=None) -> ShiftSignup:
    """A leader puts an eligible person on the shift: a confirmed place, never past the role's capacity."""
    if not team_access.may_lead:
        raise ApplicationError.permission_denied(_("Only the team's leaders and the alliance's admins assign."))
    now = now or timezone.now()
    user = require_patrol_eligible(alliance=shift.alliance, user_id=user_id)
    _lock_person(user.pk)
    shift = _lock_shift(shift)
    _require_open(shift, now)
    places = _require_role(shift, role)
    _require_not_on_shift(user_id=user.pk, shift=shift)
    _require_free_time(user_id=user.pk, shift=shift)
    if _places_taken(shift, role) >= places:
        raise ApplicationError(
            GroupErrorCode.SHIFT_ROLE_FULL, _("Every place of this kind is taken on this shift."), status_code=409
        )
    signup = ShiftSignup.objects.create(
        shift=shift, user=user, role=role, status=ShiftSignup.Status.CONFIRMED, assigned_by=actor, created_at=now
    )
    event_publish(topics=[user_topic(user.pk)], event=_signup_event(signup, "shift_assigned"), durable=True)
    return signup


def _offer_next(*, shift: Shift, role: str, now: datetime) -> ShiftSignup | None:
    """The first of the role's waitlist is offered the freed place and told (event ``shift_offer``). Call with the
    shift locked. Nobody is offered a place on a shift that is over or cancelled."""
    if shift.status != Shift.Status.SCHEDULED or shift.ends_at <= now:
        return None
    if _places_taken(shift, role) >= shift.slots.get(role, 0):
        return None
    waiting = (
        ShiftSignup.objects.filter(shift=shift, role=role, status=ShiftSignup.Status.WAITLISTED)
        .order_by("created_at", "id")
        .first()
    )
    if waiting is None:
        return None
    waiting.status = ShiftSignup.Status.OFFERED
    waiting.offered_at = now
    waiting.save(update_fields=["status", "offered_at"])
    waiting.shift = shift
    event_publish(topics=[user_topic(waiting.user_id)], event=_signup_event(waiting, "shift_offer"), durable=True)
    return waiting


def _free_place(*, signup: ShiftSignup, status: str, now: datetime) -> ShiftSignup:
    """Ends ``signup`` (locked with its shift) and offers its place onward when it held one."""
    held = signup.status in PLACE_HOLDING
    signup.status = status
    signup.cancelled_at = now
    signup.save(update_fields=["status", "cancelled_at"])
    ShiftSwapRequest.objects.filter(signup=signup, status=ShiftSwapRequest.Status.PENDING).update(
        status=ShiftSwapRequest.Status.WITHDRAWN, decided_at=now
    )
    if held:
        _offer_next(shift=signup.shift, role=signup.role, now=now)
    return signup


def _lock_signup(signup: ShiftSignup) -> ShiftSignup:
    shift = _lock_shift(signup.shift)
    locked = ShiftSignup.objects.select_for_update().get(pk=signup.pk)
    locked.shift = shift
    return locked


@transaction.atomic
def shift_signup_cancel(*, actor, signup: ShiftSignup, now: datetime | None = None) -> ShiftSignup:
    """The person gives up their own place: a held place until ``PATROL_CANCEL_CUTOFF_MINUTES`` before the start
    (later the leader removes them), a waitlist place any time. The place goes to the waitlist."""
    if signup.user_id != actor.pk:
        raise ApplicationError.permission_denied(_("Only the person who holds a place gives it up."))
    now = now or timezone.now()
    signup = _lock_signup(signup)
    if signup.status not in ShiftSignup.HOLDING_STATUSES:
        raise ApplicationError(GroupErrorCode.SIGNUP_STATE, _("This place is not held any more."), status_code=409)
    cutoff = signup.shift.starts_at - timedelta(minutes=settings.PATROL_CANCEL_CUTOFF_MINUTES)
    if signup.status in PLACE_HOLDING and now > cutoff:
        raise ApplicationError(
            GroupErrorCode.CANCEL_CUTOFF_PASSED,
            _("Places can be given up until %(minutes)s minutes before the shift; ask the team leader.")
            % {"minutes": settings.PATROL_CANCEL_CUTOFF_MINUTES},
            status_code=409,
        )
    return _free_place(signup=signup, status=ShiftSignup.Status.CANCELLED, now=now)


@transaction.atomic
def shift_remove(*, actor, signup: ShiftSignup, team_access: TeamAccess, now=None) -> ShiftSignup:
    """A leader takes someone off a shift, at any time before it ends; the person is told (``shift_removed``)."""
    if not team_access.may_lead:
        raise ApplicationError.permission_denied(_("Only the team's leaders and the alliance's admins remove people."))
    now = now or timezone.now()
    signup = _lock_signup(signup)
    if signup.status not in ShiftSignup.HOLDING_STATUSES:
        raise ApplicationError(GroupErrorCode.SIGNUP_STATE, _("This place is not held any more."), status_code=409)
    signup.assigned_by = actor
    signup.save(update_fields=["assigned_by"])
    _free_place(signup=signup, status=ShiftSignup.Status.REMOVED, now=now)
    event_publish(topics=[user_topic(signup.user_id)], event=_signup_event(signup, "shift_removed"), durable=True)
    return signup


def _require_offer(actor, signup: ShiftSignup) -> None:
    if signup.user_id != actor.pk:
        raise ApplicationError.permission_denied(_("Only the person offered the place answers the offer."))
    if signup.status != ShiftSignup.Status.OFFERED:
        raise ApplicationError(GroupErrorCode.SIGNUP_STATE, _("There is no open offer on this place."), status_code=409)


@transaction.atomic
def shift_offer_accept(*, actor, signup: ShiftSignup, now: datetime | None = None) -> ShiftSignup:
    now = now or timezone.now()
    signup = _lock_signup(signup)
    _require_offer(actor, signup)
    if signup.shift.ends_at <= now or signup.shift.status != Shift.Status.SCHEDULED:
        raise ApplicationError(GroupErrorCode.SHIFT_NOT_OPEN, _("This shift is over."), status_code=409)
    signup.status = ShiftSignup.Status.CONFIRMED
    signup.save(update_fields=["status"])
    return signup


@transaction.atomic
def shift_offer_decline(*, actor, signup: ShiftSignup, now: datetime | None = None) -> ShiftSignup:
    """Declining passes the place to the next on the waitlist."""
    now = now or timezone.now()
    signup = _lock_signup(signup)
    _require_offer(actor, signup)
    return _free_place(signup=signup, status=ShiftSignup.Status.DECLINED, now=now)


# --- swaps --------------------------------------------------------------------------------------------------------


@transaction.atomic
def shift_swap_request(*, actor, signup: ShiftSignup, to_user_id: int, now=None) -> ShiftSwapRequest:
    """The holder of a confirmed place asks to hand it to another eligible person; the team's leaders are told
    (``shift_swap_requested``) and nothing changes until one approves."""
    now = now or timezone.now()
    if signup.user_id != actor.pk:
        raise ApplicationError.permission_denied(_("Only the person who holds a place asks to swap it."))
    if to_user_id == actor.pk:
        raise ApplicationError.invalid("to_user", _("Choose someone else to take the place."))
    to_user = require_patrol_eligible(alliance=signup.shift.alliance, user_id=to_user_id, field="to_user")
    signup = _lock_signup(signup)
    if signup.status != ShiftSignup.Status.CONFIRMED:
        raise ApplicationError(
            GroupErrorCode.SIGNUP_STATE, _("Only a confirmed place can be swapped."), status_code=409
        )
    _require_open(signup.shift, now)
    _require_not_on_shift(user_id=to_user.pk, shift=signup.shift)
    if ShiftSwapRequest.objects.filter(signup=signup, status=ShiftSwapRequest.Status.PENDING).exists():
        raise ApplicationError(
            GroupErrorCode.SWAP_NOT_PENDING, _("A swap of this place already waits for the leader."), status_code=409
        )
    swap = ShiftSwapRequest.objects.create(signup=signup, to_user=to_user, created_at=now)
    leaders = team_leader_ids(team_id=signup.shift.team_id)
    event_publish(
        topics=[user_topic(user_id) for user_id in leaders],
        event=_signup_event(signup, "shift_swap_requested", swap=swap.pk, to_user=to_user.pk, from_user=actor.pk),
        durable=True,
    )
    return swap


def _lock_pending_swap(swap: ShiftSwapRequest) -> ShiftSwapRequest:
    locked = ShiftSwapRequest.objects.select_for_update().select_related("signup__shift").get(pk=swap.pk)
    if locked.status != ShiftSwapRequest.Status.PENDING:
        raise ApplicationError(
            GroupErrorCode.SWAP_NOT_PENDING, _("This swap request was already decided."), status_code=409
        )
    return locked


def _swap_decided(swap: ShiftSwapRequest, signup: ShiftSignup) -> None:
    event_publish(
        topics=[user_topic(signup.user_id), user_topic(swap.to_user_id)],
        event=_signup_event(signup, "shift_swap_decided", swap=swap.pk, status=swap.status, to_user=swap.to_user_id),
        durable=True,
    )


@transaction.atomic
def shift_swap_approve(*, actor, swap: ShiftSwapRequest, team_access: TeamAccess, now=None) -> ShiftSwapRequest:
    """The old place becomes ``swapped`` and the new person gets a confirmed place of the same role, if they are
    still free at that time and still may patrol."""
    if not team_access.may_lead:
        raise ApplicationError.permission_denied(_("Only the team's leaders and the alliance's admins approve swaps."))
    now = now or timezone.now()
    to_user = require_patrol_eligible(alliance=swap.signup.shift.alliance, user_id=swap.to_user_id, field="to_user")
    _lock_person(to_user.pk)
    signup = _lock_signup(swap.signup)
    swap = _lock_pending_swap(swap)
    if signup.status != ShiftSignup.Status.CONFIRMED:
        raise ApplicationError(GroupErrorCode.SIGNUP_STATE, _("This place is not held any more."), status_code=409)
    _require_open(signup.shift, now)
    _require_not_on_shift(user_id=to_user.pk, shift=signup.shift)
    _require_free_time(user_id=to_user.pk, shift=signup.shift)
    signup.status = ShiftSignup.Status.SWAPPED
    signup.cancelled_at = now
    signup.save(update_fields=["status", "cancelled_at"])
    ShiftSignup.objects.create(
        shift=signup.shift,
        user=to_user,
        role=signup.role,
        status=ShiftSignup.Status.CONFIRMED,
        assigned_by=actor,
        created_at=now,
    )
    swap.status, swap.decided_by, swap.decided_at = ShiftSwapRequest.Status.APPROVED, actor, now
    swap.save(update_fields=["status", "decided_by", "decided_at"])
    _swap_decided(swap, signup)
    return swap


@transaction.atomic
def shift_swap_reject(*, actor, swap: ShiftSwapRequest, team_access: TeamAccess, now=None) -> ShiftSwapRequest:
    if not team_access.may_lead:
        raise ApplicationError.permission_denied(_("Only the team's leaders and the alliance's admins reject swaps."))
    swap = _lock_pending_swap(swap)
    swap.status, swap.decided_by, swap.decided_at = ShiftSwapRequest.Status.REJECTED, actor, now or timezone.now()
    swap.save(update_fields=["status", "decided_by", "decided_at"])
    _swap_decided(swap, swap.signup)
    return swap


@transaction.atomic
def shift_swap_withdraw(*, actor, swap: ShiftSwapRequest, now=None) -> ShiftSwapRequest:
    if swap.signup.user_id != actor.pk:
        raise ApplicationError.permission_denied(_("Only the person who asked withdraws a swap request."))
    swap = _lock_pending_swap(swap)
    swap.status, swap.decided_at = ShiftSwapRequest.Status.WITHDRAWN, now or timezone.now()
    swap.save(update_fields=["status", "decided_at"])
    return swap


# --- leaving the alliance -----------------------------------------------------------------------------------------


@transaction.atomic
def patrol_member_left_alliance(*, alliance, user, now: datetime | None = None) -> None:
    """Whoever leaves an alliance (or is removed) leaves its patrol teams and gives up their places on its shifts
    still to come, each offered to the waitlist (the team groups are left with the alliance's contact groups)."""
    now = now or timezone.now()
    PatrolTeamMember.objects.filter(team__alliance=alliance, user=user).delete()
    upcoming = ShiftSignup.objects.filter(
        user=user, shift__alliance=alliance, shift__starts_at__gt=now, status__in=ShiftSignup.HOLDING_STATUSES
    ).select_related("shift")
    for signup in upcoming:
        _free_place(signup=_lock_signup(signup), status=ShiftSignup.Status.CANCELLED, now=now)
