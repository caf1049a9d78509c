"""The filter's free words are answered from the queue index alone (SQLite's plan), so `sev<=2 disk`
does not read every open incident's row at 100,000 incidents."""

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
    generate(svc, incidents=300, seed=5)
    with svc.db.write() as session:
        session.execute(text("ANALYZE"))
    yield svc
    svc.db.dispose()


@pytest.mark.parametrize("hide_confidential", [False, True], ids=["security", "others"])
@pytest.mark.parametrize("expression", ["sev<=2 disk", "disk", "inc-0001 sev<=3", "service:payments"])
def test_word_filters_read_only_the_queue_index(sqlite_svc, expression, hide_confidential) -> None:
    stmt = queries.queue_statement(View.OPEN, parse(expression).with_user("alice"), "alice", [],
                                   sqlite_svc.clock.now(), hide_confidential=hide_confidential)
    with sqlite_svc.db.read() as session:
        sql = stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
        plan = "\n".join(row[-1] for row in session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "USING COVERING INDEX ix_incident_queue" in plan, plan
