"""The incident lifecycle: allowed and forbidden steps, what each step records, and invariants
over random sequences of steps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eim_tui.domain import lifecycle
from eim_tui.domain.errors import TransitionError, ValidationError
from eim_tui.domain.lifecycle import Step
from eim_tui.domain.model import FINAL_STATES, HoldReason, State

from .factories import (
    COMPLETE_REVIEW,
    PROPERTY,
    T0,
    actions,
    apply,
    gaps,
    hold_reasons,
    incident_in,
    make_incident,
    policy_of,
    priorities,
)

# Written out by hand from DESIGN.md, not read from lifecycle.TRANSITIONS.
EXPECTED: dict[State, dict[Step, State]] = {
    State.NEW: {Step.ACKNOWLEDGE: State.IN_PROGRESS, Step.CANCEL: State.CANCELLED},
    State.IN_PROGRESS: {
        Step.HOLD: State.ON_HOLD,
        Step.RESOLVE: State.RESOLVED,
        Step.CANCEL: State.CANCELLED,
    },
    State.ON_HOLD: {Step.RESUME: State.IN_PROGRESS, Step.CANCEL: State.CANCELLED},
    State.RESOLVED: {Step.CLOSE: State.CLOSED, Step.REOPEN: State.IN_PROGRESS},
    State.CLOSED: {},
    State.CANCELLED: {},
}

LATER = T0 + timedelta(hours=1)
ALL_PAIRS = [(action, state) for state in State for action in Step]


@pytest.mark.parametrize(("action", "state"), ALL_PAIRS, ids=[f"{a}-{s}" for a, s in ALL_PAIRS])
def test_every_action_from_every_state(action: Step, state: State) -> None:
    incident = incident_in(state)
    assert incident.state is state
    allowed = EXPECTED[state]
    assert lifecycle.allowed_steps(state) == [a for a in Step if a in allowed]
    assert lifecycle.can(action, state) == (action in allowed)
    if action in allowed:
        assert apply(action, incident, LATER).state is allowed[action]
        return
    with pytest.raises(TransitionError) as caught:
        apply(action, incident, LATER)
    error = caught.value
    assert error.action == action.value
    assert error.allowed == [a.value for a in Step if a in allowed]
    message = str(error)
    assert f"cannot {action.value}" in message
    assert state.label in message
    for name in allowed:
        assert name.value in message
    if not allowed:
        assert "final" in message


@pytest.mark.parametrize("state", sorted(FINAL_STATES))
def test_closed_and_cancelled_are_final(state: State) -> None:
    assert lifecycle.allowed_steps(state) == []
    incident = incident_in(state)
    for action in Step:
        with pytest.raises(TransitionError):
            apply(action, incident, LATER)


# --- acknowledge ----------------------------------------------------------------------------


def test_acknowledge_sets_acknowledged_at_and_takes_the_incident() -> None:
    incident = lifecycle.acknowledge(make_incident(), LATER, "carol")
    assert incident.state is State.IN_PROGRESS
    assert incident.acknowledged_at == LATER
    assert incident.assignee == "carol"


def test_acknowledge_keeps_someone_already_assigned() -> None:
    incident = lifecycle.acknowledge(make_incident(assignee="dave"), LATER, "carol")
    assert incident.assignee == "dave"
    assert incident.acknowledged_at == LATER


def test_acknowledge_never_moves_an_earlier_acknowledgement() -> None:
    """History imported from elsewhere may carry a first response already."""
    first = T0 + timedelta(minutes=3)
    incident = lifecycle.acknowledge(make_incident(acknowledged_at=first), LATER, "carol")
    assert incident.acknowledged_at == first


# --- hold and resume ------------------------------------------------------------------------


@pytest.mark.parametrize("reason", [HoldReason.AWAITING_USER, HoldReason.AWAITING_VENDOR, HoldReason.AWAITING_CHANGE])
def test_hold_awaiting_someone_pauses_the_sla(reason: HoldReason) -> None:
    held = lifecycle.put_on_hold(incident_in(State.IN_PROGRESS), LATER, reason, " ticket 42 ")
    assert (held.state, held.hold_reason, held.hold_note, held.paused_since) == (State.ON_HOLD, reason, "ticket 42", LATER)


def test_hold_for_another_reason_needs_a_note_and_does_not_pause() -> None:
    working = incident_in(State.IN_PROGRESS)
    with pytest.raises(ValidationError, match="needs a note"):
        lifecycle.put_on_hold(working, LATER, HoldReason.OTHER, "  ")
    held = lifecycle.put_on_hold(working, LATER, HoldReason.OTHER, "waiting for the night window")
    assert held.state is State.ON_HOLD
    assert held.paused_since is None


def test_hold_reason_must_be_a_hold_reason() -> None:
    with pytest.raises(ValidationError, match="hold reason must be one of"):
        lifecycle.put_on_hold(incident_in(State.IN_PROGRESS), LATER, "lunch")  # type: ignore[arg-type]


def test_resume_clears_the_hold() -> None:
    resumed = lifecycle.resume(incident_in(State.ON_HOLD), LATER)
    assert (resumed.state, resumed.hold_reason, resumed.hold_note, resumed.paused_since) == (
        State.IN_PROGRESS,
        None,
        "",
        None,
    )


# --- resolve ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "notes"), [("", "notes"), ("  ", "notes"), ("fixed", ""), ("fixed", " \t")])
def test_resolve_needs_code_and_notes(code: str, notes: str) -> None:
    with pytest.raises(ValidationError, match="required"):
        lifecycle.resolve(incident_in(State.IN_PROGRESS), LATER, code, notes)


def test_resolve_records_the_resolution() -> None:
    resolved = lifecycle.resolve(
        incident_in(State.IN_PROGRESS), LATER, " fixed ", " freed disk ", " df shows 40% ", " told users "
    )
    assert resolved.state is State.RESOLVED
    assert resolved.resolved_at == LATER
    assert (resolved.resolution_code, resolved.resolution_notes) == ("fixed", "freed disk")
    assert (resolved.resolution_tested, resolved.resolution_communication) == ("df shows 40%", "told users")


def test_resolve_checks_the_code_against_the_known_ones() -> None:
    working = incident_in(State.IN_PROGRESS)
    with pytest.raises(ValidationError, match="unknown resolution code 'magic'"):
        lifecycle.resolve(working, LATER, "magic", "notes", valid_codes=frozenset({"fixed", "workaround"}))
    assert lifecycle.resolve(working, LATER, "fixed", "n", valid_codes=frozenset({"fixed"})).state is State.RESOLVED


# --- close ------------------------------------------------------------------------------------


def test_close_records_verification_and_feedback() -> None:
    closed = lifecycle.close(incident_in(State.RESOLVED), LATER, " bob ", rating=4, comment=" quick ", lessons=" l ")
    assert closed.state is State.CLOSED
    assert closed.closed_at == LATER
    assert (closed.closure_verified_by, closed.feedback_rating, closed.feedback_comment, closed.lessons_learned) == (
        "bob",
        4,
        "quick",
        "l",
    )


def test_close_needs_someone_who_verified() -> None:
    with pytest.raises(ValidationError, match="verified by"):
        lifecycle.close(incident_in(State.RESOLVED), LATER, " ")


@pytest.mark.parametrize("rating", [0, 6, -1, True, False])
def test_close_rating_is_one_to_five(rating: int) -> None:
    with pytest.raises(ValidationError, match="rating"):
        lifecycle.close(incident_in(State.RESOLVED), LATER, "bob", rating=rating)


def _without(key: str) -> dict:
    return {k: v for k, v in COMPLETE_REVIEW.items() if k != key}


INCOMPLETE_REVIEWS = {
    "none": None,
    "empty": {},
    "no summary": _without("summary"),
    "blank went_well": {**COMPLETE_REVIEW, "went_well": "  "},
    "no went_badly": _without("went_badly"),
    "no actions": _without("actions"),
    "empty actions": {**COMPLETE_REVIEW, "actions": []},
    "action without owner": {**COMPLETE_REVIEW, "actions": [{"action": "write runbook", "owner": " "}]},
    "action without text": {**COMPLETE_REVIEW, "actions": [{"action": "", "owner": "alice"}]},
    "one of two incomplete": {
        **COMPLETE_REVIEW,
        "actions": [{"action": "a", "owner": "b"}, {"action": "c"}],
    },
    "actions as plain text": {**COMPLETE_REVIEW, "actions": ["write the runbook"]},
    "actions as one string": {**COMPLETE_REVIEW, "actions": "write the runbook"},
}


@pytest.mark.parametrize("review", INCOMPLETE_REVIEWS.values(), ids=INCOMPLETE_REVIEWS.keys())
def test_major_incident_needs_a_complete_review_to_close(review) -> None:
    resolved = incident_in(State.RESOLVED, major=True)
    with pytest.raises(ValidationError, match="post-incident review"):
        lifecycle.close(resolved, LATER, "bob", review=review)


def test_major_incident_closes_with_a_complete_review() -> None:
    resolved = incident_in(State.RESOLVED, major=True)
    closed = lifecycle.close(resolved, LATER, "bob", review=COMPLETE_REVIEW)
    assert closed.state is State.CLOSED
    assert closed.post_incident_review == COMPLETE_REVIEW
    # a review recorded earlier on the incident counts too
    earlier = resolved.replace(post_incident_review=COMPLETE_REVIEW)
    assert lifecycle.close(earlier, LATER, "bob").state is State.CLOSED


def test_minor_incident_closes_without_a_review() -> None:
    assert lifecycle.close(incident_in(State.RESOLVED), LATER, "bob").state is State.CLOSED


# --- reopen and cancel ----------------------------------------------------------------------


def test_reopen_needs_a_reason() -> None:
    resolved = incident_in(State.RESOLVED)
    with pytest.raises(ValidationError, match="reason to reopen"):
        lifecycle.reopen(resolved, LATER, " ", policy_of(resolved))


def test_reopen_clears_the_resolution_and_restarts_the_resolution_clock() -> None:
    resolved = incident_in(State.RESOLVED, priority=2)
    policy = policy_of(resolved)
    reopened = lifecycle.reopen(resolved, LATER, "users still cannot log in", policy)
    assert reopened.state is State.IN_PROGRESS
    assert reopened.resolved_at is None
    assert (reopened.resolution_code, reopened.resolution_notes) == ("", "")
    assert reopened.resolution_due_at == LATER + policy.resolution
    assert reopened.acknowledged_at == resolved.acknowledged_at
    assert reopened.response_due_at == resolved.response_due_at


def test_reopen_only_from_resolved() -> None:
    for state in set(State) - {State.RESOLVED}:
        incident = incident_in(state)
        with pytest.raises(TransitionError):
            lifecycle.reopen(incident, LATER, "again", policy_of(incident))


def test_cancel_needs_a_reason_and_stops_everything() -> None:
    held = incident_in(State.ON_HOLD)
    with pytest.raises(ValidationError, match="reason to cancel"):
        lifecycle.cancel(held, LATER, "")
    cancelled = lifecycle.cancel(held, LATER, " duplicate ")
    assert (cancelled.state, cancelled.closed_at, cancelled.cancel_reason) == (State.CANCELLED, LATER, "duplicate")
    assert (cancelled.hold_reason, cancelled.paused_since) == (None, None)


# --- properties over random sequences --------------------------------------------------------

start_states = st.sampled_from(list(State))
steps = st.lists(st.tuples(actions, gaps, hold_reasons), max_size=25)


@PROPERTY
@given(start_states, priorities, st.booleans(), steps)
def test_random_sequences_stay_inside_the_state_machine(start, priority, major, sequence) -> None:
    incident = incident_in(start, priority=priority, major=major)
    now = T0 + timedelta(hours=1)
    acknowledged_at = incident.acknowledged_at
    for action, gap, reason in sequence:
        now += gap
        before = incident
        try:
            incident = apply(action, incident, now, reason=reason)
        except TransitionError:
            assert action not in EXPECTED[before.state]
            assert incident is before
        else:
            assert action in EXPECTED[before.state]
            assert incident.state is EXPECTED[before.state][action]
        assert incident.state in State
        if before.state in FINAL_STATES:
            assert incident.state == before.state
        # acknowledged_at is set once and never moves
        if acknowledged_at is not None:
            assert incident.acknowledged_at == acknowledged_at
        acknowledged_at = incident.acknowledged_at
        # bookkeeping matches the state
        assert (incident.hold_reason is not None) == (incident.state is State.ON_HOLD)
        assert (incident.resolved_at is not None) == (incident.state in {State.RESOLVED, State.CLOSED})
        assert (incident.closed_at is not None) == (incident.state in FINAL_STATES)
        if incident.paused_since is not None:
            assert incident.state is State.ON_HOLD
        if incident.state is not State.NEW and incident.state is not State.CANCELLED:
            assert incident.acknowledged_at is not None
