"""What the evidence owners queue for the points ledger, caught before the broker: the tests of groups' and reports'
points evidence read the settle calls a transaction queued after it committed (``settle_points_task.delay`` is
replaced, so the ledger itself, filled by its own change, is not run here)."""

from __future__ import annotations

from contextlib import contextmanager
from unittest import mock

import pytest

from alliance.tasks import settle_points_task


class Queued:
    def __init__(self, delay: mock.MagicMock, capture):
        self._delay = delay
        self._capture = capture

    @contextmanager
    def committing(self):
        """The block's transactions commit at its end (the test's own transaction never does): what they queued
        with ``transaction.on_commit`` runs then; what a rolled-back savepoint queued was dropped with it."""
        with self._capture(execute=True):
            yield

    @property
    def calls(self) -> list[tuple[str, list[int]]]:
        """Every (source, ids) queued so far, in order."""
        return [tuple(call.args) for call in self._delay.call_args_list]

    def of(self, source: str) -> list[list[int]]:
        return [ids for queued_source, ids in self.calls if queued_source == source]

    def clear(self) -> None:
        self._delay.reset_mock()


@pytest.fixture
def queued(django_capture_on_commit_callbacks):
    """``with queued.committing(): ...`` runs the block's after-commit work; ``queued.of(source)`` is what it
    queued for the ledger."""
    with mock.patch.object(settle_points_task, "delay") as delay:
        yield Queued(delay, django_capture_on_commit_callbacks)
