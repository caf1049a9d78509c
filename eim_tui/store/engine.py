"""Engines and sessions for SQLite (embedded, the default) and PostgreSQL (a team's shared queue).

SQLite is opened in WAL mode with foreign keys and a busy timeout. Writes begin with
`BEGIN IMMEDIATE`, so two writers queue for the lock instead of failing half-way; reads use a
second engine with plain deferred transactions, so the UI never waits behind a writer. Writers in
one process also queue on a lock of their own (one per file) before they ask SQLite: SQLite's busy
handler sleeps blindly (25, 50, then 100 ms at a time) while it waits, so a dozen threads taking
turns at 2 ms transactions — the service's senders beside its alert receiver — would each wait
hundreds of milliseconds for a lock that is free most of the time; `Turns` wakes the next writer,
in the order they came, the moment the last one commits.

A store can fail under eim: the server stops, another program holds SQLite's lock, the file or
its disk is read-only, the disk fills. `read()` and `write()` turn each into a `StoreUnavailable`
(store/health.py) saying what is wrong in the user's words; nothing half-written stays, since the
transaction is rolled back. A SQLite file that cannot be written is opened read-only from the
start (`read_only`), so it can still be looked at. PostgreSQL connections are checked before use
(`pool_pre_ping`), so once the server is back the next call simply works.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from eim_tui.domain.errors import ValidationError
from eim_tui.store import health
from eim_tui.store.health import BUSY_TIMEOUT_MS
from eim_tui.store.location import default_url  # noqa: F401 - where callers have always found it

BEFORE_COMMIT = "eim.before_commit"  # session.info: steps `joined()` runs just before it commits

PG_CONNECT_TIMEOUT_S = 5  # a server that does not answer (a dead host) is told within this


class Turns:
    """A lock that writers take in the order they asked for it (a plain lock lets the thread that
    just released it take it straight back, so a sweep writing batch after batch could keep an
    alert waiting for all of them). The thread holding it may take it again (nested writes)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._queue: deque[tuple[int, threading.Event]] = deque()

    @property
    def waiting(self) -> int:
        """How many threads are queued for it."""
        return len(self._queue)

    def acquire(self, timeout: float) -> bool:
        me = threading.get_ident()
        with self._guard:
            if self._owner == me or (self._owner is None and not self._queue):
                self._owner = me
                self._depth += 1
                return True
            turn = (me, threading.Event())
            self._queue.append(turn)
        if turn[1].wait(timeout):
            return True  # handed over by `release`
        with self._guard:
            if self._owner == me:  # handed over just as the wait gave up
                return True
            self._queue.remove(turn)
            return False

    def release(self) -> None:
        with self._guard:
            self._depth -= 1
            if self._depth:
                return
            if self._queue:
                self._owner, event = self._queue.popleft()
                self._depth = 1
                event.set()
            else:
                self._owner = None


_WRITERS: dict[str, Turns] = {}  # one per SQLite file in this process (see the module's text)
_WRITERS_GUARD = threading.Lock()


def _writer_lock(path: str) -> Turns:
    key = os.path.realpath(path)
    with _WRITERS_GUARD:
        return _WRITERS.setdefault(key, Turns())


