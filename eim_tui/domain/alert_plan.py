"""What the alert receiver's pure side hands its use cases: payload statuses, the routing an alert
gets, and the units of work a payload is planned into.

The receiver (`ingest`) parses bodies into `Alert`s (a bad one raises `PayloadError`), routes them
(`Routing`) and plans them unit by unit against what the store knew (`Snapshot` → `Unit`); the use
cases (`services.alert_intake`) read that snapshot and apply each unit as one transaction. The
shapes live here so that neither side imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from eim_tui.domain.alerts import (
    Alert,
    AlertStatus,
    Decision,
    Outcome,
    RefirePolicy,
    StoredAlert,
)
from eim_tui.domain.intake import NewIncident
from eim_tui.domain.model import Incident, Source

SENDERS = {"alertmanager": "Prometheus Alertmanager", "pagerduty": "PagerDuty Events v2", "grafana": "Grafana Alerting"}


class PayloadStatus:
    """What became of a stored body."""

    PENDING = "pending"
    PROCESSED = "processed"
    REJECTED = "rejected"
    FAILED = "failed"


class PayloadError(Exception):
    """A request the receiver refuses: `status` is the HTTP status, the message one line."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Routing:
    """What an alert's incident gets: the rule that decided it, and the fields."""

    rule: str
    title: str
    service: str
    configuration_item: str
    category: str
    subcategory: str
    assignment_group: str
    impact: int
    urgency: int
    on_refire: RefirePolicy
    auto_resolve: bool
    resolution_code: str
    reporter_name: str = ""
    reporter_contact: str = ""
    reporter_department: str = ""
    # While a change is in progress on the incident's service/CI: "hold" puts the new incident on
    # hold awaiting change (no SLA, nobody paged); "note" only records "during CHG-…".
    during_change: str = "note"


# Links a sender gives an alert (Grafana: dashboard, panel, silence form), kept on its incident.
LINKS = (("dashboard_url", "Dashboard"), ("panel_url", "Panel"), ("silence_url", "Silence"))


# --- units of work -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The stored alerts of a payload's dedup keys, and their incidents, as read together."""

    stored: dict[str, StoredAlert]
    incidents: dict[int, Incident]

    def incident_of(self, stored: StoredAlert | None) -> Incident | None:
        if stored is None or stored.incident_number is None:
            return None
        return self.incidents.get(stored.incident_number)

    def group_incident(self, alert: Alert, keys: list[str]) -> Incident | None:
        """An open incident that another alert of the same group (same payload) belongs to."""
        if not alert.group_key or len(keys) < 2:
            return None
        numbers = sorted({s.incident_number for k in keys if (s := self.stored.get(k)) and s.incident_number})
        return next((self.incidents[n] for n in numbers if n in self.incidents and self.incidents[n].is_open), None)


@dataclass(frozen=True, slots=True)
class Step:
    alert: Alert
    stored: StoredAlert | None
    decision: Decision
    routing_alert: Alert  # the alert with the labels it was routed by (stored ones for a bare resolve)


@dataclass(slots=True)
class Unit:
    """One transaction's worth: a single step, or several steps on `target`."""

    steps: list[Step] = field(default_factory=list)
    target: Incident | None = None

    @property
    def outcome(self) -> Outcome:
        return self.steps[0].decision.outcome

    @property
    def keys(self) -> list[str]:
        return [s.alert.dedup_key for s in self.steps]


def firing_after(step: Step) -> bool | None:
    """Whether this alert fires once the step is applied (None: it did not change)."""
    if step.alert.status is AlertStatus.FIRING:
        return True
    if step.alert.status is AlertStatus.RESOLVED:
        return False
    return None


# --- the incident an alert opens ---------------------------------------------------------------


def describe(alert: Alert, routing: Routing) -> str:
    """The incident's description: what the alert says, its labels, and where it came from."""
    lines = []
    if alert.summary and alert.summary != routing.title:
        lines.append(alert.summary)
    if alert.description and alert.description != alert.summary:
        lines.append(alert.description)
    if runbook := alert.annotations.get("runbook_url"):
        lines.append(f"Runbook: {runbook}")
    for name, label in LINKS:
        if link := alert.annotations.get(name):
            lines.append(f"{label}: {link}")
    if alert.labels:
        lines.append("Labels: " + ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items())))
    if alert.url:
        lines.append(f"Source: {alert.url}")
    lines.append(f"Alert: {alert.source} {alert.dedup_key} (routing rule {routing.rule})")
    return "\n\n".join(lines)


def incident_report(alert: Alert, routing: Routing, now: datetime, parent: int | None) -> NewIncident:
    """The report an alert logs; a start time in the future is not believed."""
    detected = min(alert.starts_at, now) if alert.starts_at is not None else None
    return NewIncident(
        title=routing.title,
        impact=routing.impact,
        urgency=routing.urgency,
        description=describe(alert, routing),
        source=Source.MONITORING,
        detected_at=detected,
        reporter_name=routing.reporter_name or SENDERS.get(alert.source, alert.sender),
        reporter_contact=routing.reporter_contact,
        reporter_department=routing.reporter_department,
        service=routing.service,
        configuration_item=routing.configuration_item,
        category=routing.category,
        subcategory=routing.subcategory,
        assignment_group=routing.assignment_group,
        parent_number=parent,
        alert_count=1,
        last_alert_at=now,
        alerts_resolved=alert.status is AlertStatus.RESOLVED,
    )
