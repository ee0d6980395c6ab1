"""An alliance's escalation times: how long a dispute flag waits before the ladder climbs (see ``disputes``)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.models import Alliance
from alliance.selectors.alliances import AllianceAccess
from config.errors import ApplicationError
from reports.models import EscalationPolicy
from reports.permissions import can_set_escalation_policy

logger = logging.getLogger(__name__)


def escalation_policy_check_admin(*, actor, access: AllianceAccess) -> None:
    """Only the police admins of the alliance's jurisdiction read and set its escalation times (403 for anyone
    else who may see the alliance)."""
    if not can_set_escalation_policy(actor, access):
        raise ApplicationError.permission_denied(
            _("Only the police admins of the alliance's jurisdiction set its escalation times.")
        )


def escalation_policy_for(alliance: Alliance) -> EscalationPolicy:
    policy, _created = EscalationPolicy.objects.get_or_create(alliance=alliance)
    return policy


@transaction.atomic
def escalation_policy_update(
    *,
    actor,
    access: AllianceAccess,
    acknowledge_seconds: int | None = None,
    resolve_seconds: int | None = None,
) -> EscalationPolicy:
    """Police admins of the alliance's jurisdiction set how long a flag waits before it climbs. The bounds and
    "resolve longer than acknowledge" are the model's own validation, shared with the admin site. Flags already
    open keep the deadline they have; the new times count from their next step and for every new flag."""
    escalation_policy_check_admin(actor=actor, access=access)
    policy, _created = EscalationPolicy.objects.select_for_update().get_or_create(alliance=access.alliance)
    before = (policy.acknowledge_seconds, policy.resolve_seconds)
    if acknowledge_seconds is not None:
        policy.acknowledge_seconds = acknowledge_seconds
    if resolve_seconds is not None:
        policy.resolve_seconds = resolve_seconds
    policy.full_clean(exclude=["alliance", "updated_by"], validate_unique=False)  # 400 with the fields, no write
    policy.updated_by = actor
    policy.updated_at = timezone.now()
    policy.save()
    logger.info(
        "escalation policy of alliance %s set by user %s: %s -> %s",
        access.alliance.pk,
        actor.pk,
        before,
        (policy.acknowledge_seconds, policy.resolve_seconds),
    )
    return policy
