"""The starter tip library: safety tips every police unit may schedule (the city-wide library, ``Tip.station`` empty),
in zh-hans and English, and the demo city's evening tip for Qingguo Lane's merchants.

No data migration carries them (the project adds none for content): :func:`tip_library_seed` writes what is
missing, found by its Chinese title, so running it again (every ``manage.py seed_demo``) adds nothing; a tip a
superuser has since rewritten or retired is left as they left it. Figures in the texts are the national ones: drink
driving from 20 mg of alcohol per 100 ml of blood, drunk driving (a crime) from 80 mg; 110 police, 119 fire, 96110 the
anti-fraud warning line that calls people who may be being defrauded.
"""

from __future__ import annotations

from collections import Counter
from datetime import time

from accounts.models import User
from alliance.alert_audience import AudienceSpec
from alliance.demo_city import DemoLogin
from alliance.models import Alliance, AllianceMembership, Tip, TipSchedule, TipTopic
from alliance.services.tips import TipScheduleFields, tip_schedule_create

T = TipTopic

# (topic, title zh, text zh, title en, text en)
STARTER_TIPS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        T.FIRE,
        "夜市摊位用火用电要当心",
        "出摊前检查液化气罐、减压阀和软管是否老化漏气，气罐与灶具保持一米以上距离；"
        "不私拉乱接电线，不用一个插线板带多台大功率电器；摊位旁备好灭火器或灭火毯。"
        "一旦起火，先关气阀、断电源，火势扩大立即撤离并拨打119。",
        "Fire safety at night-market stalls",
        "Before opening, check the gas cylinder, regulator and hose for wear and leaks, and keep the cylinder at "
        "least one metre from the stove. Do not run makeshift wiring or put several high-power appliances on one "
        "power strip. Keep an extinguisher or fire blanket at the stall. If a fire starts, shut off the gas and "
        "power first; if it spreads, get out and call 119.",
    ),
    (
        T.FIRE,
        "收摊打烊，断气断电再离开",
        "收摊或打烊前，请关闭液化气总阀，拔掉不用的电器插头，熄灭炭火余烬。"
        "电动自行车和电池不要在店内、楼道里充电，充电时间不宜过长，人走要断电。",
        "Closing up: gas off, power off",
        "Before you close, turn off the main gas valve, unplug appliances you are not using and put out any "
        "embers. Never charge e-bikes or their batteries inside the shop or in stairwells, do not leave them "
        "charging for hours, and switch off the power when you leave.",
    ),
    (
        T.DRUNK_DRIVING,
        "喝酒不开车，开车不喝酒",
        "每100毫升血液中酒精含量达到20毫克即为饮酒驾车，达到80毫克即为醉酒驾车，"
        "醉驾涉嫌危险驾驶罪，将被追究刑事责任。聚餐饮酒后请找代驾或乘坐出租车，"
        "骑电动车同样不要酒后上路。",
        "If you drink, do not drive",
        "20 mg of alcohol per 100 ml of blood is drink driving; 80 mg is drunk driving, a criminal offence of "
        "dangerous driving. After a meal with drinks, call a designated driver or take a taxi. Do not ride an "
        "e-bike after drinking either.",
    ),
    (
        T.DRUNK_DRIVING,
        "店家提醒：帮顾客叫个代驾",
        "餐馆、酒吧、KTV的经营者请留意：发现顾客饮酒后准备驾车离开，请主动劝阻，"
        "帮忙联系代驾或家人接送。一句提醒，可能挽救一个家庭。",
        "Shopkeepers: call your customers a driver",
        "Restaurants, bars and karaoke venues: if a customer who has been drinking is about to drive off, stop "
        "them and help them call a designated driver or family member. One reminder can save a family.",
    ),
    (
        T.THEFT_PREVENTION,
        "夜市人多，谨防扒窃",
        "夜市人流密集，扒手常趁拥挤下手。背包请背在身前，手机钱包不放在外衣口袋和后裤兜，"
        "付款时留意身边的人。发现被盗请立即拨打110，并告诉附近的巡逻队员或商户。",
        "Crowded night markets: watch for pickpockets",
        "Pickpockets work the crowds at night markets. Wear your bag in front, keep your phone and wallet out of "
        "outer and back pockets, and watch who is close when you pay. If something is stolen, call 110 at once and "
        "tell the nearest patrol volunteer or shopkeeper.",
    ),
    (
        T.THEFT_PREVENTION,
        "每天检查收款码，防止被偷换",
        "有人趁店主不注意，把店里的收款二维码换成自己的，顾客付的钱就进了别人的账户。"
        "请每天开门和收摊时核对收款码，最好把收款码放在柜台内侧或使用语音播报收款，"
        "发现收款码被替换立即报警。",
        "Check your payment QR code every day",
        "Thieves swap a shop's payment QR code for their own, so customers pay into someone else's account. Check "
        "your code when you open and when you close, keep it behind the counter or use a speaker that announces each "
        "payment, and call the police if you find it has been replaced.",
    ),
    (
        T.THEFT_PREVENTION,
        "电动车、货品，锁好再离开",
        "电动自行车请停在有监控的地方并加装车锁；摊位上的货品和收银箱收摊时随身带走，"
        "不要把贵重物品留在车内显眼处。看到有人撬锁、翻车筐，请拍照并报警。",
        "Lock your e-bike and your goods",
        "Park your e-bike where a camera can see it and add a second lock. Take your goods and cash box with you "
        "when you close, and leave nothing valuable in sight in a vehicle. If you see someone forcing a lock, take "
        "a photo and call the police.",
    ),
    (
        T.ANTI_FRAUD,
        "“客服”说要给你退款？先挂电话",
        "骗子冒充电商或快递客服，称商品质量有问题、快递丢失要“理赔退款”，"
        "再引导你开启屏幕共享、下载会议软件或在“备用金”“借呗”里借款转账。"
        "正规退款原路退回，不需要你提供验证码、不需要你转账。请挂断电话，通过官方App核实。",
        "A 'customer service' refund? Hang up",
        "Fraudsters pose as shop or courier customer service, say your item was faulty or the parcel was lost and "
        "offer a refund, then ask you to share your screen, install a meeting app or take out a loan and transfer "
        "it. Real refunds go back the way you paid, with no codes and no transfers from you. Hang up and check in "
        "the official app.",
    ),
    (
        T.ANTI_FRAUD,
        "公安机关没有“安全账户”",
        "凡是要求把钱转到“安全账户”“监管账户”“资金清查账户”的，都是诈骗。"
        "公安、检察院、法院不会通过电话、微信办案，不会发“通缉令”“逮捕证”给你看，"
        "更不会要求你转账。接到此类电话，请挂断后拨打110核实。",
        "The police have no 'safe account'",
        "Anyone asking you to move money into a 'safe account', a 'supervised account' or an 'account for fund "
        "checks' is a fraudster. The police, procuratorate and courts do not handle cases by phone or WeChat, do "
        "not show you 'wanted notices' or 'arrest warrants', and never ask you to transfer money. Hang up and call "
        "110 to check.",
    ),
    (
        T.ANTI_FRAUD,
        "冒充公检法：视频里的“警官”也可能是假的",
        "骗子会准确说出你的姓名、身份证号，称你“涉嫌洗钱”“快递里有违禁品”，"
        "还会穿警服和你视频通话，要求你保密、独自到宾馆“配合调查”。"
        "真警察不会这样办案。遇到这种情况，马上告诉家人或到附近派出所、警务室当面核实。",
        "Fake police on video calls",
        "Fraudsters know your name and ID number, say you are 'suspected of money laundering' or that 'a parcel in "
        "your name held contraband', and may even wear a police uniform on a video call, telling you to keep it "
        "secret and go alone to a hotel to 'assist the investigation'. Real police do not work like this. Tell your "
        "family at once, or check in person at the nearest police station or office.",
    ),
    (
        T.ANTI_FRAUD,
        "刷单返利是诈骗，先交钱的兼职都别碰",
        "“足不出户日赚几百”“点赞关注就能返佣金”，前几单小额返利是诱饵，"
        "之后以“任务未完成”“账户冻结”为由让你不断加大投入，最后血本无归。"
        "所有刷单都是违法行为，所有刷单返利都是诈骗。",
        "Paid 'click farming' is fraud",
        "'Earn hundreds a day from home', 'get commission for likes and follows': the first small pay-outs are the "
        "bait; then you are told a 'task is unfinished' or your 'account is frozen' and must pay in more, until the "
        "money is gone. Boosting orders is illegal, and every 'pay first' part-time job of this kind is fraud.",
    ),
    (
        T.ANTI_FRAUD,
        "接到96110来电，请务必接听",
        "96110是反诈预警劝阻专线。接到96110来电，说明你或家人可能正在遭遇诈骗，请耐心接听、听从劝阻。"
        "建议下载“国家反诈中心”App，开启来电预警；拿不准的事，先问民警。",
        "Answer calls from 96110",
        "96110 is the anti-fraud warning line. A call from it means you or your family may be being defrauded right "
        "now: answer and listen. Install the National Anti-Fraud Centre app to get warnings about suspicious calls, "
        "and when in doubt, ask a police officer first.",
    ),
)

