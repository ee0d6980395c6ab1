"""The demo city's points (``manage.py seed_demo``, after the patrol part): last week's nights of Fengming Golden
Street's volunteer police team, checked out with verified hours and settled into the points ledger, and one reward
already redeemed, so that the leaderboards, "my points" and the alliance's reward queue have something to show.

Last week's nights happened before the seed ran, so the places cannot be made by checking in through the services
(they stamp the present time, and a check-in a week late is refused, as it should be). The seed writes those nights
as the check-out leaves them (attendance done, the verified seconds, the times) and then settles their points with
the ledger's own service, as the task queued after a real check-out does. Their deadlines are cleared: the nights
are over, nobody is to be reminded of them or marked a no-show.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from accounts.models import User
from alliance.demo_city import DemoLogin
from alliance.management.commands.seed_demo import FENGMING
from alliance.models import Alliance, Redemption, Reward
from alliance.selectors.alliances import alliance_access_for
from alliance.services.points import points_settle
from alliance.services.rewards import redemption_approve, redemption_fulfil, redemption_request
from groups.demo_patrol import NIGHT_MINUTES, NIGHT_SHIFT, TEAM, tonight_starts
from groups.models import Shift, ShiftSignup, ShiftTemplate, SlotRole

POLICE_ADMIN = "+8613800000001"
# Who patrolled which of the last seven nights (1 = last night), and in which place.
LAST_WEEK = (
    ("+8613800000037", (1, 2, 4, 6), SlotRole.FIXED),  # 周队长
    ("+8613800000034", (1, 3, 5), SlotRole.MOBILE),  # 张大姐
    ("+8613800000035", (2, 5), SlotRole.MOBILE),  # 赵师傅
    ("+8613800000038", (3,), SlotRole.VEHICLE),  # 义警小陈
)
# 张大姐 has already been handed her reflective vest for the points of her nights.
REDEEMED = ("+8613800000034", "平安志愿者马甲")


def seed_fengming_points(*, alliances: dict[str, Alliance], created: Counter[str]) -> list[DemoLogin]:
    alliance = alliances[FENGMING]
    template = ShiftTemplate.objects.select_related("team", "zone", "route").get(
        team__alliance=alliance, team__name=TEAM, name=NIGHT_SHIFT
    )
    places = _seed_last_week(template, created)
    created["points entries"] += points_settle(source="patrol_hours", ids=[place.pk for place in places])
    _seed_redemption(alliance, created)
    return []


def _night(nights_ago: int) -> datetime:
    """The start of a night before tonight's shift (which may be on now: seeded at 01:30, tonight began yesterday)."""
    return tonight_starts() - timedelta(days=nights_ago)


def _seed_last_week(template: ShiftTemplate, created: Counter[str]) -> list[ShiftSignup]:
    places = []
    for phone, nights, role in LAST_WEEK:
        user = User.objects.get(phone=phone)
        for nights_ago in nights:
            starts_at = _night(nights_ago)
            ends_at = starts_at + timedelta(minutes=NIGHT_MINUTES)
            shift, is_new = Shift.objects.get_or_create(
                template=template,
                starts_at=starts_at,
                defaults={
                    "team": template.team,
                    "alliance": template.team.alliance,
                    "zone": template.zone,
                    "route": template.route,
                    "name": template.name,
                    "ends_at": ends_at,
                    "slots": template.slots,
                },
            )
            created["past shifts"] += is_new
            # The night is over: none of its timers is due any more.
            Shift.objects.filter(pk=shift.pk).update(remind_at=None, no_show_check_at=None, close_at=None)
            place, is_new = ShiftSignup.objects.get_or_create(
                shift=shift,
                user=user,
                defaults={
                    "role": role,
                    "status": ShiftSignup.Status.CONFIRMED,
                    "created_at": starts_at - timedelta(days=2),
                    "attendance": ShiftSignup.Attendance.DONE,
                    "checked_in_at": starts_at - timedelta(minutes=5),
                    "checked_out_at": ends_at,
                    # Verified time is the overlap with the shift: all of it.
                    "verified_seconds": NIGHT_MINUTES * 60,
                },
            )
            created["past places"] += is_new
            places.append(place)
    return places


def _seed_redemption(alliance: Alliance, created: Counter[str]) -> None:
    phone, reward_name = REDEEMED
    volunteer = User.objects.get(phone=phone)
    reward = Reward.objects.get(alliance=alliance, name=reward_name)
    if Redemption.objects.filter(reward=reward, user=volunteer).exists():
        return
    police_admin = User.objects.get(phone=POLICE_ADMIN)
    redemption = redemption_request(
        user=volunteer, access=alliance_access_for(user=volunteer, alliance=alliance), reward_id=reward.pk
    )
    admin_access = alliance_access_for(user=police_admin, alliance=alliance)
    redemption = redemption_approve(actor=police_admin, access=admin_access, redemption=redemption)
    redemption_fulfil(actor=police_admin, access=admin_access, redemption=redemption)
    created["redemptions"] += 1
