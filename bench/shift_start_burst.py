"""Shift-start burst benchmark: 2,000 volunteers checking in at the start of their shifts, on PostgreSQL, against
a bare Django view in the same run.

What it measures
    Check-ins per second, median (p50) and 99th percentile (p99) latency and errors of the real check-in
    endpoint, ``POST /api/v1/shifts/{id}/check-in`` with JSON ``{"latitude", "longitude", "coordinate_system":
    "wgs84", "accuracy", "device_time", "mock_location": false, "client_id"}`` and the volunteer's
    ``X-Session-Token``: authentication (cached_db session), the shift, the volunteer's place on it, the window
    and zone checks (shapely), the attempt row, the place on duty, the live on-duty event in the outbox, relayed
    to Redis after commit. Every volunteer checks in once, from inside the zone of their own shift, which starts
    ``--starts-in`` minutes after the data is made (so every check-in falls in its window). The sessions are in
    Redis (cached_db keeps them for 60 days); the user entries (accounts/user_cache.py, 60 s) are not: each
    volunteer's first request since the data was made is their check-in, the worst case of a shift start.

    Three loads of ``--volunteers`` (2,000) check-ins each, every volunteer used once:
      * ``burst``: as fast as the server answers, ``--concurrency`` (50) phones at a time (closed loop: each
        connection sends the next volunteer's check-in as soon as the last one answered). ``check-ins/s`` is
        the sustained throughput; with 50 in flight the latency is mostly queueing (about 50 / throughput).
      * ``paced``: open loop at each of ``--paced-rates`` (200/s, the target rate, and 33.3/s: 2,000 within
        one minute, the issue's scenario), each check-in sent on its own connection when due whether or not
        the earlier ones have answered; latency counts from when it was due (no coordinated omission).
    After the burst, its first ``--replays`` (200) check-ins are sent again byte for byte (same client id: a phone
    that lost the answer); each must answer 200 as a duplicate and change nothing.
    Before them, ``--warmup-volunteers`` check-ins (unmeasured) warm every worker, and the floors are measured
    at the same concurrency, same server, same run: ``GET /healthz`` (a bare ``JsonResponse``: no database,
    session or Redis) and, for context, ``GET /api/v1/me`` (the cheapest authenticated view).

    Afterwards the database is asked: per load, places on duty, accepted check-in attempts, places with more
    than one accepted check-in (duplicates), places without one, refused attempts and why.

    Targets (issue 11): at least 200 check-ins/s (the burst's throughput) with p99 under 300 ms (the 200/s paced
    run's p99: the latency of a check-in while 200 a second arrive), zero errors, zero duplicates.

    Server: ``gunicorn config.wsgi:application``, ``--workers`` (3) sync workers, as production serves the REST
    API; DJANGO_SETTINGS_MODULE=config.settings.local, DEBUG off, DATABASE_URL=``--database-url``,
    REDIS_URL=``--redis-url`` (Redis cache, cached_db sessions, channel layer), log level WARNING, 127.0.0.1 only.
    gunicorn is pinned to CPU 0 and this load generator (a separate process) to CPU 1 (``--no-pin``: neither);
    PostgreSQL and Redis are not pinned.

How to run it
    flock /tmp/bench.lock .venv/bin/python bench/shift_start_burst.py [--volunteers 2000] [--concurrency 50]
        [--paced-rates 200,33.3] [--workers 3] [--zones 40] [--alliances 4] [--officers 20]
        [--database-url postgres://postgres@127.0.0.1:5432/pingan_bench_burst]
        [--redis-url redis://127.0.0.1:6379/14] [--no-pin] [--max-other 25]

    It DROPS and recreates the database (its name must start with pingan_bench), migrates it, and in
    ``manage.py shell`` makes one police station with ``--officers`` officers, ``--alliances`` alliances with
    their contact groups, ``--zones`` zones (600 m squares 1 km apart around Fengming Golden Street), a team per
    zone, and for each load its own shifts of five places ("1+3+1") starting ``--starts-in`` minutes later, a
    volunteer per place (volunteer role, alliance and team membership, main contact group) with a session each,
    whose key is the token: about a minute for 6,100 volunteers. Then it starts gunicorn, checks one check-in,
    measures, stops gunicorn (also on errors and Ctrl-C), asks the database, and prints the table.

How to read it
    ``srv CPU``: gunicorn master + workers, % of one core (pinned: 100 % is the server's whole core); ``db CPU``:
    this database's PostgreSQL processes and redis-server; ``gen CPU``: this load generator; ``other``:
    everything else on the machine; ``srv ms`` / ``db ms``: CPU milliseconds of the server / of PostgreSQL and
    Redis per answer (what a check-in costs, steadier than the rate on a shared machine). The floors are
    measured again when ``other`` exceeded ``--max-other``; the check-in loads cannot be (each volunteer checks
    in once), so a noisy row stays noisy and says so. After the table, the SQL statements of one more check-in,
    sent through Django's test client.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.load import LoadState, http_request, raw_request, run_closed_loop, run_paced
from harness.machine import CpuMeter, CpuUse, add_machine_options, measure_until_quiet, wait_for_quiet
from harness.processes import Server, gunicorn_argv, pin_load_generator, raise_open_files_limit, run
from harness.stats import machine, percentile, print_header, stamped, versions
from harness.stores import (
    TOKEN_FOR,
    clear_channel_layer_groups,
    database_label,
    database_name,
    prepare_database,
    redis_answers,
    server_env,
    shell_result,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pingan_bench_burst"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
PHONE_BASE = 13900000000  # volunteer n is +86 (PHONE_BASE + n); officer n is +86 (PHONE_BASE - 1 - n)
TARGET_RATE = 200.0
TARGET_P99_MS = 300.0
BARE = "/healthz"
AUTHED = "/api/v1/me"
CHECK_IN = "/api/v1/shifts/{shift}/check-in"
PLACES = ["fixed", "mobile", "mobile", "mobile", "vehicle"]  # a shift's "1+3+1"

# ``groups``: [[load name, volunteers], ...]. Each load gets its own shifts (named "burst-bench <load> <n>"), so
# that the database can be asked about each apart. ``result["loads"][name]``: [token, shift id, lat, lon] each.
SETUP_SCRIPT = (
    TOKEN_FOR
    + """
