"""Patrol teams, shift templates and the shifts made from them, places with a waitlist, swaps, and the timers
before and at a shift's start (reminders, no-shows)."""

from __future__ import annotations

import threading
from datetime import UTC, date, time, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from groups.models import ContactGroup, GroupMembership, PatrolTeamMember, Shift, ShiftSignup
from groups.services.shift_signups import shift_signup, shift_signup_cancel
from groups.services.shift_timers import shift_remind_if_due, shifts_check_no_shows_due, shifts_remind_due
from groups.services.shifts import shifts_generate
from tests.factories.patrol import shift_make, signup_make, template_make
from tests.groups.patrol_roster_fixtures import SHANGHAI, events_of, local

pytestmark = pytest.mark.django_db

NOON = local(2026, 12, 1, 12, 0)


# --- teams --------------------------------------------------------------------------------------------------------


def test_a_police_admin_creates_a_team_with_its_contact_group_and_leaders_join_it(login, patrol):
    # given the alliance's police admin
    client = login(patrol.police_admin)

    # when they create a team with a volunteer leader
    response = client.post_json(
        f"/api/v1/alliances/{patrol.alliance.pk}/patrol-teams",
        {"name": "夜巡队", "kind": "street_patrol", "leaders": [patrol.volunteers[3].pk]},
    )

    # then the team has its own team group, with the leader as its admin
    assert response.status_code == 201, response.content
    body = response.json()
    group = ContactGroup.objects.get(pk=body["contact_group"])
    assert group.kind == ContactGroup.Kind.TEAM and group.alliance == patrol.alliance
    assert GroupMembership.objects.get(group=group, user=patrol.volunteers[3]).role == "admin"
    assert [leader["id"] for leader in body["leaders"]] == [patrol.volunteers[3].pk]


def test_a_volunteer_cannot_create_a_team(login, patrol):
    response = login(patrol.volunteers[0]).post_json(
        f"/api/v1/alliances/{patrol.alliance.pk}/patrol-teams", {"name": "私人队", "kind": "street_patrol"}
    )
    assert response.status_code == 403


def test_the_leader_adds_a_volunteer_and_membership_of_the_team_group_follows(login, patrol):
    # given the team's leader
    client = login(patrol.leader)
    newcomer = patrol.volunteers[3]

    # when they add a volunteer, then remove them
    added = client.post_json(f"/api/v1/patrol-teams/{patrol.team.pk}/members", {"user": newcomer.pk})
    in_group = GroupMembership.objects.filter(group=patrol.team.contact_group, user=newcomer).exists()
    removed = client.delete(f"/api/v1/patrol-teams/{patrol.team.pk}/members/{newcomer.pk}")

    # then the team group followed both
    assert added.status_code == 201 and in_group
    assert removed.status_code == 204
    assert not GroupMembership.objects.filter(group=patrol.team.contact_group, user=newcomer).exists()
    assert not PatrolTeamMember.objects.filter(team=patrol.team, user=newcomer).exists()


def test_a_merchant_cannot_join_a_patrol_team(login, patrol):
    response = login(patrol.leader).post_json(
        f"/api/v1/patrol-teams/{patrol.team.pk}/members", {"user": patrol.merchant.pk}
    )
    assert response.status_code == 400 and response.json()["code"] == "not_patrol_eligible"


def test_a_plain_member_cannot_add_people(login, patrol):
    response = login(patrol.volunteers[0]).post_json(
        f"/api/v1/patrol-teams/{patrol.team.pk}/members", {"user": patrol.volunteers[3].pk}
    )
    assert response.status_code == 403


def test_another_alliances_team_and_shift_answer_404(login, patrol, other_patrol):
    # given a shift of the other alliance's team
    shift = shift_make(team=other_patrol.team, zone=other_patrol.zone, starts_at=timezone.now() + timedelta(days=1))
    client = login(patrol.police_admin)

    # then nothing of it is seen or touched from here
    assert client.get(f"/api/v1/patrol-teams/{other_patrol.team.pk}").status_code == 404
    assert client.get(f"/api/v1/shifts/{shift.pk}").status_code == 404
    assert client.post_json(f"/api/v1/shifts/{shift.pk}/signups", {"role": "mobile"}).status_code == 404
    assert client.post_json(f"/api/v1/shifts/{shift.pk}/cancel", {}).status_code == 404
    assert client.get(f"/api/v1/alliances/{other_patrol.alliance.pk}/shifts").status_code == 404


