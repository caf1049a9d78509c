"""Builders shared by the domain tests: incidents with aware UTC times, walked through the lifecycle
by the real rules, and hypothesis strategies for the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from eim_tui.domain import lifecycle, sla
from eim_tui.domain.errors import TransitionError
from eim_tui.domain.model import HoldReason, Incident, State

T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)

# Moderate, so the suite stays fast; no deadline because CI machines stall.
PROPERTY = settings(max_examples=150, deadline=None)

# A matrix cell that gives each default priority, so impact/urgency and priority agree.
LEVELS_FOR_PRIORITY = {1: (1, 1), 2: (1, 2), 3: (2, 2), 4: (2, 3), 5: (3, 3)}

COMPLETE_REVIEW: dict[str, Any] = {
    "summary": "Payments were down for 40 minutes",
    "went_well": "Paging worked",
    "went_badly": "No runbook for the failover",
    "actions": [{"action": "Write the failover runbook", "owner": "alice"}],
}


def make_incident(**overrides: Any) -> Incident:
    """A new incident reported at T0 (or `reported_at`) with its SLA due times set from the default
    policy of its priority; any field can be overridden."""
    priority = overrides.get("priority", 3)
    reported_at = overrides.get("reported_at", T0)
    impact, urgency = LEVELS_FOR_PRIORITY.get(priority, (2, 2))
    response_due, resolution_due = sla.initial_due(sla.DEFAULT_POLICIES.get(priority, sla.DEFAULT_POLICIES[3]), reported_at)
    fields: dict[str, Any] = {
        "number": 123,
        "title": "Disk full on db01",
        "impact": impact,
        "urgency": urgency,
        "priority": priority,
        "reported_at": reported_at,
        "service": "payments",
        "assignment_group": "database",
        "response_due_at": response_due,
        "resolution_due_at": resolution_due,
    }
    fields.update(overrides)
    return Incident(**fields)


def policy_of(incident: Incident) -> sla.SlaPolicy:
    return sla.DEFAULT_POLICIES[incident.priority]


def incident_in(state: State, *, at: datetime = T0, **overrides: Any) -> Incident:
    """An incident brought into `state` through the lifecycle functions themselves, one minute a step."""
    step = timedelta(minutes=1)
    incident = make_incident(reported_at=at, **overrides)
    if state is State.NEW:
        return incident
    if state is State.CANCELLED:
        return lifecycle.cancel(incident, at + step, "duplicate of INC-000100")
    incident = lifecycle.acknowledge(incident, at + step, "alice")
    if state is State.IN_PROGRESS:
        return incident
    if state is State.ON_HOLD:
        return lifecycle.put_on_hold(incident, at + 2 * step, HoldReason.AWAITING_VENDOR)
    incident = lifecycle.resolve(incident, at + 3 * step, "fixed", "cleared old WAL segments")
    if state is State.RESOLVED:
        return incident
    assert state is State.CLOSED
    return lifecycle.close(incident, at + 4 * step, "bob", review=COMPLETE_REVIEW)


def apply(action: lifecycle.Step, incident: Incident, now: datetime, **kwargs: Any) -> Incident:
    """Run one lifecycle step with arguments that are valid whenever the state allows the step."""
    A = lifecycle.Step
    if action is A.ACKNOWLEDGE:
        return lifecycle.acknowledge(incident, now, kwargs.get("by", "alice"))
    if action is A.HOLD:
        reason = kwargs.get("reason", HoldReason.AWAITING_USER)
        return lifecycle.put_on_hold(incident, now, reason, kwargs.get("note", "waiting on the DBA team"))
    if action is A.RESUME:
        return lifecycle.resume(incident, now)
    if action is A.RESOLVE:
        return lifecycle.resolve(incident, now, "fixed", "restarted the service")
    if action is A.CLOSE:
        return lifecycle.close(incident, now, "bob", rating=5, review=COMPLETE_REVIEW)
    if action is A.REOPEN:
        return lifecycle.reopen(incident, now, "came back after an hour", policy_of(incident))
    assert action is A.CANCEL
    return lifecycle.cancel(incident, now, "raised by mistake")


# --- hypothesis strategies --------------------------------------------------------------------

priorities = st.integers(min_value=1, max_value=5)
hold_reasons = st.sampled_from(list(HoldReason))
actions = st.sampled_from(list(lifecycle.Step))
states = st.sampled_from(list(State))
# Steps between events: mostly minutes, sometimes days, sometimes with microseconds.
gaps = st.one_of(
    st.integers(min_value=0, max_value=2 * 3600).map(lambda s: timedelta(seconds=s)),
    st.integers(min_value=0, max_value=3 * 86400).map(lambda s: timedelta(seconds=s)),
    st.integers(min_value=0, max_value=10**10).map(lambda us: timedelta(microseconds=us)),
)
# Cancel is allowed from every open state, so it is drawn less often or runs would mostly end cancelled.
lived_actions = st.sampled_from([a for a in lifecycle.Step if a is not lifecycle.Step.CANCEL] * 4 + [lifecycle.Step.CANCEL])


@st.composite
def lived_incidents(draw: st.DrawFn, max_steps: int = 12) -> tuple[Incident, datetime]:
    """An incident reported at T0 that went through a random run of lifecycle steps (the ones its
    state forbade were skipped), and the instant of its last step."""
    incident = make_incident(priority=draw(priorities), major=draw(st.booleans()))
    now = T0
    for action, gap, reason in draw(st.lists(st.tuples(lived_actions, gaps, hold_reasons), max_size=max_steps)):
        try:
            incident = apply(action, incident, now + gap, reason=reason)
        except TransitionError:
            continue
        now += gap
    return incident, now
