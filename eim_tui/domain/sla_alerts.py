"""An SLA event as the people who may hear of it see it: the timeline entry with its incident's people.

The store reads these (`store/sla_queries.alert_events_since`); the notifiers decide from them who
is told (`notify/policy.relevant_alerts`) without touching the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eim_tui.domain.model import EventKind


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """An SLA warning, breach or escalation in the timeline, with what deciding who hears of it needs."""

    seq: int
    number: int
    at: datetime
    kind: EventKind
    summary: str
    data: dict[str, Any]
    priority: int
    title: str
    assignee: str
    group: str
    confidential: bool
    watched: bool
