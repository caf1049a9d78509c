"""Team mode on PostgreSQL: what another session commits reaches a running app's screen by the
store's change feed (LISTEN/NOTIFY), not by polling — and the app polls again while the feed is
down, then reads once when it is back."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import event, text

from eim_tui.domain.intake import NewIncident
from eim_tui.store.change_feed import ChangeListener
from eim_tui.tui.widgets.queue_table import QueueTable
from tests.change_push_fixtures import pg_url, watcher, writer  # noqa: F401 (fixtures, used by name)

pytestmark = pytest.mark.postgres


class Statements:
    """Every statement an engine sends, counted (thread-safe)."""

    def __init__(self, engine) -> None:
        self.seen: list[str] = []
        self._guard = threading.Lock()
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, _conn, _cursor, statement, *_args) -> None:
        with self._guard:
            self.seen.append(statement)

    def since(self, start: int) -> list[str]:
        with self._guard:
            return self.seen[start:]

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)


async def wait_until(pilot, condition: Callable[[], bool], what: str, deadline: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while not condition():
        if loop.time() > end:
            pytest.fail(f"gave up waiting: {what}")
        await pilot.pause(0.05)


def numbers(pilot) -> list[int]:
    return pilot.app.screen.query_one(QueueTable).numbers


def log(svc, title: str) -> int:
    return svc.log_incident(NewIncident(title=title, impact=2, urgency=2), "alice").number


async def test_a_commit_elsewhere_reaches_the_queue_without_any_poll(writer, watcher, app_factory) -> None:
    app = app_factory(watcher, "alice")  # poll_interval: an hour — only the feed can bring it
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.changes_pushed, "the feed is live")
        await wait_until(pilot, lambda: app.screen.shown_marker >= 0, "the queue is read")
        number = log(writer, "Disk full on db07")
        await wait_until(pilot, lambda: number in numbers(pilot), "the new incident in the queue")
        writer.acknowledge(number, "bob")
        table = app.screen.query_one(QueueTable)
        await wait_until(pilot, lambda: (row := table.row(number)) is not None and row.assignee == "bob",
                         "the acknowledgement in the queue")


async def test_an_idle_app_sends_no_change_polls(watcher, app_factory) -> None:
    """Polling every 0.2 s would send ~15 looks in 3 s; with the feed live it sends none."""
    app = app_factory(watcher, "alice", poll_interval=0.2)
    counted = Statements(watcher.db.write_engine)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.changes_pushed, "the feed is live")
            await wait_until(pilot, lambda: app.screen.shown_marker >= 0, "the queue is read")
            await pilot.pause(0.5)
            start = len(counted.seen)
            await pilot.pause(3.0)
            looks = [s for s in counted.since(start) if "timeline_event" in s or "chain_head" in s]
            assert looks == []
    finally:
        counted.close()


async def test_the_feed_lost_falls_back_to_polling_and_recovers(writer, watcher, app_factory, monkeypatch) -> None:
    listener: ChangeListener = watcher.db.change_listener()
    listener.backoff = (0.1,)
    refused = threading.Event()
    real_connect = ChangeListener._connect

    def connect(self):
        if refused.is_set():
            raise ConnectionError("refused for the test")
        return real_connect(self)

    monkeypatch.setattr(ChangeListener, "_connect", connect)
    app = app_factory(watcher, "alice", poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.changes_pushed, "the feed is live")
        await wait_until(pilot, lambda: app.screen.shown_marker >= 0, "the queue is read")
        refused.set()
        with writer.db.write() as session:
            session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": listener.backend_pid})
        await wait_until(pilot, lambda: not app.changes_pushed, "the app knows the feed is down")
        first = log(writer, "seen by polling")
        await wait_until(pilot, lambda: first in numbers(pilot), "the change found by the 0.2 s poll")

        # Back: no notice was sent for this one, yet the app reads it once the feed is live again.
        app.screen.poll_timer.pause()  # no poll can find it now
        await pilot.pause(0.3)  # (a poll already on its way ends)
        second = log(writer, "committed while the feed was down")
        await pilot.pause(0.5)
        assert second not in numbers(pilot)
        refused.clear()
        await wait_until(pilot, lambda: app.changes_pushed, "the feed is live again")
        await wait_until(pilot, lambda: second in numbers(pilot), "the change read once on reconnection")
        assert listener.connections == 2


async def test_the_wall_reads_the_board_when_told(writer, watcher, app_factory) -> None:
    from eim_tui.domain.board import BoardScope

    app = app_factory(watcher, "alice", wall=BoardScope())  # poll_interval: an hour
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.changes_pushed, "the feed is live")
        await wait_until(pilot, lambda: app.screen.snapshot is not None, "the board is read")
        before = app.screen.snapshot.severity(1).open
        writer.log_incident(NewIncident(title="Core router down", impact=1, urgency=1), "alice")
        await wait_until(pilot, lambda: app.screen.snapshot.severity(1).open == before + 1, "the new Sev1 counted")


async def test_a_role_change_and_a_heartbeat_reach_the_app_when_told(writer, watcher, app_factory) -> None:
    from eim_tui.domain.roles import Role
    from eim_tui.services.notifications import NotificationCases
    from eim_tui.tui.widgets.service_status import ServiceStatus

    app = app_factory(watcher, "bob")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.changes_pushed, "the feed is live")
        await wait_until(pilot, lambda: app.screen.query(ServiceStatus), "the status widget")
        assert app.user_context.role is Role.RESPONDER
        writer.access.set_user("admin", "bob", Role.SHIFT_LEAD)
        await wait_until(pilot, lambda: app.user_context.role is Role.SHIFT_LEAD, "the new role, told")
        status = app.screen.query_one(ServiceStatus)
        assert not status.display
        NotificationCases(writer).beat("ops-9:1:x", "ops-9", 1, writer.clock.now())
        await wait_until(pilot, lambda: status.display and "ops-9" in str(status.render()), "the beat, told")
