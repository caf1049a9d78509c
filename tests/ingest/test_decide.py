"""What one alert does to an incident, given what the store knows (pure rules of domain.alerts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from eim_tui.domain.alerts import (
    Alert,
    AlertStatus,
    Outcome,
    RefirePolicy,
    StoredAlert,
    auto_resolve,
    decide,
    record_firing,
)
from eim_tui.domain.model import Incident, State

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _alert(status: AlertStatus = AlertStatus.FIRING, starts: datetime | None = T0) -> Alert:
    return Alert("alertmanager", "fp1", status, "DiskFull", starts_at=starts)


def _stored(status: AlertStatus = AlertStatus.FIRING, starts: datetime | None = T0, payload: int = 1) -> StoredAlert:
    return StoredAlert(7, "alertmanager", "fp1", 3, status, "DiskFull", 2, starts, None, payload)


def _incident(state: State = State.NEW, number: int = 3) -> Incident:
    return Incident(number=number, title="DiskFull", impact=2, urgency=2, priority=3, reported_at=T0, state=state)


REOPEN, NEW = RefirePolicy.REOPEN, RefirePolicy.NEW
F, R, A = AlertStatus.FIRING, AlertStatus.RESOLVED, AlertStatus.ACKNOWLEDGED
LATER = T0 + timedelta(hours=1)


@pytest.mark.parametrize(
    ("alert", "stored", "state", "policy", "outcome"),
    [
        (_alert(), None, None, REOPEN, Outcome.OPEN),
        (_alert(R), None, None, REOPEN, Outcome.OPEN),  # first heard of once resolved: still logged
        (_alert(A), None, None, REOPEN, Outcome.SKIP),  # acknowledging something unknown
        (_alert(), _stored(), State.NEW, REOPEN, Outcome.UPDATE),  # repeated firing
        (_alert(), _stored(R), State.IN_PROGRESS, REOPEN, Outcome.UPDATE),  # fires again, incident still open
        (_alert(R), _stored(), State.IN_PROGRESS, REOPEN, Outcome.RESOLVE),
        (_alert(R), _stored(R), State.IN_PROGRESS, REOPEN, Outcome.SKIP),  # resolve repeated
        (_alert(A), _stored(), State.NEW, REOPEN, Outcome.NOTE),
        (_alert(starts=LATER), _stored(R), State.RESOLVED, REOPEN, Outcome.REOPEN),
        (_alert(starts=LATER), _stored(R), State.RESOLVED, NEW, Outcome.OPEN_LINKED),
        (_alert(starts=LATER), _stored(), State.RESOLVED, REOPEN, Outcome.REOPEN),  # a new start: a new episode
        (_alert(), _stored(), State.RESOLVED, REOPEN, Outcome.UPDATE),  # same episode, resolved by a person early
        (_alert(starts=LATER), _stored(R), State.CLOSED, REOPEN, Outcome.OPEN_LINKED),  # closed cannot reopen
        (_alert(starts=LATER), _stored(R), State.CANCELLED, REOPEN, Outcome.OPEN_LINKED),
        (_alert(), _stored(), State.CANCELLED, REOPEN, Outcome.TRACK),  # cancelled as noise: no new incident
        (_alert(R), _stored(), State.CLOSED, REOPEN, Outcome.TRACK),
    ],
)
def test_decide(alert, stored, state, policy, outcome) -> None:
    incident = _incident(state) if state else None
    decision = decide(alert, stored, incident, None, payload_id=99, on_refire=policy)
    assert decision.outcome is outcome
    if stored is not None:
        assert decision.incident == 3


def test_a_payload_applied_already_is_skipped() -> None:
    decision = decide(_alert(), _stored(payload=99), _incident(), None, payload_id=99, on_refire=REOPEN)
    assert decision.outcome is Outcome.SKIP


def test_a_new_alert_joins_its_group_s_open_incident_only() -> None:
    assert decide(_alert(), None, None, _incident(number=5), 99, REOPEN).outcome is Outcome.JOIN
    assert decide(_alert(), None, None, _incident(State.RESOLVED, 5), 99, REOPEN).outcome is Outcome.OPEN


def test_firing_counts_and_clears_all_resolved() -> None:
    after = record_firing(_incident().replace(alert_count=2, alerts_resolved=True), LATER)
    assert (after.alert_count, after.last_alert_at, after.alerts_resolved) == (3, LATER, False)


@pytest.mark.parametrize("state", [State.NEW, State.IN_PROGRESS])
def test_auto_resolve_from_new_or_in_progress_takes_no_one(state: State) -> None:
    resolved = auto_resolve(_incident(state), LATER, "no_fault_found", frozenset({"no_fault_found"}))
    assert (resolved.state, resolved.resolved_at, resolved.resolution_code, resolved.assignee) == (
        State.RESOLVED, LATER, "no_fault_found", "")
