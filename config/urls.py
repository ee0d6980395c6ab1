from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config import health
from groups.apis.calendar_feeds import calendar_feed

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("alliance.urls")),
    path("", include("groups.urls")),
    path("", include("reports.urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("_allauth/", include("allauth.headless.urls")),
    path("admin/", admin.site.urls),
    # A person's shift calendar for calendar apps: the secret in the address is its only credential.
    re_path(r"^calendar/(?P<token>[A-Za-z0-9_-]{20,100})\.ics$", calendar_feed, name="calendar-feed"),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
