"""Monitoring alerts: the one shape every format becomes, and what an alert does to an incident.

Pure rules. The ingest adapters turn webhook bodies into `Alert`s; the processor reads what the
store knows (`StoredAlert`, its incident) and asks `decide` what to do; `record_*` and
`auto_resolve` compute the incident after, so the use case can diff it into the timeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from eim_tui.domain import lifecycle
from eim_tui.domain.events import EventDraft
from eim_tui.domain.model import FINAL_STATES, EventKind, Incident, State


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"
    ACKNOWLEDGED = "acknowledged"  # PagerDuty's acknowledge: someone is on it elsewhere


class RefirePolicy(StrEnum):
    """What an alert firing again does once its incident was resolved."""

    REOPEN = "reopen"  # the resolved incident goes back to in progress
    NEW = "new"  # a new incident, linked to the resolved one as its parent


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert as a monitoring system reported it, whatever the wire format."""

    source: str  # alertmanager, pagerduty, generic
    dedup_key: str  # Alertmanager fingerprint, PagerDuty dedup_key, the generic event's key
    status: AlertStatus
    name: str  # alertname, or the event's summary
    summary: str = ""
    description: str = ""
    severity: str = ""  # lower case as sent: critical, warning, info…
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    group_key: str = ""  # alerts Alertmanager sent as one group share an incident
    url: str = ""
    sender: str = ""  # who sent it; the timeline's actor
    overrides: dict[str, Any] = field(default_factory=dict)  # incident fields a generic event sets itself

    def fields(self) -> dict[str, str]:
        """What routing matchers and title templates see: standard fields, annotations, labels."""
        values = {"alertname": self.name, "severity": self.severity, "summary": self.summary or self.name,
                  "dedup_key": self.dedup_key, "source": self.source}
        values.update(self.annotations)
        values.update(self.labels)
        if "host" not in values:
            host = values.get("hostname") or values.get("instance") or ""
            values["host"] = _PORT.sub("", host)
        return {k: v for k, v in values.items() if v != ""}

    @property
    def display(self) -> str:
        """`DiskFull on db01:9100`: the alert in a few words, for the timeline."""
        where = self.labels.get("instance") or self.labels.get("host") or self.labels.get("source") or ""
        return f"{self.name} on {where}" if where and where not in self.name else self.name


_PORT = re.compile(r":\d+$")


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """What the store knows about an alert it has seen before."""

    id: int
    source: str
    dedup_key: str
    incident_number: int | None
    status: AlertStatus
    name: str
    count: int
    starts_at: datetime | None
    ends_at: datetime | None
    payload_id: int | None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


class Outcome(StrEnum):
    """What a monitoring alert does to an incident (decided by `decide`)."""

    OPEN = "open"  # a new incident
    JOIN = "join"  # a new alert of a group whose incident is open: it joins that incident
    UPDATE = "update"  # its incident again: count, last seen, and "alerts resolved" cleared
    REOPEN = "reopen"  # fires again after its incident was resolved: reopen it
    OPEN_LINKED = "open_linked"  # fires again after resolution/closure: a new incident, linked
    RESOLVE = "resolve"  # the alert resolved: a timeline line, maybe "all alerts resolved"
    NOTE = "note"  # acknowledged in the monitoring system: a timeline line only
    TRACK = "track"  # its incident is closed or cancelled and it is the same episode: alert row only
    SKIP = "skip"  # nothing to do: this payload was applied already, or a repeated resolve


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    incident: int | None = None  # the incident acted on; for OPEN_LINKED, the parent
    reason: str = ""


def same_episode(alert: Alert, stored: StoredAlert) -> bool:
    """Whether a firing alert is the one already recorded still firing, not a new occurrence.

    Alertmanager repeats a firing alert with the same start; a new start, or a stored resolve,
    means it stopped and began again."""
    if stored.status is AlertStatus.RESOLVED:
        return False
    return alert.starts_at is None or stored.starts_at is None or alert.starts_at == stored.starts_at


