"""Small helpers for queries on hot paths, where what Django does in Python costs more than the database's work."""

from __future__ import annotations

from django.db.models import Model, QuerySet


def unique_row(queryset: QuerySet) -> Model | None:
    """The row a query on a unique key matches, or None: ``LIMIT 1`` and no ``ORDER BY``.

    ``first()`` orders by the primary key when the query has no order of its own (or by the model's default
    ordering), and compiling an ``ORDER BY`` next to a long select list (``select_related``) hashes every selected
    column: on a member's alliance access, a quarter of that request's work in Python (docs/performance.md), for an
    order among at most one row."""
    return next(iter(queryset.order_by()[:1]), None)
