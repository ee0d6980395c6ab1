"""Two alliances in two jurisdictions with real objects of every kind, made through the services as the app makes
them (the shared street's units and alliance, tests/fixtures/street.py, and tests/factories for the rest): the API
fuzz (tests/test_api_fuzz.py) runs its operations on objects that exist, as members of each."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import Role, User
from accounts.services import device_register
from alliance.alert_audience import AudienceSpec
from alliance.models import Alliance, AllianceMembership, SafeStoreBadge, SafeStoreRankingEntry, StationStaff
from alliance.services.alerts import alert_image_add
from config.images import image_prepare
from groups.models import ContactGroup, GroupMembership, Message, PatrolTeamMember, Shift, SupportPoint
from groups.services.shift_signups import shift_swap_request
from tests.factories.alerts import alert_make
from tests.factories.alliance import (
    MemberRole,
    invite_make,
    invite_revoked,
    join_request_make,
    member_add,
    station_staff_post,
    store_make,
    store_photo_make,
    store_staff_make,
)
from tests.factories.groups import message_make, notice_make, team_make
from tests.factories.patrol import (
    grid_make,
    offset_position,
    route_make,
    signup_make,
    support_point_make,
    template_make,
    zone_make,
)
from tests.factories.patrol import team_make as patrol_team_make
from tests.factories.reports import comment_make, dispute_acknowledged, dispute_make, incident_accepted, incident_make
from tests.factories.rewards import points_give, redemption_decide, redemption_make, reward_make
from tests.factories.safe_store_awards import last_period_start, period_before, ranking_published, ranking_snapshot_make
from tests.factories.safe_stores import inspection_make, ranking_make
from tests.factories.tips import schedule_make, tip_make
from tests.fixtures.street import build_street


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


def build_side(user_factory, *, name: str, city: str, phone_prefix: str) -> Side:
    def person(key: str, roles: list[str]) -> User:
        return user_factory(roles=roles, display_name=f"{name}{key}", phone=f"{phone_prefix}{len(people):05d}")

    people: dict[str, User] = {}
    people["police_admin"] = person("所长", [Role.POLICE_ADMIN, Role.OFFICER])
    # The shared street's units and alliance, founded by the police admin; this side's people are its own.
    street = build_street(
        user_factory,
        name=f"{name}联盟",
        city=city,
        station_name=f"{name}派出所",
        office_name=f"{name}警务室",
        police_admin=people["police_admin"],
        people=False,
    )
    station, office, alliance, main = street.station, street.office, street.alliance, street.main
    admin = people["police_admin"]

    people["officer"] = person("社区民警", [Role.OFFICER])
    station_staff_post(station=office, user=people["officer"], by=admin)
    member_add(alliance, people["officer"], MemberRole.POLICE_LIAISON)
    people["merchant"] = person("李老板", [Role.MERCHANT])
    member_add(alliance, people["merchant"], MemberRole.MERCHANT)
    people["clerk"] = person("店员", [Role.MERCHANT])
    member_add(alliance, people["clerk"], MemberRole.MERCHANT)
    people["volunteer"] = person("志愿者", [Role.VOLUNTEER])
    member_add(alliance, people["volunteer"], MemberRole.VOLUNTEER)
    people["mall_manager"] = person("商管", [Role.MALL_MANAGER])
    member_add(alliance, people["mall_manager"], MemberRole.MALL_MANAGER, on_duty=True)
    people["joiner"] = person("新商户", [Role.MERCHANT])

    merchant = people["merchant"]
    store = store_make(
        owner=merchant,
        alliance=alliance,
        name=f"{name}花店",
        address="青果巷 12 号",
        latitude=31.777012,
        longitude=119.956301,
    )
    store_photo_make(store=store, upload=png())
    store_staff_make(store=store, user=people["clerk"])
    # The Safe Store ranking: the last half-year's, published (the store holds its badge), and the one before,
    # computed and not yet published (its entry may be held back).
    last_half_year = last_period_start(timezone.localdate())
    published = ranking_snapshot_make(alliance, last_half_year, scores=[(store, 42.0)])
    ranking_published(ranking=published, by=admin)
    unpublished = ranking_snapshot_make(alliance, period_before(last_half_year), scores=[(store, 30.0)])

    invite = invite_make(alliance=alliance, by=admin, role=MemberRole.MERCHANT)
    withdrawn = invite_revoked(invite=invite_make(alliance=alliance, by=admin), by=admin)
    join_request = join_request_make(invite=invite, user=people["joiner"])

    team = team_make(alliance=alliance, by=admin, name="巡逻队", members=[people["volunteer"], people["mall_manager"]])
    message_make(sender=merchant, group=main, body="门口有人吵架")
    message_make(
        sender=merchant,
        group=main,
        body="",
        kind=Message.Kind.LOCATION,
        latitude=Decimal("31.777000"),
        longitude=Decimal("119.956000"),
    )
    picture = case_photo()
    message_make(
        sender=merchant, group=main, body="", kind=Message.Kind.IMAGE, image=picture.image, thumbnail=picture.thumbnail
    )
    notice_make(group=main, by=admin, body="今晚加强巡逻")
    message_make(sender=people["volunteer"], group=team, body="七点集合")

    flagged = dispute_make(
        reporter=merchant, alliance=alliance, category="other", note="两人争执", photos=[case_photo()]
    )
    acknowledged = dispute_make(
        reporter=people["clerk"],
        alliance=alliance,
        category="other",
        latitude=Decimal("31.777100"),
        longitude=Decimal("119.956400"),
    )
    dispute_acknowledged(dispute=acknowledged, responder=people["mall_manager"])
    reported = incident_make(
        reporter=merchant, alliance=alliance, category="theft", description="电动车被偷", photos=[case_photo()]
    )
    comment_make(incident=reported, author=admin, body="已收到，正在调查")
    accepted = incident_make(
        reporter=people["volunteer"],
        alliance=alliance,
        category="other",
        description="路灯坏了",
        is_anonymous=True,
        latitude=Decimal("31.777200"),
        longitude=Decimal("119.956500"),
    )
    incident_accepted(incident=accepted, by=admin)

    # Patrol geography around the store: a zone with a grid, a route of three checkpoints, a point of each kind.
    here = (31.777012, 119.956301)
    zone = zone_make(alliance=alliance, by=admin, name=f"{name}红区", centre=here)
    grid = grid_make(zone=zone, by=admin, name=f"{name}一网格", centre=here)
    route = route_make(
        alliance=alliance,
        by=admin,
        zone=zone,
        name=f"{name}主线",
        checkpoints=[offset_position(*here, east_metres=100 * step) for step in range(3)],
    )
    checkpoints = list(route.checkpoints.order_by("position"))
    points = [
        support_point_make(
            alliance=alliance,
            by=admin,
            kind=kind,
            name=f"{name}{label}",
            position=offset_position(*here, north_metres=60 * number),
        )
        for number, (kind, label) in enumerate(SupportPoint.Kind.choices)
    ]

    side = Side(alliance=alliance, people=people, unattached={people["joiner"].pk})
    side.add(zone_id=zone.pk)
    side.add(grid_id=grid.pk)
    side.add(route_id=route.pk)
    for checkpoint in checkpoints:
        side.add(checkpoint_id=checkpoint.pk)
    for point in points:
        side.add(point_id=point.pk)
    # Patrol: a team (with its contact group), a nightly template with its shifts, a place and a swap asked for.
    patrol_team = patrol_team_make(
        alliance=alliance, name=f"{name}义警队", leader=people["mall_manager"], members=(people["volunteer"],)
    )
    template = template_make(team=patrol_team, zone=zone, by=admin, slots={"fixed": 1, "mobile": 2})
    shifts = list(Shift.objects.filter(template=template).order_by("starts_at")[:2])
    place = signup_make(shift=shifts[0], user=people["volunteer"])
    swap = shift_swap_request(actor=people["volunteer"], signup=place, to_user_id=people["officer"].pk)

    # Rewards: one offered, one withdrawn; a request waiting and one approved.
    reward = reward_make(alliance=alliance, by=admin, name=f"{name}物业费减免券", price=30, stock=5)
    withdrawn_reward = reward_make(alliance=alliance, by=admin, kind="goods", name=f"{name}雨衣", is_active=False)
    for person in (people["volunteer"], merchant):
        points_give(user=person, alliance=alliance, amount=100)
    waiting = redemption_make(reward=reward, user=people["volunteer"])
    approved = redemption_decide(redemption=redemption_make(reward=reward, user=merchant), by=admin, decision="approve")
    for each in (reward, withdrawn_reward):
        side.add(alliance_id=alliance.pk, reward_id=each.pk)
    for each in (waiting, approved):
        side.add(alliance_id=alliance.pk, redemption_id=each.pk)

    # The Safe Store ranking: an inspection of the store, and the alliance's final ranking of a half-year gone by.
    inspection_make(store=store, by=admin)
    Alliance.objects.filter(pk=alliance.pk).update(created_at=datetime(2024, 1, 1, tzinfo=UTC))
    ranking = ranking_make(alliance=alliance, period_start=date(2025, 1, 1))

    # Safety tips: one in the office's library and one retired; the office's evening schedule to the merchants.
    tips = [
        tip_make(station=office, by=admin, title=f"{name}夜市用火安全"),
        tip_make(station=office, by=admin, title=f"{name}旧提示", is_active=False),
    ]
    schedule = schedule_make(
        station=office, by=admin, audience=AudienceSpec(alliances=[alliance.pk], roles=[MemberRole.MERCHANT])
    )
    for tip in tips:
        side.add(tip_id=tip.pk)
    side.add(schedule_id=schedule.pk)

    side.add(alliance_id=alliance.pk, ranking_id=ranking.pk)

    # Alerts: a draft with a picture, and one published to the alliance's merchants asking for an acknowledgement.
    draft = alert_make(actor=admin, station=station, audience={"alliances": [alliance.pk]}, publish=False)
    picture = alert_image_add(actor=admin, alert=draft, upload=png("blue"))
    published_alert = alert_make(
        actor=admin,
        station=station,
        audience={"alliances": [alliance.pk], "roles": ["merchant"]},
        severity="urgent",
        requires_ack=True,
    )
    for each in (draft, published_alert):
        side.add(alert_id=each.pk)
    side.add(alert_id=draft.pk, image_id=picture.pk)

    # Push devices: the police admin's and the merchant's phones (a person's own; anyone else's is not found).
    for role in ("police_admin", "merchant"):
        device, _created = device_register(
            user=people[role], platform="android", provider="jpush", token=f"world-phone-{people[role].pk}"
        )
        side.add(device_id=device.pk)

    side.add(team_id=patrol_team.pk)
    for member in PatrolTeamMember.objects.filter(team=patrol_team):
        side.add(team_id=patrol_team.pk, user_id=member.user_id)
    side.add(template_id=template.pk)
    for shift in shifts:
        side.add(shift_id=shift.pk)
    side.add(signup_id=place.pk)
    side.add(swap_id=swap.pk)
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
    for ranking in (published, unpublished):
        side.add(alliance_id=alliance.pk, ranking_id=ranking.pk)
        for entry in SafeStoreRankingEntry.objects.filter(ranking=ranking):
            side.add(alliance_id=alliance.pk, ranking_id=ranking.pk, entry_id=entry.pk)
    for badge in SafeStoreBadge.objects.filter(ranking=published):
        side.add(store_id=badge.store_id, badge_id=badge.pk)
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
        "zone": [zone.pk],
        "checkpoints": [[checkpoint.pk for checkpoint in reversed(checkpoints)]],
        "to_user": [people["officer"].pk, people["mall_manager"].pk],
        "leaders": [[people["mall_manager"].pk]],
    }
    return side
