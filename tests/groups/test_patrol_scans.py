"""Checkpoint QR codes (signed, versioned) and scans along the route: at the checkpoint, once per round."""

from __future__ import annotations

import base64

import pytest
from django.core import signing
from django.test import override_settings
from django.utils import timezone

from groups.checkpoint_codes import PREFIX, checkpoint_code_for, checkpoint_from_code
from groups.models import CheckpointScan, PatrolAttempt, ShiftSignup
from groups.patrol_refusals import PatrolRefused
from tests.factories.patrol import FENGMING_CENTRE, offset_position, route_make
from tests.groups.patrol_duty_world import build_duty, position_body


@pytest.fixture
def duty(db, user_factory):
    built = build_duty(user_factory)
    ShiftSignup.objects.filter(pk=built.signup.pk).update(attendance="on_duty", checked_in_at=timezone.now())
    return built


def at_checkpoint(checkpoint, *, north_metres: float = 0, **extra) -> dict:
    here = offset_position(checkpoint.latitude, checkpoint.longitude, north_metres=north_metres)
    return {**position_body(*here, code=checkpoint_code_for(checkpoint)), **extra}


def scan(client, duty, body):
    return client.post_json(f"/api/v1/shifts/{duty.shift.pk}/scans", body)


@pytest.mark.django_db
def test_a_scan_within_the_checkpoints_radius_is_accepted(login, duty):
    # given the volunteer checked in, standing 30 m from the second checkpoint (radius 50 m)
    checkpoint = duty.checkpoint(2)

    # when they scan its code
    response = scan(login(duty.volunteer), duty, at_checkpoint(checkpoint, north_metres=30))

    # then the scan is stored for round 1 and they were seen there
    assert response.status_code == 201, response.content
    assert response.json()["checkpoint"] == checkpoint.pk and response.json()["round"] == 1
    stored = CheckpointScan.objects.get()
    assert stored.checkpoint == checkpoint and stored.attempt.accepted
    assert ShiftSignup.objects.get(pk=duty.signup.pk).last_latitude == pytest.approx(stored.latitude)


@pytest.mark.django_db
def test_a_replayed_scan_in_the_same_round_is_refused_and_the_next_round_accepted(login, duty):
    client = login(duty.volunteer)
    checkpoint = duty.checkpoint(1)
    assert scan(client, duty, at_checkpoint(checkpoint)).status_code == 201

    replay = scan(client, duty, at_checkpoint(checkpoint))
    next_round = scan(client, duty, at_checkpoint(checkpoint, round=2))

    assert replay.status_code == 422 and replay.json()["code"] == "already_scanned"
    assert next_round.status_code == 201
    assert CheckpointScan.objects.count() == 2
    assert PatrolAttempt.objects.filter(kind="scan", accepted=False).count() == 1


@pytest.mark.django_db
def test_a_forged_code_is_refused(login, duty):
    checkpoint = duty.checkpoint(1)
    genuine = checkpoint_code_for(checkpoint)
    forged = genuine.replace(f":{checkpoint.pk}.", f":{duty.checkpoint(2).pk}.")  # another checkpoint, same signature

    answers = [
        scan(login(duty.volunteer), duty, at_checkpoint(checkpoint, code=code))
        for code in (forged, "PA1:1.1:abc", "https://example.com/qr", genuine[:-2])
    ]

    assert [answer.json()["code"] for answer in answers] == ["code_forged"] * 4
    assert not CheckpointScan.objects.exists()


@pytest.mark.django_db
def test_the_code_of_a_reprinted_sticker_is_refused_as_expired(login, duty):
    # given a code printed, then the sticker reprinted (its version bumped)
    checkpoint = duty.checkpoint(1)
    old_code = checkpoint_code_for(checkpoint)
    checkpoint.qr_version += 1
    checkpoint.save()

    # when the old code is scanned at the checkpoint
    response = scan(login(duty.volunteer), duty, at_checkpoint(checkpoint, code=old_code))

    # then it is refused; the new one is accepted
    assert response.json()["code"] == "code_expired"
    assert scan(login(duty.volunteer), duty, at_checkpoint(checkpoint)).status_code == 201


@pytest.mark.django_db
def test_the_code_of_another_route_is_refused_as_foreign(login, duty, other_street):
    # given a checkpoint of another route of the same alliance, at the same spot, and one of another alliance
    same_spot = [offset_position(*FENGMING_CENTRE)]
    other_route = route_make(alliance=duty.street.alliance, name="支线", checkpoints=same_spot)
    foreign_alliance = route_make(alliance=other_street.alliance, name="别处", checkpoints=same_spot)

    answers = [
        scan(login(duty.volunteer), duty, at_checkpoint(route.checkpoints.get()))
        for route in (other_route, foreign_alliance)
    ]

    assert [answer.json()["code"] for answer in answers] == ["code_foreign", "code_foreign"]


