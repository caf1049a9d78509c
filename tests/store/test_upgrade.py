"""Stores made by an earlier release are kept: opened (and upgraded to the head schema) with every
row, a timeline that still verifies, and a TUI that opens on them.

The fixtures in `fixtures/` are the release at commit 6799684 (schema 0001), dumped as SQL: a
SQLite `.dump` and a PostgreSQL `pg_dump` (see `fixtures/make_store_0001.py`). Every schema change
adds an Alembic migration, and this test proves it keeps these stores whole.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from eim_tui.bootstrap import open_services
from eim_tui.domain.intake import NewIncident
from eim_tui.store import HEAD_REVISION, SchemaError, timeline
from eim_tui.store.schema import current_revision
from eim_tui.tui.widgets import QueueTable

FIXTURES = Path(__file__).parent / "fixtures"
TABLES_0001 = {
    "alembic_version", "alert", "app_user", "assignment_group", "category", "chain_head", "configuration_item",
    "diagnosis_note", "draft", "group_member", "inbound_payload", "incident", "problem", "service", "sla_policy",
    "subcategory", "timeline_event", "watch",
}


def restore(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The 0001 fixture restored into a store location of this test's own; returns its URL."""
    if backend == "sqlite":
        path = tmp_path / "store-0001.db"
        with sqlite3.connect(path) as conn:
            conn.executescript((FIXTURES / "store-0001.sqlite.sql").read_text(encoding="utf-8"))
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres").empty()
    if shutil.which("psql") is None:
        pytest.fail("psql is needed to restore the PostgreSQL fixture (Debian: postgresql-client)")
    parts = urlsplit(url.replace("postgresql+psycopg", "postgresql"))
    done = subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", parts.hostname, "-p", str(parts.port), "-U",
         parts.username, "-d", parts.path.lstrip("/"), "-f", str(FIXTURES / "store-0001.postgresql.sql")],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return url


def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                    for t in inspect(conn).get_table_names() if t != "alembic_version"}
    finally:
        engine.dispose()


def execute(url: str, statement: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture
def old_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return restore(backend, tmp_path, request)


def test_the_fixture_is_the_0001_store_it_claims_to_be(old_store: str) -> None:
    counts = row_counts(old_store)
    assert set(counts) | {"alembic_version"} == TABLES_0001
    assert counts["incident"] == 42  # 40 demo incidents and 2 from alerts
    assert counts["inbound_payload"] == 4 and counts["alert"] >= 2 and counts["draft"] == 1
    assert counts["diagnosis_note"] > 40 and counts["timeline_event"] > 200


def test_an_old_store_opens_with_every_row_and_a_chain_that_verifies(old_store: str, clock) -> None:
    before = row_counts(old_store)
    svc = open_services(old_store, clock)
    try:
        assert current_revision(svc.db) == HEAD_REVISION
        after = row_counts(old_store)
        assert {t: after[t] for t in before} == before  # every row kept (new tables may be added)
        with svc.db.read() as session:
            report = timeline.verify(session)
        assert report.intact, report.describe()
        details = svc.details(1)
        assert details.timeline and details.notes
        assert any(n.text == "kept across the upgrade" for n in details.notes)
        logged = svc.log_incident(NewIncident(title="Logged after the upgrade", impact=2, urgency=2), "alice")
        assert logged.number == 43  # numbering goes on after the old store's last incident
        svc.acknowledge(logged.number, "alice")
        with svc.db.read() as session:
            assert timeline.verify(session).intact
    finally:
        svc.db.dispose()


async def test_the_tui_opens_on_an_old_store(old_store: str, clock, app_factory) -> None:
    svc = open_services(old_store, clock)
    try:
        async with app_factory(svc, "alice").run_test(size=(120, 40)) as pilot:
            for _ in range(100):
                await pilot.pause(0.05)
                tables = pilot.app.screen.query(QueueTable)
                if tables and tables.first().numbers:
                    break
            assert tables and len(tables.first().numbers) == 20, "the queue shows the old store's open incidents"
    finally:
        svc.db.dispose()


def test_a_store_from_a_newer_eim_is_refused_untouched(old_store: str, clock) -> None:
    execute(old_store, "UPDATE alembic_version SET version_num = '0999'")
    before = row_counts(old_store)
    with pytest.raises(SchemaError, match=r"^the store is at schema revision 0999, newer than this eim knows"):
        open_services(old_store, clock)
    assert row_counts(old_store) == before


def test_a_store_missing_a_table_its_revision_promises_says_which(old_store: str, clock) -> None:
    execute(old_store, "DROP TABLE watch")
    with pytest.raises(SchemaError, match=r"says schema revision 0001 but has no table watch: "):
        open_services(old_store, clock)


def test_eim_db_upgrade_on_a_newer_store_says_so_and_exits_2(old_store: str, capsys) -> None:
    from eim_tui.cli import main

    execute(old_store, "UPDATE alembic_version SET version_num = '0999'")
    assert main(["--db", old_store, "db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("eim: the store is at schema revision 0999, newer than this eim knows (up to 0001)")
    assert err.count("\n") == 1