# --- templates and generation -------------------------------------------------------------------------------------


def test_a_nightly_2200_template_makes_shifts_that_end_at_0200_local_the_next_day(patrol):
    # when the leader plans "every night 22:00 for 4 hours" from 1 December
    template = template_make(
        team=patrol.team, zone=patrol.zone, by=patrol.leader, starts_on=date(2026, 12, 1), now=NOON
    )

    # then 14 nights are made, each from 22:00 to 02:00 Shanghai time, the end on the next calendar day
    shifts = list(Shift.objects.filter(template=template).order_by("starts_at"))
    assert len(shifts) == 14
    first = shifts[0]
    assert first.starts_at == local(2026, 12, 1, 22, 0)
    assert first.ends_at.astimezone(SHANGHAI) == local(2026, 12, 2, 2, 0)
    assert first.starts_at.astimezone(UTC).hour == 14  # Asia/Shanghai is UTC+8 all year: no DST
    assert all(s.starts_at.astimezone(SHANGHAI).time() == time(22, 0) for s in shifts)
    assert first.remind_at == local(2026, 12, 1, 21, 0) and first.no_show_check_at == local(2026, 12, 1, 22, 15)
    assert first.close_at == local(2026, 12, 2, 2, 15)


def test_generating_again_makes_nothing_new(patrol):
    # given a template with its shifts over the horizon
    template_make(team=patrol.team, zone=patrol.zone, starts_on=date(2026, 12, 1), now=NOON)
    before = Shift.objects.count()

    # when the job runs again, twice, an hour later
    shifts_generate(now=NOON + timedelta(hours=1))
    shifts_generate(now=NOON + timedelta(hours=1))

    # then no shift is made twice; a day later exactly one more night comes into the horizon
    assert Shift.objects.count() == before == 14
    shifts_generate(now=NOON + timedelta(days=1))
    assert Shift.objects.count() == 15


def test_a_weekly_rule_and_its_last_day_are_kept(patrol):
    template_make(
        team=patrol.team,
        zone=patrol.zone,
        rrule="RRULE:FREQ=WEEKLY;BYDAY=FR,SA",
        starts_on=date(2026, 12, 1),
        now=NOON,
    )
    starts = [s.starts_at.astimezone(SHANGHAI).date() for s in Shift.objects.order_by("starts_at")]
    assert starts == [date(2026, 12, 4), date(2026, 12, 5), date(2026, 12, 11), date(2026, 12, 12)]


@pytest.mark.parametrize(
    "rrule",
    [
        "FREQ=HOURLY",
        "DTSTART:20261201T220000\nRRULE:FREQ=DAILY",
        "FREQ=DAILY;BYHOUR=3",
        "FREQ=SOMETIMES",
        "",
        "FREQ=DAILY;INTERVAL=0",
    ],
)
def test_bad_rules_are_refused_naming_the_rule(login, patrol, rrule):
    response = login(patrol.leader).post_json(
        f"/api/v1/patrol-teams/{patrol.team.pk}/shift-templates",
        {
            "name": "夜巡",
            "rrule": rrule,
            "starts_on": "2026-12-01",
            "start_time": "22:00",
            "duration_minutes": 240,
            "zone": patrol.zone.pk,
            "slots": {"mobile": 3},
        },
    )
    assert response.status_code == 400 and "rrule" in response.json()["fields"]


def test_a_template_cannot_use_another_alliances_zone(login, patrol, other_patrol):
    response = login(patrol.leader).post_json(
        f"/api/v1/patrol-teams/{patrol.team.pk}/shift-templates",
        {
            "name": "夜巡",
            "rrule": "FREQ=DAILY",
            "starts_on": "2026-12-01",
            "start_time": "22:00",
            "duration_minutes": 240,
            "zone": other_patrol.zone.pk,
            "slots": {"mobile": 3},
        },
    )
    assert response.status_code == 404 and "zone" in response.json()["fields"]


