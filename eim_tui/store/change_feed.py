"""Pushing the change marker to every process on a PostgreSQL store (LISTEN/NOTIFY).

Writers: every transaction that moves the incidents' chain head (the change marker) also runs
`pg_notify('eim_change', <new marker>)` in the same statement (`move_head`), so PostgreSQL delivers
it only when that transaction commits, and never for one rolled back. SQLite stores do nothing
here: they are local and polled.

Readers: one `ChangeListener` per `Database` (so one per process): a dedicated psycopg connection in
autocommit, made with the store's own connection settings (the same login: docs/access.md), doing
`LISTEN eim_change` and waiting on its socket in a daemon thread. It hands each notification's
marker to its subscribers, and tells them whether it is live: when the connection is lost it
says so (they go back to polling), reconnects with backoff, and says live again once listening
(they read what changed once: the notifications sent meanwhile were missed). Waiting costs the
database nothing; the one statement it runs is its safety check, every `SAFETY_S` on its own
connection: the change marker, told to the subscribers if it moved with no notice (a notice lost
cannot leave a screen stale for longer), which also proves the connection still works. TCP
keepalives notice a server that vanished without closing the socket. So a process whose screens
all listen asks the store one question every two minutes while nothing changes, however many watch.

Other notices share the channel, named by a word instead of a number (`announce(session, topic)`):
"access" when a person's role or groups changed, "service:<host>" on each heartbeat of `eim
service`. They are handed to the subscribers' `on_topic`.

Subscribers are called on the listener's thread and must return at once (post a message).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import Text, cast, func, select, update
from sqlalchemy.orm import Session

from eim_tui.store.tables import ChainHeadRow

if TYPE_CHECKING:
    from eim_tui.store.engine import Database

CHANNEL = "eim_change"
SAFETY_S = 120.0  # the listener reads the change marker this often, in case a notice was lost
WAIT_S = 1.0  # how often the listening thread looks up from the socket to see whether it should stop
BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)  # between reconnection attempts, the last one repeated
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}

log = logging.getLogger(__name__)

OnChange = Callable[[int], None]
OnLive = Callable[[bool], None]
OnTopic = Callable[[str], None]

ACCESS = "access"  # the topic: someone's role or groups changed
SERVICE = "service:"  # the topic's prefix: `eim service` on this host beat

MARKER_SQL = "SELECT seq FROM chain_head WHERE id = 1"


def announce(session: Session, topic: str) -> None:
    """Tell every listener `topic` when (and only if) this transaction commits; PostgreSQL only."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_notify(CHANNEL, topic)))


def move_head(session: Session, seq: int, digest: str) -> None:
    """Write the incidents' chain head (the change marker) — and, on PostgreSQL, announce the new
    marker to every listener in the same statement, delivered when (and only if) this commits."""
    stmt = update(ChainHeadRow).where(ChainHeadRow.id == 1).values(seq=seq, hash=digest)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(stmt.returning(func.pg_notify(CHANNEL, cast(ChainHeadRow.seq, Text))))
    else:
        session.execute(stmt)


