"""The demo city's alerts (``manage.py seed_demo``, a part of ``alliance/demo_city.py``): what a merchant of Qingguo
Lane finds in the app's inbox on the first day, and phones to push to.

陈所长 publishes an anti-fraud warning to Qingguo Lane's merchants that asks for an acknowledgement (the
"I have read and understood" the prevention group could never count), and a wanted notice to everyone in the
alliances of 中阳里派出所 (Fengming Golden Street). Two Qingguo merchants have registered their phones for push
(JPush tokens): with the embedded default's console provider, an urgent alert published from the demo shows its push
in the worker's log. Found by title and token, so running the seed again adds nothing.
"""

from __future__ import annotations

from collections import Counter

from accounts.models import DeviceRegistration, User
from accounts.services import device_register
from alliance.alert_audience import AudienceSpec
from alliance.demo_city import DemoLogin
from alliance.models import Alert, AlertKind, Alliance, AllianceMembership
from alliance.services.alerts import AlertContent, alert_create, alert_publish

QINGGUO = "qingpingguo"
FENGMING = "fengming-golden-street"
POLICE_ADMIN = "+8613800000001"  # 陈所长, posted to both stations
PUSH_PHONES = ("+8613800000102", "+8613800000103")  # 恽阿婆 and 盛老板: phones registered for push

FRAUD_TITLE = "警惕冒充电商客服“退款”诈骗"
FRAUD_BODY = (
    "近期有骗子冒充电商平台客服，以“订单异常”“商品质量问题”为由联系商户，诱导下载会议软件共享屏幕，"
    "再以“退款”“解除扣费”名义骗取转账。正规平台不会要求共享屏幕或向个人账户转账。接到此类电话请立即挂断，"
    "拨打 96110 或向社区民警核实。"
)
FRAUD_CASE = "今年 10 月，某奶茶店店主按“客服”指引操作共享屏幕，3 分钟内被转走 3.2 万元。"
WANTED_TITLE = "协查通报：夜市连环盗窃电动车嫌疑人"
WANTED_BODY = (
    "近两周凤鸣金街夜市周边发生多起电动车被盗案件。嫌疑人男性，约 30 岁，身高 170 厘米左右，常穿深色连帽衫、"
    "戴黑色口罩，多在 23 时后作案。如发现可疑人员，请勿打草惊蛇，立即拨打 110 或联系凤鸣警务站。"
)


def seed_alerts(*, alliances: dict[str, Alliance], created: Counter[str]) -> list[DemoLogin]:
    chief = User.objects.get(phone=POLICE_ADMIN)
    qingguo, fengming = alliances[QINGGUO], alliances[FENGMING]
    merchants_of_qingguo = AudienceSpec(alliances=[qingguo.pk], roles=[AllianceMembership.Role.MERCHANT])
    _publish_once(
        chief,
        created,
        station=qingguo.station,
        content=AlertContent(
            kind=AlertKind.ANTI_FRAUD,
            title=FRAUD_TITLE,
            body=FRAUD_BODY,
            case_example=FRAUD_CASE,
            title_en="Beware of fake customer-service 'refund' calls",
            body_en=(
                "Fraudsters posing as e-commerce customer service ask merchants to share their screen for a "
                "'refund'. Real platforms never do. Hang up and call 96110 or your community officer."
            ),
            audience=merchants_of_qingguo,
            requires_ack=True,
            ack_reminder_minutes=24 * 60,
        ),
    )
    _publish_once(
        chief,
        created,
        station=fengming.station,
        content=AlertContent(
            kind=AlertKind.WANTED,
            title=WANTED_TITLE,
            body=WANTED_BODY,
            audience=AudienceSpec(stations=[fengming.station_id]),
        ),
    )
    for number, phone in enumerate(PUSH_PHONES):
        token = f"demo-jpush-{number:04d}"
        if not DeviceRegistration.objects.filter(provider="jpush", token=token).exists():
            device_register(user=User.objects.get(phone=phone), platform="android", provider="jpush", token=token)
            created["push devices"] += 1
    return [
        DemoLogin("police admin", str(chief.display_name), POLICE_ADMIN, "publishes alerts: /api/v1/alerts"),
        *(
            DemoLogin("merchant", str(user.display_name), str(user.phone), "inbox: /api/v1/me/alerts; phone for push")
            for user in User.objects.filter(phone__in=PUSH_PHONES).order_by("phone")
        ),
    ]


def _publish_once(chief: User, created: Counter[str], *, station, content: AlertContent) -> None:
    if Alert.objects.filter(station=station, title=content.title).exists():
        return
    alert_publish(actor=chief, alert=alert_create(actor=chief, station=station, content=content))
    created["alerts"] += 1
