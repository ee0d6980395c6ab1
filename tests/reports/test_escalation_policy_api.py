"""Police admins set their alliances' escalation times: GET/PATCH /api/v1/alliances/{id}/escalation-policy."""

from __future__ import annotations

import json

import pytest

from accounts.models import Role
from reports.models import Dispute, EscalationPolicy
from tests.factories.alliance import member_add, station_staff_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(qingguo, fengming, police_admin):
    """The police admin of Qingguo's station; Fengming is another station's alliance."""
    station_staff_post(station=qingguo.station, user=police_admin)

    class City:
        admin_x = police_admin
        alliance_a = qingguo.alliance
        alliance_b = fengming.alliance
        merchant_a = qingguo.merchant

    return City


@pytest.fixture
def member_of(user_factory):
    def _member_of(alliance, platform_role, alliance_role):
        user = user_factory(roles=[platform_role])
        member_add(alliance, user, alliance_role)
        return user

    return _member_of


def patch_json(client, url, data, **extra):
    return client.patch(url, json.dumps(data), content_type="application/json", **extra)


def policy_url(alliance) -> str:
    return f"/api/v1/alliances/{alliance.pk}/escalation-policy"


def test_a_police_admin_reads_the_defaults_and_changes_them(city, login):
    # given the police admin of station X and alliance A, which has never had a policy row
    client = login(city.admin_x)
    url = policy_url(city.alliance_a)

    # when they read it, then shorten the acknowledge time and lengthen the resolve time
    before = client.get(url)
    after = patch_json(client, url, {"acknowledge_seconds": 90, "resolve_seconds": 600})

    # then they saw the 2 / 5 minute defaults, and the new times are stored with who changed them
    assert before.status_code == 200, before.content
    assert before.json()["acknowledge_seconds"] == 120
    assert before.json()["resolve_seconds"] == 300
    assert after.status_code == 200, after.content
    assert after.json()["acknowledge_seconds"] == 90
    assert after.json()["resolve_seconds"] == 600
    assert after.json()["updated_by"]["id"] == city.admin_x.pk
    policy = EscalationPolicy.objects.get(alliance=city.alliance_a)
    assert (policy.acknowledge_seconds, policy.resolve_seconds) == (90, 600)
    assert policy.updated_by == city.admin_x


def test_a_patch_of_one_time_keeps_the_other(city, login):
    # given a policy with a 10-minute resolve time
    EscalationPolicy.objects.create(alliance=city.alliance_a, acknowledge_seconds=120, resolve_seconds=600)

    # when only the acknowledge time is sent
    response = patch_json(login(city.admin_x), policy_url(city.alliance_a), {"acknowledge_seconds": 60})

    # then the resolve time is unchanged
    assert response.status_code == 200, response.content
    assert (response.json()["acknowledge_seconds"], response.json()["resolve_seconds"]) == (60, 600)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"acknowledge_seconds": 5}, "acknowledge_seconds"),
        ({"acknowledge_seconds": 3601}, "acknowledge_seconds"),
        ({"resolve_seconds": 30}, "resolve_seconds"),
        ({"resolve_seconds": 86401}, "resolve_seconds"),
        ({"acknowledge_seconds": "soon"}, "acknowledge_seconds"),
        ({"acknowledge_seconds": 600, "resolve_seconds": 300}, "resolve_seconds"),
    ],
)
def test_times_out_of_bounds_are_refused_and_nothing_changes(city, login, body, field):
    # given the police admin of the alliance
    client = login(city.admin_x)

    # when they send a time out of bounds (or a resolve time shorter than the acknowledge time)
    response = patch_json(client, policy_url(city.alliance_a), body)

    # then 400 names the field, and the stored policy is still the default
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert (
        not EscalationPolicy.objects.filter(alliance=city.alliance_a)
        .exclude(acknowledge_seconds=120, resolve_seconds=300)
        .exists()
    )


def test_the_bounds_are_explained_in_chinese_and_in_english(city, login):
    # given the police admin of the alliance
    client = login(city.admin_x)
    body = {"acknowledge_seconds": 600, "resolve_seconds": 300}

    # when a resolve time shorter than the acknowledge time is sent in each language
    zh = patch_json(client, policy_url(city.alliance_a), body).json()["fields"]["resolve_seconds"][0]
    en = patch_json(client, policy_url(city.alliance_a), body, HTTP_ACCEPT_LANGUAGE="en").json()
    en = en["fields"]["resolve_seconds"][0]

    # then each says why, in its language
    assert en == "The time to resolve must be longer than the time to acknowledge."
    assert zh == "处置时限必须长于响应时限。"


def test_another_jurisdictions_alliance_answers_404(city, login):
    # given the police admin of station X
    client = login(city.admin_x)

    # when they read their own alliance A, and read and change alliance B of another station
    own = client.get(policy_url(city.alliance_a))
    read = client.get(policy_url(city.alliance_b))
    change = patch_json(client, policy_url(city.alliance_b), {"acknowledge_seconds": 60})

    # then A answers and both of B's answer 404, like an alliance that does not exist; B keeps its defaults
    assert own.status_code == 200
    assert read.status_code == 404
    assert change.status_code == 404
    assert not EscalationPolicy.objects.filter(alliance=city.alliance_b).exists()


def test_a_volunteer_of_the_alliance_is_refused(city, login, member_of):
    # given a volunteer and an alliance admin (not police) of alliance A, and a volunteer outside it
    volunteer = member_of(city.alliance_a, Role.VOLUNTEER, "volunteer")
    merchant_admin = member_of(city.alliance_a, Role.MERCHANT, "admin")
    outsider = member_of(city.alliance_b, Role.VOLUNTEER, "volunteer")

    # when each tries to change the times
    answers = [
        patch_json(login(person), policy_url(city.alliance_a), {"acknowledge_seconds": 30})
        for person in (volunteer, merchant_admin, outsider)
    ]

    # then the members get 403 (they see the alliance), the outsider 404, and nothing changed
    assert [answer.status_code for answer in answers] == [403, 403, 404]
    assert answers[0].json()["code"] == "permission_denied"
    assert not EscalationPolicy.objects.filter(alliance=city.alliance_a).exists()


def test_the_new_times_drive_the_next_flag(city, login):
    # given the police admin set a 60-second acknowledge time for alliance A
    patch_json(login(city.admin_x), policy_url(city.alliance_a), {"acknowledge_seconds": 60})
    merchant = city.merchant_a

    # when a merchant flags a dispute
    response = login(merchant).post_json(
        f"/api/v1/alliances/{city.alliance_a.pk}/disputes",
        {"category": "quarrel", "latitude": "31.770000", "longitude": "119.950000"},
        HTTP_IDEMPOTENCY_KEY="policy-drives-flag",
    )

    # then its first deadline is one minute after the flag
    assert response.status_code == 201, response.content
    dispute = Dispute.objects.get(pk=response.json()["id"])
    assert (dispute.escalate_at - dispute.flagged_at).total_seconds() == 60
