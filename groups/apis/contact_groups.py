"""HTTP endpoints for contact groups: the list with unread counts, history by sequence number, posting, notices,
read marks, mute, deletion and members. The live channel (groups/consumers.py) carries the same lines in real time.

Anything about a group the user is not in answers 404.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import can_see_full_phone_numbers
from accounts.presentation import MaskedPhoneField
from alliance.selectors.alliances import alliance_access_or_404
from config.converters import MAX_ID
from config.images import image_prepare, image_response
from config.pagination import DefaultCursorPagination
from config.serializer_fields import IdField, StrictCharField
from config.serializers import InputSerializer, NoBodyInput, no_body
from groups.models import GroupMembership, Message
from groups.presence import users_online
from groups.presentation import message_payload
from groups.selectors import contact_groups as selectors
from groups.services import contact_groups as services

MESSAGE_IMAGE_MAX_BYTES = 10 * 1024 * 1024


def _membership_or_404(user, group_id: int) -> GroupMembership:
    membership = selectors.membership_for(user=user, group_id=group_id)
    if membership is None:
        raise Http404
    return membership


class GroupOutput(serializers.Serializer):
    id = serializers.IntegerField(source="group.id")
    alliance = serializers.IntegerField(source="group.alliance_id")
    alliance_name = serializers.CharField(source="group.alliance.name")
    kind = serializers.CharField(source="group.kind")
    name = serializers.CharField(source="group.name")
    description = serializers.CharField(source="group.description")
    posting_policy = serializers.CharField(source="group.posting_policy")
    last_seq = serializers.IntegerField(source="group.last_seq")
    last_read_seq = serializers.IntegerField()
    unread = serializers.IntegerField()
    last_message_at = serializers.DateTimeField(allow_null=True)
    is_muted = serializers.BooleanField()
    role = serializers.CharField()


class MessageOutput(serializers.Serializer):
    """The same shape as the live channel's message events (groups/presentation.py)."""

    group = serializers.IntegerField()
    seq = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Message.Kind.choices)
    sender = serializers.DictField(allow_null=True)
    body = serializers.CharField(allow_blank=True)
    payload = serializers.DictField()
    client_id = serializers.CharField(allow_blank=True)
    is_pinned = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    deleted = serializers.BooleanField()
    location = serializers.DictField(allow_null=True)
    image = serializers.DictField(allow_null=True)


