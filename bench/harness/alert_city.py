"""A city for the alerts benchmarks (issue 13), built with set-based SQL in seconds: 200,000 people in one go.

Imported by a benchmark's setup script inside ``manage.py shell`` (``bench/`` on PYTHONPATH, see ``shell_env``):
``build_city`` writes police stations, each with its community police offices, alliances of ``members`` people
under them (the alliances spread over the offices), one membership per person, a store per merchant and a staff
member (a volunteer of the same alliance) in every ``staff_every``-th store, then ``ANALYZE``; ``police_admin``
makes the officer who publishes, posted to the stations. Nothing goes through the services: at this size only
``INSERT ... SELECT`` is fast, and the alerts code reads these rows, it does not care how they came.

Roles inside an alliance, by a member's position ``p`` (0-based): 0 the alliance admin, 1 a mall manager, then
merchants where ``p % 10`` is below 6 and volunteers elsewhere: an alliance of 125 has 75 merchants (and 75 stores)
and 48 volunteers. A district holds ``people`` people exactly; its last alliance may be smaller.
Person ``n`` of the city (over all districts, in order) has the phone ``+86`` (``phone_base`` + n).
"""

from __future__ import annotations

import os

from harness import ROOT

ROLE_SQL = (
    "CASE WHEN {p} = 0 THEN 'admin' WHEN {p} = 1 THEN 'mall_manager' "
    "WHEN {p} %% 10 < 6 THEN 'merchant' ELSE 'volunteer' END"
)


def shell_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` with ``bench/`` on PYTHONPATH, so a setup script can ``from harness.alert_city import build_city``."""
    env = dict(env)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "bench"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def build_city(*, districts: list[dict], phone_base: int, staff_every: int = 4) -> dict:
    """``districts``: ``{"name", "people", "members", "offices"}`` each (a police station, its ``offices``
    community police offices, ``people`` people in alliances of ``members``). Returns, per district, the station,
    offices and alliance ids and its people, in order; and the city's totals."""
    from django.db import connection, transaction

    from alliance.models import Alliance, Station

    built = []
    offset = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_user (password, is_superuser, phone, phone_verified, email, display_name, "
            "is_real_name_verified, is_active, is_staff, date_joined) "
            "SELECT '!bench', false, '+86' || (%s + g), true, '', 'city ' || g, false, true, false, now() "
            "FROM generate_series(0, %s - 1) g",
            [phone_base, sum(d["people"] for d in districts)],
        )
        for number, district in enumerate(districts):
            station = Station.objects.create(name=district["name"], city="常州", kind=Station.Kind.STATION)
            offices = [
                Station.objects.create(
                    name=f"{district['name']}警务室{o + 1}", city="常州", kind=Station.Kind.OFFICE, parent=station
                )
                for o in range(district.get("offices", 0))
            ]
            people, members = district["people"], district["members"]
            count = -(-people // members)
            alliances = Alliance.objects.bulk_create(
                [
                    Alliance(
                        name=f"{district['name']}联盟{a + 1}",
                        slug=f"city-{number}-{a}",
                        station=station,
                        office=offices[a % len(offices)] if offices else None,
                    )
                    for a in range(count)
                ],
                batch_size=2000,
            )
            ids = [alliance.pk for alliance in alliances]
            # Person n of the district: alliance n // members, position n % members there.
            cursor.execute(
                "INSERT INTO alliance_alliancemembership (role, joined_at, alliance_id, user_id, on_duty) "
                f"SELECT {ROLE_SQL.format(p='(u.n - %(offset)s) %% %(members)s')}, now(), "
                "(%(ids)s::bigint[])[1 + (u.n - %(offset)s) / %(members)s], u.id, false "
                "FROM (SELECT id, substr(phone, 4)::bigint - %(base)s AS n FROM accounts_user "
                "      WHERE phone LIKE '+86%%' AND password = '!bench') u "
                "WHERE u.n >= %(offset)s AND u.n < %(offset)s + %(people)s",
                {"offset": offset, "members": members, "ids": ids, "base": phone_base, "people": people},
            )
            cursor.execute(
                "INSERT INTO alliance_store (name, category, address, latitude, longitude, business_licence_number, "
                "opening_hours, is_verified, created_at, alliance_id, owner_id, photo) "
                "SELECT '店铺' || m.user_id, 'retail', '青果巷 ' || m.user_id || ' 号', 31.777012, 119.956301, '', '', "
                "true, now(), m.alliance_id, m.user_id, '' FROM alliance_alliancemembership m "
                "WHERE m.role = 'merchant' AND m.alliance_id = ANY(%s::bigint[])",
                [ids],
            )
            cursor.execute(
                "WITH s AS (SELECT id, alliance_id, row_number() OVER (PARTITION BY alliance_id ORDER BY id) - 1 AS k "
                "           FROM alliance_store WHERE alliance_id = ANY(%(ids)s::bigint[])), "
                "v AS (SELECT user_id, alliance_id, "
                "             row_number() OVER (PARTITION BY alliance_id ORDER BY user_id) - 1 AS k, "
                "             count(*) OVER (PARTITION BY alliance_id) AS nv "
                "      FROM alliance_alliancemembership "
                "      WHERE role = 'volunteer' AND alliance_id = ANY(%(ids)s::bigint[])) "
                "INSERT INTO alliance_storestaff (created_at, store_id, user_id) "
                "SELECT now(), s.id, v.user_id FROM s JOIN v ON v.alliance_id = s.alliance_id "
                "AND v.k = (s.k / %(every)s) %% v.nv WHERE s.k %% %(every)s = 0",
                {"ids": ids, "every": staff_every},
            )
            built.append(
                {
                    "name": district["name"],
                    "station": station.pk,
                    "offices": [office.pk for office in offices],
                    "alliances": ids,
                    "people": people,
                }
            )
            offset += people
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute(
            "SELECT (SELECT count(*) FROM accounts_user), (SELECT count(*) FROM alliance_alliancemembership), "
            "(SELECT count(*) FROM alliance_store), (SELECT count(*) FROM alliance_storestaff)"
        )
        users, memberships, stores, staff = cursor.fetchone()
    return {
        "districts": built,
        "users": users,
        "memberships": memberships,
        "stores": stores,
        "staff": staff,
    }


def police_admin(*, stations: list[int], phone: str, name: str = "王所长"):
    """A police admin (and officer) posted to ``stations``: their jurisdiction is those and the units under them."""
    from accounts.models import Role, RoleGrant, User
    from alliance.models import StationStaff

    admin = User.objects.create_user(phone, display_name=name)
    RoleGrant.objects.bulk_create(
        [
            RoleGrant(user=admin, role=Role.POLICE_ADMIN, reason="bench"),
            RoleGrant(user=admin, role=Role.OFFICER, reason="bench"),
        ]
    )
    StationStaff.objects.bulk_create([StationStaff(user=admin, station_id=station) for station in stations])
    return admin


def city_person_phone(phone_base: int, n: int) -> str:
    return f"+86{phone_base + n}"
