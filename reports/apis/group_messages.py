"""The group message a member turns into a case (a flag or an incident report), the same for both."""

from __future__ import annotations

from django.http import Http404

from groups.models import Message
from groups.selectors import contact_groups as group_selectors


def group_message_or_404(request, *, group_id: int, seq: int) -> Message:
    """The message ``seq`` of a group the caller is in, neither deleted nor a system line; 404 otherwise, so an id
    tells nothing about groups the caller is not in. The services check the same again under their transaction."""
    membership = group_selectors.membership_for(user=request.user, group_id=group_id)
    if membership is None:
        raise Http404
    message = membership.group.messages.filter(seq=seq, deleted_at__isnull=True).exclude(kind="system").first()
    if message is None:
        raise Http404
    return message