QINGGUO = "qingpingguo"  # the slug seed_demo gives Qingguo Lane's alliance (青平果联盟)
POLICE_ADMIN = "+8613800000001"  # 陈所长, posted to both stations of the demo
EVENING_TIP = "每晚七点夜市提示"


def tip_library_seed(*, created: Counter[str] | None = None) -> int:
    """Write the city-wide starter tips that are missing (by title); answers how many were written."""
    existing = set(Tip.objects.filter(station__isnull=True).values_list("title_zh", flat=True))
    missing = [
        Tip(station=None, topic=topic, title_zh=title_zh, body_zh=body_zh, title_en=title_en, body_en=body_en)
        for topic, title_zh, body_zh, title_en, body_en in STARTER_TIPS
        if title_zh not in existing
    ]
    Tip.objects.bulk_create(missing)
    if created is not None:
        created["safety tips"] += len(missing)
    return len(missing)


def seed_tips(*, alliances: dict[str, Alliance], created: Counter[str]) -> list[DemoLogin]:
    """The demo city's part: the starter library, and every evening at 19:00 a tip to Qingguo Lane's merchants, sent
    for 青果巷警务室 (the community police office of the lane) by the sweep on its own."""
    tip_library_seed(created=created)
    alliance = alliances[QINGGUO]
    unit = alliance.office or alliance.station
    if not TipSchedule.objects.filter(station=unit, name=EVENING_TIP).exists():
        tip_schedule_create(
            actor=User.objects.get(phone=POLICE_ADMIN),
            station=unit,
            values=TipScheduleFields(
                name=EVENING_TIP,
                audience=AudienceSpec(alliances=[alliance.pk], roles=[AllianceMembership.Role.MERCHANT]),
                time_of_day=time(19, 0),
            ),
        )
        created["tip schedules"] += 1
    return []
