"""HTTP endpoints for police units, alliances, members, invites, joining and stores: one module per resource.

Every lookup goes through a selector scoped to the viewer: an id that is not theirs to see answers 404, whichever
alliance it belongs to. Inside an alliance the viewer can see, a forbidden action answers 403.
"""
