"""A small demo city taken from the source articles: Qingguo Lane in Changzhou and Fengming Golden Street in Fengxian.

Run ``python manage.py seed_demo`` on an empty or already seeded database; a second run creates nothing new. Rows
are found by stable keys (phone, alliance slug, station name and city, store name and alliance), so demo rows that
someone edited by hand are left as they are.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import Counter
from datetime import date, datetime, time
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, RoleGrant, User
from alliance.demo_city import DemoLogin, demo_city_parts_seed
from alliance.hooks import alliance_membership_hooks
from alliance.models import Alliance, AllianceMembership, Station, StationStaff, Store
from alliance.permissions import ALLIANCE_RESPONDER_ROLES
from alliance.services.members import alliance_member_add

DEMO_PASSWORD = "pingan-demo-2026"
GRANT_REASON = "demo data"

QINGGUO = "qingpingguo"
FENGMING = "fengming-golden-street"

JUQIANJIE_STATION = "常州市公安局天宁分局局前街派出所"
QINGGUO_OFFICE = "青果巷警务室"
ZHONGYANGLI_STATION = "中阳里派出所"
FENGMING_WORKSTATION = "凤鸣警务站"

# (name, kind, parent name, city, district, address). Parents come before their children.
STATIONS = (
    (JUQIANJIE_STATION, Station.Kind.STATION, None, "常州市", "天宁区", "常州市天宁区局前街"),
    (QINGGUO_OFFICE, Station.Kind.OFFICE, JUQIANJIE_STATION, "常州市", "天宁区", "常州市天宁区青果巷"),
    (ZHONGYANGLI_STATION, Station.Kind.STATION, None, "徐州市", "丰县", "徐州市丰县中阳里街道"),
    (FENGMING_WORKSTATION, Station.Kind.WORKSTATION, ZHONGYANGLI_STATION, "徐州市", "丰县", "徐州市丰县凤鸣金街"),
)


class DemoAlliance(NamedTuple):
    slug: str
    name: str
    area: str
    station: str
    office: str
    street: str
    centre: tuple[Decimal, Decimal]  # latitude, longitude of the middle of the street
    # When the alliance was founded: before the last half-year, so that the demo has a Safe Store ranking to show
    # (a ranking covers the alliances that existed before its period ended).
    founded: date


ALLIANCES = (
    DemoAlliance(
        slug=QINGGUO,
        name="青平果联盟",
        area="青果巷历史文化街区",
        station=JUQIANJIE_STATION,
        office=QINGGUO_OFFICE,
        street="常州市天宁区青果巷",
        centre=(Decimal("31.777000"), Decimal("119.956000")),
        founded=date(2023, 3, 1),
    ),
    DemoAlliance(
        slug=FENGMING,
        name="凤鸣金街平安门店联盟",
        area="凤鸣金街商贸圈",
        station=ZHONGYANGLI_STATION,
        # Fengming has no community police office: the workstation is the first police level incidents go to
        # before the station (Fengxian article: handled within 5 minutes, else handed to the station).
        office=FENGMING_WORKSTATION,
        street="徐州市丰县凤鸣金街",
        centre=(Decimal("34.696000"), Decimal("116.595000")),
        founded=date(2024, 4, 1),
    ),
)

# Phone blocks tell the role at a glance: 0001 admin, 001x officers, 002x mall managers, 003x volunteers,
# 01xx merchants. +86 138 0000 xxxx is a range no real subscriber is expected to use.
# (phone, display name, platform role, role in the alliance, alliance slugs)
PEOPLE = (
    ("+8613800000001", "陈所长", Role.POLICE_ADMIN, AllianceMembership.Role.ADMIN, (QINGGUO, FENGMING)),
    # 虞警官 answers the Qingguo contact group at night; 吴警官 runs 凤鸣警务站, 葛警官 patrols there (articles).
    ("+8613800000011", "虞警官", Role.OFFICER, AllianceMembership.Role.POLICE_LIAISON, (QINGGUO,)),
    ("+8613800000012", "沈警官", Role.OFFICER, AllianceMembership.Role.POLICE_LIAISON, (QINGGUO,)),
    ("+8613800000013", "吴警官", Role.OFFICER, AllianceMembership.Role.POLICE_LIAISON, (FENGMING,)),
    ("+8613800000014", "葛警官", Role.OFFICER, AllianceMembership.Role.POLICE_LIAISON, (FENGMING,)),
    ("+8613800000021", "顾经理", Role.MALL_MANAGER, AllianceMembership.Role.MALL_MANAGER, (QINGGUO,)),
    ("+8613800000022", "孙经理", Role.MALL_MANAGER, AllianceMembership.Role.MALL_MANAGER, (FENGMING,)),
    ("+8613800000031", "王阿姨", Role.VOLUNTEER, AllianceMembership.Role.VOLUNTEER, (QINGGUO,)),
    ("+8613800000032", "钱师傅", Role.VOLUNTEER, AllianceMembership.Role.VOLUNTEER, (QINGGUO,)),
    ("+8613800000033", "小周", Role.VOLUNTEER, AllianceMembership.Role.VOLUNTEER, (QINGGUO,)),
    ("+8613800000034", "张大姐", Role.VOLUNTEER, AllianceMembership.Role.VOLUNTEER, (FENGMING,)),
    ("+8613800000035", "赵师傅", Role.VOLUNTEER, AllianceMembership.Role.VOLUNTEER, (FENGMING,)),
    ("+8613800000036", "义警小刘", Role.VOLUNTEER, AllianceMembership.Role.VOLUNTEER, (FENGMING,)),
    # 周队长 leads Fengming's volunteer police team (平安义警队) and 小陈 patrols with it (groups/demo_patrol.py).
    ("+8613800000037", "周队长", Role.VOLUNTEER, AllianceMembership.Role.VOLUNTEER, (FENGMING,)),
    ("+8613800000038", "义警小陈", Role.VOLUNTEER, AllianceMembership.Role.VOLUNTEER, (FENGMING,)),
)

# Police posts (jurisdiction): the station chief answers for both stations of the demo; officers work from the
# community police office or workstation of their alliance, which lies in that station's jurisdiction.
POSTS = (
    ("+8613800000001", JUQIANJIE_STATION),
    ("+8613800000001", ZHONGYANGLI_STATION),
    ("+8613800000011", QINGGUO_OFFICE),
    ("+8613800000012", QINGGUO_OFFICE),
    ("+8613800000013", FENGMING_WORKSTATION),
    ("+8613800000014", FENGMING_WORKSTATION),
)

C = Store.Category
# (alliance slug, store name, category, merchant display name, merchant phone). One merchant owns one store.
STORES = (
    (QINGGUO, "青果巷银丝面馆", C.RESTAURANT, "蒋老板", "+8613800000101"),
    (QINGGUO, "老常州大麻糕", C.SNACK, "恽阿婆", "+8613800000102"),
    (QINGGUO, "蟹黄小笼包子铺", C.SNACK, "盛老板", "+8613800000103"),
    (QINGGUO, "常州梳篦坊", C.RETAIL, "邹师傅", "+8613800000104"),
    (QINGGUO, "乱针绣工作室", C.RETAIL, "吕老师", "+8613800000105"),
    (QINGGUO, "留青竹刻", C.RETAIL, "徐师傅", "+8613800000106"),
    (QINGGUO, "青果茶舍", C.TEAHOUSE, "汤老板", "+8613800000107"),
    (QINGGUO, "运河咖啡", C.TEAHOUSE, "唐小姐", "+8613800000108"),
    (QINGGUO, "古巷汉服体验馆", C.SERVICE, "管老板", "+8613800000109"),
    (QINGGUO, "酒酿元宵铺", C.SNACK, "史阿姨", "+8613800000110"),
    (QINGGUO, "青果巷文创书店", C.RETAIL, "瞿老板", "+8613800000111"),
    (QINGGUO, "江南丝绸坊", C.CLOTHING, "华老板", "+8613800000112"),
    (QINGGUO, "青果密室剧本馆", C.ENTERTAINMENT, "庄老板", "+8613800000113"),
    (QINGGUO, "常州萝卜干特产店", C.RETAIL, "薛老板", "+8613800000114"),
    (QINGGUO, "古巷旅拍工作室", C.SERVICE, "费老板", "+8613800000115"),
    (FENGMING, "花漾花店", C.FLOWERS, "李老板", "+8613800000116"),  # the florist quoted in the Fengxian article
    (FENGMING, "凤鸣羊肉汤馆", C.RESTAURANT, "马老板", "+8613800000117"),
    (FENGMING, "老丰县糁汤", C.SNACK, "朱老板", "+8613800000118"),
    (FENGMING, "大沙河果品行", C.RETAIL, "何老板", "+8613800000119"),
    (FENGMING, "金街烙馍卷", C.SNACK, "韩大姐", "+8613800000120"),
    (FENGMING, "凤城服饰", C.CLOTHING, "杨老板", "+8613800000121"),
    (FENGMING, "凤鸣茶饮", C.TEAHOUSE, "许小姐", "+8613800000122"),
    (FENGMING, "星光KTV", C.ENTERTAINMENT, "郑老板", "+8613800000123"),
    (FENGMING, "丰县牛蒡特产店", C.RETAIL, "冯老板", "+8613800000124"),
    (FENGMING, "金街手机维修", C.SERVICE, "孔师傅", "+8613800000125"),
    (FENGMING, "明亮眼镜店", C.RETAIL, "曹老板", "+8613800000126"),
    (FENGMING, "徐州把子肉", C.RESTAURANT, "彭老板", "+8613800000127"),
    (FENGMING, "童趣玩具店", C.RETAIL, "鲁老板", "+8613800000128"),
    (FENGMING, "金剪刀美发", C.SERVICE, "袁师傅", "+8613800000129"),
    (FENGMING, "金街便利店", C.RETAIL, "魏老板", "+8613800000130"),
)

ALLIANCE_BY_SLUG = {demo.slug: demo for demo in ALLIANCES}
ROLE_ORDER = (Role.POLICE_ADMIN, Role.OFFICER, Role.MALL_MANAGER, Role.VOLUNTEER, Role.MERCHANT)


class Command(BaseCommand):
    help = "Create the demo city (two alliances, their police units, stores and people). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Print a one-line summary instead of the logins.")

    def handle(self, *args, quiet: bool = False, **options):
        if settings.SETTINGS_MODULE == "config.settings.production":
            # Every demo account shares a published password and one of them may use the admin site.
            raise CommandError("seed_demo refuses to run with production settings.")

        created: Counter[str] = Counter()
        with transaction.atomic():
            stations = seed_stations(created)
            alliances = seed_alliances(stations, created)
            seed_people(alliances, created)
            seed_posts(stations, created)
            seed_stores(alliances, created)
            # What the apps above alliance add to the city (alliance/demo_city.py): the patrol, for one.
            parts = demo_city_parts_seed(alliances=alliances, created=created)

        if not quiet:
            self.stdout.write(logins_table(alliances))
            for title, logins in parts:
                if logins:
                    self.stdout.write("")
                    self.stdout.write(f"{title}:")
                    self.stdout.write(table(logins))
            self.stdout.write("")
            self.stdout.write(f"Password for every demo login: {DEMO_PASSWORD}")
            self.stdout.write(sms_hint())
            self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(summary(alliances, created)))


def seed_stations(created: Counter[str]) -> dict[str, Station]:
    stations: dict[str, Station] = {}
    for name, kind, parent, city, district, address in STATIONS:
        stations[name], is_new = Station.objects.get_or_create(
            name=name,
            city=city,
            defaults={
                "kind": kind,
                "parent": stations[parent] if parent else None,
                "district": district,
                "address": address,
            },
        )
        created["police units"] += is_new
    return stations


def seed_alliances(stations: dict[str, Station], created: Counter[str]) -> dict[str, Alliance]:
    alliances: dict[str, Alliance] = {}
    for demo in ALLIANCES:
        alliances[demo.slug], is_new = Alliance.objects.get_or_create(
            slug=demo.slug,
            defaults={
                "name": demo.name,
                "area_description": demo.area,
                "station": stations[demo.station],
                "office": stations[demo.office],
                "created_at": datetime.combine(demo.founded, time(9), tzinfo=timezone.get_default_timezone()),
            },
        )
        created["alliances"] += is_new
        # Found or made, the alliance gets what the apps above keep for it (its contact groups), as when founded in
        # the app; a demo alliance made before its groups catches up.
        alliance_membership_hooks.alliance_created(alliance=alliances[demo.slug])
    return alliances


def seed_people(alliances: dict[str, Alliance], created: Counter[str]) -> None:
    for phone, display_name, role, alliance_role, slugs in PEOPLE:
        # Only the police admin is staff: the admin site is where police manage alliances; nobody is superuser.
        user = demo_user(phone, display_name, role, created, is_staff=role == Role.POLICE_ADMIN)
        for slug in slugs:
            join_alliance(user, alliances[slug], alliance_role, created)


def seed_posts(stations: dict[str, Station], created: Counter[str]) -> None:
    for phone, station in POSTS:
        _, is_new = StationStaff.objects.get_or_create(user=User.objects.get(phone=phone), station=stations[station])
        created["police posts"] += is_new


def seed_stores(alliances: dict[str, Alliance], created: Counter[str]) -> None:
    position_on_street: Counter[str] = Counter()
    for slug, name, category, owner_name, phone in STORES:
        alliance, demo = alliances[slug], ALLIANCE_BY_SLUG[slug]
        owner = demo_user(phone, owner_name, Role.MERCHANT, created)
        join_alliance(owner, alliance, AllianceMembership.Role.MERCHANT, created)
        number = position_on_street[slug]
        position_on_street[slug] += 1
        latitude, longitude = store_position(demo.centre, number)
        _, is_new = Store.objects.get_or_create(
            alliance=alliance,
            name=name,
            defaults={
                "owner": owner,
                "category": category,
                "address": f"{demo.street}{number + 1}号",
                "latitude": latitude,
                "longitude": longitude,
                "opening_hours": "10:00-22:00",
                "is_verified": True,
            },
        )
        created["stores"] += is_new


@functools.cache
def demo_password_hash() -> str:
    # Hashing is slow on purpose (PBKDF2, a million rounds): hash the shared demo password once, not 43 times.
    return make_password(DEMO_PASSWORD)


def demo_user(phone: str, display_name: str, role: str, created: Counter[str], *, is_staff: bool = False) -> User:
    user = User.objects.filter(phone=phone).first()
    if user is None:
        # Demo numbers cannot receive a code, so they are marked verified and get a password instead.
        user = User.objects.create(
            phone=phone,
            password=demo_password_hash(),
            display_name=display_name,
            phone_verified=True,
            is_staff=is_staff,
        )
        created["users"] += 1
    if not RoleGrant.objects.active().filter(user=user, role=role).exists():
        RoleGrant.objects.create(user=user, role=role, granted_by=None, reason=GRANT_REASON)
        created["role grants"] += 1
    return user


def join_alliance(user: User, alliance: Alliance, role: str, created: Counter[str]) -> None:
    # The same service as joining in the app, so demo members are in their alliance's contact groups too.
    membership, is_new = alliance_member_add(alliance=alliance, user=user, role=role)
    created["memberships"] += is_new
    if is_new and role in ALLIANCE_RESPONDER_ROLES and role != AllianceMembership.Role.VOLUNTEER:
        # Responders start on duty, so a demo flag reaches someone at the first rung of the ladder at once; volunteers
        # are on duty by checking in to a patrol shift, as in the app.
        membership.on_duty, membership.on_duty_since = True, timezone.now()
        membership.save(update_fields=["on_duty", "on_duty_since"])


def store_position(centre: tuple[Decimal, Decimal], number: int) -> tuple[Decimal, Decimal]:
    """Even numbers on the north side, odd on the south, about 40 m apart: a street, not a single point on the map."""
    latitude, longitude = centre
    side = Decimal("0.000150") if number % 2 == 0 else Decimal("-0.000150")
    along = Decimal("0.000400") * (number // 2 - 3)
    return latitude + side, longitude + along


def logins_table(alliances: dict[str, Alliance]) -> str:
    rows = [(role, name, phone, "、".join(alliances[s].name for s in slugs)) for phone, name, role, _, slugs in PEOPLE]
    # A merchant's store is what a newcomer looks for on the map, so it goes next to the alliance.
    rows += [
        (Role.MERCHANT, owner, phone, f"{alliances[slug].name} · {store}") for slug, store, _, owner, phone in STORES
    ]
    rows.sort(key=lambda row: (ROLE_ORDER.index(row[0]), row[2]))
    return table([DemoLogin(str(role), *rest) for role, *rest in rows], where="alliance")


def table(logins: list[DemoLogin], *, where: str = "where") -> str:
    lines = [("role", "name", "phone", where), *logins]
    widths = [max(display_width(line[column]) for line in lines) for column in range(3)]
    return "\n".join(
        "  ".join(pad(cell, width) for cell, width in zip(line[:3], widths, strict=True)) + "  " + line[3]
        for line in lines
    )


def sms_hint() -> str:
    if settings.SMS_PROVIDER == "console":
        return (
            "Logging in by code instead (POST /_allauth/app/v1/auth/code/request) prints the SMS code "
            "to the server log."
        )
    return f"SMS_PROVIDER is {settings.SMS_PROVIDER!r}, so login codes are not printed: use the password."


def summary(alliances: dict[str, Alliance], created: Counter[str]) -> str:
    what = f"Demo city ready: {len(alliances)} alliances, {len(STATIONS)} police units, {len(STORES)} stores, "
    what += f"{len(PEOPLE) + len(STORES)} people"
    new = [f"{count} {kind}" for kind, count in created.items() if count]
    if not new:
        return f"{what}; nothing new, it was already seeded."
    return f"{what}; created " + ", ".join(new) + "."


def display_width(text: str) -> int:
    # Chinese characters take two terminal columns; len() counts one and the table's columns would drift.
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))
