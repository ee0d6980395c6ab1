"""A sign-up for a registered number does the same work as one for a new number, so its answer takes as long and
tells nothing. Timings are not asserted (noisy); the work is: SQL statements, password hashes and texts sent."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import sms

AUTH = "/_allauth/app/v1/auth"


class CountingHasher(MD5PasswordHasher):
    """The tests' fast hasher, counting how many passwords it hashes."""

    algorithm = "counting_md5"
    hashed = 0

    def encode(self, password, salt):
        CountingHasher.hashed += 1
        return super().encode(password, salt)


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = ["tests.accounts.test_signup_timing.CountingHasher"]
    CountingHasher.hashed = 0
    return CountingHasher


def signup_work(client, body: dict, hasher) -> tuple[int, int, int, int, int]:
    """(status, SQL statements, writes to the user table, password hashes, texts) of one sign-up."""
    hashes_before, texts_before = hasher.hashed, len(sms.outbox)
    with CaptureQueriesContext(connection) as queries:
        response = client.post_json(f"{AUTH}/signup", body)
    user_writes = [
        q
        for q in queries.captured_queries
        if q["sql"].startswith(("INSERT", "UPDATE")) and '"accounts_user"' in q["sql"]
    ]
    return (
        response.status_code,
        len(queries),
        len(user_writes),
        hasher.hashed - hashes_before,
        len(sms.outbox) - texts_before,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("password", [None, "Chosen-at-signup-2026"], ids=["code only", "with a password"])
def test_signup_does_the_same_work_for_a_new_and_a_registered_number(
    client_factory, user_factory, counting_hasher, password
):
    # given a registered number, and a new one
    registered = str(user_factory().phone)
    extra = {"password": password} if password else {}

    # when each signs up
    new = signup_work(client_factory(), {"phone": "+8613912370001", **extra}, counting_hasher)
    known = signup_work(client_factory(), {"phone": registered, **extra}, counting_hasher)

    # then both answer alike and cost the same: as many SQL statements, writes to the user table, hashes and texts
    assert new[0] == known[0] == 401
    assert new[1] == known[1], f"SQL statements: new number {new[1]}, registered number {known[1]}"
    assert new[2] == known[2] == 1
    assert new[3] == known[3] == (1 if password else 0)
    assert new[4] == known[4] == 1
