"""Migration 0011 keeps the problem rows a 0009 store has (references made before problem records
existed): each keeps its ref and fields, is numbered in the order it was made, a known error is in
state known_error, its incidents are found by their reference, and the problems' chain starts clean."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from eim_tui.bootstrap import open_services
from eim_tui.domain.intake import NewIncident
from eim_tui.domain.problems import ProblemState
from eim_tui.services.problems import ProblemCases
from eim_tui.store import HEAD_REVISION
from eim_tui.store.engine import Database
from eim_tui.store.schema import current_revision, downgrade


def test_problem_rows_of_a_0009_store_survive_the_upgrade_and_the_way_back(db_url: str, svc, clock) -> None:
    incident = svc.log_incident(NewIncident(title="tunnel drops", impact=2, urgency=2), "alice")
    svc.db.dispose()
    db = Database(db_url)
    try:
        downgrade(db, "0009")
        assert current_revision(db) == "0009"
    finally:
        db.dispose()
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            for ref, title, known, made in (("Problem ID  7", "tunnel drops", True, datetime(2026, 3, 1, tzinfo=UTC)),
                                            ("PRB-0042", "disk fills", False, datetime(2026, 1, 5, tzinfo=UTC))):
                conn.execute(text("INSERT INTO problem (ref, title, root_cause, known_error, workaround, created_at) "
                                  "VALUES (:r, :t, 'mtu', :k, 'use tcp', :c)"), {"r": ref, "t": title, "k": known, "c": made})
            conn.execute(text("UPDATE incident SET problem_ref = 'Problem ID  7' WHERE id = :n"), {"n": incident.number})
        upgraded = open_services(db_url, clock)
        try:
            assert current_revision(upgraded.db) == HEAD_REVISION
            cases = ProblemCases(upgraded)
            listed = {s.problem.ref: (s.problem.key, s.problem.state, s.problem.title, s.problem.root_cause,
                                      s.problem.workaround, s.incidents) for s in cases.list()}
            assert listed == {
                "PRB-0042": ("PRB-000001", ProblemState.OPEN, "disk fills", "mtu", "use tcp", 0),  # the older first
                "Problem ID  7": ("PRB-000002", ProblemState.KNOWN_ERROR, "tunnel drops", "mtu", "use tcp", 1),
            }
            assert [i.number for i in cases.details(2).incidents] == [incident.number]
            made = cases.create("chen", "after the upgrade")
            assert made.key == "PRB-000003"  # numbering goes on after the old rows
            cases.resolve("chen", 2)  # its root cause was kept, so it resolves
            assert cases.verify().intact and cases.verify().events == 2
        finally:
            upgraded.db.dispose()
        db = Database(db_url)
        try:
            downgrade(db, "0009")
        finally:
            db.dispose()
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT ref, title, known_error FROM problem ORDER BY ref")).all()
        assert [(r, t, bool(k)) for r, t, k in rows] == [
            ("PRB-000003", "after the upgrade", False), ("PRB-0042", "disk fills", False), ("Problem ID  7", "tunnel drops", True)]
    finally:
        engine.dispose()
