"""Reads on dispute flags and incident reports, scoped to what the viewer may see: ``police`` (the alliances whose
cases an officer sees through their posts), ``disputes``, ``escalation_policies``,
``incidents``."""
