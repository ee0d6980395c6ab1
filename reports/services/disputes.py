"""Dispute flags: from a merchant's phone to a responder in minutes, and up the ladder when nobody answers.

    flag -> (acknowledge "on my way" + ETA) -> arrive -> resolve (mediated, settled on site, referred, false alarm)

Every step is one transaction that writes the case, its timeline (:class:`CaseEvent`), the case card in the
alliance's contact group, and the live notifications (through the outbox, so a Redis outage delays them but never
loses them). Deadlines live in the database (``Dispute.escalate_at``): a periodic task escalates what is due, with
a conditional update, so a timer survives worker restarts and fires exactly once however many workers run.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.models import Alliance, Store
from alliance.selectors.alliances import AllianceAccess, alliance_access_for
from config.errors import ApplicationError
from groups.events import event_publish, user_topic
from groups.models import GroupMembership, Message
from groups.services.contact_groups import card_update, main_group_card_post
from reports.error_codes import ReportsErrorCode
from reports.models import CaseEvent, Dispute, DisputeResponder
from reports.permissions import can_flag_dispute, can_respond_to_dispute
from reports.points_evidence import dispute_points_settle_on_commit
from reports.presentation import already_reported_error, dispute_card, dispute_event
from reports.selectors.disputes import dispute_responders_at_level, disputes_due, disputes_visible_to
from reports.selectors.police import police_posted_to_alliance
from reports.services.escalation_policies import escalation_policy_for
from reports.store_scores import dispute_resolved_store_scores


def _record(dispute: Dispute, kind: str, actor=None, **data) -> CaseEvent:
    return CaseEvent.objects.create(dispute=dispute, kind=kind, actor=actor, data=data)


def _notify(
    dispute: Dispute, *, extra_user_ids: list[int] = (), just_flagged: bool = False, notified: dict | None = None
) -> None:
    """Tell everyone following the case its new state: the reporter, every responder who answered, everyone the
    ladder has reached so far, and ``extra_user_ids`` (a level just reached). ``just_flagged``: nobody has
    answered yet and the level just reached is everyone told, so there is nothing to read. ``notified``: the
    timeline entry of the level just reached, sent along so each responder reads their own distance in it."""
    following = {dispute.reporter_id, *extra_user_ids}
    if not just_flagged:
        following.update(dispute.responders.values_list("responder_id", flat=True))
        for event in dispute.events.filter(kind=CaseEvent.Kind.NOTIFIED):
            following.update(event.data.get("user_ids", []))
    following.discard(None)
    event = dispute_event(dispute)
    if notified is not None:
        event["notified"] = notified
    event_publish(topics=[user_topic(user_id) for user_id in sorted(following)], event=event, durable=True)


def _refresh_card(dispute: Dispute) -> None:
    if dispute.card_message_id:
        card_update(message=dispute.card_message, card=dispute_card(dispute))


def _reach_level(dispute: Dispute, level: int, *, actor=None, reason: str) -> tuple[list[int], dict]:
    """Move the flag to ``level`` (or the first level above it with anyone to tell) and notify that level.
    Returns who was told, and the NOTIFIED timeline entry's data: ``user_ids`` in the order they were chosen
    (nearest first at level 1) and, at level 1, ``distance_metres`` beside them (whole metres, null where the
    responder's position is unknown)."""
    recipients = []
    while level <= Dispute.Level.STATION:
        recipients = dispute_responders_at_level(dispute=dispute, level=level)
        if recipients or level == Dispute.Level.STATION:
            break
        level += 1  # nobody on duty at this rung: go straight to the next, rather than wait out the timer
    if level != dispute.level:
        _record(dispute, CaseEvent.Kind.ESCALATED, actor, from_level=dispute.level, to_level=level, reason=reason)
        dispute.level = level
    data = {"level": level, "user_ids": [recipient.user_id for recipient in recipients]}
    if level == Dispute.Level.MALL:
        data["distance_metres"] = [
            None if recipient.distance_metres is None else round(recipient.distance_metres) for recipient in recipients
        ]
    _record(dispute, CaseEvent.Kind.NOTIFIED, **data)
    return data["user_ids"], data


def _next_deadline(dispute: Dispute, now, *, new_level: bool):
    """When the ladder looks at the flag again. Unanswered: the acknowledge time from now. Answered: the handling
    target counted from the flag, except that a level just reached gets the full handling time of its own."""
    policy = escalation_policy_for(dispute.alliance)
    if dispute.status not in Dispute.OPEN_STATUSES:
        return None
    if dispute.status == Dispute.Status.OPEN:
        return now + timedelta(seconds=policy.acknowledge_seconds)
    start = now if new_level else dispute.flagged_at
    return start + timedelta(seconds=policy.resolve_seconds)


def dispute_flag(
    *,
    reporter,
    alliance: Alliance,
    category: str,
    note: str = "",
    people_involved: int = 2,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    store: Store | None = None,
    photos: list | None = None,
    source_message=None,
    client_id: str = "",
    access: AllianceAccess | None = None,
) -> Dispute:
    """One call from a merchant's phone: the flag is stored, goes live to the responders on duty and is posted as a
    case card in the contact group. The location defaults to the reporter's store. ``access``: the reporter's
    access to the alliance when the caller has already looked it up. A resent ``client_id`` returns the stored flag.
    ``source_message``: see :func:`dispute_from_message`."""
    if access is None or access.alliance.pk != alliance.pk:
        access = alliance_access_for(user=reporter, alliance=alliance)
    if access is None:
        raise ApplicationError.not_found()
    if not can_flag_dispute(reporter, access):
        raise ApplicationError.permission_denied(_("Only members of this alliance can flag."))
    existing = _flag_already_stored(reporter=reporter, client_id=client_id)
    if existing is not None:
        return existing  # the phone resent a flag whose answer it lost
    if store is not None and store.alliance_id != alliance.pk:
        raise ApplicationError.not_found(store=[_("Not found.")])
    if store is None:
        store = Store.objects.filter(alliance=alliance, owner=reporter).order_by("id").first()
    if latitude is None or longitude is None:
        if store is None:
            raise ApplicationError(
                ReportsErrorCode.LOCATION_REQUIRED,
                _("Send your location: you have no store in this alliance to default to."),
                fields={"latitude": [_("This field is required.")]},
            )
        latitude, longitude = store.latitude, store.longitude

    now = timezone.now()
    # The checks above only read, so the writes need no savepoint of their own: whatever fails in them fails the
    # caller's transaction (a savepoint is where a failure is caught: below, and in dispute_from_message).
    with transaction.atomic(savepoint=False):
        try:
            # A repeated client_id is the one failure caught here, so only then is the insert a savepoint.
            with transaction.atomic(savepoint=bool(client_id)):
                dispute = Dispute.objects.create(
                    alliance=alliance,
                    store=store,
                    reporter=reporter,
                    category=category,
                    note=note,
                    people_involved=people_involved,
                    latitude=latitude,
                    longitude=longitude,
                    flagged_at=now,
                    source_message=source_message,
                    client_id=client_id,
                )
        except IntegrityError:
            # The same client_id raced in on another connection: the unique index made this insert wait for that
            # one's commit, which is now visible. (The same message racing in is dispute_from_message's to answer.)
            existing = _flag_already_stored(reporter=reporter, client_id=client_id)
            if existing is None:
                raise
            return existing
        for photo in photos or []:
            dispute.photos.create(image=photo.image, thumbnail=photo.thumbnail, uploaded_by=reporter)
        _record(dispute, CaseEvent.Kind.FLAGGED, reporter, category=category)
        recipients, notified = _reach_level(dispute, Dispute.Level.MALL, reason="flagged")
        dispute.escalate_at = _next_deadline(dispute, now, new_level=True)
        dispute.card_message = main_group_card_post(alliance=alliance, sender=reporter, card=dispute_card(dispute))
        dispute.save(update_fields=["level", "escalate_at", "card_message"])
        _notify(dispute, extra_user_ids=recipients, just_flagged=True, notified=notified)
    return dispute


def _flag_already_stored(*, reporter, client_id: str) -> Dispute | None:
    """One flag per (reporter, client_id)."""
    if not client_id:
        return None
    return Dispute.objects.filter(reporter=reporter, client_id=client_id).first()


@transaction.atomic
def dispute_from_message(*, reporter, message: Message, category: str) -> tuple[Dispute, bool]:
    """Turn a group message ("two people are quarrelling over here") into a flag: its text becomes the note and its
    location the flag's. Returns the flag and whether this call created it.

    One flag per message, whoever turns it: doing it again returns the stored flag to whoever may see it, and 409
    ``already_reported`` to anyone else (a merchant must not read another's flag by turning the same message)."""
    if not GroupMembership.objects.filter(group_id=message.group_id, user=reporter).exists():
        raise ApplicationError.not_found()
    if message.deleted_at is not None or message.kind == Message.Kind.SYSTEM:
        raise ApplicationError.not_found()
    existing = Dispute.objects.filter(source_message=message).first()
    if existing is not None:
        return _shown_again(existing, reporter), False
    try:
        with transaction.atomic():  # the savepoint for the IntegrityError caught below
            dispute = dispute_flag(
                reporter=reporter,
                alliance=message.group.alliance,
                category=category,
                note=message.body[:500],
                latitude=message.latitude,
                longitude=message.longitude,
                source_message=message,
            )
    except IntegrityError:
        # Another member turned the same message on another connection: the unique index made this insert wait for
        # that one's commit, which is now visible.
        existing = Dispute.objects.filter(source_message=message).first()
        if existing is None:
            raise
        return _shown_again(existing, reporter), False
    return dispute, True


def _shown_again(dispute: Dispute, user) -> Dispute:
    if not disputes_visible_to(user=user).filter(pk=dispute.pk).exists():
        raise already_reported_error(case=dispute, user=user)
    return dispute


def _responder_access(responder, dispute: Dispute):
    access = alliance_access_for(user=responder, alliance=dispute.alliance)
    posted = police_posted_to_alliance(user=responder, alliance=dispute.alliance)
    if not can_respond_to_dispute(responder, access, posted=posted):
        raise ApplicationError.not_found()
    return access


def _locked(dispute: Dispute) -> Dispute:
    return (
        Dispute.objects.select_for_update(of=("self",))
        .select_related("alliance", "card_message__group")
        .get(pk=dispute.pk)
    )


def _require_open(dispute: Dispute) -> None:
    if dispute.status not in Dispute.OPEN_STATUSES:
        raise ApplicationError(ReportsErrorCode.CASE_CLOSED, _("This case is already closed."), status_code=409)


@transaction.atomic
def dispute_acknowledge(*, responder, dispute: Dispute, eta_minutes: int | None = None) -> Dispute:
    """ "明白，马上到！": the responder is on the way. The first acknowledgement stops the acknowledge timer and starts
    the handling one; others may join the response."""
    _responder_access(responder, dispute)
    dispute = _locked(dispute)
    _require_open(dispute)
    now = timezone.now()
    response, created = DisputeResponder.objects.get_or_create(
        dispute=dispute, responder=responder, defaults={"acknowledged_at": now, "eta_minutes": eta_minutes}
    )
    if not created:
        return dispute  # a double tap or a retry: one acknowledgement is enough
    _record(dispute, CaseEvent.Kind.ACKNOWLEDGED, responder, eta_minutes=eta_minutes)
    if dispute.status == Dispute.Status.OPEN:
        dispute.status = Dispute.Status.ACKNOWLEDGED
        dispute.acknowledged_at = now
        dispute.escalate_at = _next_deadline(dispute, now, new_level=False)
    dispute.save()
    _refresh_card(dispute)
    _notify(dispute)
    return dispute


@transaction.atomic
def dispute_arrive(*, responder, dispute: Dispute) -> Dispute:
    _responder_access(responder, dispute)
    dispute = _locked(dispute)
    _require_open(dispute)
    now = timezone.now()
    response, _created = DisputeResponder.objects.get_or_create(
        dispute=dispute, responder=responder, defaults={"acknowledged_at": now}
    )
    if response.arrived_at:
        return dispute
    response.arrived_at = now
    response.save(update_fields=["arrived_at"])
    _record(dispute, CaseEvent.Kind.ARRIVED, responder)
    if dispute.acknowledged_at is None:
        dispute.acknowledged_at = now  # arriving without saying so first still answers the flag
    if dispute.arrived_at is None:
        dispute.arrived_at = now
    if dispute.status in (Dispute.Status.OPEN, Dispute.Status.ACKNOWLEDGED):
        dispute.status = Dispute.Status.ON_SCENE
        dispute.escalate_at = _next_deadline(dispute, now, new_level=False)
    dispute.save()
    _refresh_card(dispute)
    _notify(dispute)
    return dispute


@transaction.atomic
def dispute_resolve(
    *,
    responder,
    dispute: Dispute,
    outcome: str,
    notes: str = "",
    parties: list[dict] | None = None,
    mediation_record: str = "",
) -> Dispute:
    _responder_access(responder, dispute)
    dispute = _locked(dispute)
    _require_open(dispute)
    now = timezone.now()
    DisputeResponder.objects.get_or_create(dispute=dispute, responder=responder, defaults={"acknowledged_at": now})
    dispute.status = Dispute.Status.RESOLVED
    dispute.outcome = outcome
    dispute.resolution_notes = notes
    dispute.parties = parties or []
    dispute.mediation_record = mediation_record
    dispute.resolved_at = now
    dispute.acknowledged_at = dispute.acknowledged_at or now
    dispute.escalate_at = None
    dispute.save()
    _record(dispute, CaseEvent.Kind.RESOLVED, responder, outcome=outcome)
    # The evidence is established: the store's scores now, the responders' points after commit.
    dispute_resolved_store_scores(dispute=dispute)
    dispute_points_settle_on_commit(dispute_ids=[dispute.pk])
    _refresh_card(dispute)
    _notify(dispute)
    return dispute


@transaction.atomic
def dispute_cancel(*, reporter, dispute: Dispute) -> Dispute:
    """The reporter calls it off (it sorted itself out) before anyone resolved it."""
    dispute = _locked(dispute)
    if dispute.reporter_id != reporter.pk:
        raise ApplicationError.not_found()
    _require_open(dispute)
    dispute.status = Dispute.Status.CANCELLED
    dispute.escalate_at = None
    dispute.save()
    _record(dispute, CaseEvent.Kind.CANCELLED, reporter)
    _refresh_card(dispute)
    _notify(dispute)
    return dispute


@transaction.atomic
def dispute_escalate(*, actor, dispute: Dispute, reason: str = "") -> Dispute:
    """A responder hands the case up the ladder by hand ("cannot be settled here")."""
    _responder_access(actor, dispute)
    dispute = _locked(dispute)
    _require_open(dispute)
    if dispute.level >= Dispute.Level.STATION:
        raise ApplicationError(
            ReportsErrorCode.TOP_OF_LADDER, _("This case is already with the police station."), status_code=409
        )
    recipients, notified = _reach_level(dispute, dispute.level + 1, actor=actor, reason=reason or "by hand")
    dispute.escalate_at = _next_deadline(dispute, timezone.now(), new_level=True)
    dispute.save()
    _refresh_card(dispute)
    _notify(dispute, extra_user_ids=recipients, notified=notified)
    return dispute


def dispute_escalate_if_due(*, dispute_id: int, now=None) -> bool:
    """Escalate one flag whose deadline passed. Exactly once: the row is locked (a second worker skips it) and the
    deadline is checked again under the lock, so whoever comes after the first commit finds it no longer due."""
    now = now or timezone.now()
    with transaction.atomic():
        dispute = (
            Dispute.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("alliance", "card_message__group")
            .filter(pk=dispute_id, escalate_at__lte=now, status__in=Dispute.OPEN_STATUSES)
            .first()
        )
        if dispute is None:
            return False  # not due any more, or another worker has it
        reason = "not acknowledged in time" if dispute.status == Dispute.Status.OPEN else "not resolved in time"
        if dispute.level >= Dispute.Level.STATION:
            # Top of the ladder: remind the station once more at the next deadline, then stop the timer.
            _record(dispute, CaseEvent.Kind.NOTIFIED, level=dispute.level, user_ids=[], reason=f"{reason}; overdue")
            dispute.escalate_at = None
            recipients, notified = [], None
        else:
            recipients, notified = _reach_level(dispute, dispute.level + 1, reason=reason)
            dispute.escalate_at = _next_deadline(dispute, now, new_level=True)
        dispute.save(update_fields=["level", "escalate_at"])
        _refresh_card(dispute)
        _notify(dispute, extra_user_ids=recipients, notified=notified)
    return True


def disputes_escalate_due(*, now=None) -> int:
    now = now or timezone.now()
    return sum(dispute_escalate_if_due(dispute_id=dispute_id, now=now) for dispute_id in disputes_due(now=now))
