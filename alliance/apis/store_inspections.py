"""HTTP endpoints for a store's inspections: the police record them (each also scores the store in the Safe Store
ranking); the store's own people, the alliance's admins and its police read them."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from alliance.models import StoreInspection
from alliance.permissions import can_record_store_inspection
from alliance.selectors.alliances import store_access_or_404
from alliance.selectors.safe_stores import store_inspections, store_safety_record_access
from alliance.services.store_inspections import store_inspection_record
from config.errors import ApplicationError
from config.serializer_fields import BoundedDateTimeField, NamedChoiceField, StrictCharField
from config.serializers import InputSerializer


class StoreInspectorOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class StoreInspectionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    store = serializers.IntegerField(source="store_id")
    kind = NamedChoiceField(choices=StoreInspection.Kind.choices, enum_name="StoreInspectionKindEnum")
    result = NamedChoiceField(choices=StoreInspection.Result.choices, enum_name="StoreInspectionResultEnum")
    note = serializers.CharField()
    inspected_at = serializers.DateTimeField()
    recorded_by = StoreInspectorOutput(allow_null=True)


class StoreInspectionListApi(generics.ListAPIView):
    """A store's inspections, newest recorded first; the police of its alliance record new ones."""

    serializer_class = StoreInspectionOutput

    class StoreInspectionInput(InputSerializer):
        kind = NamedChoiceField(choices=StoreInspection.Kind.choices, enum_name="StoreInspectionKindEnum")
        result = NamedChoiceField(choices=StoreInspection.Result.choices, enum_name="StoreInspectionResultEnum")
        note = StrictCharField(max_length=500, required=False, allow_blank=True)
        inspected_at = BoundedDateTimeField(required=False, help_text="When it took place (now if absent).")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return StoreInspection.objects.none()
        return store_inspections(
            store=store_safety_record_access(user=self.request.user, store_id=self.kwargs["store_id"]).store
        )

    @extend_schema(
        operation_id="stores_inspections_record",
        request=StoreInspectionInput,
        responses={201: StoreInspectionOutput},
        summary="Police of the alliance: record an inspection of the store (passed or failed)",
    )
    def post(self, request, store_id: int):
        found = store_access_or_404(user=request.user, store_id=store_id)
        if not can_record_store_inspection(request.user, found.access):
            raise ApplicationError.permission_denied(_("Only the police record inspections of stores."))
        data = self.StoreInspectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        inspection = store_inspection_record(actor=request.user, store_access=found, **data.validated_data)
        return Response(StoreInspectionOutput(inspection).data, status=status.HTTP_201_CREATED)
