"""Points evidence sources that only the tests register, so the ledger's tests depend on no app's real evidence.

``test_evidence`` (in-process tests, through the ``test_evidence`` fixture): the claims are whatever the test puts
in :data:`CLAIMS` (evidence id -> claims); removing an id is the evidence going away (a report rejected).

``test_bulk`` (real worker processes, which import this module through ``PINGAN_POINTS_EVIDENCE_MODULES``): evidence
id ``i`` earns person ``PEOPLE[i % len(PEOPLE)]`` one merchant contribution in ``ALLIANCE``, both read from
``PINGAN_TEST_POINTS_PEOPLE`` (``"<alliance id>:<user id>,<user id>,..."``). With ``PINGAN_TEST_POINTS_GATE`` (a
folder), from the ``PINGAN_TEST_POINTS_GATE_AFTER``-th reading of claims on, every reading waits, holding the batch's
account locks inside its open transaction, until the file ``open`` appears in that folder; it first leaves a file
``reached`` there, so a test knows the worker is in the middle of a batch when it kills it."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

from alliance.points_evidence import PointsClaim, points_evidence_register

TEST_SOURCE = "test_evidence"
BULK_SOURCE = "test_bulk"
CLAIMS: dict[int, list[PointsClaim]] = {}


def claim(
    *, user, alliance, evidence_id: int, reason: str = "patrol_hour", units: float = 1, happened_at=None, key=None
) -> PointsClaim:
    return PointsClaim(
        user_id=user.pk,
        alliance_id=alliance.pk,
        reason=reason,
        units=units,
        unique_key=key or f"{TEST_SOURCE}:{evidence_id}",
        source_type="tests.evidence",
        source_id=evidence_id,
        happened_at=happened_at or datetime(2026, 11, 10, 12, 0, tzinfo=UTC),
    )


def test_claims_for(ids: list[int]) -> list[PointsClaim]:
    return [found for evidence_id in ids for found in CLAIMS.get(evidence_id, [])]


def test_recent_ids(since) -> list[int]:
    return sorted(CLAIMS)


def register_test_source() -> None:
    points_evidence_register(TEST_SOURCE, test_claims_for, recent_ids=test_recent_ids)


_readings = 0
BULK_HAPPENED_AT = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)


def bulk_claims_for(ids: list[int]) -> list[PointsClaim]:
    global _readings
    alliance, people = os.environ["PINGAN_TEST_POINTS_PEOPLE"].split(":")
    people = [int(person) for person in people.split(",")]
    gate = os.environ.get("PINGAN_TEST_POINTS_GATE")
    _readings += 1
    if gate and _readings >= int(os.environ.get("PINGAN_TEST_POINTS_GATE_AFTER", "1")):
        (Path(gate) / "reached").touch()
        while not (Path(gate) / "open").exists():
            time.sleep(0.05)
    return [
        PointsClaim(
            user_id=people[evidence_id % len(people)],
            alliance_id=int(alliance),
            reason="merchant_contribution",
            units=1,
            unique_key=f"{BULK_SOURCE}:{evidence_id}",
            source_type="tests.bulk",
            source_id=evidence_id,
            happened_at=BULK_HAPPENED_AT,
        )
        for evidence_id in ids
    ]


if os.environ.get("PINGAN_TEST_POINTS_PEOPLE"):
    points_evidence_register(BULK_SOURCE, bulk_claims_for, recent_ids=lambda since: [])