def test_deactivating_a_template_drops_its_empty_future_shifts_and_keeps_taken_ones(login, patrol):
    # given tomorrow's generated shifts, one with a volunteer on it
    template = template_make(team=patrol.team, zone=patrol.zone, starts_on=timezone.localdate())
    taken = Shift.objects.filter(template=template).order_by("starts_at").first()
    signup_make(shift=taken, user=patrol.volunteers[0])

    # when the leader deactivates the template
    response = login(patrol.leader).delete(f"/api/v1/shift-templates/{template.pk}")

    # then only the shift with someone on it is left, and the job makes no more
    assert response.status_code == 204
    assert login(patrol.leader).get(f"/api/v1/shift-templates/{template.pk}").json()["is_active"] is False
    assert list(Shift.objects.filter(template=template)) == [taken]
    shifts_generate()
    assert Shift.objects.filter(template=template).count() == 1


# --- places, the waitlist, cancelling -----------------------------------------------------------------------------


def _tomorrow_night(patrol, **slots):
    return shift_make(
        team=patrol.team,
        zone=patrol.zone,
        starts_at=timezone.now() + timedelta(days=1),
        slots=slots or {"mobile": 1},
    )


def test_a_full_role_waitlists_and_a_cancellation_offers_the_place_to_the_first_waiting(login, patrol):
    # given a shift with one mobile place
    shift = _tomorrow_night(patrol)
    first, second, third = (login(v) for v in patrol.volunteers[:3])

    # when three volunteers sign up
    taken = first.post_json(f"/api/v1/shifts/{shift.pk}/signups", {"role": "mobile"}).json()
    waiting = second.post_json(f"/api/v1/shifts/{shift.pk}/signups", {"role": "mobile"}).json()
    last = third.post_json(f"/api/v1/shifts/{shift.pk}/signups", {"role": "mobile"}).json()

    # then one holds the place and two wait
    assert [taken["status"], waiting["status"], last["status"]] == ["confirmed", "waitlisted", "waitlisted"]
    places = login(patrol.leader).get(f"/api/v1/shifts/{shift.pk}").json()
    assert places["places"] == [{"role": "mobile", "capacity": 1, "filled": 1}] and places["waitlisted"] == 2

    # when the first gives the place up, the first on the waitlist is offered it and told
    assert first.delete(f"/api/v1/shift-signups/{taken['id']}").status_code == 204
    assert ShiftSignup.objects.get(pk=taken["id"]).status == "cancelled"
    assert ShiftSignup.objects.get(pk=waiting["id"]).status == "offered"
    [(topics, offer)] = events_of("shift_offer")
    assert topics == [f"user.{patrol.volunteers[1].pk}"] and offer["signup"] == waiting["id"]

    # when they decline, the next is offered it
    assert second.post_json(f"/api/v1/shift-signups/{waiting['id']}/decline", {}).json()["status"] == "declined"
    assert ShiftSignup.objects.get(pk=last["id"]).status == "offered"

    # and accepting confirms the place
    assert third.post_json(f"/api/v1/shift-signups/{last['id']}/accept", {}).json()["status"] == "confirmed"
    assert len(events_of("shift_offer")) == 2


def test_giving_up_a_place_after_the_cutoff_is_refused_with_the_reason(login, patrol, settings):
    # given a place on a shift starting in an hour (cutoff: two hours before)
    settings.PATROL_CANCEL_CUTOFF_MINUTES = 120
    shift = shift_make(team=patrol.team, zone=patrol.zone, starts_at=timezone.now() + timedelta(hours=1))
    signup = signup_make(shift=shift, user=patrol.volunteers[0])

    # when the volunteer tries to give it up
    response = login(patrol.volunteers[0]).delete(f"/api/v1/shift-signups/{signup.pk}")

    # then it is refused, naming the cutoff, and the place is still held
    assert response.status_code == 409 and response.json()["code"] == "cancel_cutoff_passed"
    assert "120" in response.json()["message"]
    assert ShiftSignup.objects.get(pk=signup.pk).status == "confirmed"


