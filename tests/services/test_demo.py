"""Demo data: reproducible from its seed, covering every situation the queue must show."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from eim_tui.bootstrap import open_services
from eim_tui.services.demo import generate
from eim_tui.domain import SlaState, State, sla
from eim_tui.domain.filters import parse
from eim_tui.output.json_shapes import incident_dict, queue_row_dict
from eim_tui.store import repository, timeline
from eim_tui.domain.queue import View
from eim_tui.store.tables import IncidentRow

from .conftest import report


def _everything(svc) -> list:
    with svc.db.read() as session:
        rows = session.execute(select(IncidentRow).order_by(IncidentRow.id)).scalars()
        return [repository.incident_from_row(r) for r in rows]


def _listing(svc, now) -> list[dict]:
    """What `eim list --json` prints for every incident (the `all` filter), as an admin sees it."""
    numbers = svc.queue(View.OPEN, parse("all"), "system", [])
    return [queue_row_dict(r, now) for r in sorted(svc.rows(numbers), key=lambda r: numbers.index(r.number))]


def _snapshot(svc, now) -> tuple[list, list]:
    incidents = [incident_dict(i) for i in _everything(svc)]
    details = [[(e.at, e.actor, e.kind, e.summary) for e in svc.details(n).timeline] for n in range(1, 4)]
    return incidents, [_listing(svc, now), details]


def test_the_same_seed_gives_the_same_incidents(svc, clock, tmp_path) -> None:
    assert generate(svc, incidents=60, seed=7) == 60
    # A second fresh store, on SQLite whatever the first one is: the backend must not matter either.
    second = open_services(f"sqlite:///{tmp_path}/second.db", clock)
    try:
        generate(second, incidents=60, seed=7)
        assert _snapshot(svc, clock.now()) == _snapshot(second, clock.now())
        third = open_services(f"sqlite:///{tmp_path}/third.db", clock)
        generate(third, incidents=60, seed=8)
        assert _snapshot(third, clock.now())[0] != _snapshot(svc, clock.now())[0]
        third.db.dispose()
    finally:
        second.db.dispose()


def test_sixty_demo_incidents_show_every_situation(svc, clock) -> None:
    generate(svc, incidents=60, seed=7)
    now = clock.now()
    incidents = _everything(svc)
    assert len(incidents) == 60

    def current(i):
        return sla.current_clock(i, svc.ref.policy(i.priority), now).state

    open_ones = [i for i in incidents if i.is_open]
    situations = {
        "breached": any(current(i) is SlaState.BREACHED for i in open_ones),
        "warning": any(current(i) is SlaState.WARNING for i in open_ones),
        "on hold": any(i.state is State.ON_HOLD and i.paused_since is not None for i in incidents),
        "unassigned Sev1": any(i.priority == 1 and not i.assignee and not i.assignment_group for i in open_ones),
        "resolved awaiting closure": any(i.state is State.RESOLVED for i in incidents),
        "closed": any(i.state is State.CLOSED for i in incidents),
        "cancelled": any(i.state is State.CANCELLED for i in incidents),
        "major": any(i.major for i in open_ones),
        "new": any(i.state is State.NEW for i in incidents),
        "in progress": any(i.state is State.IN_PROGRESS for i in incidents),
        "confidential": any(i.confidential for i in incidents),
    }
    assert {name for name, seen in situations.items() if not seen} == set()
    for i in incidents:
        assert i.reported_at <= now and (i.acknowledged_at is None or i.reported_at <= i.acknowledged_at <= now)
        assert (i.closed_at is not None) == (i.state in (State.CLOSED, State.CANCELLED))
        assert len(svc.details(i.number).timeline) >= 1
    with svc.db.read() as session:
        assert timeline.verify(session).intact
    assert svc.queue(View.BREACHING, parse(""), "alice", []) and svc.queue(View.MAJOR, parse(""), "alice", [])


def test_demo_data_appends_to_a_store_in_use(svc, clock) -> None:
    svc.log_incident(report(title="a real one"), "alice")
    generate(svc, incidents=10, seed=3)
    after = svc.log_incident(report(title="and another"), "alice")
    assert after.number == 12  # the id sequence moved past the demo's explicit ids
    assert [i.number for i in _everything(svc)] == list(range(1, 13))
    with svc.db.read() as session:
        result = timeline.verify(session)
    assert result.intact and result.events > 12


@pytest.mark.parametrize("count", [1, 13])
def test_small_demos_work(svc, count) -> None:
    assert generate(svc, incidents=count, seed=1) == count
    assert len(_everything(svc)) == count


def _stored(svc) -> dict[str, list]:
    """Every row the demo writes, table by table, in the order stored (ids and hashes included)."""
    tables = ("incident", "diagnosis_note", "timeline_event", "state_visit", "chain_head")
    with svc.db.read() as session:
        return {t: [tuple(r) for r in session.execute(text(f"SELECT * FROM {t} ORDER BY 1"))] for t in tables}


def test_a_demo_written_in_chunks_and_pages_stores_the_same_rows(clock, tmp_path, monkeypatch) -> None:
    """A million incidents are built and chained a chunk at a time, with SQLite's indexes made
    again at the end: the rows, the hash chain and the visits are those of a load in one piece."""
    from eim_tui.store import bulk_load

    whole = open_services(f"sqlite:///{tmp_path}/whole.db", clock)
    generate(whole, incidents=300, seed=5)
    monkeypatch.setattr(bulk_load, "CHUNK", 37)
    monkeypatch.setattr(bulk_load, "EVENT_PAGE", 50)
    monkeypatch.setattr(bulk_load, "REBUILD_AFTER", 100)
    pieces = open_services(f"sqlite:///{tmp_path}/pieces.db", clock)
    generate(pieces, incidents=300, seed=5)
    try:
        assert _stored(pieces) == _stored(whole)
        with pieces.db.read() as session:
            assert timeline.verify(session).intact
            indexes = session.execute(select(text("name")).select_from(text("sqlite_master"))
                                      .where(text("type = 'index'"))).scalars().all()
        assert "ix_incident_queue" in indexes and "ix_state_visit_incident_id" in indexes
        assert pieces.queue(View.OPEN, parse("disk"), "alice", []) == whole.queue(View.OPEN, parse("disk"), "alice", [])
    finally:
        whole.db.dispose()
        pieces.db.dispose()
