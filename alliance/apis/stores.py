"""HTTP endpoints for stores: registering, editing, verification, the photo and the staff."""

from __future__ import annotations

import django_filters
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.apis.outputs import AlliancePersonOutput, AllianceRefOutput, person_context
from alliance.apis.safe_store_awards import SafeStoreShownOutput
from alliance.error_codes import AllianceErrorCode
from alliance.models import Store, StoreStaff
from alliance.selectors import alliances as selectors
from alliance.selectors.safe_store_awards import store_current_safe_store_badge, stores_with_safe_store_badge
from alliance.services.stores import (
    STORE_PHOTO_MAX_BYTES,
    store_photo_set,
    store_register,
    store_staff_add,
    store_staff_remove,
    store_update,
    store_verify,
)
from config.errors import ApplicationError
from config.filters import IdFilter, StrictBooleanFilter
from config.images import image_response
from config.serializer_fields import IdField, NamedChoiceField, StrictCharField
from config.serializers import InputSerializer, NoBodyInput, no_body


class StoreOwnerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class StoreOutput(serializers.Serializer):
    id = serializers.IntegerField()
    alliance = AllianceRefOutput()
    owner = StoreOwnerOutput()
    name = serializers.CharField()
    category = NamedChoiceField(choices=Store.Category.choices, enum_name="StoreCategoryEnum")
    address = serializers.CharField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    business_licence_number = serializers.CharField()
    opening_hours = serializers.CharField()
    is_verified = serializers.BooleanField()
    verified_at = serializers.DateTimeField(allow_null=True)
    photo_url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    safe_store = serializers.SerializerMethodField()

    def get_photo_url(self, store) -> str | None:
        return reverse("store-photo", kwargs={"store_id": store.pk}) if store.photo else None

    @extend_schema_field(SafeStoreShownOutput(allow_null=True))
    def get_safe_store(self, store) -> dict | None:
        """The Safe Store badge the store shows now (null when none): lists prefetch it for the whole page."""
        badge = store_current_safe_store_badge(store)
        return None if badge is None else SafeStoreShownOutput(badge).data


class StoreFilter(django_filters.FilterSet):
    alliance = IdFilter(field_name="alliance_id")
    category = django_filters.ChoiceFilter(choices=Store.Category.choices)
    is_verified = StrictBooleanFilter()
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=100)


class _StoreFieldsInput(InputSerializer):
    name = StrictCharField(max_length=100)
    category = NamedChoiceField(choices=Store.Category.choices, enum_name="StoreCategoryEnum", required=False)
    address = StrictCharField(max_length=200)
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    business_licence_number = StrictCharField(max_length=32, required=False, allow_blank=True)
    opening_hours = StrictCharField(max_length=100, required=False, allow_blank=True)


class StoreListApi(generics.ListAPIView):
    """Stores of the viewer's alliances: every store for those who run the alliance, verified ones and one's own
    for other members."""

    serializer_class = StoreOutput
    filterset_class = StoreFilter

    class StoreRegisterInput(_StoreFieldsInput):
        alliance = IdField()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Store.objects.none()
        return stores_with_safe_store_badge(selectors.stores_for_user(user=self.request.user))

    @extend_schema(
        operation_id="stores_register",
        request=StoreRegisterInput,
        responses={201: StoreOutput},
        summary="Merchants: register a store in an alliance (the alliance verifies it)",
    )
    def post(self, request):
        data = self.StoreRegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        access = selectors.alliance_access_or_404(user=request.user, alliance_id=values.pop("alliance"))
        store = store_register(actor=request.user, access=access, **values)
        return Response(StoreOutput(store).data, status=status.HTTP_201_CREATED)


class StoreDetailApi(APIView):
    class StoreUpdateInput(_StoreFieldsInput):
        pass

    @extend_schema(operation_id="stores_retrieve", responses=StoreOutput)
    def get(self, request, store_id: int):
        return Response(StoreOutput(selectors.store_access_or_404(user=request.user, store_id=store_id).store).data)

    @extend_schema(operation_id="stores_update", request=StoreUpdateInput, responses=StoreOutput)
    def patch(self, request, store_id: int):
        found = selectors.store_access_or_404(user=request.user, store_id=store_id)
        data = self.StoreUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        store = store_update(actor=request.user, store_access=found, **data.validated_data)
        return Response(StoreOutput(store).data)


