"""Indexes that hand the statistics' repeat search its cases in order (PostgreSQL only).

``reports.statistics.postgres`` marks a case as a repeat when an earlier case of its alliance lies in its own
0.0003-degree "near cell" within 30 days: a window over the cases by alliance, near cell and time. These indexes
keep each kind's cases in that order, with every column the search reads, so PostgreSQL merges two index-only
scans instead of reading the rows and sorting them for every statistics request. The near-cell expressions must
be exactly those of ``reports.statistics.postgres.NEAR_CELL_SQL`` (PostgreSQL uses an expression index only for
the same expression).

Built ``CONCURRENTLY`` (hence ``atomic = False``): on a big table the build takes a while but does not block
writes. SQLite, the embedded default, computes the statistics in Python and gets no index; the indexes are not
in the models' state (Django cannot express a PostgreSQL-only index), so ``makemigrations`` leaves them alone.
"""

from django.db import migrations

INDEXES = {
    "incident_near_cell_time": (
        "reports_incident",
        "created_at",
        "id, latitude, longitude, merged_into_id, status",
    ),
    "dispute_near_cell_time": (
        "reports_dispute",
        "flagged_at",
        "id, latitude, longitude, outcome",
    ),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, time_column, included) in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} (alliance_id, "
            "floor(latitude::float8 / 0.0003::float8), floor(longitude::float8 / 0.0003::float8), "
            f"{time_column}) INCLUDE ({included})"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("reports", "0004_one_case_per_message_and_kind"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
