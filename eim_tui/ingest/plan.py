"""Planning a payload's alerts into units of work, each one transaction (pure: no store).

Alertmanager sends a group's alerts together, and again each time the group changes, so most
alerts of a payload land on one incident. `next_unit` takes the alerts still to apply and what
the store knew when last read (`Snapshot`), decides the first alert, and — when that one only adds
to an existing incident — gathers the following alerts that do the same to the same incident,
so they are applied in one transaction. Anything that creates or reopens an incident is a unit
of its own; the next unit is planned after a fresh read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eim_tui.domain.alerts import Alert, AlertStatus, Decision, Outcome, StoredAlert, decide
from eim_tui.domain.model import Incident
from eim_tui.ingest.routing import AlertRouting

# Outcomes that only add to an incident that exists: they can share a transaction.
BATCHABLE = frozenset({Outcome.UPDATE, Outcome.RESOLVE, Outcome.NOTE, Outcome.JOIN})


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


def routed_by(alert: Alert, stored: StoredAlert | None) -> Alert:
    """A PagerDuty resolve or acknowledge carries no labels: route it by those stored at trigger."""
    if alert.labels or stored is None or not stored.labels:
        return alert
    from dataclasses import replace

    return replace(alert, labels=dict(stored.labels), annotations=dict(stored.annotations),
                   severity=stored.labels.get("severity", alert.severity))


def _step(alert: Alert, snapshot: Snapshot, keys: list[str], payload_id: int, routing: AlertRouting) -> Step:
    stored = snapshot.stored.get(alert.dedup_key)
    incident = snapshot.incident_of(stored)
    group = snapshot.group_incident(alert, keys) if incident is None else None
    by = routed_by(alert, stored)
    decision = decide(alert, stored, incident, group, payload_id, routing.route(by).on_refire)
    return Step(alert, stored, decision, by)


def next_unit(
    remaining: list[Alert], keys: list[str], snapshot: Snapshot, payload_id: int, routing: AlertRouting
) -> Unit:
    """The first unit of work for `remaining` (`keys`: every dedup key of the payload)."""
    first = _step(remaining[0], snapshot, keys, payload_id, routing)
    target_number = first.decision.incident
    unit = Unit([first], snapshot.incidents.get(target_number) if target_number is not None else None)
    if first.decision.outcome not in BATCHABLE:
        return unit
    seen = {first.alert.dedup_key}
    for alert in remaining[1:]:
        if alert.dedup_key in seen:  # the same alert twice in one payload: the next unit skips it
            break
        step = _step(alert, snapshot, keys, payload_id, routing)
        if step.decision.outcome not in BATCHABLE or step.decision.incident != target_number:
            break
        unit.steps.append(step)
        seen.add(alert.dedup_key)
    return unit


def firing_after(step: Step) -> bool | None:
    """Whether this alert fires once the step is applied (None: it did not change)."""
    if step.alert.status is AlertStatus.FIRING:
        return True
    if step.alert.status is AlertStatus.RESOLVED:
        return False
    return None
