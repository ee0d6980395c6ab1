"""Alerts and safety tips in the admin site (registered from ``alliance/admin.py``), scoped to the police admin's
jurisdiction like every other page (``alliance.admin_scoping``; each model reaches its unit through ``station``).

Alerts are written, edited and published in the app (``/api/v1/alerts``), whose services check the audience and
send them; here police look them up with their reach, read who has read them, and withdraw one (an action, through
``alert_withdraw``). Tips and schedules police add and change here, through the tip services: a unit's own library
(the city-wide one is the superuser's), and schedules whose audience is checked as an alert's.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance.admin_scoping import ScopedModelAdmin, ScopedTabularInline
from alliance.alert_audience import AUDIENCE_ROLES, SPEC_PLACES, AudienceSpec, audience_described
from alliance.models import Alert, AlertReceipt, Tip, TipOccurrence, TipSchedule, TipTopic
from alliance.services.alerts import alert_withdraw
from alliance.services.tips import (
    TipScheduleFields,
    tip_create,
    tip_schedule_check,
    tip_schedule_create,
    tip_schedule_update,
    tip_update,
)
from config.errors import ApplicationError

related_only = admin.RelatedOnlyFieldListFilter
INLINE_ROWS_SHOWN = 50  # an alert to a city has receipts by the ten thousand: the page shows the newest


class NewestRowsFormSet(BaseInlineFormSet):
    """A read-only inline that shows its newest ``INLINE_ROWS_SHOWN`` rows, not all of them."""

    def get_queryset(self):
        if not hasattr(self, "_newest_rows"):
            self._newest_rows = super().get_queryset().order_by("-pk")[:INLINE_ROWS_SHOWN]
        return self._newest_rows


def audience_text(audience: dict) -> str:
    """An audience with the names of its places: "联盟: 青平果联盟; 角色: merchant"."""
    described = audience_described(AudienceSpec.from_json(audience))
    labels = {
        "stations": gettext("Police units"),
        "alliances": gettext("Alliances"),
        "zones": gettext("Patrol zones"),
        "groups": gettext("Contact groups"),
    }
    parts = [
        f"{labels[name]}: " + ", ".join(place["name"] or f"#{place['id']}" for place in described[name])
        for name in SPEC_PLACES
        if described[name]
    ]
    if described["roles"]:
        parts.append(f"{gettext('Roles')}: " + ", ".join(described["roles"]))
    return "; ".join(parts) or "-"


# --- alerts ----------------------------------------------------------------------------------------------------------


class AlertReceiptInline(ScopedTabularInline):
    model = AlertReceipt
    station_path = "alert__station"
    formset = NewestRowsFormSet
    fields = ["user", "alliance", "read_at", "acknowledged_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("Read by (newest 50)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "alliance")

    def has_add_permission(self, request, obj=None):
        return False  # a receipt is the person's own reading, made in the app


@admin.action(description=_("Withdraw the selected alerts (they leave every inbox)"), permissions=["withdraw"])
def alerts_withdraw(modeladmin, request, queryset):
    withdrawn = 0
    for alert in queryset:
        try:
            alert_withdraw(actor=request.user, alert=alert)
        except ApplicationError as refused:
            modeladmin.message_user(request, f"{alert}: {refused.message}", level=messages.ERROR)
        else:
            withdrawn += 1
    if withdrawn:
        modeladmin.message_user(request, gettext("%(count)s alerts withdrawn.") % {"count": withdrawn})


@admin.register(Alert)
class AlertAdmin(ScopedModelAdmin):
    """Read-only: an alert is written and published in the app, whose services keep its audience keys and send it;
    the one change made here is withdrawing it (the action)."""

    station_path = "station"
    list_display = [
        "title",
        "kind",
        "severity",
        "status",
        "station",
        "publish_at",
        "targeted_count",
        "live_count",
        "pushed_count",
        "read_count",
        "acknowledged_count",
    ]
    list_filter = ["status", "kind", "severity", "topic", "requires_ack", ("station", related_only)]
    search_fields = ["title", "body", "title_en"]
    date_hierarchy = "publish_at"
    list_select_related = ["station"]
    inlines = [AlertReceiptInline]
    actions = [alerts_withdraw]
    fields = [
        "station",
        "kind",
        "topic",
        "severity",
        "status",
        "title",
        "body",
        "case_example",
        "title_en",
        "body_en",
        "audience_names",
        "requires_ack",
        "ack_reminder_minutes",
        "publish_at",
        "expires_at",
        "sent_at",
        "ack_reminded_at",
        "targeted_count",
        "live_count",
        "pushed_count",
        "read_count",
        "acknowledged_count",
        "created_by",
        "published_by",
        "published_at",
        "withdrawn_by",
        "withdrawn_at",
        "created_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                read_total=Count("receipts"),
                acknowledged_total=Count("receipts", filter=Q(receipts__acknowledged_at__isnull=False)),
            )
        )

    @admin.display(description=_("read"), ordering="read_total")
    def read_count(self, alert):
        return alert.read_total

    @admin.display(description=_("acknowledged"), ordering="acknowledged_total")
    def acknowledged_count(self, alert):
        return alert.acknowledged_total

    @admin.display(description=_("audience"))
    def audience_names(self, alert):
        return audience_text(alert.audience)

    def has_add_permission(self, request, *args):
        return False  # written in the app (POST /api/v1/alerts), which checks the audience and keeps its keys

    def has_change_permission(self, request, obj=None):
        return False  # every field is the services'; see the withdraw action

    def has_withdraw_permission(self, request):
        return request.user.is_superuser or self.has_view_permission(request)


# --- tips ------------------------------------------------------------------------------------------------------------


class TipAdminForm(forms.ModelForm):
    class Meta:
        model = Tip
        fields = ["station", "topic", "title_zh", "body_zh", "title_en", "body_en", "is_active"]


@admin.register(Tip)
class TipAdmin(ScopedModelAdmin):
    """A unit's tips are its police admins' to add and change; the city-wide library (no unit) every unit's
    schedules draw on is shown to them but changed by a superuser only."""

    form = TipAdminForm
    station_path = "station"
    police_may_add = True
    police_may_change = True
    list_display = ["title_zh", "topic", "station", "is_active", "created_at"]
    list_filter = ["topic", "is_active", ("station", related_only)]
    search_fields = ["title_zh", "body_zh", "title_en"]
    list_select_related = ["station"]

    def jurisdiction_q(self, user):
        return super().jurisdiction_q(user) | Q(station__isnull=True)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.append("station")  # a tip stays in its library (tip_update)
        return readonly

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if not request.user.is_superuser and "station" in form.base_fields:
            form.base_fields["station"].required = True  # no unit: the city-wide library, the superuser's
        return form

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.station_id is None and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.cleaned_data if name != "station"}
        # The form offers only the jurisdiction's units and needs one from police, so the services agree with it.
        if change:
            saved = tip_update(actor=request.user, tip=obj, **fields)
        else:
            saved = tip_create(actor=request.user, station=form.cleaned_data.get("station"), **fields)
        obj.pk, obj.created_by_id = saved.pk, saved.created_by_id
        obj._state.adding = False


# --- tip schedules ---------------------------------------------------------------------------------------------------

WEEKDAYS = [
    (1, _("Monday")),
    (2, _("Tuesday")),
    (3, _("Wednesday")),
    (4, _("Thursday")),
    (5, _("Friday")),
    (6, _("Saturday")),
    (7, _("Sunday")),
]
SCHEDULE_FORM_FIELDS = ["station", "name", "topics", "audience", "time_of_day", "weekdays", "starts_on", "ends_on"]


class TipScheduleAdminForm(forms.ModelForm):
    topics = forms.MultipleChoiceField(
        label=_("topics"),
        choices=TipTopic.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every topic."),
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("weekdays"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every day."),
    )
    audience = forms.JSONField(
        label=_("audience"),
        help_text=_(
            'Ids of the places and, optionally, roles: {"alliances": [12], "stations": [], "zones": [], '
            '"groups": [], "roles": ["merchant"]}'
        ),
    )

    class Meta:
        model = TipSchedule
        fields = [*SCHEDULE_FORM_FIELDS, "is_active"]
        help_texts = {"time_of_day": _("Local time (Asia/Shanghai).")}

    actor = None  # the admin's user, set by TipScheduleAdmin.get_form

    def clean_audience(self):
        audience = self.cleaned_data["audience"]
        error = forms.ValidationError(_("Enter the places as lists of ids and the roles as a list of role names."))
        if not isinstance(audience, dict) or set(audience) - {*SPEC_PLACES, "roles"}:
            raise error
        for name in SPEC_PLACES:
            ids = audience.get(name, [])
            if not isinstance(ids, list) or not all(type(one) is int and one > 0 for one in ids):
                raise error
        roles = audience.get("roles", [])
        if not isinstance(roles, list) or not all(role in AUDIENCE_ROLES for role in roles):
            raise error
        return AudienceSpec.from_json(audience).as_json()

    def values(self) -> TipScheduleFields:
        data = self.cleaned_data
        return TipScheduleFields(
            name=data["name"],
            audience=AudienceSpec.from_json(data["audience"]),
            time_of_day=data["time_of_day"],
            topics=list(data.get("topics") or []),
            weekdays=list(data.get("weekdays") or []),
            starts_on=data.get("starts_on"),
            ends_on=data.get("ends_on"),
            is_active=data.get("is_active", True),
        )

    def clean(self):
        cleaned = super().clean()
        # A new schedule names its unit; an existing one keeps it (read-only on its page).
        station = cleaned.get("station") if "station" in self.fields else self.instance.station
        if self.errors or station is None:
            return cleaned
        try:
            tip_schedule_check(actor=self.actor, station=station, values=self.values())
        except ApplicationError as refused:
            raise forms.ValidationError(refused.message) from refused
        return cleaned


class TipOccurrenceInline(ScopedTabularInline):
    model = TipOccurrence
    station_path = "schedule__station"
    formset = NewestRowsFormSet
    fields = ["scheduled_for", "tip", "alert", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("Runs (newest 50)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("tip", "alert")

    def has_add_permission(self, request, obj=None):
        return False  # the sweep writes them, once per run


@admin.register(TipSchedule)
class TipScheduleAdmin(ScopedModelAdmin):
    """Police add and change their units' schedules; saving goes through the tip services, which check the audience
    as an alert's and work out the next run."""

    form = TipScheduleAdminForm
    station_path = "station"
    police_may_add = True
    police_may_change = True
    list_display = ["name", "station", "time_of_day", "weekdays", "is_active", "next_run_at", "last_tip"]
    list_filter = ["is_active", ("station", related_only)]
    search_fields = ["name"]
    readonly_fields = ["audience_names", "next_run_at", "last_tip", "created_by", "created_at"]
    list_select_related = ["station", "last_tip"]
    inlines = [TipOccurrenceInline]

    @admin.display(description=_("audience, by name"))
    def audience_names(self, schedule):
        return audience_text(schedule.audience) if schedule.pk else "-"

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.append("station")  # a schedule stays with its unit
        return readonly

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.actor = request.user
        return form

    def save_model(self, request, obj, form, change):
        values = form.values()
        if change:
            saved = tip_schedule_update(actor=request.user, schedule=obj, **vars(values))
        else:
            saved = tip_schedule_create(actor=request.user, station=form.cleaned_data["station"], values=values)
        obj.pk, obj.next_run_at, obj.created_by_id = saved.pk, saved.next_run_at, saved.created_by_id
        obj._state.adding = False
