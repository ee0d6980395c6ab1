"""Hostile input never crashes anything: bodies nested too deep or too large, fields the operation does not know,
ids beyond the database's integer range and forged cursors all answer a clear 4xx, never a 500, and write nothing.

(The same limits on the WebSocket: tests/groups/test_live_channel_input.py.)
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil

import pytest
from django.conf import settings
from rest_framework import serializers

from accounts.models import Role
from alliance.models import Alliance, Station
from config.serializer_fields import BoundedDateTimeField
from config.serializers import InputSerializer
from groups.models import Message
from reports.models import Incident
from tests.factories.alliance import member_add, station_staff_post
from tests.fixtures.street import build_street

BEYOND_BIGINT = 2**63  # 9223372036854775808: one more than PostgreSQL's bigint holds
QINGGUO_LANE = [[119.95, 31.776], [119.96, 31.776], [119.96, 31.781], [119.95, 31.781], [119.95, 31.776]]


def nested(depth: int, leaf=1):
    """A JSON value ``depth`` arrays deep: nested(3) == [[[1]]]."""
    return json.loads("[" * depth + json.dumps(leaf) + "]" * depth)


def deep_text(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def lane(db, user_factory):
    """An alliance with its admin (a merchant) and a police officer as members, and its main contact group."""
    street = build_street(
        user_factory,
        name="青平果联盟",
        slug="qingpingguo",
        city="常州市",
        station_name="局前街派出所",
        office_name=None,
        people=False,
    )
    admin = user_factory(roles=[Role.MERCHANT], display_name="李老板")
    member_add(street.alliance, admin, "admin")
    return street.alliance, admin, street.main


def _post_raw(client, path: str, body: str, method: str = "post", **extra):
    return getattr(client, method)(path, data=body, content_type="application/json", **extra)


# --- depth -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_body_nested_5000_deep_on_the_login_endpoint_answers_400_in_allauths_format(api_client, user_factory):
    user = user_factory()
    body = f'{{"phone": "{user.phone}", "password": "x", "extra": {deep_text(5000)}}}'

    response = _post_raw(api_client, "/_allauth/app/v1/auth/login", body)

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "too_deeply_nested"
    assert error["message"] == f"发送的 JSON 嵌套层级过深（最多 {settings.JSON_MAX_DEPTH} 层）。"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "method, content_type",
    [
        ("post", "application/x-www-form-urlencoded"),
        ("post", "multipart/form-data; boundary=x"),
        ("post", "text/plain"),
        ("options", "application/json"),
        ("put", "application/json"),
    ],
)
def test_allauths_endpoints_refuse_deep_bodies_whatever_they_announce(api_client, method, content_type):
    # (allauth json.loads every body but GET's, whatever its Content-Type: a deep "form" answered 500)
    api_client.raise_request_exception = False

    response = getattr(api_client, method)("/_allauth/app/v1/auth/login", deep_text(5000), content_type=content_type)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "too_deeply_nested"


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["group message", "profile", "alliance boundary"])
def test_a_body_nested_5000_deep_answers_400_and_changes_nothing(lane, login, where):
    # given an alliance admin and three endpoints that read JSON
    alliance, admin, main = lane
    client = login(admin)
    path, method, field = {
        "group message": (f"/api/v1/groups/{main.pk}/messages", "post", "body"),
        "profile": ("/api/v1/me", "patch", "display_name"),
        "alliance boundary": (f"/api/v1/alliances/{alliance.pk}", "patch", "boundary"),
    }[where]

    # when the body nests 5,000 levels deep
    response = _post_raw(client, path, f'{{"{field}": {deep_text(5000)}}}', method=method)

    # then a clear 400, and nothing was written
    assert response.status_code == 400
    assert response.json()["code"] == "too_deeply_nested"
    assert response.json()["message"] == f"发送的 JSON 嵌套层级过深（最多 {settings.JSON_MAX_DEPTH} 层）。"
    assert Message.objects.filter(group=main, kind="text").count() == 0
    admin.refresh_from_db()
    assert admin.display_name == "李老板"
    assert Alliance.objects.get(pk=alliance.pk).boundary is None


@pytest.mark.django_db
def test_the_depth_refusal_follows_the_language(lane, login):
    _alliance, admin, _main = lane

    response = _post_raw(login(admin), "/api/v1/me", deep_text(100), method="patch", HTTP_ACCEPT_LANGUAGE="en")

    assert response.json()["message"] == (
        f"The JSON sent is nested too deeply (at most {settings.JSON_MAX_DEPTH} levels)."
    )


@pytest.mark.django_db
def test_bodies_up_to_the_depth_limit_are_read_as_usual(lane, login):
    # given an alliance admin
    alliance, admin, _main = lane
    client = login(admin)
    hole = [[119.952, 31.777], [119.953, 31.777], [119.953, 31.778], [119.952, 31.777]]

    # when they send a polygon with a hole (5 levels), a body exactly at the limit and one level more
    drawn = client.patch(
        f"/api/v1/alliances/{alliance.pk}",
        {"boundary": {"type": "Polygon", "coordinates": [QINGGUO_LANE, hole]}},
        format="json",
    )
    at_limit = client.patch("/api/v1/me", {"display_name": nested(settings.JSON_MAX_DEPTH - 1)}, format="json")
    over_limit = client.patch("/api/v1/me", {"display_name": nested(settings.JSON_MAX_DEPTH)}, format="json")

    # then the first two are read (and the second refused for what it says), the last one for its depth
    assert drawn.status_code == 200, drawn.json()
    assert len(drawn.json()["boundary"]["coordinates"]) == 2
    assert at_limit.status_code == 400 and at_limit.json()["code"] == "invalid"
    assert "display_name" in at_limit.json()["fields"]
    assert over_limit.status_code == 400 and over_limit.json()["code"] == "too_deeply_nested"


# --- size --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_json_body_over_the_size_limit_answers_413_on_the_api_and_the_login_endpoint(lane, login, api_client):
    _alliance, admin, main = lane
    padding = "长" * (settings.JSON_MAX_BODY_BYTES // 3 + 10)  # three bytes each in UTF-8

    message = login(admin).post_json(f"/api/v1/groups/{main.pk}/messages", {"body": padding[:4000], "x": padding})
    log_in = api_client.post_json("/_allauth/app/v1/auth/login", {"phone": str(admin.phone), "password": padding})

    assert message.status_code == 413 and message.json()["code"] == "payload_too_large"
    assert log_in.status_code == 413 and log_in.json()["errors"][0]["code"] == "payload_too_large"
    assert Message.objects.filter(group=main, kind="text").count() == 0


# --- unknown fields ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_misspelt_field_is_refused_and_the_report_is_not_stored(lane, login):
    # given a member reporting an incident
    alliance, admin, _main = lane

    # when they write "anonymous" where the API says "is_anonymous"
    response = login(admin).post_json(
        f"/api/v1/alliances/{alliance.pk}/incidents",
        {
            "category": "theft",
            "description": "店门口有人偷电动车",
            "latitude": 31.77,
            "longitude": 119.95,
            "anonymous": True,
        },
    )

    # then the field is named, and no report exists that would show who they are
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["fields"] == {"anonymous": ["未知字段。"]}
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_unknown_fields_are_named_with_the_others_in_english_too(lane, login):
    _alliance, admin, main = lane

    response = login(admin).post_json(
        f"/api/v1/groups/{main.pk}/messages",
        {"kind": "video", "body": "看这里", "colour": "red", "urgent": True},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert response.json()["fields"]["colour"] == ["Unknown field."]
    assert response.json()["fields"]["urgent"] == ["Unknown field."]
    assert set(response.json()["fields"]) == {"kind", "colour", "urgent"}


@pytest.mark.django_db
def test_unknown_fields_are_refused_in_multipart_bodies_and_partial_updates(lane, login):
    alliance, admin, _main = lane
    client = login(admin)

    report = client.post(
        f"/api/v1/alliances/{alliance.pk}/incidents",
        {
            "category": "theft",
            "description": "偷电动车",
            "latitude": "31.77",
            "longitude": "119.95",
            "anonymous": "true",
        },
        format="multipart",
    )
    update = client.patch(f"/api/v1/alliances/{alliance.pk}", {"nmae": "新名字"}, format="json")

    assert report.status_code == 400 and report.json()["fields"] == {"anonymous": ["未知字段。"]}
    assert update.status_code == 400 and update.json()["fields"] == {"nmae": ["未知字段。"]}
    assert not Incident.objects.exists()
    assert Alliance.objects.get(pk=alliance.pk).name == "青平果联盟"


@pytest.mark.django_db
def test_every_request_body_in_the_schema_refuses_unknown_fields(client):
    # given the published API description
    schema = client.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]

    # then every request body is an object that says additionalProperties: false (and the server enforces it)
    loose = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
                ref = content["schema"].get("$ref", "")
                body = components[ref.rsplit("/", 1)[-1]] if ref else content["schema"]
                if body.get("additionalProperties") is not False:
                    loose.append(f"{method.upper()} {path} ({media_type})")
    assert loose == []


# --- ids beyond the database's range, cursors ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/groups/{BEYOND_BIGINT}/messages",
        f"/api/v1/groups/{BEYOND_BIGINT}",
        f"/api/v1/groups/{{main}}/messages/{BEYOND_BIGINT}/image",
        f"/api/v1/alliances/{BEYOND_BIGINT}",
        f"/api/v1/disputes/{BEYOND_BIGINT}",
        f"/api/v1/incidents/{BEYOND_BIGINT}",
        f"/api/v1/stores/{BEYOND_BIGINT}",
        f"/api/v1/users/{BEYOND_BIGINT}",
        f"/api/v1/users/{10**30}",
    ],
)
def test_ids_in_urls_beyond_the_database_range_answer_404(lane, login, user_factory, path):
    # given a member of the alliance who is also a police admin (so /users is theirs to read)
    alliance, _admin, main = lane
    police_admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER])
    member_add(alliance, police_admin, "police_liaison")

    # when an id in the URL is beyond what the database can hold
    response = login(police_admin).get(path.replace("{main}", str(main.pk)))

    # then it is simply not found

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_url_id_converter_refuses_ids_beyond_bigint():
    # (on SQLite, the embedded default, such an id reached the database driver and answered 500)
    from django.urls import Resolver404, resolve

    assert resolve(f"/api/v1/groups/{2**63 - 1}/messages").kwargs == {"group_id": 2**63 - 1}
    with pytest.raises(Resolver404):
        resolve(f"/api/v1/groups/{2**63}/messages")


def test_every_url_takes_its_ids_through_the_bounded_converter():
    # given every URL pattern of the project (a plain <int:...> lets 2**63 through to the database)
    from django.urls import URLPattern, get_resolver
    from django.urls.converters import IntConverter

    def patterns(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.pattern.converters
            elif pattern.urlconf_name.__class__.__name__ != "module" or "allauth" not in pattern.urlconf_name.__name__:
                yield from patterns(pattern, prefix + str(pattern.pattern))

    # then no path of ours converts an id with Django's unbounded int converter
    unbounded = [
        route
        for route, converters in patterns(get_resolver())
        if route.startswith("api/") and any(type(c) is IntConverter for c in converters.values())
    ]
    assert unbounded == []


@pytest.mark.django_db
def test_ids_in_bodies_beyond_the_database_range_answer_400(lane, login, user_factory):
    # given a police admin and an alliance admin
    alliance, admin, main = lane
    police_admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER])

    # when ids in bodies are beyond bigint
    found = login(police_admin).post_json("/api/v1/alliances", {"name": "越界联盟", "station": BEYOND_BIGINT})
    team = login(admin).post_json(f"/api/v1/alliances/{alliance.pk}/groups", {"name": "巡逻队", "members": [2**64]})
    read = login(admin).post_json(f"/api/v1/groups/{main.pk}/read", {"seq": BEYOND_BIGINT})

    # then each answers 400 naming the field
    assert found.status_code == 400 and "station" in found.json()["fields"]
    assert team.status_code == 400 and "members.0" in team.json()["fields"]
    assert read.status_code == 400 and "seq" in read.json()["fields"]
    assert not Alliance.objects.filter(name="越界联盟").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", ["garbage", "bz1hYmM=", "cD1hYmM="])  # not base64; o=abc; p=abc
def test_an_invalid_cursor_answers_400(lane, login, cursor):
    _alliance, admin, _main = lane

    response = login(admin).get(f"/api/v1/groups?cursor={cursor}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["fields"] == {"cursor": ["无效的分页游标。"]}


@pytest.mark.django_db
def test_a_cursor_positioned_beyond_the_database_range_answers_400(lane, login):
    _alliance, admin, _main = lane

    response = login(admin).get("/api/v1/groups?cursor=cD05OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ%3D%3D")  # p=99999...

    assert response.status_code == 400
    assert response.json()["fields"] == {"cursor": ["无效的分页游标。"]}


def test_every_api_view_reads_json_through_the_limited_parser():
    # given every DRF view behind a URL
    from django.urls import get_resolver
    from rest_framework.parsers import JSONParser
    from rest_framework.views import APIView

    from config.json_input import LimitedJSONParser

    def views(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from views(pattern.url_patterns)
            else:
                yield getattr(pattern.callback, "cls", None)

    api_views = {view for view in views(get_resolver().url_patterns) if view and issubclass(view, APIView)}

    # then none parses JSON without the depth and size limits
    unlimited = [
        view.__qualname__
        for view in api_views
        for parser in view().get_parsers()
        if isinstance(parser, JSONParser) and not isinstance(parser, LimitedJSONParser)
    ]
    assert len(api_views) > 50
    assert unlimited == []


# --- operations that take no body ---------------------------------------------------------------------------------

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _write_operations() -> list[tuple[str, str, list]]:
    """Every write operation the API routes, as (method, path, the serializer classes it declares for its body),
    from the schema generator's own walk of the URL resolver (DELETE included, which the schema gives no body)."""
    from drf_spectacular.generators import SchemaGenerator

    generator = SchemaGenerator()
    generator._initialise_endpoints()
    operations = []
    for path, _regex, method, view in generator._get_paths_and_endpoints():
        if method not in WRITE_METHODS:
            continue
        view.schema.method, view.schema.path = method, path
        request = view.schema.get_request_serializer()
        bodies = request.values() if isinstance(request, dict) else [request]
        declared = [body if isinstance(body, type) or body is None else type(body) for body in bodies]
        operations.append((method, path, declared))
    return operations


