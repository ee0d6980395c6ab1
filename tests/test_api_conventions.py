"""What every endpoint shares: one error body, zh-hans first, 4xx (never 5xx) for bad input, health probes."""

from __future__ import annotations

import pytest

from accounts.models import RoleGrant


@pytest.mark.django_db
def test_malformed_json_gets_a_clear_error_in_chinese_by_default(login, user_factory):
    client = login(user_factory())

    response = client.post("/api/v1/me/roles", data="{not json", content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "malformed_request"
    assert body["message"] == "无法读取请求内容，请发送有效的 JSON。"
    assert body["fields"] == {}


@pytest.mark.django_db
def test_english_is_served_on_request(login, user_factory):
    client = login(user_factory())

    response = client.post(
        "/api/v1/me/roles", data="{not json", content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.json()["message"] == "The request body could not be read. Send valid JSON."


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [{"role": 5}, {"role": ["merchant"]}, {"role": None}, {"role": "merchant\x00"}, [], "merchant", 12],
)
def test_wrong_types_and_nul_bytes_answer_400_with_field_details(login, user_factory, body):
    user = user_factory()
    client = login(user)

    response = client.post_json("/api/v1/me/roles", body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["fields"]
    assert not RoleGrant.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_nul_byte_in_profile_text_is_refused(login, user_factory):
    user = user_factory(display_name="原名")

    response = login(user).patch("/api/v1/me", {"display_name": "坏\x00名"}, format="json")

    assert response.status_code == 400
    assert "display_name" in response.json()["fields"]
    user.refresh_from_db()
    assert user.display_name == "原名"


@pytest.mark.django_db
def test_a_huge_body_is_refused_with_413(login, user_factory, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = login(user_factory())

    response = client.post_json("/api/v1/me/roles", {"role": "merchant", "padding": "x" * 5000})

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


@pytest.mark.django_db
def test_unknown_urls_and_methods_answer_json(login, user_factory):
    client = login(user_factory())

    missing = client.get("/api/v1/no-such-thing")
    wrong_method = client.put("/api/v1/me/export")

    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_an_unknown_user_id_answers_404_not_500(login, police_admin):
    response = login(police_admin).get("/api/v1/users/999999999")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "未找到。", "fields": {}}


@pytest.mark.django_db
def test_bad_filters_answer_400(login, police_admin):
    client = login(police_admin)

    assert client.get("/api/v1/users", {"role": "king"}).status_code == 400
    assert client.get("/api/v1/users", {"phone": "13\x008"}).status_code == 400
    assert client.get("/api/v1/role-grants", {"user": "abc"}).status_code == 400
    assert client.get("/api/v1/users", {"cursor": "garbage"}).status_code == 400  # not 404, as DRF answers


@pytest.mark.django_db
def test_times_are_iso_8601_in_shanghai(login, user_factory):
    response = login(user_factory()).get("/api/v1/me")

    assert response.json()["date_joined"].endswith("+08:00")


def test_healthz_is_alive(client):
    response = client.get("/healthz")

    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_each_dependency(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "channel_layer": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_readyz_names_the_dependency_that_is_down(client, settings):
    from config.celery_app import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/readyz")
    finally:
        app.conf.broker_url = settings.CELERY_BROKER_URL

    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_openapi_schema_is_served_and_documents_the_session_token(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/me" in schema["paths"]
    assert schema["components"]["securitySchemes"]["sessionToken"]["name"] == "X-Session-Token"
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("value", [0, 12.5, True, ["名字"], {"a": 1}])
def test_text_fields_refuse_numbers_and_other_types(login, user_factory, value):
    user = user_factory(display_name="原名")

    response = login(user).patch("/api/v1/me", {"display_name": value}, format="json")

    assert response.status_code == 400
    assert response.json()["fields"]["display_name"]
    user.refresh_from_db()
    assert user.display_name == "原名"


@pytest.mark.django_db
@pytest.mark.parametrize("page_size", ["0", "-1", "abc", "201", "1.5"])
def test_bad_page_sizes_are_refused(login, police_admin, page_size):
    response = login(police_admin).get("/api/v1/users", {"page_size": page_size})

    assert response.status_code == 400
    assert "page_size" in response.json()["fields"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["0657-08-30T07:48:59+19:53", "2026-11-22T10:00:00+15:00", "9999-01-01T00:00:00Z"])
def test_impossible_times_in_list_filters_answer_400(login, police_admin, value):
    # found by the schemathesis fuzz: PostgreSQL refuses such times with an error, which was a 500
    client = login(police_admin)

    disputes = client.get("/api/v1/disputes", {"flagged_before": value})
    incidents = client.get("/api/v1/incidents", {"created_after": value})

    assert disputes.status_code == 400 and "flagged_before" in disputes.json()["fields"]
    assert incidents.status_code == 400 and "created_after" in incidents.json()["fields"]


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "name"), [("/api/v1/incidents", "mine"), ("/api/v1/stores", "is_verified")])
def test_boolean_filters_refuse_free_text_and_take_empty_as_no_filter(login, police_admin, path, name):
    client = login(police_admin)

    typo = client.get(path, {name: "yes please"})
    empty = client.get(path, {name: ""})
    spelled = [client.get(path, {name: value}).status_code for value in ("true", "False", "1", "0")]

    assert typo.status_code == 400
    assert typo.json()["fields"] == {name: ["请输入 true 或 false。"]}
    assert empty.status_code == 200
    assert spelled == [200, 200, 200, 200]


@pytest.mark.django_db
def test_a_login_body_nested_5000_levels_deep_answers_400_not_500(api_client):
    deep = '{"phone": ' * 5000 + '"+8613900000000"' + "}" * 5000

    response = api_client.post("/_allauth/app/v1/auth/login", deep, content_type="application/json")

    assert response.status_code == 400
