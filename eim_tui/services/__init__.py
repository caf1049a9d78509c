"""The use cases: each is one transaction that changes the store and writes the timeline with it."""

from eim_tui.services.incidents import IncidentDetails, Services

__all__ = ["IncidentDetails", "Services"]
