"""Fixtures shared by the whole suite: a fixed clock, and a store on SQLite and on PostgreSQL.

`db_url` runs a test once per backend. PostgreSQL gets one database per test session
(`eim_test_<hex>`, dropped at the end); each test starts from an empty `public` schema in it.
Without a reachable server the PostgreSQL cases are skipped — except under CI (`CI` set), where
they fail, so a broken CI machine cannot pass by skipping.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from eim_tui.domain import FixedClock

FIXED_NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@pytest.fixture
def fixed_now() -> datetime:
    return FIXED_NOW


@pytest.fixture
def clock(fixed_now: datetime) -> FixedClock:
    return FixedClock(fixed_now)


class PostgresDatabase:
    """The session's own database on the test server, and a way to empty it between tests."""

    def __init__(self, admin: Engine, name: str) -> None:
        self.admin = admin
        self.name = name
        self.url = f"{PG_SERVER}/{name}"
        self.engine = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)

    def reset(self) -> None:
        """Drop everything the last test left: end its connections first, so no lock blocks the drop."""
        with self.engine.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = :name AND pid <> pg_backend_pid()"),
                {"name": self.name},
            )
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabase]:
    admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means the same
        admin.dispose()
        reason = f"PostgreSQL at 127.0.0.1:5432 is not reachable: {str(exc).strip().splitlines()[0]}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so the PostgreSQL tests must run)", pytrace=False)
        pytest.skip(reason)
    name = f"eim_test_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = PostgresDatabase(admin, name)
    try:
        yield db
    finally:
        db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty store location: a SQLite file in `tmp_path`, or the session's PostgreSQL database emptied."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/eim.db"
    pg: PostgresDatabase = request.getfixturevalue("postgres")
    pg.reset()
    return pg.url


@pytest.fixture
def svc(db_url: str, clock: FixedClock):
    from eim_tui.bootstrap import open_services

    services = open_services(db_url, clock)
    yield services
    services.db.dispose()
