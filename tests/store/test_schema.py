"""Creating, upgrading and recognising the store's schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from eim_tui.bootstrap import open_services
from eim_tui.domain.intake import NewIncident
from eim_tui.store import (
    HEAD_REVISION,
    Database,
    SchemaError,
    ensure_schema,
    search,
    upgrade,
)
from eim_tui.store.schema import current_revision
from eim_tui.store.tables import Base

from .threads import run_together


@pytest.fixture
def db(db_url: str):
    database = Database(db_url)
    yield database
    database.dispose()


def test_a_new_store_is_created_at_the_head_revision(db_url: str, clock) -> None:
    svc = open_services(db_url, clock)
    try:
        assert current_revision(svc.db) == HEAD_REVISION
        with svc.db.read_engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
        assert set(Base.metadata.tables) <= tables
        # The reference data was loaded with it.
        assert svc.user_groups("alice")
    finally:
        svc.db.dispose()


def test_ensure_schema_twice_is_idempotent(db: Database) -> None:
    assert ensure_schema(db) == "created"
    assert ensure_schema(db) == "current"
    assert current_revision(db) == HEAD_REVISION


def _differences(db: Database) -> list:
    with db.read_engine.connect() as conn:
        # The full-text index lives outside the ORM's tables (tests/store/test_search_ddl.py checks it).
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_name": lambda name, kind, _parent: not search.outside_metadata(name, kind),
        })
        return compare_metadata(context, Base.metadata)


def test_the_migrations_from_empty_give_the_schema_of_the_tables(db: Database) -> None:
    upgrade(db)
    assert current_revision(db) == HEAD_REVISION
    assert _differences(db) == []
    # A store made by the migrations is recognised as current, not re-created.
    assert ensure_schema(db) == "current"


def test_a_created_store_equals_the_tables_too(db: Database) -> None:
    ensure_schema(db)
    assert _differences(db) == []


def test_a_database_with_foreign_tables_is_refused(db: Database, db_url: str, clock) -> None:
    with db.write_engine.begin() as conn:
        conn.execute(text("CREATE TABLE payroll (id INTEGER PRIMARY KEY, amount INTEGER)"))
    with pytest.raises(SchemaError, match="not an eim store"):
        ensure_schema(db)
    with pytest.raises(SchemaError):
        open_services(db_url, clock)
    with db.read_engine.connect() as conn:
        assert inspect(conn).get_table_names() == ["payroll"]


def test_processes_opening_a_new_store_at_once_all_get_it(db_url: str, clock) -> None:
    """A team's TUIs and the ingest receiver may all start on an empty database together."""
    results = run_together([lambda: open_services(db_url, clock) for _ in range(3)])
    try:
        assert [type(r).__name__ for r in results] == ["Services"] * 3, results
        assert current_revision(results[0].db) == HEAD_REVISION
        assert results[1].log_incident(NewIncident(title="first", impact=2, urgency=2), "alice").number == 1
    finally:
        for r in results:
            if not isinstance(r, Exception):
                r.db.dispose()