@pytest.mark.django_db
def test_a_code_scanned_500_m_away_is_refused(login, duty):
    # given a photo of the first checkpoint's code, scanned 500 m north of it
    checkpoint = duty.checkpoint(1)

    response = scan(login(duty.volunteer), duty, at_checkpoint(checkpoint, north_metres=500))

    assert response.status_code == 422
    assert response.json()["code"] == "too_far_from_checkpoint"
    assert response.json()["figures"]["metres_away"] == pytest.approx(500, abs=2)
    assert "50" in response.json()["message"]


@pytest.mark.django_db
def test_scanning_without_checking_in_is_refused(login, duty):
    ShiftSignup.objects.filter(pk=duty.signup.pk).update(attendance="expected", checked_in_at=None)

    response = scan(login(duty.volunteer), duty, at_checkpoint(duty.checkpoint(1)))

    assert response.json()["code"] == "not_checked_in"


@pytest.mark.django_db
def test_a_round_beyond_the_limit_is_bad_input(login, duty):
    response = scan(login(duty.volunteer), duty, at_checkpoint(duty.checkpoint(1), round=21))

    assert response.status_code == 400 and "round" in response.json()["fields"]


@pytest.mark.django_db
def test_codes_signed_with_a_retired_key_still_read_while_it_is_a_fallback(duty, settings):
    # given a code signed with the key in use, then the key rotated
    checkpoint = duty.checkpoint(1)
    code = checkpoint_code_for(checkpoint)
    old_key = settings.SECRET_KEY

    # then with the old key among the fallbacks it reads; once dropped, it is forged
    with override_settings(SECRET_KEY="a-new-key-" + "x" * 50, SECRET_KEY_FALLBACKS=[old_key]):
        assert checkpoint_from_code(code, route_id=checkpoint.route_id) == checkpoint
    with override_settings(SECRET_KEY="a-new-key-" + "x" * 50, SECRET_KEY_FALLBACKS=[]):
        with pytest.raises(PatrolRefused) as refused:
            checkpoint_from_code(code, route_id=checkpoint.route_id)
    assert refused.value.code == "code_forged"


@pytest.mark.django_db
def test_a_value_signed_for_another_purpose_is_not_a_checkpoint_code(duty):
    checkpoint = duty.checkpoint(1)
    elsewhere = signing.Signer().sign(f"{checkpoint.pk}.{checkpoint.qr_version}")

    with pytest.raises(PatrolRefused):
        checkpoint_from_code(f"{PREFIX}:{elsewhere}", route_id=checkpoint.route_id)


# --- the code to print ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_police_admin_gets_the_code_to_print_and_a_volunteer_does_not(login, duty, other_street):
    checkpoint = duty.checkpoint(1)
    url = f"/api/v1/checkpoints/{checkpoint.pk}/code"

    printed = login(duty.police_admin).get(url)
    volunteer = login(duty.volunteer).get(url)
    stranger = login(other_street.merchant).get(url)

    assert printed.status_code == 200
    assert printed.json()["payload"] == checkpoint_code_for(checkpoint)
    assert base64.b64decode(printed.json()["png_base64"]).startswith(b"\x89PNG")
    assert volunteer.status_code == 403
    assert stranger.status_code == 404


# --- the attempts, for leaders -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_leader_reads_every_attempt_with_its_reason_and_the_volunteer_may_not(
    login, duty, django_assert_max_num_queries
):
    client = login(duty.volunteer)
    checkpoint = duty.checkpoint(1)
    scan(client, duty, at_checkpoint(checkpoint))
    scan(client, duty, at_checkpoint(checkpoint, north_metres=500))
    leader = login(duty.leader)
    url = f"/api/v1/shifts/{duty.shift.pk}/attempts"
    leader.get(url)

    # (the session, the user and their roles, the shift, the membership, the leader check, the page)
    with django_assert_max_num_queries(7):
        response = leader.get(url)

    assert response.status_code == 200
    newest, oldest = response.json()["results"]
    assert newest["refusal_code"] == "too_far_from_checkpoint"
    assert f"{newest['figures']['metres_away']} " in newest["reason"]
    assert oldest["accepted"] and oldest["reason"] == ""
    assert client.get(url).status_code == 403
    assert login(duty.police_admin).get(url).status_code == 200
