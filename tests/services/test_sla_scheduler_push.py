"""The SLA scheduler's watch on PostgreSQL: told of each commit by the store's change feed, it
reads the change marker then, and not every `poll_interval`."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import event

from eim_tui.bootstrap import open_services
from eim_tui.domain.intake import NewIncident
from eim_tui.notify.scheduler import SlaScheduler

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url(postgres) -> str:
    return postgres.with_store()


async def wait_for(condition, what: str, deadline: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while not condition():
        if loop.time() > end:
            pytest.fail(f"gave up waiting: {what}")
        await asyncio.sleep(0.05)


async def test_the_watch_runs_when_told_and_reads_nothing_between(pg_url, clock) -> None:
    writer, watcher = open_services(pg_url, clock), open_services(pg_url, clock)
    moves: list[int] = []
    reads: list[str] = []
    guard = threading.Lock()

    def count(_conn, _cursor, statement, *_args) -> None:
        if "chain_head" in statement:
            with guard:
                reads.append(statement)

    event.listen(watcher.db.write_engine, "before_cursor_execute", count)
    scheduler = SlaScheduler(watcher, "alice", poll_interval=0.1, on_change=moves.append)
    try:
        scheduler.start()
        await wait_for(lambda: scheduler.planned and scheduler._pushed, "the first run, the feed live")
        await asyncio.sleep(0.5)
        with guard:
            before = len(reads)
        await asyncio.sleep(2.0)  # twenty 0.1 s watches, none of which asks the store
        with guard:
            assert len(reads) == before
        number = writer.log_incident(NewIncident(title="Disk full", impact=1, urgency=1), "alice").number
        marker = writer.change_marker()
        await wait_for(lambda: marker in moves, "the watch told of the new marker")
        assert number == 1
    finally:
        scheduler.shutdown()
        scheduler.idle(10)
        event.remove(watcher.db.write_engine, "before_cursor_execute", count)
        writer.db.dispose()
        watcher.db.dispose()
