"""Reads on an alliance's escalation times."""

from __future__ import annotations

from reports.models import EscalationPolicy


def escalation_policy_of(*, alliance) -> EscalationPolicy:
    """The alliance's escalation times; the defaults (unsaved) while nobody has set them, so reading writes nothing."""
    policy = EscalationPolicy.objects.select_related("updated_by").filter(alliance=alliance).first()
    return policy if policy is not None else EscalationPolicy(alliance=alliance)