def test_every_write_operation_declares_a_strict_body():
    # given every POST, PUT, PATCH and DELETE the API routes
    from config.serializers import InputSerializer

    # then each declares its body as an InputSerializer (NoBodyInput when it takes none): none silently ignores one
    loose = [
        f"{method} {path}"
        for method, path, bodies in _write_operations()
        if not all(isinstance(body, type) and issubclass(body, InputSerializer) for body in bodies)
    ]
    assert loose == []


def _no_body_operations():
    from config.serializers import NoBodyInput

    return sorted((method, path) for method, path, bodies in _write_operations() if bodies == [NoBodyInput])


def test_the_operations_without_a_body_are_the_ones_expected():
    # then the list the next test walks is not empty by accident (an operation that gains a body leaves it)
    assert _no_body_operations() == sorted(
        [
            ("POST", "/api/v1/alliances/{alliance_id}/join-requests/{request_id}/approve"),
            ("POST", "/api/v1/alliances/{alliance_id}/join-requests/{request_id}/reject"),
            ("DELETE", "/api/v1/alliances/{alliance_id}/rewards/{reward_id}"),
            ("POST", "/api/v1/alliances/{alliance_id}/rewards/{reward_id}/redemptions"),
            ("POST", "/api/v1/alliances/{alliance_id}/redemptions/{redemption_id}/fulfil"),
            ("POST", "/api/v1/alliances/{alliance_id}/redemptions/{redemption_id}/cancel"),
            ("DELETE", "/api/v1/alliances/{alliance_id}/invites/{invite_id}"),
            ("DELETE", "/api/v1/alliances/{alliance_id}/members/{member_id}"),
            ("DELETE", "/api/v1/alliances/{alliance_id}/membership"),
            ("DELETE", "/api/v1/checkpoints/{checkpoint_id}"),
            ("POST", "/api/v1/disputes/{dispute_id}/arrive"),
            ("POST", "/api/v1/disputes/{dispute_id}/cancel"),
            ("DELETE", "/api/v1/groups/{group_id}/messages/{seq}"),
            ("DELETE", "/api/v1/groups/{group_id}/team-members/{user_id}"),
            ("POST", "/api/v1/incidents/{incident_id}/accept"),
            ("POST", "/api/v1/incidents/{incident_id}/close"),
            ("POST", "/api/v1/incidents/{incident_id}/start"),
            ("DELETE", "/api/v1/me/devices/{device_id}"),
            ("DELETE", "/api/v1/me/roles/{role}"),
            ("DELETE", "/api/v1/patrol-grids/{grid_id}"),
            ("DELETE", "/api/v1/patrol-routes/{route_id}"),
            ("DELETE", "/api/v1/patrol-zones/{zone_id}"),
            ("DELETE", "/api/v1/stations/{station_id}/staff/{user_id}"),
            ("DELETE", "/api/v1/stores/{store_id}/staff/{user_id}"),
            ("DELETE", "/api/v1/support-points/{point_id}"),
            ("DELETE", "/api/v1/users/{user_id}/roles/{role}"),
            ("POST", "/api/v1/me/calendar-feed"),
            ("DELETE", "/api/v1/me/calendar-feed"),
            ("DELETE", "/api/v1/patrol-teams/{team_id}/members/{user_id}"),
            ("DELETE", "/api/v1/shift-signups/{signup_id}"),
            ("DELETE", "/api/v1/shift-templates/{template_id}"),
            ("POST", "/api/v1/shift-signups/{signup_id}/accept"),
            ("POST", "/api/v1/shift-signups/{signup_id}/decline"),
            ("POST", "/api/v1/shifts/{shift_id}/cancel"),
            ("POST", "/api/v1/swap-requests/{swap_id}/approve"),
            ("POST", "/api/v1/swap-requests/{swap_id}/reject"),
            ("POST", "/api/v1/swap-requests/{swap_id}/withdraw"),
            ("POST", "/api/v1/alliances/{alliance_id}/safe-store-rankings/{ranking_id}/publish"),
            ("DELETE", "/api/v1/alliances/{alliance_id}/safe-store-rankings/{ranking_id}/entries/{entry_id}/hold-back"),
            ("DELETE", "/api/v1/alerts/{alert_id}"),
            ("DELETE", "/api/v1/alerts/{alert_id}/images/{image_id}"),
            ("POST", "/api/v1/alerts/{alert_id}/publish"),
            ("POST", "/api/v1/alerts/{alert_id}/withdraw"),
            ("POST", "/api/v1/me/alerts/{alert_id}/acknowledge"),
            ("POST", "/api/v1/me/alerts/{alert_id}/read"),
            ("DELETE", "/api/v1/tip-schedules/{schedule_id}"),
        ]
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), _no_body_operations())
def test_an_operation_without_a_body_refuses_any_field_naming_it(lane, login, user_factory, method, path):
    # given a police admin who is also a member of the alliance (so every operation's permission lets them in), and
    # the operation's url on the alliance's own objects where it names them
    alliance, _admin, main = lane
    admin = user_factory(roles=[Role.POLICE_ADMIN, Role.OFFICER])
    member_add(alliance, admin, "police_liaison")
    station_staff_post(station=Station.objects.get(), user=admin)
    url = path.format(
        alliance_id=alliance.pk,
        group_id=main.pk,
        role="merchant",
        **dict.fromkeys(["request_id", "invite_id", "member_id", "dispute_id", "seq", "user_id"], admin.pk),
        **dict.fromkeys(["incident_id", "station_id", "store_id"], 1),
        **dict.fromkeys(["zone_id", "grid_id", "route_id", "checkpoint_id", "point_id"], 1),
        **dict.fromkeys(["team_id", "signup_id", "template_id", "shift_id", "swap_id"], 1),
        **dict.fromkeys(["reward_id", "redemption_id"], 1),
        **dict.fromkeys(["ranking_id", "entry_id"], 1),
        **dict.fromkeys(["device_id"], 1),
        **dict.fromkeys(["alert_id", "image_id"], 1),
        schedule_id=1,
    )
    client = login(admin)
    before = _snapshot()

    # when the body carries a field
    response = getattr(client, method.lower())(
        url, json.dumps({"reason": "x"}), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )

    # then it is refused, naming the field, and nothing is done
    assert response.status_code == 400, response.content
    assert response.json()["fields"] == {"reason": ["Unknown field."]}
    assert _snapshot() == before


