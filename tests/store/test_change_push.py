"""Changes pushed on PostgreSQL (store/change_feed.py): a commit that moves the change marker
notifies every listener with the new marker; a rollback notifies nothing; a listener that loses
its connection says so, reconnects and says it is live again."""

from __future__ import annotations

import queue
import threading

import pytest
from sqlalchemy import text

from eim_tui.bootstrap import open_services
from eim_tui.store.change_feed import ChangeListener
from tests.change_push_fixtures import pg_url, watcher, writer  # noqa: F401 (fixtures, used by name)

from .conftest import report

pytestmark = pytest.mark.postgres

WAIT = 10.0


class Told:
    """What a subscriber was told, in order, as ("change", marker) / ("live", bool)."""

    def __init__(self) -> None:
        self.items: queue.Queue[tuple[str, object]] = queue.Queue()

    def change(self, marker: int) -> None:
        self.items.put(("change", marker))

    def live(self, live: bool) -> None:
        self.items.put(("live", live))

    def next(self, timeout: float = WAIT) -> tuple[str, object]:
        return self.items.get(timeout=timeout)

    def empty_for(self, seconds: float) -> bool:
        try:
            item = self.items.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"told {item!r}")


def subscribe(svc) -> tuple[Told, object]:
    told = Told()
    stop = svc.watch_changes(told.change, told.live)
    assert stop is not None
    assert told.next() == ("live", True)
    return told, stop


def test_a_commit_is_told_with_its_marker(writer, watcher) -> None:
    told, stop = subscribe(watcher)
    try:
        writer.log_incident(report(title="one"), "alice")
        assert told.next() == ("change", writer.change_marker())
        writer.acknowledge(1, "bob")  # one transaction, two events: one notice, the last marker
        assert told.next() == ("change", writer.change_marker())
        assert told.empty_for(0.5)
    finally:
        stop()


def test_a_rolled_back_transaction_tells_nothing(writer, watcher) -> None:
    from eim_tui.domain.model import EventKind
    from eim_tui.store import timeline

    writer.log_incident(report(title="one"), "alice")
    told, stop = subscribe(watcher)
    try:
        class Undo(Exception):
            pass

        with pytest.raises(Undo), writer.db.write() as session:
            timeline.append(session, [timeline.NewEvent(1, EventKind.NOTE_ADDED, "x", {})], writer.clock.now(), "bob")
            raise Undo
        assert told.empty_for(1.0)
        assert watcher.change_marker() == 1  # nothing was kept either
    finally:
        stop()


def test_one_listener_per_store_however_many_subscribe(watcher) -> None:
    assert watcher.db.change_listener() is watcher.db.change_listener()
    _, stop_first = subscribe(watcher)
    _, stop_second = subscribe(watcher)
    assert watcher.db.change_listener().connections == 1
    stop_first()
    stop_second()


def test_sqlite_pushes_nothing(tmp_path, clock) -> None:
    svc = open_services(f"sqlite:///{tmp_path}/eim.db", clock)
    try:
        assert svc.watch_changes(lambda _: None) is None
    finally:
        svc.db.dispose()


def test_a_lost_connection_is_told_and_listening_resumes(writer, watcher, monkeypatch) -> None:
    listener: ChangeListener = watcher.db.change_listener()
    listener.backoff = (0.1,)
    told, stop = subscribe(watcher)
    refused = threading.Event()
    real_connect = ChangeListener._connect

    def connect(self):
        if refused.is_set():
            raise ConnectionError("refused for the test")
        return real_connect(self)

    monkeypatch.setattr(ChangeListener, "_connect", connect)
    try:
        refused.set()
        with writer.db.write() as session:
            session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": listener.backend_pid})
        assert told.next() == ("live", False)
        writer.log_incident(report(title="while away"), "alice")  # not told: nobody listens
        assert told.empty_for(0.5)
        refused.clear()
        assert told.next() == ("live", True)  # the subscriber reads what changed now
        writer.log_incident(report(title="after"), "alice")
        assert told.next() == ("change", writer.change_marker())
        assert listener.connections == 2
    finally:
        stop()


def test_a_move_no_notice_told_is_found_by_the_safety_check(writer, watcher) -> None:
    """A writer that does not notify (an older eim, a script): the listener's own check finds it."""
    listener: ChangeListener = watcher.db.change_listener()
    listener.safety_s = 0.5
    told, stop = subscribe(watcher)
    try:
        writer.log_incident(report(title="one"), "alice")
        assert told.next() == ("change", 1)
        with writer.db.write() as session:
            session.execute(text("UPDATE chain_head SET seq = seq + 1 WHERE id = 1"))
        assert told.next() == ("change", 2)
        assert listener.safety_checks >= 1
    finally:
        stop()


def test_role_changes_and_heartbeats_are_told_by_topic(writer, watcher) -> None:
    from eim_tui.services.notifications import NotificationCases

    topics: queue.Queue[str] = queue.Queue()
    told = Told()
    stop = watcher.watch_changes(told.change, told.live, topics.put)
    assert told.next() == ("live", True)
    try:
        writer.access.add_user("admin", "dora", "responder")
        assert topics.get(timeout=WAIT) == "access"
        NotificationCases(writer).beat("ops-1:1:x", "ops-1", 1, writer.clock.now())
        assert topics.get(timeout=WAIT) == "service:ops-1"
        assert told.empty_for(0.3)  # neither moved the change marker
    finally:
        stop()