class ChangeListener:
    """One LISTEN connection for a process, started with its first subscriber and stopped with its last."""

    def __init__(self, db: Database, backoff: tuple[float, ...] = BACKOFF_S, safety_s: float = SAFETY_S) -> None:
        self.db = db
        self.backoff = backoff
        self.safety_s = safety_s
        self.marker = -1  # the newest change marker told (or read by the safety check)
        self.safety_checks = 0
        self.live = False  # listening now: a change committed from here on is told
        self.connections = 0  # how many times it connected (1 + reconnections)
        self._subscribers: dict[int, tuple[OnChange, OnLive | None, OnTopic | None]] = {}
        self._next_id = 0
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.backend_pid = 0  # the listening connection's server process (0: none)

    # --- subscribing (any thread) ------------------------------------------------------------

    def subscribe(self, on_change: OnChange, on_live: OnLive | None = None,
                  on_topic: OnTopic | None = None) -> Callable[[], None]:
        """Call `on_change(marker)` for each change committed, `on_live(True/False)` when listening
        starts or stops, `on_topic(word)` for the other notices. Returns the function that ends
        the subscription."""
        with self._guard:
            key = self._next_id
            self._next_id += 1
            self._subscribers[key] = (on_change, on_live, on_topic)
            if self._thread is None or not self._thread.is_alive():
                self._stop = threading.Event()
                self._thread = threading.Thread(target=self._run, args=(self._stop,), name="eim-change-listener",
                                                daemon=True)
                self._thread.start()
            live = self.live
        if live and on_live is not None:
            on_live(True)

        def unsubscribe() -> None:
            with self._guard:
                self._subscribers.pop(key, None)
                if not self._subscribers:
                    self._stop.set()

        return unsubscribe

    def close(self, timeout: float = 5.0) -> None:
        """Stop listening now and wait for the thread (the store is being disposed)."""
        with self._guard:
            self._subscribers.clear()
            self._stop.set()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # --- the thread ----------------------------------------------------------------------------

    def _tell(self, marker: int | None = None, live: bool | None = None, topic: str | None = None) -> None:
        with self._guard:
            subscribers = list(self._subscribers.values())
        for on_change, on_live, on_topic in subscribers:
            try:
                if marker is not None:
                    on_change(marker)
                elif live is not None and on_live is not None:
                    on_live(live)
                elif topic is not None and on_topic is not None:
                    on_topic(topic)
            except Exception:  # one subscriber's failure must not silence the others
                log.exception("a change subscriber failed")

    def _connect(self):
        import psycopg

        engine = self.db.write_engine
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        params = {"connect_timeout": 5, **KEEPALIVE, **cparams}
        conn = psycopg.connect(*cargs, autocommit=True, **params)
        conn.execute(f"LISTEN {CHANNEL}")
        row = conn.execute(MARKER_SQL).fetchone()  # from here on every move is told
        self.marker = int(row[0]) if row else 0
        return conn

    def _run(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                conn = self._connect()
            except Exception as exc:  # noqa: BLE001 - any failure: poll meanwhile, try again later
                log.debug("cannot listen for changes: %s", exc)
                stop.wait(self.backoff[min(failures, len(self.backoff) - 1)])
                failures += 1
                continue
            failures = 0
            self.backend_pid = conn.info.backend_pid
            self.connections += 1
            self.live = True
            self._tell(live=True)
            try:
                self._listen(conn, stop)
            except Exception as exc:  # noqa: BLE001 - the connection is gone: poll until it is back
                log.debug("lost the change listener's connection: %s", exc)
            finally:
                self.live = False
                self.backend_pid = 0
                with contextlib.suppress(Exception):  # it is being thrown away
                    conn.close()
            if not stop.is_set():
                self._tell(live=False)
                stop.wait(self.backoff[0])

    def _listen(self, conn, stop: threading.Event) -> None:
        checked = time.monotonic()
        while not stop.is_set():
            for notice in conn.notifies(timeout=WAIT_S):
                try:
                    marker = int(notice.payload)
                except ValueError:
                    self._tell(topic=notice.payload)
                else:
                    self.marker = max(self.marker, marker)
                    self._tell(marker=marker)
                if stop.is_set():
                    return
            if conn.closed or conn.broken:
                raise ConnectionError("the listening connection closed")
            if time.monotonic() - checked >= self.safety_s:
                checked = time.monotonic()
                self._safety_check(conn)

    def _safety_check(self, conn) -> None:
        row = conn.execute(MARKER_SQL).fetchone()
        self.safety_checks += 1
        marker = int(row[0]) if row else 0
        if marker > self.marker:  # moved, and no notice said so
            log.debug("the change marker moved to %s without a notice", marker)
            self.marker = marker
            self._tell(marker=marker)