def test_a_night_shift_across_midnight_overlaps_a_1am_shift_the_next_day(login, patrol):
    # given a volunteer on tonight's 22:00-02:00 shift
    night = local(2026, 12, 1, 22, 0)
    tonight = shift_make(team=patrol.team, zone=patrol.zone, starts_at=night)
    shift_signup(actor=patrol.volunteers[0], shift=tonight, role="mobile", now=NOON)
    early = shift_make(team=patrol.team, zone=patrol.zone, starts_at=local(2026, 12, 2, 1, 0), hours=2)
    after = shift_make(team=patrol.team, zone=patrol.zone, starts_at=local(2026, 12, 2, 2, 0), hours=2)

    # when they sign up for a shift from 01:00 the next day, and for one from 02:00
    with pytest.raises(Exception) as refused:
        shift_signup(actor=patrol.volunteers[0], shift=early, role="mobile", now=NOON)
    back_to_back = shift_signup(actor=patrol.volunteers[0], shift=after, role="mobile", now=NOON)

    # then the overlapping one is refused and the one starting as the night ends is fine
    assert refused.value.code == "shift_overlap"
    assert back_to_back.status == "confirmed"


def test_signing_up_after_the_start_or_as_a_merchant_is_refused(login, patrol):
    started = shift_make(team=patrol.team, zone=patrol.zone, starts_at=timezone.now() - timedelta(minutes=5))
    later = _tomorrow_night(patrol)

    too_late = login(patrol.volunteers[0]).post_json(f"/api/v1/shifts/{started.pk}/signups", {"role": "mobile"})
    merchant = login(patrol.merchant).post_json(f"/api/v1/shifts/{later.pk}/signups", {"role": "mobile"})
    no_such_place = login(patrol.volunteers[0]).post_json(f"/api/v1/shifts/{later.pk}/signups", {"role": "vehicle"})

    assert too_late.status_code == 409 and too_late.json()["code"] == "shift_not_open"
    assert merchant.status_code == 400 and merchant.json()["code"] == "not_patrol_eligible"
    assert no_such_place.status_code == 400 and "role" in no_such_place.json()["fields"]


def test_the_leader_assigns_and_removes_people_and_a_volunteer_cannot_assign(login, patrol):
    shift = _tomorrow_night(patrol, mobile=2)
    leader = login(patrol.leader)

    assigned = leader.post_json(
        f"/api/v1/shifts/{shift.pk}/signups", {"role": "mobile", "user": patrol.volunteers[2].pk}
    )
    by_volunteer = login(patrol.volunteers[0]).post_json(
        f"/api/v1/shifts/{shift.pk}/signups", {"role": "mobile", "user": patrol.volunteers[3].pk}
    )
    removed = leader.delete(f"/api/v1/shift-signups/{assigned.json()['id']}")

    assert assigned.status_code == 201 and assigned.json()["status"] == "confirmed"
    assert by_volunteer.status_code == 403
    assert removed.status_code == 204
    assert ShiftSignup.objects.get(pk=assigned.json()["id"]).status == "removed"
    assert [topics for topics, _event in events_of("shift_removed")] == [[f"user.{patrol.volunteers[2].pk}"]]


def test_cancelling_a_shift_tells_everyone_on_it(login, patrol):
    shift = _tomorrow_night(patrol, mobile=2)
    for volunteer in patrol.volunteers[:2]:
        signup_make(shift=shift, user=volunteer)

    response = login(patrol.leader).post_json(f"/api/v1/shifts/{shift.pk}/cancel", {})

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert set(ShiftSignup.objects.filter(shift=shift).values_list("status", flat=True)) == {"cancelled"}
    [(topics, _event)] = events_of("shift_cancelled")
    assert sorted(topics) == sorted(f"user.{v.pk}" for v in patrol.volunteers[:2])
    assert Shift.objects.get(pk=shift.pk).remind_at is None


# --- swaps --------------------------------------------------------------------------------------------------------


