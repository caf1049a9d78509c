"""SLA clocks: per severity a response and a resolution target, paused while on hold.

Each incident stores its due instants *not counting a pause still running* (`response_due_at`,
`resolution_due_at`) and when the running pause began (`paused_since`). A pause moves every
running clock's due instant later by its length; stopping a clock (acknowledge, resolve) freezes it.
Everything is computed from those fields and an instant passed in — never the wall clock.

A policy may run its clocks on a working calendar (business hours, holidays): targets and pauses
are then working time, and due instants come from `calendar.add`. The default calendar runs
around the clock, where all of this is plain datetime arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from eim_tui.domain.errors import ValidationError
from eim_tui.domain.model import Incident, SlaState
from eim_tui.domain.work_calendar import ALWAYS, WorkCalendar

DEFAULT_WARNING_FRACTION = 0.75


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    severity: int
    response: timedelta
    resolution: timedelta
    warning_fraction: float = DEFAULT_WARNING_FRACTION
    name: str = ""
    calendar: WorkCalendar = ALWAYS

    def __post_init__(self) -> None:
        if self.response <= timedelta(0) or self.resolution <= timedelta(0):
            raise ValidationError(f"Sev{self.severity}: SLA targets must be longer than zero")
        if not 0 < self.warning_fraction < 1:
            raise ValidationError(f"Sev{self.severity}: warning_at must be between 0 and 1")


DEFAULT_POLICIES = {
    1: SlaPolicy(1, timedelta(minutes=15), timedelta(hours=4), name="Critical"),
    2: SlaPolicy(2, timedelta(minutes=30), timedelta(hours=8), name="High"),
    3: SlaPolicy(3, timedelta(hours=4), timedelta(days=3), name="Moderate"),
    4: SlaPolicy(4, timedelta(days=1), timedelta(days=10), name="Low"),
    5: SlaPolicy(5, timedelta(days=3), timedelta(days=20), name="Very low"),
}


@dataclass(frozen=True, slots=True)
class ClockReading:
    """One clock at one instant."""

    name: str  # "response" or "resolution"
    state: SlaState
    due_at: datetime  # effective due instant (a running pause included)
    remaining: float  # seconds; negative once breached; frozen once stopped
    target: timedelta
    stopped_at: datetime | None = None

    @property
    def breached(self) -> bool:
        return self.state is SlaState.BREACHED


def initial_due(policy: SlaPolicy, start: datetime) -> tuple[datetime, datetime]:
    return policy.calendar.add(start, policy.response), policy.calendar.add(start, policy.resolution)


def running_pause(incident: Incident, now: datetime, calendar: WorkCalendar = ALWAYS) -> timedelta | None:
    """The working time of the pause still running, None when the clocks are not paused."""
    if incident.paused_since is None:
        return None
    return calendar.working_between(incident.paused_since, now)


def read_clock(
    name: str,
    due_at: datetime,
    target: timedelta,
    stopped_at: datetime | None,
    pause: timedelta | None,
    warning_fraction: float,
    now: datetime,
    calendar: WorkCalendar = ALWAYS,
) -> ClockReading:
    """`pause` is the working time of the pause still running, None when the clock is not paused."""
    if stopped_at is not None:
        # Stopped at the due instant is breached, as a running clock reads at that instant.
        state = SlaState.MET if stopped_at < due_at else SlaState.BREACHED
        return ClockReading(name, state, due_at, (due_at - stopped_at).total_seconds(), target, stopped_at)
    effective_due = calendar.add(due_at, pause) if pause else due_at
    remaining = (effective_due - now).total_seconds()
    if remaining <= 0:
        state = SlaState.BREACHED
    elif pause is not None:
        state = SlaState.PAUSED
    elif now >= warning_at(effective_due, target, warning_fraction, calendar):
        state = SlaState.WARNING
    else:
        state = SlaState.OK
    return ClockReading(name, state, effective_due, remaining, target)


def response_clock(incident: Incident, policy: SlaPolicy, now: datetime) -> ClockReading:
    due = incident.response_due_at or policy.calendar.add(incident.reported_at, policy.response)
    stopped = incident.acknowledged_at or _ended_at(incident)
    pause = running_pause(incident, now, policy.calendar)
    return read_clock("response", due, policy.response, stopped, pause, policy.warning_fraction, now, policy.calendar)


def resolution_clock(incident: Incident, policy: SlaPolicy, now: datetime) -> ClockReading:
    due = incident.resolution_due_at or policy.calendar.add(incident.reported_at, policy.resolution)
    stopped = incident.resolved_at or _ended_at(incident)
    pause = running_pause(incident, now, policy.calendar)
    return read_clock(
        "resolution", due, policy.resolution, stopped, pause, policy.warning_fraction, now, policy.calendar
    )


def _ended_at(incident: Incident) -> datetime | None:
    """A cancelled or closed incident stops every clock still running."""
    if incident.closed_at is not None:
        return incident.closed_at
    return None


def current_clock(incident: Incident, policy: SlaPolicy, now: datetime) -> ClockReading:
    """The clock that matters now: response until acknowledged, then resolution."""
    if incident.acknowledged_at is None and incident.is_open:
        return response_clock(incident, policy, now)
    return resolution_clock(incident, policy, now)


def sort_due(incident: Incident) -> datetime | None:
    """The due instant the queue orders by: of the clock that matters now; None when paused or done."""
    if not incident.is_open or incident.paused_since is not None:
        return None
    if incident.acknowledged_at is None:
        return incident.response_due_at
    return incident.resolution_due_at


def warning_at(
    due_at: datetime, target: timedelta, warning_fraction: float, calendar: WorkCalendar = ALWAYS
) -> datetime:
    """The instant a running clock turns to warning (75 % of its target elapsed by default)."""
    return calendar.before(due_at, target * (1 - warning_fraction))


# --- changes to the clocks, applied by the lifecycle --------------------------------------------


def start_pause(incident: Incident, now: datetime) -> Incident:
    if incident.paused_since is not None:
        return incident
    return incident.replace(paused_since=now)


def end_pause(incident: Incident, now: datetime, calendar: WorkCalendar = ALWAYS) -> Incident:
    """Move each clock still running later by the pause's working time, and count the pause."""
    if incident.paused_since is None:
        return incident
    pause = running_pause(incident, now, calendar) or timedelta(0)
    response_due = incident.response_due_at
    if incident.acknowledged_at is None and response_due is not None:
        response_due = calendar.add(response_due, pause)
    resolution_due = incident.resolution_due_at
    if incident.resolved_at is None and resolution_due is not None:
        resolution_due = calendar.add(resolution_due, pause)
    return incident.replace(
        paused_since=None,
        response_due_at=response_due,
        resolution_due_at=resolution_due,
        sla_paused_seconds=incident.sla_paused_seconds + pause.total_seconds(),
    )


