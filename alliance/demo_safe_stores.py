"""The demo city's rewards and Safe Store ranking (``manage.py seed_demo``, a part of ``alliance/demo_city.py``).

Fengming Golden Street ranks its stores every half year (the Fengxian article: 230 merchants took part, the top ten
won a Safe Store badge, a certificate and a property-fee reduction). The demo gives each of its fifteen stores a
half-year of evidence in the last ended half-year (inspections by 吴警官, accepted reports, flags handled well,
patrol hours, days active in the groups, incidents nearby, hidden dangers fixed), then computes that half-year's
ranking with the scheduled job's own service, holds one store back with the reason, publishes it as the station
chief and makes the certificates. Both alliances get a rewards catalogue.

The evidence of a past half-year cannot be made through the services that record it as it happens (they stamp the
present time), so the demo records the scored events themselves, each under a ``demo:`` key; inspections go
through their service, which accepts a past inspection time.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import User
from alliance.demo_city import DemoLogin
from alliance.models import (
    Alliance,
    Reward,
    SafeStoreRanking,
    SafeStoreRankingEntry,
    Store,
    StoreInspection,
    StoreScorePart,
)
from alliance.selectors.alliances import alliance_access_for
from alliance.selectors.safe_store_scores import safe_store_period, safe_store_previous_period
from alliance.services.rewards import reward_create
from alliance.services.safe_store_awards import (
    safe_store_certificates_make,
    safe_store_entry_hold_back,
    safe_store_ranking_publish,
)
from alliance.services.safe_store_rankings import safe_store_ranking_compute
from alliance.services.store_inspections import store_inspection_create
from alliance.services.store_scores import StoreScore, store_score_events_record

FENGMING = "fengming-golden-street"
POLICE_ADMIN = "+8613800000001"  # 陈所长, posted to both stations
INSPECTOR = "+8613800000013"  # 吴警官 of 凤鸣警务站

# (kind, name, description, price, stock, per-person limit): what an alliance offers for points.
REWARDS = (
    (Reward.Kind.GOODS, "平安志愿者马甲", "夜间巡逻用反光马甲一件。", 30, 50, 2),
    (Reward.Kind.GOODS, "防身警报器", "随身携带的报警器，按下即响。", 60, 20, 1),
    (Reward.Kind.CERTIFICATE, "平安志愿者表彰证书", "由派出所颁发的年度表彰证书。", 200, None, 1),
    (Reward.Kind.FEE_REDUCTION, "物业费减免券（一个月）", "商铺一个月物业费减免，由商业街物业兑付。", 500, 10, 1),
)

P = StoreScorePart
# A half-year of each Fengming store, by name: quantities of each part (weights: settings.SAFE_STORE_DEFAULT_WEIGHTS).
# (fire-safety inspection passed?, reports accepted, flags handled well, patrol hours, days active in the groups,
#  severity of incidents nearby, hidden dangers fixed on time, fixed late)
HALF_YEAR = {
    "花漾花店": (True, 6, 3, 40, 150, 0, 2, 0),
    "凤鸣羊肉汤馆": (True, 5, 4, 36, 140, 2, 1, 0),
    "老丰县糁汤": (True, 4, 2, 30, 120, 1, 1, 0),
    "大沙河果品行": (True, 3, 2, 24, 130, 0, 1, 0),
    "金街烙馍卷": (True, 4, 1, 20, 110, 1, 0, 0),
    "凤城服饰": (True, 2, 2, 18, 100, 0, 1, 0),
    "凤鸣茶饮": (True, 3, 1, 16, 125, 2, 1, 0),
    "星光KTV": (True, 5, 5, 12, 90, 6, 2, 1),
    "丰县牛蒡特产店": (True, 2, 1, 14, 95, 0, 0, 0),
    "金街手机维修": (True, 1, 1, 10, 80, 0, 1, 0),
    "明亮眼镜店": (True, 1, 0, 8, 85, 1, 0, 0),
    "徐州把子肉": (False, 2, 1, 6, 70, 3, 0, 1),
    "童趣玩具店": (True, 0, 0, 4, 60, 0, 0, 0),
    "金剪刀美发": (True, 0, 1, 2, 50, 1, 0, 0),
    "金街便利店": (False, 1, 0, 0, 40, 4, 0, 2),
}
# The store the police hold back from the published ranking, and why (a ranking is the police's word on a store).
HELD_BACK = ("星光KTV", "6月发生两起涉酒纠纷，仍在调查处理中，本期暂缓授牌。")


def seed_rewards_and_safe_stores(*, alliances: dict[str, Alliance], created: Counter[str]) -> list[DemoLogin]:
    police_admin = User.objects.get(phone=POLICE_ADMIN)
    for alliance in alliances.values():
        _seed_rewards(alliance, police_admin, created)
    alliance = alliances[FENGMING]
    today = timezone.localdate()
    start, end = safe_store_previous_period(today)
    _seed_half_year(alliance, start, end, created)
    # The half-year under way so far, for its live preview: the same stores, half as busy, up to yesterday.
    current_start, _current_end = safe_store_period(today)
    if today > current_start:
        _seed_half_year(alliance, current_start, today - timedelta(days=1), created, share=0.5)
    ranking = _seed_ranking(alliance, start, police_admin, created)
    safe_store_certificates_make(ranking_id=ranking.pk)
    winners = ranking.badges.select_related("store__owner").order_by("place")
    return [
        DemoLogin(
            "merchant", str(badge.store.owner.display_name), str(badge.store.owner.phone), f"平安门店 #{badge.place}"
        )
        for badge in winners[:3]
    ]


def _seed_rewards(alliance: Alliance, police_admin: User, created: Counter[str]) -> None:
    access = alliance_access_for(user=police_admin, alliance=alliance)
    for kind, name, description, price, stock, limit in REWARDS:
        if Reward.objects.filter(alliance=alliance, name=name).exists():
            continue
        reward_create(
            actor=police_admin,
            access=access,
            kind=kind,
            name=name,
            description=description,
            price=price,
            stock=stock,
            per_person_limit=limit,
        )
        created["rewards"] += 1


def _on_day(start: date, days: int, hour: int = 10) -> datetime:
    return datetime.combine(start + timedelta(days=days), time(hour), tzinfo=timezone.get_default_timezone())


def _seed_half_year(alliance: Alliance, start: date, end: date, created: Counter[str], share: float = 1.0) -> None:
    """The evidence of ``HALF_YEAR`` (times ``share``) spread over ``start`` .. ``end``, each under a key of its own."""
    inspector = User.objects.get(phone=INSPECTOR)
    days = max((end - start).days, 1)
    for store in Store.objects.filter(alliance=alliance, name__in=HALF_YEAR).order_by("pk"):
        passed, *counts = HALF_YEAR[store.name]
        reports, flags, hours, active_days, severity, fixed, late = (round(count * share) for count in counts)
        # The fire-safety check of every store on the street (the inspection's own service).
        inspected_at = _on_day(start, min(75, days // 2))
        if not StoreInspection.objects.filter(store=store, inspected_at=inspected_at).exists():
            store_inspection_create(
                store=store,
                recorded_by=inspector,
                kind=StoreInspection.Kind.FIRE_SAFETY,
                result=StoreInspection.Result.PASSED if passed else StoreInspection.Result.FAILED,
                note="" if passed else "灭火器过期，疏散通道堆放杂物。",
                inspected_at=inspected_at,
            )
            created["store inspections"] += 1
        spread = [
            (P.REPORT_ACCEPTED, [1.0] * reports),
            (P.FLAG_HANDLED_WELL, [1.0] * flags),
            (P.PATROL_HOURS, [4.0] * (hours // 4) + ([float(hours % 4)] if hours % 4 else [])),
            (P.GROUP_PARTICIPATION, [1.0] * active_days),
            (P.INCIDENT_NEARBY, [float(severity)] if severity else []),
            (P.HIDDEN_DANGER_FIXED, [1.0] * fixed),
            (P.HIDDEN_DANGER_OVERDUE, [1.0] * late),
        ]
        store_score_events_record(
            scores=[
                StoreScore(
                    store_id=store.pk,
                    alliance_id=alliance.pk,
                    part=part,
                    value=value,
                    occurred_at=_on_day(start, (n * 7 + store.pk) % days, hour=12),
                    unique_key=f"demo:{start:%Y%m}:{part}:store:{store.pk}:{n}",
                )
                for part, values in spread
                for n, value in enumerate(values)
            ]
        )


def _seed_ranking(alliance: Alliance, start: date, police_admin: User, created: Counter[str]) -> SafeStoreRanking:
    """The half-year's ranking by the scheduled job's service (once: it finds its own ranking on a second seed),
    one store held back, published by the station chief."""
    created["Safe Store rankings"] += safe_store_ranking_compute(period_start=start, alliance_id=alliance.pk).rankings
    ranking = SafeStoreRanking.objects.get(alliance=alliance, period_start=start)
    if ranking.status == SafeStoreRanking.Status.COMPUTED:
        name, reason = HELD_BACK
        entry = SafeStoreRankingEntry.objects.get(ranking=ranking, store__name=name)
        if not entry.held_back:
            safe_store_entry_hold_back(entry=entry, reason=reason, by=police_admin)
        safe_store_ranking_publish(ranking=ranking, by=police_admin)
        created["Safe Store badges"] += ranking.badges.count()
    return ranking