def test_a_swap_takes_effect_only_when_the_leader_approves(login, patrol):
    # given a volunteer's place
    shift = _tomorrow_night(patrol)
    signup = signup_make(shift=shift, user=patrol.volunteers[0])
    asker = login(patrol.volunteers[0])

    # when they ask to hand it to another volunteer
    swap = asker.post_json(f"/api/v1/shift-signups/{signup.pk}/swap-requests", {"to_user": patrol.volunteers[1].pk})

    # then nothing changes yet, the asker cannot approve it, the leader is told
    assert swap.status_code == 201 and swap.json()["status"] == "pending"
    assert ShiftSignup.objects.get(pk=signup.pk).status == "confirmed"
    assert asker.post_json(f"/api/v1/swap-requests/{swap.json()['id']}/approve", {}).status_code == 403
    assert [topics for topics, _e in events_of("shift_swap_requested")] == [[f"user.{patrol.leader.pk}"]]

    # when the leader approves
    approved = login(patrol.leader).post_json(f"/api/v1/swap-requests/{swap.json()['id']}/approve", {})

    # then the place moved to the other volunteer
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert ShiftSignup.objects.get(pk=signup.pk).status == "swapped"
    new = ShiftSignup.objects.get(shift=shift, user=patrol.volunteers[1])
    assert new.status == "confirmed" and new.role == "mobile"


def test_a_swap_to_someone_busy_then_is_refused_at_approval(login, patrol):
    shift = _tomorrow_night(patrol)
    signup = signup_make(shift=shift, user=patrol.volunteers[0])
    swap = login(patrol.volunteers[0]).post_json(
        f"/api/v1/shift-signups/{signup.pk}/swap-requests", {"to_user": patrol.volunteers[1].pk}
    )
    clashing = shift_make(team=patrol.team, zone=patrol.zone, starts_at=shift.starts_at + timedelta(hours=1))
    signup_make(shift=clashing, user=patrol.volunteers[1])

    approved = login(patrol.leader).post_json(f"/api/v1/swap-requests/{swap.json()['id']}/approve", {})

    assert approved.status_code == 409 and approved.json()["code"] == "shift_overlap"
    assert ShiftSignup.objects.get(pk=signup.pk).status == "confirmed"


def test_the_asker_withdraws_a_swap(login, patrol):
    signup = signup_make(shift=_tomorrow_night(patrol), user=patrol.volunteers[0])
    asker = login(patrol.volunteers[0])
    swap = asker.post_json(f"/api/v1/shift-signups/{signup.pk}/swap-requests", {"to_user": patrol.volunteers[1].pk})

    withdrawn = asker.post_json(f"/api/v1/swap-requests/{swap.json()['id']}/withdraw", {})
    again = login(patrol.leader).post_json(f"/api/v1/swap-requests/{swap.json()['id']}/approve", {})

    assert withdrawn.json()["status"] == "withdrawn"
    assert again.status_code == 409 and again.json()["code"] == "swap_not_pending"


# --- lists --------------------------------------------------------------------------------------------------------


def test_the_alliance_shift_list_filters_by_window_and_team_and_my_shifts_lists_mine(login, patrol):
    soon = _tomorrow_night(patrol)
    far = shift_make(team=patrol.team, zone=patrol.zone, starts_at=timezone.now() + timedelta(days=5))
    signup_make(shift=far, user=patrol.volunteers[0])
    client = login(patrol.volunteers[0])
    until = (timezone.now() + timedelta(days=2)).isoformat()

    window = client.get(f"/api/v1/alliances/{patrol.alliance.pk}/shifts", {"to": until, "team": patrol.team.pk})
    bad = client.get(f"/api/v1/alliances/{patrol.alliance.pk}/shifts", {"from": "yesterday"})
    mine = client.get("/api/v1/me/shifts")

    assert [s["id"] for s in window.json()["results"]] == [soon.pk]
    assert bad.status_code == 400 and "from" in bad.json()["fields"]
    assert [s["shift"] for s in mine.json()["results"]] == [far.pk]