def retarget(incident: Incident, policy: SlaPolicy) -> Incident:
    """New targets after a priority change: each running clock restarts its target from where it
    started, keeping the pauses counted since. The response clock started at the report; the
    resolution clock too, unless the incident was reopened: then at the last reopen, with only the
    pauses counted after it (as `restart_resolution` set it). A stopped clock keeps its due instant
    (its verdict stands)."""
    paused = timedelta(seconds=incident.sla_paused_seconds)
    add = policy.calendar.add
    response_due = incident.response_due_at
    if incident.acknowledged_at is None:
        response_due = add(incident.reported_at, policy.response + paused)
    resolution_due = incident.resolution_due_at
    if incident.resolved_at is None:
        if incident.reopened_at is None:
            resolution_due = add(incident.reported_at, policy.resolution + paused)
        else:
            since_reopen = timedelta(seconds=max(0.0, incident.sla_paused_seconds - incident.reopen_paused_seconds))
            resolution_due = add(incident.reopened_at, policy.resolution + since_reopen)
    return incident.replace(response_due_at=response_due, resolution_due_at=resolution_due)


def restart_resolution(incident: Incident, policy: SlaPolicy, now: datetime) -> Incident:
    """Reopening restarts the resolution clock with its full target from the reopening instant,
    remembered (with the pauses counted so far) for a later retarget to restart from."""
    return incident.replace(
        resolution_due_at=policy.calendar.add(now, policy.resolution),
        reopened_at=now,
        reopen_paused_seconds=incident.sla_paused_seconds,
    )
