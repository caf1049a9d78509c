"""Planning a payload's alerts into units of work, each one transaction (pure: no store).

Alertmanager sends a group's alerts together, and again each time the group changes, so most
alerts of a payload land on one incident. `next_unit` takes the alerts still to apply and what
the store knew when last read (`Snapshot`), decides the first alert, and — when that one only adds
to an existing incident — gathers the following alerts that do the same to the same incident,
so they are applied in one transaction. Anything that creates or reopens an incident is a unit
of its own; the next unit is planned after a fresh read. The shapes (`Snapshot`, `Step`, `Unit`)
are in `domain.alert_plan`; `Planner` is how the use cases (`services.alert_intake`) call back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from eim_tui.domain.alert_plan import Routing, Snapshot, Step, Unit
from eim_tui.domain.alerts import Alert, Outcome, StoredAlert, decide
from eim_tui.ingest import adapters
from eim_tui.ingest.routing import AlertRouting

# Outcomes that only add to an incident that exists: they can share a transaction.
BATCHABLE = frozenset({Outcome.UPDATE, Outcome.RESOLVE, Outcome.NOTE, Outcome.JOIN})


def routed_by(alert: Alert, stored: StoredAlert | None) -> Alert:
    """A PagerDuty resolve or acknowledge carries no labels: route it by those stored at trigger."""
    if alert.labels or stored is None or not stored.labels:
        return alert
    return replace(alert, labels=dict(stored.labels), annotations=dict(stored.annotations),
                   severity=stored.labels.get("severity", alert.severity))


def _step(alert: Alert, snapshot: Snapshot, keys: list[str], payload_id: int, routing: AlertRouting) -> Step:
    stored = snapshot.stored.get(alert.dedup_key)
    incident = snapshot.incident_of(stored)
    group = snapshot.group_incident(alert, keys) if incident is None else None
    by = routed_by(alert, stored)
    decision = decide(alert, stored, incident, group, payload_id, routing.on_refire(by))
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


@dataclass(frozen=True)
class Planner:
    """The receiver's pure side as the use cases call it back (`services.alert_intake.AlertPlanner`):
    parse a stored body, plan the next unit, route an alert — all by these routing rules."""

    routing: AlertRouting

    def parse(self, source: str, body: bytes) -> list[Alert]:
        return adapters.parse(source, body)

    def next_unit(self, remaining: list[Alert], keys: list[str], snapshot: Snapshot, payload_id: int) -> Unit:
        return next_unit(remaining, keys, snapshot, payload_id, self.routing)

    def route(self, alert: Alert) -> Routing:
        return self.routing.route(alert)