def decide(
    alert: Alert,
    stored: StoredAlert | None,
    incident: Incident | None,
    group_incident: Incident | None,
    payload_id: int,
    on_refire: RefirePolicy,
) -> Decision:
    """What one alert does, given what the store knows.

    `incident` is the stored alert's incident; `group_incident` an open incident that another
    alert of the same group (same payload) already belongs to."""
    if stored is not None and stored.payload_id == payload_id:
        return Decision(Outcome.SKIP, stored.incident_number, "this payload was applied already")
    if stored is None or incident is None:
        if alert.status is AlertStatus.ACKNOWLEDGED:
            return Decision(Outcome.SKIP, None, "acknowledged, but no alert with that key is known")
        if group_incident is not None and group_incident.is_open:
            return Decision(Outcome.JOIN, group_incident.number, "a new alert of an open incident's group")
        return Decision(Outcome.OPEN, None, "a new alert")
    number = incident.number
    if alert.status is AlertStatus.ACKNOWLEDGED:
        if incident.state in FINAL_STATES:
            return Decision(Outcome.TRACK, number, f"acknowledged, but {incident.key} is {incident.state.label}")
        return Decision(Outcome.NOTE, number, "acknowledged in the monitoring system")
    if alert.status is AlertStatus.RESOLVED:
        if stored.status is AlertStatus.RESOLVED:
            return Decision(Outcome.SKIP, number, "already resolved")
        if incident.state in FINAL_STATES:
            return Decision(Outcome.TRACK, number, f"resolved; {incident.key} is {incident.state.label}")
        return Decision(Outcome.RESOLVE, number, "the alert resolved")
    if incident.is_open:
        return Decision(Outcome.UPDATE, number, "fired again" if stored.status is AlertStatus.RESOLVED else "still firing")
    if same_episode(alert, stored):
        if incident.state is State.RESOLVED:
            return Decision(Outcome.UPDATE, number, f"still firing after {incident.key} was resolved")
        return Decision(Outcome.TRACK, number, f"still firing; {incident.key} is {incident.state.label}")
    if incident.state is State.RESOLVED and on_refire is RefirePolicy.REOPEN:
        return Decision(Outcome.REOPEN, number, "fired again after its incident was resolved")
    return Decision(Outcome.OPEN_LINKED, number, f"fired again after {incident.key} was {incident.state.label}")


# --- what the incident becomes -----------------------------------------------------------------


def record_firing(incident: Incident, at: datetime) -> Incident:
    return incident.replace(alert_count=incident.alert_count + 1, last_alert_at=at, alerts_resolved=False)


def record_resolved(incident: Incident, all_resolved: bool) -> Incident:
    return incident.replace(alerts_resolved=all_resolved)


def auto_resolve(incident: Incident, now: datetime, code: str, valid_codes: frozenset[str]) -> Incident:
    """Resolve an incident whose alerts all cleared, where a routing rule allows it.

    From new it is acknowledged first (that is the response) without anyone taking it."""
    step = incident
    if step.state is State.ON_HOLD:
        step = lifecycle.resume(step, now)
    if step.state is State.NEW:
        step = lifecycle.acknowledge(step, now, by="").replace(assignee=incident.assignee)
    if step.state is not State.IN_PROGRESS:
        return incident
    return lifecycle.resolve(step, now, code, "all alerts resolved; resolved automatically by the routing rule",
                             valid_codes=valid_codes)


# --- what the timeline says --------------------------------------------------------------------


def alert_data(alert: Alert, payload_id: int, count: int) -> dict[str, Any]:
    return {
        "source": alert.source,
        "dedup_key": alert.dedup_key,
        "status": alert.status.value,
        "name": alert.name,
        "severity": alert.severity,
        "labels": dict(alert.labels),
        "starts_at": alert.starts_at,
        "ends_at": alert.ends_at,
        "count": count,
        "payload_id": payload_id,
    }


def received_event(alert: Alert, payload_id: int, count: int, reason: str = "") -> EventDraft:
    times = f" (received {count}×)" if count > 1 else ""
    why = f" — {reason}" if reason and reason not in ("a new alert", "still firing") else ""
    return (EventKind.ALERT_RECEIVED, f"{alert.source} alert {alert.display} firing{times}{why}",
            alert_data(alert, payload_id, count))


def acknowledged_event(alert: Alert, payload_id: int, count: int) -> EventDraft:
    return (EventKind.ALERT_RECEIVED, f"{alert.source} alert {alert.display} acknowledged there",
            alert_data(alert, payload_id, count))


def resolved_event(alert: Alert, payload_id: int, count: int, firing_left: int | None) -> EventDraft:
    """`firing_left`: how many of the incident's alerts still fire; None when this one arrived
    already resolved and changes nothing about the others."""
    ended = f" at {alert.ends_at.astimezone(UTC):%H:%M:%S} UTC" if alert.ends_at else ""
    if firing_left is None:
        rest = " (first received already resolved)"
    elif firing_left == 0:
        rest = "; all alerts resolved — verify and resolve the incident"
    else:
        rest = f"; {firing_left} still firing"
    return (EventKind.ALERT_RESOLVED, f"{alert.source} alert {alert.display} resolved{ended}{rest}",
            {**alert_data(alert, payload_id, count), "firing_left": firing_left})


# --- times as monitoring systems write them ----------------------------------------------------

_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(Z|z|[+-]\d{2}:?\d{2})$"
)


def parse_time(text: str) -> datetime | None:
    """An RFC 3339 instant as Go and PagerDuty write it: nine fractional digits, `Z` or `+0000`.

    Go's zero time (`0001-01-01T00:00:00Z`, Alertmanager's "no end yet") is None. Raises
    ValueError for anything else."""
    m = _TIME.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not an RFC 3339 time like 2026-11-26T09:00:00Z")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    if year <= 1:
        return None
    micro = int((m.group(7) or "0")[:6].ljust(6, "0"))
    zone = m.group(8)
    offset = timedelta(0)
    if zone not in ("Z", "z"):
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if zone[0] == "-":
            offset = -offset
    try:
        naive = datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        raise ValueError(f"{text!r} is not a real date and time") from None
    return (naive - offset).replace(tzinfo=UTC)
