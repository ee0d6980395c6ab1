"""The groups app's tables, one module per domain: contact groups and their lines, and the patrol (zones, teams,
shifts, check-ins). Django finds an app's models through this package, so every module is imported here."""

from groups.models.contact_groups import ContactGroup, GroupMembership, Message, OutboxEvent, message_image_path

__all__ = ["ContactGroup", "GroupMembership", "Message", "OutboxEvent", "message_image_path"]
