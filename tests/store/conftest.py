"""Builders for the store tests: incidents logged through the real use cases."""

from __future__ import annotations

import pytest

from eim_tui.domain.intake import NewIncident


def report(title: str = "Payments API returns 502", impact: int = 2, urgency: int = 2, **fields) -> NewIncident:
    return NewIncident(title=title, impact=impact, urgency=urgency, **fields)


@pytest.fixture
def log(svc):
    """`log(title=…, impact=…, …)` logs an incident as alice and returns it."""

    def _log(actor: str = "alice", **fields):
        return svc.log_incident(report(**fields), actor)

    return _log
