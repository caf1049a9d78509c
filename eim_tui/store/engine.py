"""Engines and sessions for SQLite (embedded, the default) and PostgreSQL (a team's shared queue).

SQLite is opened in WAL mode with foreign keys and a busy timeout. Writes begin with
`BEGIN IMMEDIATE`, so two writers queue for the lock instead of failing half-way; reads use a
second engine with plain deferred transactions, so the UI never waits behind a writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from eim_tui.domain.errors import ValidationError

BUSY_TIMEOUT_MS = 10_000


def default_url() -> str:
    """The embedded store: a SQLite file in the user's data directory."""
    from platformdirs import user_data_dir

    return f"sqlite:///{Path(user_data_dir('eim')) / 'eim.db'}"


def normalise_url(url: str) -> str:
    """Accept a bare path as a SQLite file and `postgresql://` as psycopg 3."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is unreliable).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
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


def _guard(engine: Engine) -> Engine:
    event.listen(engine, "before_cursor_execute", _refuse_nul)
    return engine


class Database:
    """The engines of one store, and sessions on them: `write()` for a use case, `read()` for a query."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        try:
            parsed = make_url(self.url)
        except ArgumentError:
            raise ValidationError(f"cannot read database URL {url!r}; use sqlite:///PATH or postgresql+psycopg://…") from None
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            database = parsed.database or ""
            if database in ("", ":memory:"):
                raise ValidationError("an in-memory SQLite store is not shared between threads; give a file path")
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.write_engine = _guard(_sqlite_engine(self.url, immediate=True))
            self.read_engine = _guard(_sqlite_engine(self.url, immediate=False))
        elif self.dialect == "postgresql":
            self.write_engine = _guard(create_engine(self.url, pool_pre_ping=True, pool_size=5, max_overflow=5))
            self.read_engine = self.write_engine
        else:
            raise ValidationError(f"unsupported database {self.dialect!r}; use SQLite or PostgreSQL")
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._write.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()
