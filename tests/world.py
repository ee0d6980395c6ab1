"""Two alliances in two jurisdictions with real objects of every kind, made through the services as the app makes
them: the API fuzz (tests/test_api_fuzz.py) runs its operations on objects that exist, as members of each."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import Role, User
from alliance import services as alliance_services
from alliance.models import Alliance, AllianceMembership, Station, StationStaff
from alliance.selectors import alliance_access_for, store_access
from config.images import image_prepare
from groups import services as group_services
from groups.models import ContactGroup, GroupMembership, Message
from reports.services import disputes as dispute_services
from reports.services import incidents as incident_services
from reports.services.incident_comments import incident_comment
from reports.services.incident_workflow import incident_accept

MemberRole = AllianceMembership.Role


def png(colour: str = "red") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, format="PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


def case_photo():
    return image_prepare(png("blue"), max_bytes=5 * 1024 * 1024, max_side=2048, thumbnail_side=320)


@dataclass
class Side:
    """One jurisdiction with its alliance and everything in it. ``paths`` lists, per set of path parameter names,
    the parameter values that name real objects of this side (an invite with its alliance, a line with its group)."""

    alliance: Alliance
    people: dict[str, User]
    paths: dict[frozenset[str], list[dict]] = field(default_factory=dict)
    # Per body field that names an object (``{"assignee": 12}``, ``{"code": "..."}``): real values of this side.
    body_values: dict[str, list] = field(default_factory=dict)
    # People in no alliance and no police unit yet: any police admin may find them to recruit them (by design,
    # accounts.selectors.users_police_admin_may_act_on), so they are nobody's "other alliance".
    unattached: set[int] = field(default_factory=set)

    def add(self, **values) -> None:
        self.paths.setdefault(frozenset(values), []).append(values)


def _member(alliance: Alliance, user: User, role: str) -> None:
    alliance_services.alliance_member_add(alliance=alliance, user=user, role=role)


def build_side(user_factory, *, name: str, city: str, phone_prefix: str) -> Side:
    station = Station.objects.create(name=f"{name}派出所", city=city)
    office = Station.objects.create(name=f"{name}警务室", kind=Station.Kind.OFFICE, parent=station, city=city)

    def person(key: str, roles: list[str]) -> User:
        return user_factory(roles=roles, display_name=f"{name}{key}", phone=f"{phone_prefix}{len(people):05d}")

    people: dict[str, User] = {}
    people["police_admin"] = person("所长", [Role.POLICE_ADMIN, Role.OFFICER])
    StationStaff.objects.create(user=people["police_admin"], station=station)
    alliance = alliance_services.alliance_create(
        actor=people["police_admin"], name=f"{name}联盟", station=station, office=office
    )
    admin = people["police_admin"]
    admin_access = alliance_access_for(user=admin, alliance=alliance)

    people["officer"] = person("社区民警", [Role.OFFICER])
    alliance_services.station_staff_add(actor=admin, station=office, user=people["officer"])
    _member(alliance, people["officer"], MemberRole.POLICE_LIAISON)
    people["merchant"] = person("李老板", [Role.MERCHANT])
    _member(alliance, people["merchant"], MemberRole.MERCHANT)
    people["clerk"] = person("店员", [Role.MERCHANT])
    _member(alliance, people["clerk"], MemberRole.MERCHANT)
    people["volunteer"] = person("志愿者", [Role.VOLUNTEER])
    _member(alliance, people["volunteer"], MemberRole.VOLUNTEER)
    people["mall_manager"] = person("商管", [Role.MALL_MANAGER])
    _member(alliance, people["mall_manager"], MemberRole.MALL_MANAGER)
    alliance_services.alliance_duty_set(
        user=people["mall_manager"],
        access=alliance_access_for(user=people["mall_manager"], alliance=alliance),
        on_duty=True,
    )
    people["joiner"] = person("新商户", [Role.MERCHANT])

    merchant = people["merchant"]
    merchant_access = alliance_access_for(user=merchant, alliance=alliance)
    store = alliance_services.store_register(
        actor=merchant,
        access=merchant_access,
        name=f"{name}花店",
        address="青果巷 12 号",
        latitude=31.777012,
        longitude=119.956301,
    )
    own_store = store_access(user=merchant, store_id=store.pk)
    alliance_services.store_photo_set(actor=merchant, store_access=own_store, upload=png())
    alliance_services.store_staff_add(actor=merchant, store_access=own_store, phone=str(people["clerk"].phone))

    invite = alliance_services.alliance_invite_create(actor=admin, access=admin_access, role=MemberRole.MERCHANT)
    withdrawn = alliance_services.alliance_invite_create(actor=admin, access=admin_access)
    alliance_services.alliance_invite_revoke(actor=admin, access=admin_access, invite=withdrawn)
    join_request = alliance_services.alliance_join(user=people["joiner"], code=invite.code).join_request

    team = group_services.team_group_create(
        actor=admin,
        access=admin_access,
        name="巡逻队",
        member_ids=[people["volunteer"].pk, people["mall_manager"].pk],
    )
    main = ContactGroup.objects.get(alliance=alliance, kind=ContactGroup.Kind.MAIN)
    group_services.message_send(sender=merchant, group=main, body="门口有人吵架")
    group_services.message_send(
        sender=merchant,
        group=main,
        kind=Message.Kind.LOCATION,
        latitude=Decimal("31.777000"),
        longitude=Decimal("119.956000"),
    )
    picture = case_photo()
    group_services.message_send(
        sender=merchant, group=main, kind=Message.Kind.IMAGE, image=picture.image, thumbnail=picture.thumbnail
    )
    group_services.notice_post(actor=admin, group=main, body="今晚加强巡逻")
    group_services.message_send(sender=people["volunteer"], group=team, body="七点集合")

    flagged = dispute_services.dispute_flag(
        reporter=merchant, alliance=alliance, category="other", note="两人争执", photos=[case_photo()]
    )
    acknowledged = dispute_services.dispute_flag(
        reporter=people["clerk"],
        alliance=alliance,
        category="other",
        latitude=Decimal("31.777100"),
        longitude=Decimal("119.956400"),
    )
    dispute_services.dispute_acknowledge(responder=people["mall_manager"], dispute=acknowledged)
    reported = incident_services.incident_report(
        reporter=merchant, alliance=alliance, category="theft", description="电动车被偷", photos=[case_photo()]
    )
    incident_comment(author=admin, incident=reported, body="已收到，正在调查")
    accepted = incident_services.incident_report(
        reporter=people["volunteer"],
        alliance=alliance,
        category="other",
        description="路灯坏了",
        is_anonymous=True,
        latitude=Decimal("31.777200"),
        longitude=Decimal("119.956500"),
    )
    incident_accept(actor=admin, incident=accepted)

    side = Side(alliance=alliance, people=people, unattached={people["joiner"].pk})
    side.add(alliance_id=alliance.pk)
    for each in (invite, withdrawn):
        side.add(alliance_id=alliance.pk, invite_id=each.pk)
    side.add(alliance_id=alliance.pk, request_id=join_request.pk)
    for membership in AllianceMembership.objects.filter(alliance=alliance):
        side.add(alliance_id=alliance.pk, member_id=membership.pk)
    for unit in (station, office):
        side.add(station_id=unit.pk)
        for post in StationStaff.objects.filter(station=unit):
            side.add(station_id=unit.pk, user_id=post.user_id)
    side.add(store_id=store.pk)
    side.add(store_id=store.pk, user_id=people["clerk"].pk)
    for group in ContactGroup.objects.filter(alliance=alliance):
        side.add(group_id=group.pk)
        for line in Message.objects.filter(group=group):
            side.add(group_id=group.pk, seq=line.seq)
        for membership in GroupMembership.objects.filter(group=group):
            side.add(group_id=group.pk, user_id=membership.user_id)
    for dispute in (flagged, acknowledged):
        side.add(dispute_id=dispute.pk)
        for photo in dispute.photos.all():
            side.add(dispute_id=dispute.pk, photo_id=photo.pk)
    for incident in (reported, accepted):
        side.add(incident_id=incident.pk)
        for photo in incident.photos.all():
            side.add(incident_id=incident.pk, photo_id=photo.pk)
    for user in people.values():
        side.add(user_id=user.pk)
        for role in user.role_grants.values_list("role", flat=True):
            side.add(user_id=user.pk, role=role)
    for role in Role.values:
        side.add(role=role)

    members = [m.user_id for m in AllianceMembership.objects.filter(alliance=alliance)]
    side.body_values = {
        "alliance": [alliance.pk],
        "station": [station.pk],
        "office": [office.pk],
        "store": [store.pk],
        "code": [invite.code, withdrawn.code],
        "phone": [str(user.phone) for user in people.values()],
        "user": [user.pk for user in people.values()],
        "assignee": [people["officer"].pk, people["mall_manager"].pk],
        "team": [team.pk],
        "members": [members[:2], members],
        "into": [reported.pk, accepted.pk],
    }
    return side
