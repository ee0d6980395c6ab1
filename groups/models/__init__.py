"""The groups app's tables, one module per domain: contact groups and their lines, and the patrol (where: zones,
grids, routes, checkpoints, support points; who and when: teams, shifts, sign-ups; what happened: check-ins, scans,
the patrol log). Django finds an app's models through this package, so every module is imported here."""

from groups.models.contact_groups import ContactGroup, GroupMembership, Message, OutboxEvent, message_image_path
from groups.models.patrol_duty import CheckpointScan, CoordinateSystem, PatrolAttempt, PatrolLogEntry
from groups.models.patrol_geography import Checkpoint, PatrolGrid, PatrolRoute, PatrolZone, SupportPoint
from groups.models.patrol_rosters import (
    CalendarFeed,
    PatrolTeam,
    PatrolTeamMember,
    Shift,
    ShiftSignup,
    ShiftSwapRequest,
    ShiftTemplate,
    SlotRole,
)

__all__ = [
    "CalendarFeed",
    "Checkpoint",
    "CheckpointScan",
    "ContactGroup",
    "CoordinateSystem",
    "GroupMembership",
    "Message",
    "OutboxEvent",
    "PatrolAttempt",
    "PatrolGrid",
    "PatrolLogEntry",
    "PatrolRoute",
    "PatrolTeam",
    "PatrolTeamMember",
    "PatrolZone",
    "Shift",
    "ShiftSignup",
    "ShiftSwapRequest",
    "ShiftTemplate",
    "SlotRole",
    "SupportPoint",
    "message_image_path",
]
