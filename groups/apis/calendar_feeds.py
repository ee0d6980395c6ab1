"""The calendar feed itself: ``GET /calendar/<token>.ics``, read by calendar apps that cannot send a session token,
so the secret in the address is the only credential. Unknown and revoked secrets answer 404, like any other
address that names nothing. A plain Django view: it answers text/calendar, not the API's JSON."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from groups.services.calendar_feeds import calendar_feed_user, calendar_for_user


@require_GET
def calendar_feed(request, token: str) -> HttpResponse:
    user = calendar_feed_user(token=token)
    if user is None:
        raise Http404
    response = HttpResponse(calendar_for_user(user=user), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = 'inline; filename="shifts.ics"'
    return response
