"""Writes on police units, alliances, members, invites, join requests and stores: one module per resource.

Permission checks live in ``alliance.permissions``; callers pass what the viewer has in the alliance
(``alliance.selectors.alliances.AllianceAccess``), found by a selector that already answered 404 for outsiders.
Whoever becomes or stops being a member is added to or removed from what the apps above keep for the alliance (its
contact groups) through ``alliance.hooks``, in the same transaction (groups publish their live events after commit).
"""
