"""Incident reports: how a case enters the non-urgent queue the police work through, reported in the app (with
photos, possibly anonymously) or turned from a group message. What happens to it then is ``incident_workflow``;
the conversation on it, ``incident_comments``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.models import Alliance, Store
from alliance.selectors.alliances import AllianceAccess, alliance_access_for
from config.errors import ApplicationError
from config.images import PreparedImage
from groups.models import GroupMembership, Message
from groups.services.contact_groups import card_post, main_group_card_post
from reports.error_codes import ReportsErrorCode
from reports.models import CaseEvent, Incident
from reports.permissions import can_report_incident
from reports.presentation import already_reported_error, incident_card
from reports.selectors.incidents import incidents_visible_to
from reports.services.incident_updates import incident_notify, timeline_record

# Phones' clocks drift; a report "from the future" beyond this is a client bug. Reports of long-past events are
# refused too: the queue is for what happened recently, older matters go to the police station directly.
OCCURRED_AT_FUTURE_TOLERANCE = timedelta(minutes=10)
OCCURRED_AT_MAX_AGE = timedelta(days=365)
MAX_DESCRIPTION = 2000


def _check_occurred_at(occurred_at, now):
    if occurred_at is None:
        return now
    if occurred_at > now + OCCURRED_AT_FUTURE_TOLERANCE:
        raise ApplicationError.invalid("occurred_at", _("The time it happened cannot be in the future."))
    if occurred_at < now - OCCURRED_AT_MAX_AGE:
        raise ApplicationError.invalid("occurred_at", _("Report only what happened within the last year."))
    return occurred_at


def incident_report(
    *,
    reporter,
    alliance: Alliance,
    category: str,
    description: str,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    occurred_at=None,
    is_anonymous: bool = False,
    photos: list[PreparedImage] | None = None,
    source_message: Message | None = None,
    client_id: str = "",
    access: AllianceAccess | None = None,
) -> Incident:
    """A member reports an incident for the police queue. The case card goes to the alliance's contact group (or,
    for a report made from a group message, back to that message's group).

    Without a location the reporter's store in the alliance is used, except for anonymous reports: a store's
    position names its owner. A repeated ``client_id`` from the same reporter returns the stored report.
    ``access``: the reporter's access to the alliance when the caller has already looked it up."""
    if access is None or access.alliance.pk != alliance.pk:
        access = alliance_access_for(user=reporter, alliance=alliance)
    if access is None:
        raise ApplicationError.not_found()
    if not can_report_incident(reporter, access):
        raise ApplicationError.permission_denied(_("Only members of this alliance can report incidents."))
    if client_id:
        existing = Incident.objects.filter(reporter=reporter, client_id=client_id).first()
        if existing is not None:
            return existing  # the phone resent a report whose answer it lost
    if category not in Incident.Category.values:
        raise ApplicationError.invalid("category", _("Choose one of the incident categories."))
    description = (description or "").strip()
    if not description:
        raise ApplicationError.invalid("description", _("Describe what happened."))
    if len(description) > MAX_DESCRIPTION:
        raise ApplicationError.invalid(
            "description", _("Keep the description under %(max)s characters.") % {"max": MAX_DESCRIPTION}
        )
    now = timezone.now()
    occurred_at = _check_occurred_at(occurred_at, now)
    if (latitude is None) != (longitude is None):
        raise ApplicationError.invalid("latitude", _("Send both latitude and longitude, or neither."))
    if latitude is None:
        if is_anonymous:
            raise ApplicationError(
                ReportsErrorCode.LOCATION_REQUIRED,
                _("Send the location: an anonymous report does not use your store's position, which would name you."),
                fields={"latitude": [_("This field is required.")]},
            )
        store = Store.objects.filter(alliance=alliance, owner=reporter).order_by("id").first()
        if store is None:
            raise ApplicationError(
                ReportsErrorCode.LOCATION_REQUIRED,
                _("Send the location: you have no store in this alliance to default to."),
                fields={"latitude": [_("This field is required.")]},
            )
        latitude, longitude = store.latitude, store.longitude

    # The checks above only read, so the writes need no savepoint of their own: whatever fails in them fails the
    # caller's transaction (a savepoint is where a failure is caught: below, and in incident_from_message).
    with transaction.atomic(savepoint=False):
        try:
            # A repeated client_id is the one failure caught here, so only then is the insert a savepoint.
            with transaction.atomic(savepoint=bool(client_id)):
                incident = Incident.objects.create(
                    alliance=alliance,
                    reporter=reporter,
                    is_anonymous=is_anonymous,
                    category=category,
                    description=description,
                    latitude=latitude,
                    longitude=longitude,
                    occurred_at=occurred_at,
                    created_at=now,
                    source_message=source_message,
                    client_id=client_id,
                )
        except IntegrityError:
            # The same client_id raced in on a second connection; the first one stored it. (The same message racing
            # in is incident_from_message's to answer: the stored case may not be this reporter's to see.)
            existing = Incident.objects.filter(reporter=reporter, client_id=client_id).first() if client_id else None
            if existing is None:
                raise
            return existing
        for photo in photos or []:
            incident.photos.create(image=photo.image, thumbnail=photo.thumbnail or photo.image, uploaded_by=reporter)
        timeline_record(incident, CaseEvent.Kind.REPORTED, reporter, category=category, anonymous=is_anonymous)

        sender = None if is_anonymous else reporter
        card = incident_card(incident)
        if source_message is not None:
            incident.card_message = card_post(group=source_message.group, sender=sender, card=card)
        else:
            incident.card_message = main_group_card_post(alliance=alliance, sender=sender, card=card)
        if incident.card_message is not None:
            incident.save(update_fields=["card_message"])
        incident_notify(incident)
    return incident