# --- reminders and no-shows ---------------------------------------------------------------------------------------


def test_the_reminder_sweep_reminds_the_confirmed_once_however_often_it_runs(patrol):
    # given a shift in 30 minutes (reminders due an hour before) with one confirmed and one waiting
    shift = _tomorrow_night(patrol)
    Shift.objects.filter(pk=shift.pk).update(
        starts_at=timezone.now() + timedelta(minutes=30), remind_at=timezone.now() - timedelta(minutes=30)
    )
    confirmed = shift_signup(actor=patrol.volunteers[0], shift=shift, role="mobile")
    shift_signup(actor=patrol.volunteers[1], shift=shift, role="mobile")

    # when the sweep runs twice
    first, second = shifts_remind_due(), shifts_remind_due()

    # then one reminder went to the confirmed person only
    assert (first, second) == (1, 0)
    [(topics, reminder)] = events_of("shift_reminder")
    assert topics == [f"user.{patrol.volunteers[0].pk}"] and reminder["signup"] == confirmed.pk
    assert ShiftSignup.objects.get(pk=confirmed.pk).reminded_at is not None
    assert Shift.objects.get(pk=shift.pk).remind_at is None


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_reminder_sweeps_at_once_remind_once(patrol):
    shift = _tomorrow_night(patrol)
    shift_signup(actor=patrol.volunteers[0], shift=shift, role="mobile")
    due = shift.remind_at + timedelta(seconds=1)
    barrier = threading.Barrier(2)
    results = []

    def worker():
        barrier.wait()
        results.append(shift_remind_if_due(shift_id=shift.pk, now=due))
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False, True]
    assert len(events_of("shift_reminder")) == 1


def test_confirmed_people_not_checked_in_become_no_shows_and_the_leader_is_told(patrol):
    # given a shift that started 20 minutes ago: one person checked in, one did not, one cancelled earlier
    shift = shift_make(
        team=patrol.team, zone=patrol.zone, starts_at=timezone.now() - timedelta(minutes=20), slots={"mobile": 3}
    )
    came = signup_make(shift=shift, user=patrol.volunteers[0])
    missing = signup_make(shift=shift, user=patrol.volunteers[1])
    ShiftSignup.objects.filter(pk=came.pk).update(attendance="on_duty", checked_in_at=timezone.now())
    gone = signup_make(shift=shift, user=patrol.volunteers[2])
    ShiftSignup.objects.filter(pk=gone.pk).update(status="cancelled")

    # when the no-show sweep runs twice
    assert shifts_check_no_shows_due() == 1
    assert shifts_check_no_shows_due() == 0

    # then only the one who never came is a no-show, and the leader heard of it once
    attendance = dict(ShiftSignup.objects.filter(shift=shift).values_list("user_id", "attendance"))
    assert attendance == {
        patrol.volunteers[0].pk: "on_duty",
        patrol.volunteers[1].pk: "no_show",
        patrol.volunteers[2].pk: "expected",
    }
    [(topics, event)] = events_of("no_show")
    assert topics == [f"user.{patrol.leader.pk}"] and event["users"] == [patrol.volunteers[1].pk]
    assert missing.pk in event["signups"]


def test_a_volunteer_cannot_give_up_someone_elses_place(login, patrol):
    signup = signup_make(shift=_tomorrow_night(patrol), user=patrol.volunteers[0])
    with pytest.raises(Exception) as refused:
        shift_signup_cancel(actor=patrol.volunteers[1], signup=signup)
    assert refused.value.status_code == 403
    response = login(patrol.volunteers[1]).delete(f"/api/v1/shift-signups/{signup.pk}")
    assert response.status_code == 403