def _snapshot() -> dict:
    from accounts.models import RoleGrant
    from alliance.models import AllianceMembership, StationStaff
    from groups.models import GroupMembership

    return {
        "roles": list(RoleGrant.objects.values_list("user_id", "role", "revoked_at").order_by("id")),
        "posts": list(StationStaff.objects.values_list("station_id", "user_id").order_by("id")),
        "memberships": list(AllianceMembership.objects.values_list("alliance_id", "user_id", "role").order_by("id")),
        "groups": list(GroupMembership.objects.values_list("group_id", "user_id").order_by("id")),
        "messages": list(Message.objects.values_list("id", "deleted_at").order_by("id")),
    }


def _input_serializers():
    """Every input serializer of the apps' HTTP endpoints (module level and nested in the views)."""
    found = set()
    for app in ("accounts", "alliance", "groups", "reports"):
        package = importlib.import_module(f"{app}.apis")
        modules = [package]
        if hasattr(package, "__path__"):
            modules += [importlib.import_module(f"{app}.apis.{m.name}") for m in pkgutil.iter_modules(package.__path__)]
        for module in modules:
            for _name, value in inspect.getmembers(module, inspect.isclass):
                for candidate in [value, *(c for _n, c in inspect.getmembers(value, inspect.isclass))]:
                    if issubclass(candidate, InputSerializer):
                        found.add(candidate)
    return found


def test_every_time_a_request_sends_is_bounded():
    # DRF's own DateTimeField answers 500 to a naive year 1 (its local-time check overflows), and a time near year 1
    # stored with an offset cannot be read back: every input takes config's BoundedDateTimeField instead.
    unbounded = [
        f"{serializer.__module__}.{serializer.__qualname__}.{name}"
        for serializer in _input_serializers()
        for name, field in serializer().fields.items()
        if isinstance(field, serializers.DateTimeField) and not isinstance(field, BoundedDateTimeField)
    ]
    assert len(_input_serializers()) > 50  # the walk finds the apps' inputs
    assert unbounded == []