def _message_photo(message: Message) -> PreparedImage:
    """A copy of a message's (already re-encoded) image: deleting the message deletes its files, not the case's."""
    name = uuid.uuid4().hex
    with message.image.open("rb") as image:
        full = ContentFile(image.read(), name=f"{name}.jpg")
    thumbnail = None
    if message.thumbnail:
        with message.thumbnail.open("rb") as small:
            thumbnail = ContentFile(small.read(), name=f"{name}-thumb.jpg")
    return PreparedImage(image=full, thumbnail=thumbnail, width=0, height=0)


@transaction.atomic
def incident_from_message(
    *,
    reporter,
    message: Message,
    category: str,
    description: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> tuple[Incident, bool]:
    """Turn a group message ("someone keeps trying car doors on the back street") into an incident in one step:
    its text, location and photo become the report's, and the case card is posted back into that group. Returns the
    incident and whether this call created it.

    The person who turns it into a case becomes its reporter; it cannot be anonymous, since the message already
    shows its sender to the group. A message becomes one incident: doing it again, or another member doing it,
    returns the first report to whoever may see it, and 409 ``already_reported`` to anyone else (a merchant must not
    read another's report by turning the same message)."""
    if not GroupMembership.objects.filter(group_id=message.group_id, user=reporter).exists():
        raise ApplicationError.not_found()
    if message.deleted_at is not None or message.kind == Message.Kind.SYSTEM:
        raise ApplicationError.not_found()
    existing = Incident.objects.filter(source_message=message).first()
    if existing is not None:
        return _shown_again(existing, reporter), False
    if latitude is None and message.latitude is not None:
        latitude, longitude = message.latitude, message.longitude
    try:
        with transaction.atomic():  # the savepoint for the IntegrityError caught below
            incident = incident_report(
                reporter=reporter,
                alliance=message.group.alliance,
                category=category,
                description=description or message.body[:MAX_DESCRIPTION],
                latitude=latitude,
                longitude=longitude,
                occurred_at=message.created_at,
                photos=[_message_photo(message)] if message.image else [],
                source_message=message,
            )
    except IntegrityError:
        # Another member turned the same message on another connection; the unique index made this insert wait for
        # that one's commit, which is now visible.
        existing = Incident.objects.filter(source_message=message).first()
        if existing is None:
            raise
        return _shown_again(existing, reporter), False
    return incident, True


def _shown_again(incident: Incident, user) -> Incident:
    if not incidents_visible_to(user=user).filter(pk=incident.pk).exists():
        raise already_reported_error(case=incident, user=user)
    return incident
