from allauth.core.exceptions import RateLimited
from django.http import JsonResponse
from django.utils.translation import gettext as _

from accounts.error_codes import AccountErrorCode
from config.errors import ApplicationError, error_body


class RateLimitedMiddleware:
    """Answer 429 whenever an allauth rate limit trips.

    allauth raises :class:`RateLimited` from some flows (a second signup for the same number within the SMS
    cooldown, for one) outside the code that turns it into a response; unhandled, that would be a 500. The same
    holds for an :class:`ApplicationError` our adapter raises inside an allauth flow: its status, allauth's shape.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, ApplicationError) and request.path.startswith("/_allauth/"):
            # A rule our allauth adapter enforces inside allauth's flow (a sign-up purged while its code login was
            # confirmed): allauth's error shape, the rule's status.
            body = {"status": exception.status_code, "errors": [{"code": exception.code, "message": exception.message}]}
            return JsonResponse(body, status=exception.status_code)
        if not isinstance(exception, RateLimited):
            return None
        message = _("Too many requests. Please wait a moment and try again.")
        if request.path.startswith("/_allauth/"):
            body = {"status": 429, "errors": [{"code": AccountErrorCode.TOO_MANY_REQUESTS, "message": message}]}
        else:
            body = error_body(AccountErrorCode.RATE_LIMITED, message)
        return JsonResponse(body, status=429)
