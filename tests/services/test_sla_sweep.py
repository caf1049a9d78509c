"""The start-up sweep: a first run on a store with thousands of missed SLA moments records them in
batches, each one whole transaction; stopped at any batch boundary it leaves a consistent store,
and the next start records the rest — nothing lost, nothing twice (SQLite and PostgreSQL). And the
real app quits while its sweep is mid-way, with the same guarantees.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from eim_tui.bootstrap import open_services
from eim_tui.domain.clock import FixedClock
from eim_tui.domain.model import EventKind
from eim_tui.notify.scheduler import SlaScheduler
from eim_tui.services.sla import BATCH, DEFAULT_LOOKBACK, SlaService
from eim_tui.store import timeline
from eim_tui.store.tables import IncidentRow, TimelineRow

from bench.bench_sla import fill

SLA_KINDS = (EventKind.SLA_WARNING.value, EventKind.SLA_BREACH.value, EventKind.ESCALATION.value)
DEADLINE = 60.0


def recorded(svc) -> list[tuple[int, str, str]]:
    """(incident, kind, once-key) of every SLA event, in timeline order."""
    with svc.db.read() as session:
        return [tuple(r) for r in session.execute(
            select(TimelineRow.incident_id, TimelineRow.kind, TimelineRow.once_key)
            .where(TimelineRow.kind.in_(SLA_KINDS)).order_by(TimelineRow.seq))]


def doubled(svc) -> list[tuple]:
    """The same moment recorded more than once, by what the events say (not by their keys)."""
    with svc.db.read() as session:
        rows = session.execute(select(TimelineRow.incident_id, TimelineRow.kind, TimelineRow.data)
                               .where(TimelineRow.kind.in_(SLA_KINDS))).all()
    seen = Counter(
        (n, kind, data["rule"]) if kind == EventKind.ESCALATION.value else (n, kind, data["clock"], data["due"])
        for n, kind, data in rows)
    return [moment for moment, count in seen.items() if count > 1]


def missing(svc, now) -> int:
    """Moments of the last 24 h that the timeline does not hold."""
    sla = SlaService(svc)
    with svc.db.read() as session:
        everyone = list(session.execute(select(IncidentRow.id).where(IncidentRow.is_open.is_(True))).scalars())
    return len(sla.pending(everyone, now, now - DEFAULT_LOOKBACK))


def sweep_to_the_end(svc, now) -> int:
    """Runs as later starts would, until one records nothing (escalations that raise a severity
    bring new moments for the next run); how many runs that took."""
    for runs in range(1, 10):
        if not SlaScheduler(svc, "alice").run_due(now).recorded:
            return runs
    raise AssertionError("the sweep never settled")


def chain_intact(svc) -> bool:
    with svc.db.read() as session:
        return timeline.verify(session).intact


@pytest.fixture
def big(db_url, fixed_now):
    """A store with 10,000 open incidents reported over 30 days: about 1,450 moments in the last 24 h."""
    clock = FixedClock(fixed_now)
    svc = open_services(db_url, clock)
    fill(svc, 10_000)
    try:
        yield svc
    finally:
        svc.db.dispose()


def test_a_stopped_sweep_leaves_whole_batches_and_the_next_start_finishes(big) -> None:
    now = big.clock.now()
    sla = SlaService(big)
    numbers = sla.candidates(now - DEFAULT_LOOKBACK, now)
    before = len(sla.pending(numbers, now, now - DEFAULT_LOOKBACK))
    assert before > 3 * BATCH  # enough for several batches

    asked = 0

    def after_two_batches() -> bool:
        nonlocal asked
        asked += 1
        return len(recorded(big)) >= 2 * BATCH

    done = sla.process(numbers, now, now - DEFAULT_LOOKBACK, stop=after_two_batches)
    assert not done.complete and asked > 2
    first = recorded(big)
    assert 2 * BATCH <= len(first) < before and len(done.recorded) == len(first)
    # Batches end with whole incidents: an incident is either fully recorded or not touched.
    touched = {n for n, _, _ in first}
    left = {m.number for m in sla.pending(numbers, now, now - DEFAULT_LOOKBACK)}
    assert touched.isdisjoint(left)
    assert max(touched) < min(left)  # in number order, so a restart takes up where it stopped
    assert chain_intact(big)

    sweep_to_the_end(big, now)  # the next start
    assert missing(big, now) == 0
    assert doubled(big) == []
    assert [r for r in recorded(big)[: len(first)]] == first  # what was written stays as it was
    assert chain_intact(big)


def test_stopped_and_resumed_records_what_one_uninterrupted_run_records(tmp_path, fixed_now) -> None:
    clock = FixedClock(fixed_now)
    url = f"sqlite:///{tmp_path / 'a.db'}"
    svc = open_services(url, clock)
    fill(svc, 10_000, seed=11)
    svc.db.dispose()
    shutil.copyfile(tmp_path / "a.db", tmp_path / "b.db")
    interrupted, whole = open_services(url, clock), open_services(f"sqlite:///{tmp_path / 'b.db'}", clock)
    try:
        for stop_after in (1, 3, 5):  # three quits at different batches, then a full start
            count = 0

            def stop() -> bool:
                nonlocal count
                count += 1
                return count > stop_after

            scheduler = SlaScheduler(interrupted, "alice")
            result = scheduler.run_due(fixed_now, stop=stop)
            assert not result.complete
        sweep_to_the_end(interrupted, fixed_now)
        sweep_to_the_end(whole, fixed_now)
        assert Counter(k for _, k, _ in recorded(interrupted)) == Counter(k for _, k, _ in recorded(whole))
        assert {key for *_, key in recorded(interrupted)} == {key for *_, key in recorded(whole)}
        assert doubled(interrupted) == [] and chain_intact(interrupted)
    finally:
        interrupted.db.dispose()
        whole.db.dispose()


async def test_the_app_quits_mid_sweep_and_the_next_start_finishes(tmp_path, fixed_now, app_factory,
                                                                  monkeypatch) -> None:
    """The real app with its scheduler: `q` while the first sweep records. The sweep is held at
    the first batch boundary after something was recorded (so "mid-way" does not depend on the
    machine's speed: a fast machine once finished the whole sweep before a lock could be taken);
    the app exits, the sweep stops there, and the store is whole."""
    import threading

    path = tmp_path / "eim.db"
    clock = FixedClock(fixed_now)
    svc = open_services(f"sqlite:///{path}", clock)
    fill(svc, 10_000)
    at_boundary, go = threading.Event(), threading.Event()
    asked_stopped = SlaScheduler._is_stopped

    def held_at_a_boundary(self) -> bool:
        if not at_boundary.is_set() and recorded(svc):  # a batch is in: wait here for the quit
            at_boundary.set()
            go.wait(DEADLINE)
        return asked_stopped(self)

    monkeypatch.setattr(SlaScheduler, "_is_stopped", held_at_a_boundary)
    app = app_factory(svc, sla_scheduler=True, poll_interval=3600.0)
    try:
        async with app.run_test() as pilot:
            deadline = time.monotonic() + DEADLINE
            while not at_boundary.is_set():
                assert time.monotonic() < deadline, "the sweep never recorded anything"
                await pilot.pause(0.01)
            held = len(recorded(svc))
            await pilot.press("q")
            go.set()
        scheduler = app.sla_scheduler
        assert scheduler is not None and not scheduler.running
        assert scheduler.idle(DEADLINE), "the sweep did not stop after the quit"
        after = len(recorded(svc))
        assert after == held  # nothing was written after the quit
        assert missing(svc, fixed_now) > 0  # it did stop mid-way
        assert doubled(svc) == [] and chain_intact(svc)
        sweep_to_the_end(svc, fixed_now)  # the next start
        assert missing(svc, fixed_now) == 0 and doubled(svc) == [] and chain_intact(svc)
    finally:
        go.set()
        svc.db.dispose()


def test_escalated_incidents_are_written_once_per_batch_with_every_rule(big) -> None:
    """The batch writes each escalated incident once, with the changes of all its rules: marked
    escalated, the severity raised, the version moved on, and each change in the timeline."""
    now = big.clock.now()
    with big.db.read() as session:
        versions = {n: v for n, v in session.execute(select(IncidentRow.id, IncidentRow.version))}
    SlaScheduler(big, "alice").run_due(now)
    with big.db.read() as session:
        escalated = session.execute(select(IncidentRow.id, IncidentRow.version, IncidentRow.escalated)
                                    .where(IncidentRow.escalated.is_(True))).all()
        raised = session.execute(select(func.count()).select_from(TimelineRow).where(
            TimelineRow.actor == "scheduler", TimelineRow.summary.like("%Sev%→%"))).scalar_one()
    assert escalated and raised > 0
    assert all(version == versions[n] + 1 for n, version, _ in escalated)
    for number, *_ in escalated[:20]:
        incident = big.get(number)
        assert incident.escalated
        assert big.details(number).timeline[-1].kind in (EventKind.ESCALATION, EventKind.FIELD_CHANGED,
                                                          EventKind.SLA_WARNING, EventKind.SLA_BREACH)
    assert chain_intact(big)
