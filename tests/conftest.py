"""Fixtures shared by the whole suite: a fixed clock, a store on SQLite and on PostgreSQL, the app
(`app_factory`) and typing into it (`type_text`); and which tests run one after another under `-n`.

`db_url` runs a test once per backend, each time on a store location nobody else uses: a SQLite
file in `tmp_path`, or one of this session's PostgreSQL databases (`eim_test_<hex>…`, made at the
start, reset before each test, dropped at the end).
Without a reachable server the PostgreSQL cases are skipped — except under CI (`CI` set), where
they fail, so a broken CI machine cannot pass by skipping.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from eim_tui.domain import FixedClock

if TYPE_CHECKING:
    from textual.pilot import Pilot

FIXED_NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


# `make test` runs the suite on two workers (`-n 2 --dist loadgroup`). The tests that must not
# run beside each other share one group, so one worker runs them one after another: every `e2e`
# test (its own tmux server, real `eim` processes and servers, the browser, and the ten processes
# on PostgreSQL whose "within 2 s" must not share the CPU with a second of their kind).
SERIAL_GROUP = "serial"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups from the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("e2e") is not None:
            item.add_marker(pytest.mark.xdist_group(SERIAL_GROUP))


@pytest.fixture(autouse=True)
def own_configuration(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads the developer's own config.toml or EIM_* variables: each starts from an
    empty configuration file of its own (a test that wants settings writes to it)."""
    for name in ("EIM_DB", "EIM_USER", "EIM_DEFAULT_ROLE", "EIM_EXPORT_DIR", "EIM_INGEST_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path_factory.mktemp("config") / "config.toml"
    monkeypatch.setenv("EIM_CONFIG", str(path))
    return path


@pytest.fixture
def app_factory() -> Iterator[Callable[..., object]]:
    """`app_factory(svc, user="alice", config=None, wall=None, …)`: the app `bootstrap.make_app`
    builds — the one way the tests get one. Timers default to an hour, so nothing polls or ticks
    unless the test asks (`poll_interval=0.2`), and the SLA scheduler is off unless asked."""
    from eim_tui.bootstrap import make_app
    from eim_tui.config import Config

    def make(services, user: str = "alice", *, config: Config | None = None, wall=None,
             poll_interval: float = 3600.0, tick_interval: float = 3600.0, sla_scheduler: bool = False):
        return make_app(config or Config(), services, user, wall=wall, poll_interval=poll_interval,
                        tick_interval=tick_interval, sla_scheduler=sla_scheduler)

    yield make


@pytest.fixture
def type_text() -> Callable[[Pilot, str], Awaitable[None]]:
    """`await type_text(pilot, "text")`: type `text` into the focused Input or TextArea in one edit.

    For tests that type only to fill a field: the field ends as it would key by key (the text goes
    where the cursor is, replacing a selection, and the cursor ends after it), and it posts the
    `Changed` message the forms and screens listen to (drafts, live validation, completion), but
    without Pilot's two waits for the app to idle after every key (~40 ms or more each key)."""
    from textual.widgets import Input, TextArea

    async def type_into(pilot: Pilot, text: str) -> None:
        field = pilot.app.focused
        if isinstance(field, Input):
            field.replace(text, *field.selection)
        elif isinstance(field, TextArea):
            assert not field.read_only, f"{field!r} is read-only: typing would change nothing"
            field.replace(text, *field.selection, maintain_selection_offset=False)
        else:
            raise AssertionError(f"focus is on {field!r}, not a field to type into")
        await pilot.pause()

    return type_into


@pytest.fixture
def fixed_now() -> datetime:
    return FIXED_NOW


@pytest.fixture
def clock(fixed_now: datetime) -> FixedClock:
    return FixedClock(fixed_now)


class PostgresServer:
    """This session's two databases on the test server, reset for each test rather than made and
    dropped (DROP DATABASE waits for a checkpoint: seconds on a busy machine).

    `eim_test_<hex>` is handed out empty (its schema dropped and made again). `eim_test_<hex>_store`
    holds a store: made once by `open_services`, then for each test emptied and given back the rows
    it had when new — unless a test changed its tables, when it is made again.
    """

    def __init__(self, admin: Engine, name: str) -> None:
        self.admin = admin
        self.name = name
        self.store_name = f"{name}_store"
        self._store: tuple[str, MetaData, dict[str, list[dict]]] | None = None  # shape, tables, rows

    def url(self, database: str) -> str:
        return f"{PG_SERVER}/{database}"

    @contextmanager
    def _connect(self, database: str) -> Iterator[Connection]:
        """A connection with no other left on the database (a test's stray one could hold locks)."""
        engine = create_engine(self.url(database), poolclass=NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = current_database() AND pid <> pg_backend_pid()")
                )
                yield conn
        finally:
            engine.dispose()

    def empty(self) -> str:
        with self._connect(self.name) as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        return self.url(self.name)

    def with_store(self) -> str:
        url = self.url(self.store_name)
        with self._connect(self.store_name) as conn:
            if self._store is not None and _shape(conn) == self._store[0]:
                _, tables, rows = self._store
                # DELETE, not TRUNCATE: a few rows go faster than new files for every table.
                conn.execute(text("SET LOCAL synchronous_commit = off"))
                for table in reversed(tables.sorted_tables):
                    conn.execute(table.delete())
                conn.execute(text("SELECT setval(oid::regclass, 1, false) FROM pg_class "
                                  "WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"))
                for table in tables.sorted_tables:
                    if rows[table.name]:
                        conn.execute(table.insert(), rows[table.name])
                return url
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        from eim_tui.bootstrap import open_services

        open_services(url).db.dispose()
        with self._connect(self.store_name) as conn:
            tables = MetaData()
            tables.reflect(conn)
            rows = {t.name: [dict(r._mapping) for r in conn.execute(t.select())] for t in tables.sorted_tables}
            self._store = (_shape(conn), tables, rows)
        return url

    def close(self) -> None:
        with self.admin.connect() as conn:
            for database in (self.name, self.store_name):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def _shape(conn: Connection) -> str:
    """The tables, columns and indexes of the public schema, as one string to compare."""
    return conn.execute(text(
        "SELECT string_agg(x, ',' ORDER BY x) FROM ("
        " SELECT table_name || '.' || column_name || ':' || data_type AS x FROM information_schema.columns"
        " WHERE table_schema = 'public'"
        " UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public') AS shape"
    )).scalar_one()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT", poolclass=NullPool,
                          connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means the same
        reason = f"PostgreSQL at 127.0.0.1:5432 is not reachable: {str(exc).strip().splitlines()[0]}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so the PostgreSQL tests must run)", pytrace=False)
        pytest.skip(reason)
    server = PostgresServer(admin, f"eim_test_{secrets.token_hex(6)}")
    with admin.connect() as conn:
        for database in (server.name, server.store_name):
            conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def sqlite_store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new SQLite store made once per session; tests that want a store get a copy (much faster)."""
    from eim_tui.bootstrap import open_services

    path = tmp_path_factory.mktemp("template") / "eim.db"
    open_services(f"sqlite:///{path}").db.dispose()  # closing the last connection folds the WAL in
    return path


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store location for this test alone: a SQLite file in `tmp_path`, or a PostgreSQL database.

    Empty — unless the test also uses `svc`: then it already holds a new store, as `open_services`
    makes it (building schema and reference data for each test would cost about a second each).
    """
    with_store = "svc" in request.fixturenames
    if backend == "sqlite":
        if with_store:
            shutil.copyfile(request.getfixturevalue("sqlite_store_template"), tmp_path / "eim.db")
        yield f"sqlite:///{tmp_path}/eim.db"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    yield server.with_store() if with_store else server.empty()


@pytest.fixture
def svc(db_url: str, clock: FixedClock):
    from eim_tui.bootstrap import open_services

    services = open_services(db_url, clock)
    yield services
    services.db.dispose()