def test_leaving_the_alliance_leaves_its_teams_and_offers_ones_places_onward(login, patrol):
    # given a team member holding tomorrow's only place, with someone waiting for it
    shift = _tomorrow_night(patrol)
    held = signup_make(shift=shift, user=patrol.volunteers[0])
    waiting = signup_make(shift=shift, user=patrol.volunteers[1])

    # when they leave the alliance
    response = login(patrol.volunteers[0]).delete(f"/api/v1/alliances/{patrol.alliance.pk}/membership")

    # then they are off the team and its group, and the place is offered to the one waiting
    assert response.status_code == 204, response.content
    assert not PatrolTeamMember.objects.filter(user=patrol.volunteers[0]).exists()
    assert not GroupMembership.objects.filter(group=patrol.team.contact_group, user=patrol.volunteers[0]).exists()
    assert ShiftSignup.objects.get(pk=held.pk).status == "cancelled"  # they left: their own act, not a leader's removal
    assert ShiftSignup.objects.get(pk=waiting.pk).status == "offered"


def test_the_leader_plans_a_template_over_the_api_and_its_shifts_appear(login, patrol):
    # when the leader posts "every night 22:00 for 4 hours, 1 fixed + 3 mobile + 1 car"
    response = login(patrol.leader).post_json(
        f"/api/v1/patrol-teams/{patrol.team.pk}/shift-templates",
        {
            "name": "夜巡",
            "rrule": "FREQ=DAILY",
            "starts_on": timezone.localdate().isoformat(),
            "start_time": "22:00",
            "duration_minutes": 240,
            "zone": patrol.zone.pk,
            "slots": {"fixed": 1, "mobile": 3, "vehicle": 1},
        },
    )

    # then the template reads back in local wall-clock time and the shifts are in the alliance's list
    assert response.status_code == 201, response.content
    assert response.json()["start_time"] == "22:00"
    listed = login(patrol.volunteers[0]).get(f"/api/v1/alliances/{patrol.alliance.pk}/shifts").json()["results"]
    assert len(listed) >= 13
    assert listed[0]["places"] == [
        {"role": "fixed", "capacity": 1, "filled": 0},
        {"role": "mobile", "capacity": 3, "filled": 0},
        {"role": "vehicle", "capacity": 1, "filled": 0},
    ]


def _at_once(*calls) -> list:
    """Runs the calls in parallel threads (each with its own database connection) from one barrier; returns each
    one's result or the exception it raised, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - the refusal is the result under test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_taking_the_last_place_at_once_get_one_place_and_one_waitlist(patrol):
    shift = _tomorrow_night(patrol)
    first, second = patrol.volunteers[:2]

    results = _at_once(
        lambda: shift_signup(actor=first, shift=shift, role="mobile").status,
        lambda: shift_signup(actor=second, shift=shift, role="mobile").status,
    )

    assert sorted(results) == ["confirmed", "waitlisted"]


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_one_person_signing_up_for_two_overlapping_shifts_at_once_gets_one(patrol):
    night = _tomorrow_night(patrol)
    overlapping = shift_make(team=patrol.team, zone=patrol.zone, starts_at=night.starts_at + timedelta(hours=1))
    volunteer = patrol.volunteers[0]

    results = _at_once(
        lambda: shift_signup(actor=volunteer, shift=night, role="mobile").status,
        lambda: shift_signup(actor=volunteer, shift=overlapping, role="mobile").status,
    )

    refused = [r for r in results if r != "confirmed"]
    assert len(refused) == 1 and refused[0].code == "shift_overlap"
    assert ShiftSignup.objects.filter(user=volunteer, status="confirmed").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("starts_at", ["0001-01-01T22:00:00", "0001-01-01T22:00:00+08:00", "2027-01-01T22:00:00+19:00"])
def test_an_ad_hoc_shift_at_an_impossible_time_is_a_400(login, patrol, starts_at):
    # when a leader sends a start no shift can have (a naive year 1 answered 500 in DRF's own field)
    response = login(patrol.leader).post_json(
        f"/api/v1/patrol-teams/{patrol.team.pk}/shifts",
        {
            "name": "临时加班",
            "starts_at": starts_at,
            "ends_at": "2027-01-02T02:00:00+08:00",
            "zone": patrol.zone.pk,
            "slots": {"mobile": 2},
        },
    )

    # then it is refused naming the field, and no shift is made
    assert response.status_code == 400 and "starts_at" in response.json()["fields"], response.content
    assert not Shift.objects.filter(name="临时加班").exists()
