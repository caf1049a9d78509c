"""The use cases against a real store: what they write, and that each is one transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eim_tui.domain import HoldReason, State, TransitionError, ValidationError
from eim_tui.store import timeline
from eim_tui.store.tables import ChainHeadRow, DiagnosisNoteRow, IncidentRow, TimelineRow

from .conftest import report


def _events(svc, number: int) -> list[tuple[str, str, str]]:
    return [(e.kind.value, e.actor, e.summary) for e in svc.details(number).timeline]


def _row(svc, number: int) -> IncidentRow:
    with svc.db.read() as session:
        return session.get(IncidentRow, number)


def _counts(svc) -> tuple[int, int, int, int]:
    with svc.db.read() as session:
        return (
            session.execute(select(func.count()).select_from(IncidentRow)).scalar_one(),
            session.execute(select(func.count()).select_from(TimelineRow)).scalar_one(),
            session.execute(select(func.count()).select_from(DiagnosisNoteRow)).scalar_one(),
            session.execute(select(ChainHeadRow.seq)).scalar() or 0,
        )


def test_the_whole_life_of_an_incident(svc, log, clock, fixed_now) -> None:
    t0 = fixed_now
    incident = log(title="Payments API returns 502", impact=1, urgency=2, service="payments")
    assert (incident.key, incident.priority, incident.state, incident.version) == ("INC-000001", 2, State.NEW, 1)
    assert incident.response_due_at == t0 + timedelta(minutes=30)
    assert incident.resolution_due_at == t0 + timedelta(hours=8)
    assert _events(svc, 1) == [("created", "alice", "logged INC-000001: Sev2 (impact 1 × urgency 2)")]
    row = _row(svc, 1)
    assert (row.is_open, row.sla_clock, row.sla_due_at) == (True, "response", t0 + timedelta(minutes=30))
    assert row.sla_warn_at == t0 + timedelta(minutes=30) - timedelta(minutes=30) * 0.25

    clock.advance(timedelta(minutes=10))
    acked = svc.acknowledge(1, "bob", expected_version=1)
    assert (acked.state, acked.assignee, acked.acknowledged_at, acked.version) == (
        State.IN_PROGRESS, "bob", t0 + timedelta(minutes=10), 2)
    assert svc.get(1) == acked
    assert _events(svc, 1)[1:] == [
        ("state_changed", "bob", "state new → in progress"),
        ("assigned", "bob", "assigned —/— → —/bob"),
    ]
    row = _row(svc, 1)
    assert (row.sla_clock, row.sla_due_at) == ("resolution", t0 + timedelta(hours=8))

    clock.advance(timedelta(minutes=50))  # t0 + 1h
    held = svc.put_on_hold(1, "bob", "vendor", "waiting for the PSP's patch", expected_version=2)
    assert (held.state, held.hold_reason, held.paused_since) == (
        State.ON_HOLD, HoldReason.AWAITING_VENDOR, t0 + timedelta(hours=1))
    assert _events(svc, 1)[-1] == (
        "state_changed", "bob", "state in progress → on hold (awaiting vendor: waiting for the PSP's patch)")
    row = _row(svc, 1)
    assert (row.sla_clock, row.sla_due_at, row.sla_warn_at) == ("resolution", None, None)  # paused: sorts last
    [queue_row] = svc.rows([1])
    assert queue_row.seconds_left(clock.now() + timedelta(hours=5)) == 7 * 3600  # frozen while paused

    clock.advance(timedelta(hours=2))  # t0 + 3h: the pause lasted 2 hours
    resumed = svc.resume(1, "carol", expected_version=3)
    assert resumed.state is State.IN_PROGRESS and resumed.hold_reason is None and resumed.paused_since is None
    assert resumed.resolution_due_at == t0 + timedelta(hours=10)  # moved by the pause
    assert resumed.response_due_at == t0 + timedelta(minutes=30)  # stopped at acknowledgement: stays
    assert resumed.sla_paused_seconds == 7200
    assert _events(svc, 1)[-2:] == [
        ("state_changed", "carol", "state on hold → in progress"),
        ("field_changed", "carol",
         "resolution due 2026-11-26 17:00:00 UTC → 2026-11-26 19:00:00 UTC"),
    ]
    assert _row(svc, 1).sla_due_at == t0 + timedelta(hours=10)

    clock.advance(timedelta(hours=1))
    resolved = svc.resolve(1, "bob", "fixed", "Rolled the PSP client back", tested="test payment ok")
    assert (resolved.state, resolved.resolved_at, resolved.resolution_code) == (
        State.RESOLVED, t0 + timedelta(hours=4), "fixed")
    assert _events(svc, 1)[-1] == ("state_changed", "bob", "state in progress → resolved (fixed)")
    row = _row(svc, 1)
    assert (row.is_open, row.sla_clock, row.sla_due_at) == (False, "", None)
    details = svc.details(1)
    assert details.resolution.state.value == "met" and details.response.state.value == "met"

    clock.advance(timedelta(hours=1))
    closed = svc.close(1, "lead", rating=5, comment="quick")
    assert (closed.state, closed.closed_at, closed.closure_verified_by, closed.feedback_rating) == (
        State.CLOSED, t0 + timedelta(hours=5), "lead", 5)
    assert _events(svc, 1)[-1] == ("state_changed", "lead", "state resolved → closed")
    assert closed.version == 6 and svc.get(1) == closed
    data = svc.details(1).timeline[-1].data
    assert data["old"] == "resolved" and data["new"] == "closed" and data["with"]["feedback_rating"]["new"] == 5

    with pytest.raises(TransitionError, match="cannot reopen an incident that is closed"):
        svc.reopen(1, "bob", "it is back")
    with svc.db.read() as session:
        assert timeline.verify(session).intact


def test_reopen_restarts_the_resolution_clock_and_records_why(svc, log, clock, fixed_now) -> None:
    log(impact=2, urgency=2)  # Sev3: resolution 3 days
    svc.acknowledge(1, "bob")
    svc.resolve(1, "bob", "restarted", "restarted the pods")
    clock.advance(timedelta(hours=2))
    reopened = svc.reopen(1, "alice", "it failed again")
    assert reopened.state is State.IN_PROGRESS and reopened.resolved_at is None and reopened.resolution_code == ""
    assert reopened.resolution_due_at == fixed_now + timedelta(hours=2) + timedelta(days=3)
    kind, actor, summary = _events(svc, 1)[-2]
    assert (kind, actor) == ("state_changed", "alice")
    assert summary == "state resolved → in progress — it failed again"


def test_cancel_on_hold_counts_the_pause_and_closes_the_clocks(svc, log, clock) -> None:
    log()
    svc.acknowledge(1, "bob")
    svc.put_on_hold(1, "bob", HoldReason.AWAITING_USER)
    clock.advance(timedelta(minutes=30))
    cancelled = svc.cancel(1, "lead", "reporter withdrew it")  # cancelling needs a shift lead
    assert (cancelled.state, cancelled.paused_since, cancelled.sla_paused_seconds) == (State.CANCELLED, None, 1800)
    assert cancelled.closed_at == clock.now() and cancelled.cancel_reason == "reporter withdrew it"
    assert _events(svc, 1)[-2][2] == "state on hold → cancelled (reporter withdrew it)"
    assert _row(svc, 1).is_open is False


def test_assign_prioritize_link_major_and_notes_write_their_events(svc, log, clock, fixed_now) -> None:
    log(impact=3, urgency=3)  # Sev5
    log(title="Checkout slow")
    svc.assign(1, "lead", group="platform", assignee="bob")
    changed = svc.prioritize(1, "lead", 1, 1)
    assert changed.priority == 1 and changed.response_due_at == fixed_now + timedelta(minutes=15)
    svc.link(1, "lead", parent=2, problem_ref="PRB-7")
    svc.set_major(1, "lead", True)
    note = svc.add_note(1, "bob", "root_cause", "expired TLS certificate on pay-api-01")
    assert note.position == 1 and svc.get(1).root_cause == "expired TLS certificate on pay-api-01"
    summaries = [s for _, _, s in _events(svc, 1)[1:]]
    assert summaries == [
        "assigned —/— → platform/bob",
        "impact 3 → 1",
        "urgency 3 → 1",
        "severity 5 → 1",
        "response due 2026-11-29 09:00:00 UTC → 2026-11-26 09:15:00 UTC",
        "resolution due 2026-12-16 09:00:00 UTC → 2026-11-26 13:00:00 UTC",
        "duplicate of — → INC-000002",
        "problem ref — → PRB-7",
        "major no → yes",
        "root cause #1: expired TLS certificate on pay-api-01",
        "root cause — → expired TLS certificate on pay-api-01",
    ]
    assert svc.get(1).parent_number == 2


def test_a_change_that_changes_nothing_writes_nothing(svc, log) -> None:
    log()
    svc.assign(1, "lead", group="platform")
    before = _counts(svc)
    unchanged = svc.assign(1, "lead", group="platform")
    assert unchanged.version == 2 and _counts(svc) == before


def test_bad_input_writes_nothing(svc, log) -> None:
    log()
    svc.acknowledge(1, "bob")
    before = _counts(svc)
    with pytest.raises(ValidationError, match="unknown category"):
        svc.log_incident(report(category="nope"), "alice")
    with pytest.raises(TransitionError):
        svc.close(1, "alice")
    with pytest.raises(ValidationError, match="needs a note"):
        svc.put_on_hold(1, "alice", "other")
    with pytest.raises(ValidationError, match="unknown resolution code"):
        svc.resolve(1, "bob", "magic", "it went away")
    assert _counts(svc) == before


class Boom(RuntimeError):
    pass


def _failing_append(*_args, **_kwargs):
    raise Boom("disk full")


def test_a_failing_timeline_undoes_the_change(svc, log, monkeypatch) -> None:
    """The timeline is written after the incident's row, in the same transaction: when it fails,
    neither the change nor any event is left."""
    log()
    before, stored = _counts(svc), svc.get(1)
    monkeypatch.setattr(timeline, "append", _failing_append)
    with pytest.raises(Boom):
        svc.acknowledge(1, "bob")
    with pytest.raises(Boom):
        svc.log_incident(report(), "alice")
    with pytest.raises(Boom):
        svc.add_note(1, "bob", "root_cause", "a cause")
    monkeypatch.undo()
    assert _counts(svc) == before
    assert svc.get(1) == stored
    assert _row(svc, 1).sla_clock == "response"
    # …and the store still works afterwards.
    assert svc.acknowledge(1, "bob").version == 2
    with svc.db.read() as session:
        assert timeline.verify(session).intact