class MessageSendInput(InputSerializer):
    kind = serializers.ChoiceField(choices=[Message.Kind.TEXT, Message.Kind.LOCATION], default=Message.Kind.TEXT)
    body = StrictCharField(max_length=services.MAX_TEXT_LENGTH, required=False, allow_blank=True, default="")
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False)
    client_id = StrictCharField(max_length=64, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs["kind"] == Message.Kind.TEXT and not attrs["body"].strip():
            raise serializers.ValidationError({"body": [_("Write something.")]})
        if attrs["kind"] == Message.Kind.LOCATION and ("latitude" not in attrs or "longitude" not in attrs):
            raise serializers.ValidationError({"latitude": [_("A location needs latitude and longitude.")]})
        return attrs


def message_send_from_input(*, user, group_id: int, data) -> tuple[Message, bool]:
    """Sending a text or a location, the one write path for REST (``POST /api/v1/groups/{id}/messages``) and the
    socket (the ``send`` frame): the sender's membership (404 otherwise), :class:`MessageSendInput`, then
    :func:`groups.services.message_send`. Refusals are raised as REST raises them (``Http404``, a DRF
    ``ValidationError``, ``ApplicationError``); the socket answers each with the same code, message and fields."""
    membership = _membership_or_404(user, group_id)
    validated = MessageSendInput(data=data)
    validated.is_valid(raise_exception=True)
    return services.message_send(sender=user, group=membership.group, **validated.validated_data)


class GroupListApi(generics.ListAPIView):
    """My groups, with unread counts. Ordered by membership; apps sort by ``last_message_at``."""

    serializer_class = GroupOutput
    pagination_class = DefaultCursorPagination
    queryset = GroupMembership.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        return selectors.memberships_for_user(user=self.request.user)


class GroupDetailApi(APIView):
    class GroupDetailOutput(GroupOutput):
        pinned = serializers.SerializerMethodField()

        def get_pinned(self, membership) -> list[dict]:
            return [message_payload(m) for m in selectors.pinned_notices(group=membership.group)]

    @extend_schema(operation_id="groups_retrieve", responses=GroupDetailOutput)
    def get(self, request, group_id: int):
        _membership_or_404(request.user, group_id)
        membership = selectors.memberships_for_user(user=request.user).get(group_id=group_id)
        return Response(self.GroupDetailOutput(membership).data)


class MessagePageOutput(serializers.Serializer):
    results = MessageOutput(many=True)
    previous_before = serializers.IntegerField(allow_null=True, help_text="Pass as ?before= for older lines")
    next_after = serializers.IntegerField(allow_null=True, help_text="Pass as ?after= for newer lines")


class GroupMessagesApi(APIView):
    class MessageHistoryFilters(serializers.Serializer):
        before = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
        after = serializers.IntegerField(required=False, min_value=0, max_value=MAX_ID)
        limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)

        def validate(self, attrs):
            if "before" in attrs and "after" in attrs:
                raise serializers.ValidationError(_("Give before or after, not both."))
            return attrs

    @extend_schema(
        operation_id="groups_messages_list",
        parameters=[
            OpenApiParameter("before", int, description="Lines with a smaller seq (older), newest page first"),
            OpenApiParameter("after", int, description="Lines with a larger seq (newer), for catching up"),
            OpenApiParameter("limit", int),
        ],
        responses=MessagePageOutput,
    )
    def get(self, request, group_id: int):
        membership = _membership_or_404(request.user, group_id)
        filters = self.MessageHistoryFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        params = filters.validated_data
        messages = selectors.messages_page(
            group=membership.group, before=params.get("before"), after=params.get("after"), limit=params["limit"]
        )
        first, last = (messages[0].seq, messages[-1].seq) if messages else (None, None)
        return Response(
            {
                "results": [message_payload(m) for m in messages],
                "previous_before": first if first and first > 1 else None,
                "next_after": last if last is not None and last < membership.group.last_seq else None,
            }
        )

    @extend_schema(
        operation_id="groups_messages_send",
        request=MessageSendInput,
        responses={201: MessageOutput, 200: MessageOutput},
    )
    def post(self, request, group_id: int):
        message, created = message_send_from_input(user=request.user, group_id=group_id, data=request.data)
        return Response(message_payload(message), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class GroupImageApi(APIView):
    parser_classes = [MultiPartParser]

    class ImageMessageInput(InputSerializer):
        image = serializers.FileField()
        body = StrictCharField(max_length=500, required=False, allow_blank=True, default="")
        client_id = StrictCharField(max_length=64, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="groups_images_send", request=ImageMessageInput, responses={201: MessageOutput})
    def post(self, request, group_id: int):
        membership = _membership_or_404(request.user, group_id)
        data = self.ImageMessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        prepared = image_prepare(
            data.validated_data["image"], max_bytes=MESSAGE_IMAGE_MAX_BYTES, max_side=2048, thumbnail_side=320
        )
        message, created = services.message_send(
            sender=request.user,
            group=membership.group,
            kind=Message.Kind.IMAGE,
            body=data.validated_data["body"],
            client_id=data.validated_data["client_id"],
            image=prepared.image,
            thumbnail=prepared.thumbnail,
        )
        return Response(message_payload(message), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class GroupMessageImageApi(APIView):
    """The picture of an image message, for members only (never a public /media/ address)."""

    @extend_schema(
        operation_id="groups_messages_image",
        parameters=[OpenApiParameter("size", str, enum=["full", "thumbnail"])],
        responses={(200, "image/jpeg"): OpenApiTypes.BINARY},
    )
    def get(self, request, group_id: int, seq: int):
        membership = _membership_or_404(request.user, group_id)
        message = Message.objects.filter(group=membership.group, seq=seq, deleted_at__isnull=True).first()
        if message is None or not message.image:
            raise Http404
        field = (
            message.thumbnail
            if request.query_params.get("size") == "thumbnail" and message.thumbnail
            else message.image
        )
        return image_response(field)


class GroupMessageDetailApi(APIView):
    # 204 like every other DELETE: the group sees the deletion as a tombstone and a "deleted" system line.
    @extend_schema(operation_id="groups_messages_delete", request=NoBodyInput, responses={204: None})
    def delete(self, request, group_id: int, seq: int):
        no_body(request)
        membership = _membership_or_404(request.user, group_id)
        services.message_delete(actor=request.user, group=membership.group, seq=seq)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupNoticesApi(APIView):
    class NoticeInput(InputSerializer):
        body = StrictCharField(max_length=services.MAX_TEXT_LENGTH)

    @extend_schema(operation_id="groups_notices_post", request=NoticeInput, responses={201: MessageOutput})
    def post(self, request, group_id: int):
        membership = _membership_or_404(request.user, group_id)
        data = self.NoticeInput(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.notice_post(actor=request.user, group=membership.group, body=data.validated_data["body"])
        return Response(message_payload(message), status=status.HTTP_201_CREATED)


class ReadStateOutput(serializers.Serializer):
    group = serializers.IntegerField(source="group_id")
    last_read_seq = serializers.IntegerField()
    is_muted = serializers.BooleanField()


class GroupReadApi(APIView):
    class ReadInput(InputSerializer):
        seq = serializers.IntegerField(min_value=0, max_value=MAX_ID)

    @extend_schema(operation_id="groups_read", request=ReadInput, responses=ReadStateOutput)
    def post(self, request, group_id: int):
        membership = _membership_or_404(request.user, group_id)
        data = self.ReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.group_mark_read(user=request.user, group=membership.group, seq=data.validated_data["seq"])
        return Response(ReadStateOutput(membership).data)


class GroupMuteApi(APIView):
    class MuteInput(InputSerializer):
        muted = serializers.BooleanField()

    @extend_schema(operation_id="groups_mute", request=MuteInput, responses=ReadStateOutput)
    def post(self, request, group_id: int):
        membership = _membership_or_404(request.user, group_id)
        data = self.MuteInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.group_mute(user=request.user, group=membership.group, muted=data.validated_data["muted"])
        return Response(ReadStateOutput(membership).data)


class GroupMemberOutput(serializers.Serializer):
    user = serializers.IntegerField(source="user_id")
    display_name = serializers.CharField(source="user.display_name")
    phone = MaskedPhoneField(source="user.phone")
    role = serializers.CharField()
    online = serializers.SerializerMethodField()
    on_duty = serializers.SerializerMethodField()

    def get_on_duty(self, membership) -> bool:
        return membership.user_id in self.context.get("on_duty", ())

    def get_online(self, membership) -> bool:
        return membership.user_id in self.context["online"]


class GroupMembersApi(generics.ListAPIView):
    """Members of one of my groups, who is online now, numbers masked unless the viewer is police."""

    serializer_class = GroupMemberOutput
    pagination_class = DefaultCursorPagination
    queryset = GroupMembership.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        membership = _membership_or_404(self.request.user, self.kwargs["group_id"])
        return selectors.group_members(group=membership.group)

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "full_phones": can_see_full_phone_numbers(self.request.user),
            "online": set(),
        }

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        context = self.get_serializer_context()
        user_ids = [membership.user_id for membership in page]
        context["online"] = users_online(user_ids)
        alliance_id = page[0].group.alliance_id if page else None
        context["on_duty"] = selectors.on_duty_user_ids(alliance_id=alliance_id, user_ids=user_ids) if page else set()
        return self.get_paginated_response(GroupMemberOutput(page, many=True, context=context).data)


class TeamGroupCreateApi(APIView):
    """Alliance admins, police liaisons and mall managers open a team group (a patrol team, a mall's staff)."""

    class TeamGroupInput(InputSerializer):
        name = StrictCharField(max_length=100)
        description = StrictCharField(max_length=500, required=False, allow_blank=True, default="")
        members = serializers.ListField(child=IdField(), max_length=500, default=list)

    @extend_schema(operation_id="groups_team_create", request=TeamGroupInput, responses={201: GroupOutput})
    def post(self, request, alliance_id: int):
        access = alliance_access_or_404(user=request.user, alliance_id=alliance_id)
        data = self.TeamGroupInput(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.team_group_create(
            actor=request.user,
            access=access,
            name=data.validated_data["name"],
            description=data.validated_data["description"],
            member_ids=data.validated_data["members"],
        )
        membership = selectors.memberships_for_user(user=request.user).get(group=group)
        return Response(GroupOutput(membership).data, status=status.HTTP_201_CREATED)


class TeamGroupMembersApi(APIView):
    class TeamMemberInput(InputSerializer):
        user = IdField()

    @extend_schema(operation_id="groups_team_member_add", request=TeamMemberInput, responses={201: GroupMemberOutput})
    def post(self, request, group_id: int):
        membership = _membership_or_404(request.user, group_id)
        data = self.TeamMemberInput(data=request.data)
        data.is_valid(raise_exception=True)
        added = services.team_group_member_add(
            actor=request.user, group=membership.group, user_id=data.validated_data["user"]
        )
        context = {"full_phones": can_see_full_phone_numbers(request.user), "online": users_online([added.user_id])}
        return Response(GroupMemberOutput(added, context=context).data, status=status.HTTP_201_CREATED)


class TeamGroupMemberDetailApi(APIView):
    @extend_schema(operation_id="groups_team_member_remove", request=NoBodyInput, responses={204: None})
    def delete(self, request, group_id: int, user_id: int):
        no_body(request)
        membership = _membership_or_404(request.user, group_id)
        services.team_group_member_remove(actor=request.user, group=membership.group, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
