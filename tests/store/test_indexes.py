"""The queue's statement is served by `ix_incident_queue` (SQLite's plan; PostgreSQL's planner
prefers a bitmap scan plus sort at any size we can build here, so its plan is not pinned)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from eim_tui.bootstrap import open_services
from eim_tui.services.demo import generate
from eim_tui.domain.filters import parse
from eim_tui.domain.queue import View
from eim_tui.store import queries


@pytest.fixture
def sqlite_svc(tmp_path, clock):
    svc = open_services(f"sqlite:///{tmp_path}/plan.db", clock)
    yield svc
    svc.db.dispose()


def _plan(svc, view: View, filter_text: str = "") -> str:
    stmt = queries.queue_statement(view, parse(filter_text), "alice", ["platform"], svc.clock.now())
    with svc.db.read() as session:
        sql = stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
        rows = session.execute(text(f"EXPLAIN QUERY PLAN {sql}")).all()
    return "\n".join(row[-1] for row in rows)


def test_the_open_queue_uses_the_queue_index(sqlite_svc) -> None:
    generate(sqlite_svc, incidents=300, seed=5)
    with sqlite_svc.db.write() as session:
        session.execute(text("ANALYZE"))
    plan = _plan(sqlite_svc, View.OPEN)
    assert "USING COVERING INDEX ix_incident_queue (is_open=?)" in plan, plan
    assert "SCAN incident" not in plan.replace("SCAN incident USING", ""), plan
    # A severity filter narrows the same index further.
    assert "ix_incident_queue (is_open=? AND priority<?)" in _plan(sqlite_svc, View.OPEN, "sev<=2")