def normalise_url(url: str) -> str:
    """Accept a bare path as a SQLite file and `postgresql://` as psycopg 3."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _switch_to_wal(cursor, within: float) -> None:
    """`PRAGMA journal_mode=WAL`. Switching a new file needs it alone, and SQLite answers "database
    is locked" at once, without waiting, to a connection that asks while another is switching it
    or reading it (three processes opening a new store together met this one time in about 15).
    Once the file is in WAL mode the pragma is a no-op, so asking again shortly after succeeds."""
    deadline = time.monotonic() + within
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _sqlite_engine(url: str, immediate: bool, busy_timeout_ms: int, read_only: bool = False) -> Engine:
    engine = create_engine(
        url,
        connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is unreliable).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        if not read_only:  # switching the journal mode is a write; a read-only file keeps its own
            _switch_to_wal(cursor, busy_timeout_ms / 1000)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


NUL_REFUSED = "text cannot contain a NUL character (\\x00); remove it and try again"


def _refuse_nul(_conn, _cursor, _statement, parameters, _context, _executemany) -> None:
    """Every value eim sends passes here: a NUL in any text is refused before the statement runs
    (PostgreSQL would fail with a driver error, SQLite would store it), so every field, on every
    path, gets the same clear message and the transaction writes nothing."""
    rows = parameters if isinstance(parameters, list) else [parameters]
    for row in rows:
        values = row.values() if isinstance(row, dict) else row if isinstance(row, tuple | list) else ()
        for value in values:
            if isinstance(value, str) and "\x00" in value:
                raise ValidationError(NUL_REFUSED)
            if isinstance(value, str) and not value.isascii() and not _encodable(value):
                raise ValidationError(NOT_UTF8_REFUSED)


# A byte that is not UTF-8 in an argument reaches Python as a lone surrogate ("\udcff"); no driver
# can store it (UnicodeEncodeError, a crash), so it is refused like a NUL.
NOT_UTF8_REFUSED = ("text contains bytes that are not UTF-8 (shown as \\udcXX); check the terminal's encoding "
                    "and type it again")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _guard(engine: Engine) -> Engine:
    event.listen(engine, "before_cursor_execute", _refuse_nul)
    return engine


def _unwritable(path: Path) -> str:
    """Why a SQLite file cannot be written ("" when it can): the file, its directory, its disk.

    SQLite writes beside the file (the -wal and -shm files), so the directory counts too."""
    if not path.exists():
        return ""
    if not os.access(path, os.W_OK):
        return "the file cannot be written (permissions, or a read-only disk)"
    if not os.access(path.parent, os.W_OK):
        return "its directory cannot be written (SQLite keeps its -wal and -shm files there)"
    return ""


def _read_only_url(path: Path) -> str:
    """A read-only URL for `path` that SQLite can open.

    `mode=ro` works while the -wal and -shm files exist (another process has the store open) or can
    be made; on a read-only disk after a clean shutdown neither holds, and only `immutable=1` opens it
    (no one can be writing to a file on a read-only disk)."""
    for query in ("mode=ro", "immutable=1"):
        uri = f"file:{path}?{query}"
        try:
            with sqlite3.connect(uri, uri=True) as conn:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.close()
            return f"sqlite:///{uri}&uri=true"
        except sqlite3.Error:
            continue
    return f"sqlite:///file:{path}?mode=ro&uri=true"  # fails on first use with a clear message


class Database:
    """The engines of one store, and sessions on them: `write()` for a use case, `read()` for a query."""

    def __init__(self, url: str, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        if "\x00" in url or not _encodable(url):  # a config.toml can spell both; os calls would raise ValueError
            raise ValidationError(f"cannot read database URL {url!r}: it holds a NUL or a byte that is not UTF-8")
        self.url = normalise_url(url)
        try:
            parsed = make_url(self.url)
        except ArgumentError:
            raise ValidationError(f"cannot read database URL {url!r}; use sqlite:///PATH or postgresql+psycopg://…") from None
        self.dialect = parsed.get_backend_name()
        self.busy_timeout_ms = busy_timeout_ms
        self.read_only = ""  # why the store cannot be written ("" when it can)
        self.path = ""  # the SQLite file
        self._writer: Turns | None = None  # this process's writers queue here (SQLite)
        if self.dialect == "sqlite":
            database = parsed.database or ""
            if database in ("", ":memory:"):
                raise ValidationError("an in-memory SQLite store is not shared between threads; give a file path")
            path = Path(database).expanduser()
            self.path = self.target = str(path)
            self.read_only = _unwritable(path)
            if self.read_only:
                engine_url = _read_only_url(path.resolve())
                self.write_engine = _guard(_sqlite_engine(engine_url, True, busy_timeout_ms, read_only=True))
                self.read_engine = _guard(_sqlite_engine(engine_url, False, busy_timeout_ms, read_only=True))
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._writer = _writer_lock(str(path))
                self.write_engine = _guard(_sqlite_engine(self.url, True, busy_timeout_ms))
                self.read_engine = _guard(_sqlite_engine(self.url, False, busy_timeout_ms))
        elif self.dialect == "postgresql":
            host = parsed.host or "localhost"
            self.target = f"PostgreSQL at {host}:{parsed.port or 5432}/{parsed.database or ''}"
            self.write_engine = _guard(create_engine(self.url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                                                     connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S}))
            self.read_engine = self.write_engine
        else:
            raise ValidationError(f"unsupported database {self.dialect!r}; use SQLite or PostgreSQL")
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)
        self._joined = threading.local()  # the session of a `joined()` block, per thread
        self._listener = None  # PostgreSQL: the change listener (store/change_feed.py), made when first asked
        self._listener_guard = threading.Lock()

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def fault(self, exc: BaseException) -> health.StoreUnavailable | None:
        """What `exc` means for this store, in the user's words; None when it is no store fault."""
        if isinstance(exc, health.StoreUnavailable):
            return exc
        if self.is_sqlite and isinstance(exc, DBAPIError) and "is locked" in str(exc.orig).lower():
            return health.locked(self.busy_timeout_ms / 1000)
        return health.classify(exc, self.target, self.path)

    @contextmanager
    def joined(self) -> Iterator[Session]:
        """One transaction for several use cases: every `write()` and `read()` of this thread inside
        the block runs in it, each write as a savepoint (one that raises is undone alone, with what
        it kept in `session.info`), each read seeing what the block wrote so far. The block commits
        once at its end — after the session's "before commit" steps (the chain head held by
        `timeline.hold_head` is written there) — or not at all. The ingest receiver processes a
        batch of payloads this way: one commit, one chain-head read and write for the batch."""
        if getattr(self._joined, "session", None) is not None:
            yield self._joined.session
            return
        with self.write() as session:
            self._joined.session = session
            try:
                yield session
                for step in session.info.pop(BEFORE_COMMIT, []):
                    step(session)
            finally:
                self._joined.session = None

    @contextmanager
    def _inner(self, session: Session, write: bool) -> Iterator[Session]:
        """A `write()` or `read()` inside `joined()`: see there."""
        session.expire_all()  # rows changed by Core statements since are read again
        if not write:
            yield session
            return
        kept = dict(session.info)
        try:
            with session.begin_nested():
                yield session
        except BaseException as exc:
            session.info.clear()
            session.info.update(kept)
            fault = self.fault(exc) if isinstance(exc, DBAPIError | DisconnectionError | PoolTimeout) else None
            if fault is not None:
                raise fault from exc
            raise

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises. A store that
        cannot take it raises `StoreUnavailable`, and nothing of the transaction is kept."""
        if (joined := getattr(self._joined, "session", None)) is not None:
            with self._inner(joined, write=True) as session:
                yield session
            return
        if self.read_only:
            raise health.read_only(self.path, self.read_only)
        lock = self._writer
        if lock is not None and not lock.acquire(timeout=self.busy_timeout_ms / 1000):
            raise health.locked(self.busy_timeout_ms / 1000)
        try:
            with self._write.begin() as session:
                yield session
        except (DBAPIError, DisconnectionError, PoolTimeout) as exc:
            fault = self.fault(exc)
            if fault is None:
                raise
            raise fault from exc
        finally:
            if lock is not None:
                lock.release()

    @contextmanager
    def read(self) -> Iterator[Session]:
        if (joined := getattr(self._joined, "session", None)) is not None:
            with self._inner(joined, write=False) as session:
                yield session
            return
        try:
            with self._read() as session:
                yield session
        except (DBAPIError, DisconnectionError, PoolTimeout) as exc:
            fault = self.fault(exc)
            if fault is None:
                raise
            raise fault from exc

    def peek(self, statement) -> Any:
        """The first column of the first row of a small Core SELECT, on a plain read connection:
        for polls that run every second (the change marker), where an ORM session costs three
        times the query. Faults are reported as by `read`."""
        try:
            with self.read_engine.connect() as connection:
                return connection.execute(statement).scalar()
        except (DBAPIError, DisconnectionError, PoolTimeout) as exc:
            fault = self.fault(exc)
            if fault is None:
                raise
            raise fault from exc

    def change_listener(self):
        """This store's one `change_feed.ChangeListener` (PostgreSQL), or None: a SQLite store is
        local and polled, nothing pushes its changes."""
        if self.is_sqlite:
            return None
        with self._listener_guard:
            if self._listener is None:
                from eim_tui.store.change_feed import ChangeListener

                self._listener = ChangeListener(self)
            return self._listener

    def dispose(self) -> None:
        if self._listener is not None:
            self._listener.close()
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()
