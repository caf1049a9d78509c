"""The once-key of a warning or breach survives pauses and changes with the target.

A pause moves a running clock's due instant later by its working time; the key names the due
instant with the pauses taken back out, so a warning recorded before a hold is the same moment
after the resume (it was recorded twice when the key named the moved instant) — around the clock
and on business hours, over any number of pauses of any length.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from eim_tui.domain import sla
from eim_tui.domain.escalation import Kind, moments

from .factories import PROPERTY, make_incident
from .test_sla_calendar import BUSINESS, FRI_16, LOW, low_incident

MIN = timedelta(minutes=1)


def _keys(incident, policy) -> dict[tuple[str, Kind], str]:
    return {(m.clock, m.kind): m.once_key for m in moments(incident, policy) if m.kind is not Kind.ESCALATION}


def _paused(incident, policy, pauses: list[tuple[int, int]]):
    """The incident after holds of (minutes after the last event, minutes long), each resumed."""
    at = incident.reported_at
    for gap, length in pauses:
        at += gap * MIN
        incident = sla.start_pause(incident, at)
        at += length * MIN
        incident = sla.end_pause(incident, at, policy.calendar)
    return incident


pauses = st.lists(st.tuples(st.integers(0, 3000), st.integers(1, 4000)), min_size=1, max_size=4)


@PROPERTY
@given(priority=st.integers(1, 5), pauses=pauses)
def test_keys_stay_the_same_across_pauses_around_the_clock(priority: int, pauses) -> None:
    policy = sla.DEFAULT_POLICIES[priority]
    incident = make_incident(priority=priority)
    after = _paused(incident, policy, pauses)
    assert after.resolution_due_at > incident.resolution_due_at  # the pauses did move the clock
    assert _keys(after, policy) == _keys(incident, policy)


@PROPERTY
@given(pauses=pauses)
def test_keys_stay_the_same_across_pauses_on_business_hours(pauses) -> None:
    incident = low_incident()
    after = _paused(incident, LOW, pauses)
    assert _keys(after, LOW) == _keys(incident, LOW)


def test_a_new_target_is_a_new_key_even_after_pauses() -> None:
    incident = _paused(make_incident(priority=3), sla.DEFAULT_POLICIES[3], [(60, 30)])
    before = _keys(incident, sla.DEFAULT_POLICIES[3])
    raised = sla.retarget(incident.replace(priority=2), sla.DEFAULT_POLICIES[2])
    after = _keys(raised, sla.DEFAULT_POLICIES[2])
    assert after[("resolution", Kind.WARNING)] != before[("resolution", Kind.WARNING)]
    assert after[("resolution", Kind.BREACH)] != before[("resolution", Kind.BREACH)]


def test_an_unpaused_clock_keeps_the_key_older_releases_wrote() -> None:
    incident = low_incident()
    for moment in moments(incident, LOW):
        assert moment.legacy_key is None
        if moment.kind is not Kind.ESCALATION:
            assert moment.once_key.endswith(moment.due.isoformat())
    paused = _paused(incident, LOW, [(10, 120)])
    warning = next(m for m in moments(paused, LOW) if m.kind is Kind.WARNING and m.clock == "resolution")
    assert warning.legacy_key is not None and warning.legacy_key.endswith(warning.due.isoformat())
    assert BUSINESS.is_working(FRI_16)