class StoreVerificationApi(APIView):
    class StoreVerificationInput(InputSerializer):
        verified = serializers.BooleanField()

    @extend_schema(
        operation_id="stores_verification_set",
        request=StoreVerificationInput,
        responses=StoreOutput,
        summary="Alliance admins: verify a store (or withdraw the verification)",
    )
    def post(self, request, store_id: int):
        found = selectors.store_access_or_404(user=request.user, store_id=store_id)
        data = self.StoreVerificationInput(data=request.data)
        data.is_valid(raise_exception=True)
        store = store_verify(
            actor=request.user, access=found.access, store=found.store, verified=data.validated_data["verified"]
        )
        return Response(StoreOutput(store).data)


class StorePhotoApi(APIView):
    """The store's photo: uploaded as multipart (JPEG, PNG or WEBP, at most 5 MB), stored re-encoded without EXIF
    and at most 1600 px a side, and served only to those who can see the store (never a public /media/ address)."""

    parser_classes = [MultiPartParser]

    class StorePhotoInput(InputSerializer):
        photo = serializers.FileField()

    @extend_schema(operation_id="stores_photo", responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request, store_id: int):
        store = selectors.store_access_or_404(user=request.user, store_id=store_id).store
        if not store.photo:
            raise Http404
        return image_response(store.photo)

    @extend_schema(
        operation_id="stores_photo_upload",
        request={"multipart/form-data": StorePhotoInput},
        responses={201: StoreOutput},
        summary="Owner or staff: upload the store's photo (replaces the previous one)",
    )
    def post(self, request, store_id: int):
        found = selectors.store_access_or_404(user=request.user, store_id=store_id)
        # Refuse an oversized upload before Django spools it to disk; the service checks the file itself too.
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > STORE_PHOTO_MAX_BYTES + 64 * 1024:
            raise ApplicationError(
                AllianceErrorCode.PAYLOAD_TOO_LARGE,
                _("The image is larger than %(mb)s MB.") % {"mb": STORE_PHOTO_MAX_BYTES // (1024 * 1024)},
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        data = self.StorePhotoInput(data=request.data)
        data.is_valid(raise_exception=True)
        store = store_photo_set(actor=request.user, store_access=found, upload=data.validated_data["photo"])
        return Response(StoreOutput(store).data, status=status.HTTP_201_CREATED)


class StoreStaffOutput(serializers.Serializer):
    user = AlliancePersonOutput()
    created_at = serializers.DateTimeField()


class StoreStaffApi(generics.ListAPIView):
    """Who works in the store (visible to whoever sees the store); the owner adds people by mobile number."""

    serializer_class = StoreStaffOutput

    class StoreStaffInput(InputSerializer):
        phone = StrictCharField(max_length=32)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return StoreStaff.objects.none()
        return selectors.store_staff(
            store=selectors.store_access_or_404(user=self.request.user, store_id=self.kwargs["store_id"]).store
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **person_context(self.request)}

    @extend_schema(
        operation_id="stores_staff_add",
        request=StoreStaffInput,
        responses={201: StoreStaffOutput},
        summary="Owner: add a member of the alliance to the store's staff by mobile number",
    )
    def post(self, request, store_id: int):
        found = selectors.store_access_or_404(user=request.user, store_id=store_id)
        data = self.StoreStaffInput(data=request.data)
        data.is_valid(raise_exception=True)
        post = store_staff_add(actor=request.user, store_access=found, phone=data.validated_data["phone"])
        return Response(StoreStaffOutput(post, context=person_context(request)).data, status=status.HTTP_201_CREATED)


class StoreStaffDetailApi(APIView):
    @extend_schema(operation_id="stores_staff_remove", request=NoBodyInput, responses={204: None})
    def delete(self, request, store_id: int, user_id: int):
        no_body(request)
        found = selectors.store_access_or_404(user=request.user, store_id=store_id)
        store_staff_remove(actor=request.user, store_access=found, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
