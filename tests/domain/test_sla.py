"""SLA clocks: targets per severity, warning and breach, pauses on hold, stopping, retargeting,
and the queue row's cheap reading agreeing with the full one."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eim_tui.domain import lifecycle, sla
from eim_tui.domain.clock import FixedClock
from eim_tui.domain.durations import parse_duration
from eim_tui.domain.errors import ValidationError
from eim_tui.domain.filters import is_breached_now
from eim_tui.domain.model import HoldReason, Incident, QueueRow, SlaState, State

from .factories import (
    PROPERTY,
    T0,
    apply,
    gaps,
    hold_reasons,
    incident_in,
    lived_actions,
    lived_incidents,
    make_incident,
    policy_of,
    priorities,
)

SEV1 = sla.DEFAULT_POLICIES[1]
MIN = timedelta(minutes=1)
PAUSING = [HoldReason.AWAITING_USER, HoldReason.AWAITING_VENDOR, HoldReason.AWAITING_CHANGE]


# --- targets ----------------------------------------------------------------------------------


def test_new_sev1_is_due_15_minutes_and_4_hours_after_the_report() -> None:
    assert sla.initial_due(SEV1, T0) == (T0 + timedelta(minutes=15), T0 + timedelta(hours=4))
    # the clocks fall back to the policy when the incident carries no due times yet
    bare = make_incident(priority=1, response_due_at=None, resolution_due_at=None)
    assert sla.response_clock(bare, SEV1, T0).due_at == T0 + timedelta(minutes=15)
    assert sla.resolution_clock(bare, SEV1, T0).due_at == T0 + timedelta(hours=4)


def test_default_policies_match_the_shipped_data() -> None:
    data = tomllib.loads((Path(__file__).parents[2] / "data" / "sla_policies.toml").read_text())
    for severity, policy in sla.DEFAULT_POLICIES.items():
        row = data["severity"][str(severity)]
        assert policy.severity == severity
        assert policy.response == parse_duration(row["response"])
        assert policy.resolution == parse_duration(row["resolution"])
        assert policy.warning_fraction == row["warning_at"]


@pytest.mark.parametrize(
    ("response", "resolution", "fraction"),
    [(timedelta(0), timedelta(hours=1), 0.75), (MIN, -MIN, 0.75), (MIN, MIN, 0.0), (MIN, MIN, 1.0)],
)
def test_policy_refuses_empty_targets_and_odd_warning_fractions(response, resolution, fraction) -> None:
    with pytest.raises(ValidationError):
        sla.SlaPolicy(3, response, resolution, fraction)


# --- OK → WARNING → BREACHED ------------------------------------------------------------------


def test_response_clock_turns_to_warning_at_75_percent_and_breaches_at_due() -> None:
    incident = make_incident(priority=1)
    clock = FixedClock(T0)

    def read() -> sla.ClockReading:
        return sla.current_clock(incident, SEV1, clock.now())

    assert (read().name, read().state, read().remaining) == ("response", SlaState.OK, 900)
    clock.set(T0 + timedelta(minutes=11, seconds=14))
    assert read().state is SlaState.OK
    clock.advance(1)  # 11m15s: 75 % of 15 minutes
    assert (read().state, read().remaining) == (SlaState.WARNING, 225)
    clock.set(T0 + timedelta(minutes=14, seconds=59, microseconds=999999))
    assert read().state is SlaState.WARNING
    clock.set(T0 + timedelta(minutes=15))
    assert (read().state, read().remaining, read().breached) == (SlaState.BREACHED, 0, True)
    clock.advance(300)
    assert (read().state, read().remaining) == (SlaState.BREACHED, -300)


def test_resolution_clock_takes_over_once_acknowledged() -> None:
    incident = lifecycle.acknowledge(make_incident(priority=1), T0 + 5 * MIN, "alice")
    reading = sla.current_clock(incident, SEV1, T0 + 5 * MIN)
    assert (reading.name, reading.state, reading.due_at) == ("resolution", SlaState.OK, T0 + timedelta(hours=4))
    assert sla.current_clock(incident, SEV1, T0 + timedelta(hours=3) - MIN).state is SlaState.OK
    assert sla.current_clock(incident, SEV1, T0 + timedelta(hours=3)).state is SlaState.WARNING
    assert sla.current_clock(incident, SEV1, T0 + timedelta(hours=4)).state is SlaState.BREACHED
    # and the response clock stopped in time
    response = sla.response_clock(incident, SEV1, T0 + timedelta(hours=4))
    assert (response.state, response.remaining, response.stopped_at) == (SlaState.MET, 600, T0 + 5 * MIN)


@pytest.mark.parametrize(
    ("ack_after", "expected"),
    [
        (timedelta(minutes=14, seconds=59), SlaState.MET),
        (timedelta(minutes=15), SlaState.BREACHED),  # the running clock read breached at that instant
        (timedelta(minutes=16), SlaState.BREACHED),
    ],
)
def test_stopping_keeps_the_verdict_of_that_instant(ack_after: timedelta, expected: SlaState) -> None:
    incident = make_incident(priority=1)
    at = T0 + ack_after
    running = sla.response_clock(incident, SEV1, at)
    stopped = sla.response_clock(lifecycle.acknowledge(incident, at, "alice"), SEV1, at + timedelta(days=1))
    assert stopped.state is expected
    assert stopped.remaining == running.remaining
    assert (running.state is SlaState.BREACHED) == (expected is SlaState.BREACHED)


# --- pauses -------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", PAUSING)
def test_hold_awaiting_someone_pauses_and_resume_moves_the_due_by_the_pause(reason: HoldReason) -> None:
    working = incident_in(State.IN_PROGRESS, priority=2)
    policy = policy_of(working)
    due = working.resolution_due_at
    held = lifecycle.put_on_hold(working, T0 + timedelta(hours=1), reason)
    at_hold = sla.current_clock(held, policy, T0 + timedelta(hours=1))
    for later in (timedelta(hours=2), timedelta(hours=30)):  # even long past the original due
        reading = sla.current_clock(held, policy, T0 + later)
        assert reading.state is SlaState.PAUSED
        assert reading.remaining == at_hold.remaining
        assert reading.due_at == due + (later - timedelta(hours=1))
    resumed = lifecycle.resume(held, T0 + timedelta(hours=3, minutes=20))
    pause = timedelta(hours=2, minutes=20)
    assert resumed.resolution_due_at == due + pause
    assert resumed.sla_paused_seconds == pause.total_seconds()
    assert resumed.paused_since is None
    after = sla.current_clock(resumed, policy, T0 + timedelta(hours=3, minutes=20))
    assert after.state is SlaState.OK
    assert after.remaining == at_hold.remaining


def test_hold_for_another_reason_does_not_pause() -> None:
    working = incident_in(State.IN_PROGRESS, priority=1)
    held = lifecycle.put_on_hold(working, T0 + timedelta(hours=1), HoldReason.OTHER, "night window")
    assert sla.current_clock(held, SEV1, T0 + timedelta(hours=3)).state is SlaState.WARNING
    assert sla.current_clock(held, SEV1, T0 + timedelta(hours=4)).state is SlaState.BREACHED
    resumed = lifecycle.resume(held, T0 + timedelta(hours=5))
    assert resumed.resolution_due_at == working.resolution_due_at
    assert resumed.sla_paused_seconds == 0


def test_a_hold_begun_after_the_due_reads_breached() -> None:
    working = incident_in(State.IN_PROGRESS, priority=1)
    held = lifecycle.put_on_hold(working, T0 + timedelta(hours=5), HoldReason.AWAITING_USER)
    reading = sla.current_clock(held, SEV1, T0 + timedelta(hours=6))
    assert (reading.state, reading.remaining) == (SlaState.BREACHED, -3600)


def test_cancel_while_on_hold_counts_the_pause_and_stops_the_clock() -> None:
    held = incident_in(State.ON_HOLD, priority=1)  # on hold since T0+2m
    cancelled = lifecycle.cancel(held, T0 + timedelta(hours=10), "duplicate")
    pause = timedelta(hours=10) - 2 * MIN
    assert cancelled.resolution_due_at == held.resolution_due_at + pause
    reading = sla.current_clock(cancelled, SEV1, T0 + timedelta(days=3))
    assert (reading.state, reading.stopped_at) == (SlaState.MET, T0 + timedelta(hours=10))


holds = st.lists(
    st.tuples(gaps, gaps, st.sampled_from(list(HoldReason))),  # work before the hold, hold length, reason
    max_size=8,
)


@PROPERTY
@given(priorities, holds)
def test_pauses_move_the_due_later_by_exactly_their_sum(priority: int, plan) -> None:
    incident = incident_in(State.IN_PROGRESS, priority=priority)
    original_due = incident.resolution_due_at
    now = T0 + MIN
    paused = timedelta(0)
    for work, length, reason in plan:
        now += work
        before = incident.resolution_due_at
        incident = lifecycle.put_on_hold(incident, now, reason, "note")
        now += length
        incident = lifecycle.resume(incident, now)
        assert incident.resolution_due_at >= before  # a pause never moves a due earlier
        if reason.pauses_sla:
            paused += length
            assert incident.resolution_due_at - before == length
        else:
            assert incident.resolution_due_at == before
    assert incident.resolution_due_at - original_due == paused
    assert incident.sla_paused_seconds == pytest.approx(paused.total_seconds(), abs=1e-6)
    assert incident.response_due_at == make_incident(priority=priority).response_due_at  # stopped: untouched


# --- readings over time ------------------------------------------------------------------------

ORDER = {SlaState.OK: 0, SlaState.WARNING: 1, SlaState.BREACHED: 2}


@PROPERTY
@given(lived_incidents(), st.lists(gaps, min_size=2, max_size=6))
def test_remaining_never_grows_as_time_passes(lived: tuple[Incident, datetime], steps) -> None:
    incident, now = lived
    policy = policy_of(incident)
    previous = sla.current_clock(incident, policy, now)
    for gap in steps:
        now += gap
        reading = sla.current_clock(incident, policy, now)
        assert reading.name == previous.name
        assert reading.remaining <= previous.remaining
        if previous.state in ORDER and reading.state in ORDER:  # a running clock never gets better
            assert ORDER[reading.state] >= ORDER[previous.state]
        if previous.stopped_at is not None:
            assert reading == previous  # stopped: settled for good
        elif previous.state is SlaState.PAUSED:
            # paused: the countdown holds still while the effective due moves later with the pause
            assert (reading.state, reading.remaining) == (SlaState.PAUSED, previous.remaining)
            assert reading.due_at - previous.due_at == gap
        previous = reading


@PROPERTY
@given(priorities, gaps, st.lists(st.tuples(lived_actions, gaps, hold_reasons), max_size=15))
def test_a_stopped_clock_never_changes_its_reading(priority: int, ack_after, sequence) -> None:
    """Once acknowledged, the response clock is settled; once resolved, so is the resolution clock
    (until a reopen restarts it)."""
    incident = make_incident(priority=priority)
    policy = policy_of(incident)
    now = T0 + ack_after
    incident = lifecycle.acknowledge(incident, now, "alice")
    response = sla.response_clock(incident, policy, now)
    assert response.stopped_at == now
    resolution = None
    for action, gap, reason in sequence:
        now += gap
        try:
            incident = apply(action, incident, now, reason=reason)
        except lifecycle.TransitionError:
            pass
        assert sla.response_clock(incident, policy, now) == response
        if incident.resolved_at is None:  # not resolved yet, or reopened: the clock runs again
            resolution = None
        else:
            reading = sla.resolution_clock(incident, policy, now)
            if resolution is None:
                resolution = reading
            assert reading == resolution
            assert reading.stopped_at == incident.resolved_at


# --- retarget after a priority change ---------------------------------------------------------


def test_retarget_raises_the_targets_of_a_new_incident_from_the_report() -> None:
    incident = make_incident(priority=3).replace(priority=1, impact=1, urgency=1)
    retargeted = sla.retarget(incident, SEV1)
    assert retargeted.response_due_at == T0 + timedelta(minutes=15)
    assert retargeted.resolution_due_at == T0 + timedelta(hours=4)


def test_retarget_keeps_pauses_counted_and_stopped_clocks() -> None:
    working = incident_in(State.IN_PROGRESS, priority=3)
    held = lifecycle.put_on_hold(working, T0 + timedelta(hours=1), HoldReason.AWAITING_VENDOR)
    resumed = lifecycle.resume(held, T0 + timedelta(hours=2, minutes=30))
    retargeted = sla.retarget(resumed.replace(priority=2), sla.DEFAULT_POLICIES[2])
    assert retargeted.response_due_at == working.response_due_at  # acknowledged: verdict stands
    assert retargeted.resolution_due_at == T0 + timedelta(hours=8) + timedelta(hours=1, minutes=30)
    # lowering the priority moves the due later by the same rule
    lowered = sla.retarget(resumed.replace(priority=5), sla.DEFAULT_POLICIES[5])
    assert lowered.resolution_due_at == T0 + timedelta(days=20) + timedelta(hours=1, minutes=30)


def test_retarget_leaves_a_resolved_incident_alone() -> None:
    resolved = incident_in(State.RESOLVED, priority=4)
    retargeted = sla.retarget(resolved.replace(priority=1), SEV1)
    assert retargeted.response_due_at == resolved.response_due_at
    assert retargeted.resolution_due_at == resolved.resolution_due_at


def test_retarget_after_reopen_keeps_the_restart() -> None:
    resolved = incident_in(State.RESOLVED, priority=3)
    reopened_at = T0 + timedelta(days=5)
    reopened = lifecycle.reopen(resolved, reopened_at, "back again", policy_of(resolved))
    assert reopened.reopened_at == reopened_at
    retargeted = sla.retarget(reopened.replace(priority=2), sla.DEFAULT_POLICIES[2])
    assert retargeted.resolution_due_at == reopened_at + timedelta(hours=8)
    assert retargeted.response_due_at == resolved.response_due_at  # acknowledged before: settled


def test_retarget_after_reopen_counts_only_the_pauses_since_the_reopen() -> None:
    working = incident_in(State.IN_PROGRESS, priority=3)
    held = lifecycle.put_on_hold(working, T0 + timedelta(hours=1), HoldReason.AWAITING_USER)
    resumed = lifecycle.resume(held, T0 + timedelta(hours=3))  # 2 h paused before the resolve
    resolved = lifecycle.resolve(resumed, T0 + timedelta(hours=4), "fixed", "restarted the pool")
    reopened_at = T0 + timedelta(days=1)
    reopened = lifecycle.reopen(resolved, reopened_at, "back again", policy_of(resolved))
    held = lifecycle.put_on_hold(reopened, reopened_at + timedelta(hours=1), HoldReason.AWAITING_VENDOR)
    resumed = lifecycle.resume(held, reopened_at + timedelta(hours=1, minutes=30))  # 30 min since
    assert resumed.sla_paused_seconds == 2.5 * 3600
    retargeted = sla.retarget(resumed.replace(priority=1), SEV1)
    assert retargeted.resolution_due_at == reopened_at + timedelta(hours=4, minutes=30)


def test_a_second_reopen_restarts_from_the_second() -> None:
    resolved = incident_in(State.RESOLVED, priority=2)
    first = lifecycle.reopen(resolved, T0 + timedelta(days=1), "back", policy_of(resolved))
    again = lifecycle.resolve(first, T0 + timedelta(days=2), "fixed", "for good this time")
    second = lifecycle.reopen(again, T0 + timedelta(days=3), "back again", policy_of(again))
    retargeted = sla.retarget(second.replace(priority=4), sla.DEFAULT_POLICIES[4])
    assert retargeted.reopened_at == T0 + timedelta(days=3)
    assert retargeted.resolution_due_at == T0 + timedelta(days=3) + sla.DEFAULT_POLICIES[4].resolution


@st.composite
def reopened_incidents(draw: st.DrawFn) -> Incident:
    """An incident resolved and reopened one to three times, with pausing and other holds drawn
    before and after each reopen, and maybe on hold now (random runs seldom reach a reopen)."""
    incident = make_incident(priority=draw(priorities))
    now = T0 + draw(gaps)
    incident = lifecycle.acknowledge(incident, now, "alice")

    def holds(incident: Incident, now: datetime, final: bool) -> tuple[Incident, datetime]:
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            now += draw(gaps)
            incident = lifecycle.put_on_hold(incident, now, draw(hold_reasons), "waiting on a reply")
            if final and draw(st.booleans()):
                return incident, now  # still on hold: a pause running
            now += draw(gaps)
            incident = lifecycle.resume(incident, now)
        return incident, now

    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        incident, now = holds(incident, now, final=False)
        now += draw(gaps)
        incident = lifecycle.resolve(incident, now, "fixed", "restarted the service")
        now += draw(gaps)
        incident = lifecycle.reopen(incident, now, "came back", policy_of(incident))
    incident, _ = holds(incident, now, final=True)
    return incident


@PROPERTY
@given(st.one_of(reopened_incidents(), lived_incidents(max_steps=16).map(lambda lived: lived[0])), priorities)
def test_retarget_never_moves_a_resolution_target_before_the_last_reopen(incident: Incident, new_priority: int) -> None:
    """Whatever happened (holds, resolves, reopens), a priority change after a reopen leaves the
    running resolution clock its full new target from the reopen at least."""
    policy = sla.DEFAULT_POLICIES[new_priority]
    retargeted = sla.retarget(incident.replace(priority=new_priority), policy)
    if incident.reopened_at is not None and incident.resolved_at is None:
        assert retargeted.resolution_due_at >= incident.reopened_at + policy.resolution
    if incident.resolved_at is not None:
        assert retargeted.resolution_due_at == incident.resolution_due_at


@PROPERTY
@given(st.one_of(reopened_incidents(), lived_incidents(max_steps=16).map(lambda lived: lived[0])))
def test_retarget_to_the_same_policy_changes_no_running_clock(incident: Incident) -> None:
    """The retarget's rule is the lifecycle's own: recomputing the targets of the policy already in
    force gives back the due instants the steps (report, pauses, reopens) have set."""
    retargeted = sla.retarget(incident, policy_of(incident))
    # Pauses are counted in float seconds: a microsecond of rounding over many pauses is allowed.
    tolerance = timedelta(microseconds=2)
    assert abs(retargeted.response_due_at - incident.response_due_at) <= tolerance
    assert abs(retargeted.resolution_due_at - incident.resolution_due_at) <= tolerance


@PROPERTY
@given(priorities, priorities, st.integers(min_value=0, max_value=10**6))
def test_retarget_follows_the_new_policy(old: int, new: int, paused_seconds: int) -> None:
    incident = make_incident(priority=old, sla_paused_seconds=float(paused_seconds)).replace(priority=new)
    policy = sla.DEFAULT_POLICIES[new]
    retargeted = sla.retarget(incident, policy)
    paused = timedelta(seconds=paused_seconds)
    assert retargeted.response_due_at == T0 + policy.response + paused
    assert retargeted.resolution_due_at == T0 + policy.resolution + paused


# --- the queue --------------------------------------------------------------------------------


def test_sort_due_is_the_clock_that_matters_now() -> None:
    new = make_incident(priority=2)
    assert sla.sort_due(new) == new.response_due_at
    working = incident_in(State.IN_PROGRESS, priority=2)
    assert sla.sort_due(working) == working.resolution_due_at
    assert sla.sort_due(incident_in(State.ON_HOLD)) is None
    for state in (State.RESOLVED, State.CLOSED, State.CANCELLED):
        assert sla.sort_due(incident_in(state)) is None


def queue_row(incident: Incident, policy: sla.SlaPolicy) -> QueueRow:
    """The row the store would build: the due time of the clock that matters now, not counting a
    running pause, and when that clock turns to warning."""
    if not incident.is_open:
        clock, due, target = "", None, None
    elif incident.acknowledged_at is None:
        clock, due, target = "response", incident.response_due_at, policy.response
    else:
        clock, due, target = "resolution", incident.resolution_due_at, policy.resolution
    if due is not None and incident.paused_since is None:
        assert due == sla.sort_due(incident)
    return QueueRow(
        number=incident.number,
        priority=incident.priority,
        state=incident.state,
        title=incident.title,
        service=incident.service,
        assignment_group=incident.assignment_group,
        assignee=incident.assignee,
        reported_at=incident.reported_at,
        clock=clock,
        due_at=due,
        warn_at=sla.warning_at(due, target, policy.warning_fraction) if due is not None else None,
        paused_since=incident.paused_since,
    )


@PROPERTY
@given(lived_incidents(), st.lists(gaps, min_size=1, max_size=4))
def test_queue_row_agrees_with_the_clock(lived: tuple[Incident, datetime], later) -> None:
    incident, now = lived
    policy = policy_of(incident)
    row = queue_row(incident, policy)
    for gap in later:
        now += gap
        if not incident.is_open:
            assert (row.sla_state(now), row.seconds_left(now)) == (None, None)
            continue
        reading = sla.current_clock(incident, policy, now)
        assert row.clock == reading.name
        assert row.sla_state(now) is reading.state
        assert row.seconds_left(now) == reading.remaining


@pytest.mark.parametrize("seconds_in", [0, 674, 675, 899, 900, 1000])
def test_queue_row_agrees_at_the_boundaries(seconds_in: int) -> None:
    incident = make_incident(priority=1)
    now = T0 + timedelta(seconds=seconds_in)
    row = queue_row(incident, SEV1)
    reading = sla.current_clock(incident, SEV1, now)
    assert (row.sla_state(now), row.seconds_left(now)) == (reading.state, reading.remaining)


def test_warning_at_is_75_percent_of_the_target() -> None:
    due = T0 + timedelta(hours=4)
    assert sla.warning_at(due, timedelta(hours=4), 0.75) == T0 + timedelta(hours=3)


def test_is_breached_now_from_the_filters_module_agrees() -> None:
    due = T0 + timedelta(minutes=15)
    assert not is_breached_now(due - timedelta(microseconds=1), due - timedelta(microseconds=2))
    assert is_breached_now(due, due)
    assert not is_breached_now(None, due)
