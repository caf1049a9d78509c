"""Writers in one process take SQLite's write lock in the order they asked for it.

SQLite's own busy handler sleeps blindly while it waits, and a plain lock lets the thread that
just released it take it straight back: either way an alert arriving while the service writes
batch after batch waited for all of them. `Turns` hands the lock to the longest waiter."""

from __future__ import annotations

import threading
import time

import pytest

from eim_tui.store import health
from eim_tui.store.engine import Database, Turns


def _queued(turns: Turns, count: int) -> None:
    end = time.monotonic() + 10
    while turns.waiting < count:
        assert time.monotonic() < end, f"{count} waiters never queued"
        time.sleep(0.001)


def test_waiting_writers_take_the_lock_in_the_order_they_asked() -> None:
    turns = Turns()
    assert turns.acquire(1)
    order: list[str] = []
    threads = []
    for name in "BCDE":
        def writer(name: str = name) -> None:
            assert turns.acquire(10)
            order.append(name)
            turns.release()
        thread = threading.Thread(target=writer)
        thread.start()
        _queued(turns, len(threads) + 1)  # each asks only after the one before it is queued
        threads.append(thread)
    assert order == []
    turns.release()
    for thread in threads:
        thread.join(10)
    assert order == ["B", "C", "D", "E"]


def test_the_releasing_thread_cannot_take_the_lock_straight_back_from_a_waiter() -> None:
    turns = Turns()
    assert turns.acquire(1)
    got: list[str] = []
    waiter = threading.Thread(target=lambda: (turns.acquire(10), got.append("waiter"), turns.release()))
    waiter.start()
    _queued(turns, 1)
    turns.release()
    assert turns.acquire(10)  # a sweep's next batch: it queues behind the waiter
    got.append("sweep")
    turns.release()
    waiter.join(10)
    assert got == ["waiter", "sweep"]


def test_the_holder_may_take_it_again_and_it_is_free_only_after_the_last_release() -> None:
    turns = Turns()
    assert turns.acquire(1) and turns.acquire(1)
    turns.release()
    other = threading.Thread(target=lambda: got.append(turns.acquire(0.05)))
    got: list[bool] = []
    other.start()
    other.join(10)
    assert got == [False]
    turns.release()
    assert turns.waiting == 0
    other = threading.Thread(target=lambda: got.append(turns.acquire(0.05)))
    other.start()
    other.join(10)
    assert got == [False, True]


def test_a_writer_that_gave_up_leaves_the_queue() -> None:
    turns = Turns()
    assert turns.acquire(1)
    got: list[bool] = []
    quitter = threading.Thread(target=lambda: got.append(turns.acquire(0.01)))
    quitter.start()
    quitter.join(10)
    assert got == [False] and turns.waiting == 0
    turns.release()
    assert turns.acquire(0)  # nobody is owed it


def test_two_stores_on_one_file_queue_together_and_a_writer_held_too_long_is_told_so(tmp_path) -> None:
    path = tmp_path / "eim.db"
    first, second = Database(f"sqlite:///{path}", busy_timeout_ms=200), Database(str(path), busy_timeout_ms=200)
    try:
        from sqlalchemy import text

        with first.write() as session:
            session.execute(text("CREATE TABLE t (n INTEGER)"))
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            with first.write() as session:
                session.execute(text("INSERT INTO t VALUES (1)"))
                holding.set()
                release.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        holding.wait(10)
        with pytest.raises(health.StoreUnavailable, match="store locked"), second.write() as session:
            session.execute(text("INSERT INTO t VALUES (2)"))
        later = threading.Thread(target=lambda: _insert(second, 3))
        later.start()
        _queued(first._writer, 1)  # the same queue: both stores name one file
        release.set()
        holder.join(10)
        later.join(10)
        with first.read() as session:
            assert [n for (n,) in session.execute(text("SELECT n FROM t ORDER BY n"))] == [1, 3]
    finally:
        first.dispose()
        second.dispose()


def _insert(db: Database, n: int) -> None:
    from sqlalchemy import text

    with db.write() as session:
        session.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