import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, RoleGrant, User
from alliance.models import Alliance, AllianceMembership, Station, StationStaff
from groups.models import GroupMembership, PatrolTeamMember, Shift, ShiftSignup
from groups.services.contact_groups import contact_groups_create_defaults
from tests.factories.patrol import FENGMING_CENTRE, offset_position, team_make, zone_make

LOADS, ALLIANCES, ZONES, OFFICERS = {loads}, {alliances}, {zones}, {officers}
PLACES = {places}
rng = random.Random({seed})
starts_at = (timezone.now() + timedelta(minutes={starts_in})).replace(second=0, microsecond=0)


def people(first_phone, count, step, name):
    rows = [User(phone="+86" + str(first_phone + step * n), display_name=name + str(n)) for n in range(count)]
    for row in rows:
        row.set_unusable_password()
    User.objects.bulk_create(rows, batch_size=1000)
    return list(User.objects.filter(display_name__startswith=name).order_by("pk"))


with transaction.atomic():
    station = Station.objects.create(name="基准奉贤派出所", city="上海")
    officers = people({phone_base} - 1, OFFICERS, -1, "基准民警")
    RoleGrant.objects.bulk_create([RoleGrant(user=u, role=Role.OFFICER, reason="bench") for u in officers])
    StationStaff.objects.bulk_create([StationStaff(user=u, station=station) for u in officers])
    alliances = []
    for a in range(ALLIANCES):
        alliance = Alliance.objects.create(name="基准联盟" + str(a), slug="burst-" + str(a), station=station)
        main, _prevention = contact_groups_create_defaults(alliance=alliance)
        alliances.append((alliance, main))
    zones = []
    for z in range(ZONES):
        alliance, main = alliances[z % ALLIANCES]
        centre = offset_position(*FENGMING_CENTRE, north_metres=1000 * (z // 8), east_metres=1000 * (z % 8))
        zone = zone_make(alliance=alliance, name="基准巡区" + str(z), centre=centre, half_metres=300)
        team = team_make(alliance=alliance, name="基准义警队" + str(z))
        zones.append((alliance, main, zone, team, centre))

    total = sum(count for _name, count in LOADS)
    volunteers = people({phone_base}, total, 1, "基准义警")
    RoleGrant.objects.bulk_create([RoleGrant(user=u, role=Role.VOLUNTEER, reason="bench") for u in volunteers])
    plan = {{}}  # load name -> [(user, shift, place, centre)]
    members, teams, groups, places = [], [], [], []
    position = 0
    for name, count in LOADS:
        shifts = []
        for n in range(count):
            alliance, main, zone, team, centre = zones[n % ZONES]
            user = volunteers[position + n]
            members.append(AllianceMembership(alliance=alliance, user=user, role=AllianceMembership.Role.VOLUNTEER))
            teams.append(PatrolTeamMember(team=team, user=user))
            groups.append(GroupMembership(group=main, user=user, role=GroupMembership.Role.MEMBER))
            slot = n // ZONES  # the n-th volunteer of this zone in this load
            if slot % len(PLACES) == 0:  # a new shift for every five volunteers of a zone
                shifts.append(
                    Shift(
                        team=team,
                        alliance=alliance,
                        zone=zone,
                        name="burst-bench " + name + " " + str(len(shifts)),
                        starts_at=starts_at,
                        ends_at=starts_at + timedelta(hours=4),
                        slots={{"fixed": 1, "mobile": 3, "vehicle": 1}},
                    )
                )
                zone.current_shift = shifts[-1]
            places.append((name, user, zone.current_shift, PLACES[slot % len(PLACES)], centre))
        Shift.objects.bulk_create(shifts, batch_size=1000)
        position += count
    AllianceMembership.objects.bulk_create(members, batch_size=1000)
    PatrolTeamMember.objects.bulk_create(teams, batch_size=1000)
    GroupMembership.objects.bulk_create(groups, batch_size=1000)
    ShiftSignup.objects.bulk_create(
        [
            ShiftSignup(shift=shift, user=user, role=role, status=ShiftSignup.Status.CONFIRMED)
            for _name, user, shift, role, _centre in places
        ],
        batch_size=1000,
    )

loads = {{name: [] for name, _count in LOADS}}
tokens = tokens_for([user for _name, user, _shift, _role, _centre in places])
for token, (name, _user, shift, _role, centre) in zip(tokens, places):
    # Somewhere inside the 600 m square zone, 150 m from its centre at most: inside, whatever the accuracy.
    lat, lon = offset_position(*centre, north_metres=rng.uniform(-150, 150), east_metres=rng.uniform(-150, 150))
    loads[name].append([token, shift.pk, round(lat, 6), round(lon, 6)])
result = {{
    "loads": loads,
    "officer": token_for(officers[0]),
    "starts_at": starts_at.isoformat(),
    "shifts": Shift.objects.count(),
}}
"""
)

# Per load: what the database holds after the run.
VERIFY_SCRIPT = """
from collections import Counter

from django.db.models import Count

from groups.models import PatrolAttempt, ShiftSignup

result = {{}}
for name in {names}:
    prefix = "burst-bench " + name + " "
    signups = ShiftSignup.objects.filter(shift__name__startswith=prefix)
    attempts = PatrolAttempt.objects.filter(shift__name__startswith=prefix, kind=PatrolAttempt.Kind.CHECK_IN)
    accepted = attempts.filter(accepted=True)
    per_place = accepted.values("user_id", "shift_id").annotate(n=Count("id"))
    result[name] = {{
        "places": signups.count(),
        "on duty": signups.filter(attendance=ShiftSignup.Attendance.ON_DUTY).count(),
        "accepted": accepted.count(),
        "places checked in": per_place.count(),
        "duplicates": sum(row["n"] - 1 for row in per_place if row["n"] > 1),
        "refused": attempts.filter(accepted=False).count(),
        "refusals": dict(Counter(attempts.filter(accepted=False).values_list("refusal_code", flat=True))),
    }}
"""


# One more volunteer's check-in, through the whole request path (middleware, authentication, view, service, the
# outbox relay after commit) with Django's test client in the bench database: the SQL statements it sends.
STATEMENTS_SCRIPT = (
    TOKEN_FOR
    + """
import json
from datetime import UTC, datetime

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from alliance.models import AllianceMembership
from groups.models import PatrolTeamMember, Shift, ShiftSignup
from tests.factories.patrol import offset_position

shift = Shift.objects.filter(name__startswith="burst-bench warmup ").select_related("zone", "team").first()
user = User.objects.create_user("+8613800009999", display_name="基准统计")
AllianceMembership.objects.create(alliance_id=shift.alliance_id, user=user, role=AllianceMembership.Role.VOLUNTEER)
PatrolTeamMember.objects.create(team=shift.team, user=user)
ShiftSignup.objects.create(shift=shift, user=user, role="mobile", status=ShiftSignup.Status.CONFIRMED)
token = token_for(user)
ring = shift.zone.boundary["coordinates"][0]
lat = sum(p[1] for p in ring[:4]) / 4
lon = sum(p[0] for p in ring[:4]) / 4
body = {{
    "latitude": lat, "longitude": lon, "coordinate_system": "wgs84", "accuracy": 15,
    "device_time": datetime.now(UTC).isoformat(), "mock_location": False, "client_id": "statements-1",
}}
client = Client(HTTP_HOST="127.0.0.1", HTTP_X_SESSION_TOKEN=token)
client.get("/api/v1/me")  # the session and the user in the caches, as for a phone that was active lately
with CaptureQueriesContext(connection) as queries:
    answer = client.post(
        "/api/v1/shifts/" + str(shift.pk) + "/check-in", data=json.dumps(body), content_type="application/json"
    )
result = {{"status": answer.status_code, "statements": [q["sql"][:160] for q in queries.captured_queries]}}
"""
)


# --- requests ------------------------------------------------------------------------------------------------


class CheckIns:
    """Each call: the next volunteer's check-in (their token, their shift, a place inside its zone, a fresh client
    id and device time); None when every volunteer of the load has been sent."""

    def __init__(self, port: int, volunteers: list[list], seed: int):
        self.port = port
        self.volunteers = list(volunteers)
        random.Random(seed).shuffle(self.volunteers)  # the order phones arrive in: shifts and zones mixed
        self.rng = random.Random(seed + 1)
        self.sent = 0
        self.requests: list[bytes] = []  # as sent, for the replays

    def __len__(self) -> int:
        return len(self.volunteers)

    def path_body(self, volunteer: list) -> tuple[str, dict[str, str], bytes]:
        token, shift, lat, lon = volunteer
        body = {
            "latitude": lat,
            "longitude": lon,
            "coordinate_system": "wgs84",
            "accuracy": round(self.rng.uniform(8, 30), 1),
            "device_time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "mock_location": False,
            "client_id": uuid.uuid4().hex,
        }
        return CHECK_IN.format(shift=shift), {"X-Session-Token": token}, json.dumps(body).encode()

    def __call__(self) -> bytes | None:
        if self.sent >= len(self.volunteers):
            return None
        path, headers, body = self.path_body(self.volunteers[self.sent])
        self.sent += 1
        request = raw_request("POST", path, self.port, headers, body)
        self.requests.append(request)
        return request


class Replays:
    """The first ``count`` check-ins sent again, byte for byte (same client id): a phone that lost the answer."""

    def __init__(self, check_ins: CheckIns, count: int):
        self.requests = check_ins.requests[:count]
        self.sent = 0

    def __len__(self) -> int:
        return len(self.requests)

    def __call__(self) -> bytes | None:
        if self.sent >= len(self.requests):
            return None
        self.sent += 1
        return self.requests[self.sent - 1]


class ReplayLoad(LoadState):
    """Also counts the answers that say the check-in had been taken already (``"duplicate":true``)."""

    duplicates = 0

    def count(self, status: int, body: bytes, latency: float) -> None:
        super().count(status, body, latency)
        self.duplicates += b'"duplicate":true' in body


# --- measurements --------------------------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    load: str
    sent: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    first_error_body: bytes = b""
    seconds: float = 0.0
    use: CpuUse = field(default_factory=CpuUse)
    late: int = 0
    shed: int = 0
    duplicates_answered: int | None = None  # replays: answers saying "duplicate"

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def ms(self, pct: float) -> float:
        return percentile(sorted(self.latencies), pct) * 1000

    def cpu_ms(self, seconds: float) -> float:
        """CPU milliseconds per answer (less sensitive to a shared machine than the rate)."""
        return seconds * 1000 / len(self.latencies) if self.latencies else float("nan")

    def take(self, state: LoadState, seconds: float, use: CpuUse) -> Row:
        self.latencies, self.errors, self.statuses = state.latencies, state.errors, state.statuses
        self.first_error_body, self.seconds, self.use = state.first_error_body, seconds, use
        return self


def floor(server: Server, meter: CpuMeter, label: str, make: Callable[[], bytes], args: argparse.Namespace) -> Row:
    def once() -> Row:
        state = LoadState(args.warmup, args.duration, 1_000_000, 200)
        use = run_closed_loop(state, server.port, make, args.concurrency, args.timeout, meter)
        return Row(label, f"closed {args.concurrency}").take(state, state.measured_seconds, use)

    return measure_until_quiet(once, lambda row: row.use.share(row.use.other), args)


def burst(server: Server, meter: CpuMeter, check_ins: CheckIns, ok: int, args: argparse.Namespace) -> Row:
    """Every volunteer of the load once, ``args.concurrency`` at a time, as fast as the server answers."""
    if args.max_other:
        wait_for_quiet(args.max_other / 100, args.quiet_wait)
    state = LoadState(0.0, args.load_timeout, len(check_ins), ok)
    use = run_closed_loop(state, server.port, check_ins, args.concurrency, args.timeout, meter)
    return Row("check-in", f"burst {args.concurrency}", sent=check_ins.sent).take(state, state.measured_seconds, use)


def replay(server: Server, meter: CpuMeter, replays: Replays, ok: int, args: argparse.Namespace) -> Row:
    """Check-ins of the burst sent again with their client ids: each must answer ``ok`` as a duplicate."""
    state = ReplayLoad(0.0, args.load_timeout, len(replays), ok)
    use = run_closed_loop(state, server.port, replays, args.concurrency, args.timeout, meter)
    row = Row("check-in sent again", f"burst {args.concurrency}", sent=replays.sent).take(
        state, state.measured_seconds, use
    )
    row.duplicates_answered = state.duplicates
    return row


def paced(server: Server, meter: CpuMeter, check_ins: CheckIns, ok: int, rate: float, args) -> Row:
    """Every volunteer of the load once, one every 1/rate seconds, each on its own connection."""
    if args.max_other:
        wait_for_quiet(args.max_other / 100, args.quiet_wait)
    count = len(check_ins)
    state = LoadState(0.0, count / rate, count, ok)
    done = run_paced(state, server.port, check_ins, rate, count, args.max_in_flight, args.timeout, meter)
    row = Row("check-in", f"paced {rate:g}/s", sent=check_ins.sent - done.shed, late=done.late, shed=done.shed)
    # The rate answered: over the time from the first due to the last answer (the last ones may answer late).
    return row.take(state, max(count / rate, done.use.elapsed), done.use)


def warm_up(server: Server, check_ins: CheckIns, args: argparse.Namespace) -> int:
    """One check-in alone (its status is what every other must answer), then the rest at the load's concurrency:
    every worker has imported, connected and cached what a check-in needs before anything is measured."""
    request = check_ins()
    head, _, body = request.partition(b"\r\n\r\n")
    method_path, *lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    status, answer = http_request(server.port, "POST", method_path.split(" ")[1], headers, body)
    if not 200 <= status < 300:
        raise SystemExit(f"the check-in answered {status}: {answer[:500]!r}\nserver log:\n{server.log_tail()}")
    print(f"  probe: {method_path} answered {status}: {answer[:200].decode(errors='replace')}", flush=True)
    state = LoadState(0.0, args.load_timeout, len(check_ins) - 1, status)
    run_closed_loop(state, server.port, check_ins, args.concurrency, args.timeout, CpuMeter([server]))
    if state.errors:
        raise SystemExit(f"warm-up: {state.errors} errors ({state.statuses}), first: {state.first_error_body!r}")
    return status


# --- report --------------------------------------------------------------------------------------------------


def print_report(rows: list[Row], counts: dict, setup: dict, args: argparse.Namespace, pinned: bool) -> None:
    print()
    print(stamped("Shift-start burst: volunteers checking in"))
    print(f"  machine: {machine()}; {versions('Django', 'gunicorn', 'psycopg', 'shapely')}")
    print(
        f"  server: gunicorn config.wsgi:application, {args.workers} sync workers; {database_label(args.database_url)}"
        f" (recreated); REDIS_URL {args.redis_url} (cache, cached_db sessions, channel layer); DEBUG off; 127.0.0.1"
    )
    placement = "gunicorn pinned to CPU 0, load generator to CPU 1" if pinned else "not pinned"
    print(f"  load generator: a separate Python process (asyncio, raw HTTP/1.1); {placement}")
    print(
        f"  city: {args.alliances} alliances, {args.zones} zones, {setup['shifts']} shifts of 5 places starting "
        f"{setup['starts_at']}, {args.officers} officers; {args.volunteers} volunteers per load, each once, from "
        f"inside their shift's zone; {args.warmup_volunteers} check-ins to warm up first"
    )
    print(f"  floors: GET {BARE} (bare JsonResponse view) and GET {AUTHED} (auth only), same server, same run")
    print()
    print_header(
        f"{'endpoint':<22} {'load':<11} {'sent':>5} {'2xx':>5} {'errors':>6} {'per s':>7} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'max ms':>7} {'srv CPU':>8} {'db CPU':>7} {'gen CPU':>8} {'other':>6} {'srv ms':>6} "
        f"{'db ms':>6}"
    )
    for row in rows:
        use = row.use
        ok = len(row.latencies) - sum(n for status, n in row.statuses.items() if not 200 <= status < 300)
        print(
            f"{row.label:<22} {row.load:<11} {row.sent or len(row.latencies):>5} {ok:>5} {row.errors:>6} "
            f"{row.rate:>7.0f} {row.ms(50):>7.1f} {row.ms(99):>7.1f} {row.ms(100):>7.1f} "
            f"{use.share(use.server) * 100:>7.0f}% {use.share(use.stores) * 100:>6.0f}% "
            f"{use.share(use.own) * 100:>7.0f}% {use.share(use.other) * 100:>5.0f}% "
            f"{row.cpu_ms(use.server):>6.2f} {row.cpu_ms(use.stores):>6.2f}"
        )
        if row.errors:
            print(f"    statuses {row.statuses}; first error: {row.first_error_body[:300]!r}")
        if row.duplicates_answered is not None:
            print(f"    {row.duplicates_answered} of {len(row.latencies)} answered as a duplicate (nothing changed)")
        if row.late or row.shed:
            print(f"    {row.late} sent more than 5 ms late, {row.shed} not sent (--max-in-flight open)")
    print()
    bare = next((row for row in rows if row.label.startswith("GET /healthz")), None)
    authed = next((row for row in rows if row.label.startswith("GET /api/v1/me")), None)
    bursts = [row for row in rows if row.label == "check-in" and row.load.startswith("burst")]
    for row in bursts:
        if bare and authed:
            print(
                f"burst: {row.rate:.0f} check-ins/s = {row.rate / bare.rate * 100:.1f}% of the bare view "
                f"({bare.rate:.0f}/s), {row.rate / authed.rate * 100:.1f}% of the authenticated read "
                f"({authed.rate:.0f}/s); {len(row.latencies)} check-ins in {row.seconds:.1f} s"
            )
    print("database after the run:")
    duplicates = 0
    complete = True
    for name, found in counts.items():
        duplicates += found["duplicates"]
        complete &= found["on duty"] == found["places"] == found["places checked in"] == found["accepted"]
        refusals = f" ({found['refusals']})" if found["refusals"] else ""
        print(
            f"  {name:<10} places {found['places']}, on duty {found['on duty']}, accepted check-ins "
            f"{found['accepted']} for {found['places checked in']} places, duplicates {found['duplicates']}, "
            f"refused {found['refused']}{refusals}"
        )
    # A check-in not sent because --max-in-flight were open counts as failed: the phone got no answer either.
    errors = sum(row.errors + row.shed for row in rows if row.label.startswith("check-in"))
    # A replay answered as anything but "duplicate" is counted as a duplicate too (it may have changed something).
    duplicates += sum(
        len(row.latencies) - row.duplicates_answered for row in rows if row.duplicates_answered is not None
    )
    at_target = [row for row in rows if row.load == f"paced {TARGET_RATE:g}/s"]
    throughput = max((row.rate for row in bursts), default=0.0)
    p99 = at_target[0].ms(99) if at_target else float("nan")
    met = throughput >= TARGET_RATE and p99 < TARGET_P99_MS and errors == 0 and duplicates == 0 and complete
    print(
        f"target >= {TARGET_RATE:.0f} check-ins/s with p99 < {TARGET_P99_MS:.0f} ms, zero errors, zero duplicates: "
        f"{'met' if met else 'NOT met'} (burst {throughput:.0f}/s; p99 at {TARGET_RATE:.0f}/s offered {p99:.1f} ms; "
        f"{errors} errors; {duplicates} duplicates; every place on duty once: {'yes' if complete else 'NO'})"
    )


# --- main ----------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--volunteers", type=int, default=2000, help="check-ins per load (each volunteer once)")
    parser.add_argument("--concurrency", type=int, default=50, help="connections of the burst and the floors")
    parser.add_argument("--paced-rates", default="200,33.3", help="open-loop rates, check-ins/s, comma-separated")
    parser.add_argument("--replays", type=int, default=200, help="burst check-ins sent again (same client id)")
    parser.add_argument("--no-burst", action="store_true", help="only the paced loads")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--zones", type=int, default=40, help="patrol zones (a team each)")
    parser.add_argument("--alliances", type=int, default=4, help="alliances the zones are spread over")
    parser.add_argument("--officers", type=int, default=20, help="police officers of the station")
    parser.add_argument("--warmup-volunteers", type=int, default=100, help="unmeasured check-ins first")
    parser.add_argument("--starts-in", type=int, default=2, help="minutes from the setup to the shifts' start")
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds of each floor")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each floor")
    parser.add_argument("--max-in-flight", type=int, default=500, help="paced loads: most requests open at once")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds")
    parser.add_argument("--load-timeout", type=float, default=300.0, help="seconds one load may take")
    parser.add_argument("--seed", type=int, default=11, help="random seed for places and arrival order")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="PostgreSQL; DROPPED and recreated")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="Redis database: cache, sessions, layer")
    add_machine_options(parser, max_other=25.0, retries=1, quiet_wait=30.0)
    args = parser.parse_args(argv)
    try:
        args.rates = [float(rate) for rate in args.paced_rates.split(",") if rate.strip()]
    except ValueError:
        parser.error("--paced-rates takes comma-separated numbers")
    if min([args.volunteers, args.concurrency, args.workers, args.zones, args.alliances, args.officers]) < 1:
        parser.error("volunteers, concurrency, workers, zones, alliances and officers must be positive")
    if args.warmup_volunteers < 2 or any(rate <= 0 for rate in args.rates) or (args.no_burst and not args.rates):
        parser.error("at least 2 warm-up volunteers, positive rates, and some load to measure")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not redis_answers(args.redis_url):
        raise SystemExit(f"Redis does not answer at {args.redis_url}: this benchmark measures the Redis layout")
    raise_open_files_limit(args.max_in_flight + 512)
    pinned = pin_load_generator(args.no_pin)
    env = server_env(args.database_url, args.redis_url)
    loads = [["warmup", args.warmup_volunteers]]
    loads += [] if args.no_burst else [["burst", args.volunteers]]
    loads += [[f"paced{n}", args.volunteers] for n in range(len(args.rates))]
    total = sum(count for _name, count in loads)
    print(f"Recreating {database_name(args.database_url)}: {total} volunteers with their shifts and sessions ...")
    started = time.perf_counter()
    script = SETUP_SCRIPT.format(
        loads=loads,
        alliances=args.alliances,
        zones=args.zones,
        officers=args.officers,
        places=PLACES,
        seed=args.seed,
        starts_in=args.starts_in,
        phone_base=PHONE_BASE,
    )
    setup = prepare_database(env, script, recreate=True)
    cleared = clear_channel_layer_groups(args.redis_url)
    print(
        f"  {setup['shifts']} shifts starting {setup['starts_at']}; {time.perf_counter() - started:.0f} s; "
        f"cleared {cleared} channel-layer keys",
        flush=True,
    )

    rows: list[Row] = []
    server = Server(
        f"gunicorn {args.workers} sync workers",
        lambda port: gunicorn_argv(port, workers=args.workers),
        env,
        pinned=pinned,
    )
    try:
        port = server.port
        server.wait_ready()
        meter = CpuMeter([server], database_name(args.database_url))
        by_load = {name: CheckIns(port, setup["loads"][name], args.seed + n) for n, (name, _c) in enumerate(loads)}
        ok = warm_up(server, by_load["warmup"], args)
        bare_request = raw_request("GET", BARE, port, {})
        rows.append(floor(server, meter, f"GET {BARE} (bare)", lambda: bare_request, args))
        print(f"  floor: {rows[-1].rate:.0f} req/s, p99 {rows[-1].ms(99):.1f} ms", flush=True)
        me_request = raw_request("GET", AUTHED, port, {"X-Session-Token": setup["officer"]})
        rows.append(floor(server, meter, f"GET {AUTHED} (auth)", lambda: me_request, args))
        print(f"  authenticated read: {rows[-1].rate:.0f} req/s, p99 {rows[-1].ms(99):.1f} ms", flush=True)
        if not args.no_burst:
            rows.append(burst(server, meter, by_load["burst"], ok, args))
            print(
                f"  burst: {rows[-1].rate:.0f} check-ins/s, p99 {rows[-1].ms(99):.1f} ms, {rows[-1].errors} errors",
                flush=True,
            )
            if args.replays:
                rows.append(replay(server, meter, Replays(by_load["burst"], args.replays), ok, args))
        for n, rate in enumerate(args.rates):
            rows.append(paced(server, meter, by_load[f"paced{n}"], ok, rate, args))
            print(f"  paced {rate:g}/s: p99 {rows[-1].ms(99):.1f} ms, {rows[-1].errors} errors", flush=True)
        server.check_running()
    finally:
        server.stop()
    counts = shell_result(env, VERIFY_SCRIPT.format(names=[name for name, _count in loads]))
    statements = shell_result(env, STATEMENTS_SCRIPT.format())  # after the counts: its volunteer is not in them
    print_report(rows, counts, setup, args, pinned)
    print(f"one more check-in through the test client: {statements['status']}, {len(statements['statements'])} SQL:")
    for sql in statements["statements"]:
        print(f"    {sql}")
    return 0


if __name__ == "__main__":
    run(main)
