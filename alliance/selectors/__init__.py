"""Reads of the alliance app, one module per domain: ``alliances`` (jurisdictions, alliances, access, members,
invites, stores), and beside it the points, rewards and Safe Store ranking reads."""
