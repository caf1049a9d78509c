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
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from eim_tui.bootstrap import open_services
from eim_tui.domain.intake import NewIncident
from eim_tui.store import HEAD_REVISION, SchemaError, timeline
from eim_tui.store.engine import Database
from eim_tui.store.schema import current_revision, downgrade, known_revisions
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
        check=False, capture_output=True, text=True, timeout=120,
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
    before = row_counts(old_store)
    with pytest.raises(SchemaError, match=r"says schema revision 0001 but has no table watch: "):
        open_services(old_store, clock)
    # refused before any migration ran: still the 0001 store it was
    assert row_counts(old_store) == before
    assert current_revision(Database(old_store)) == "0001"


def test_a_store_missing_a_column_its_revision_promises_says_which(db_url: str, svc) -> None:
    svc.db.dispose()
    execute(db_url, "ALTER TABLE incident DROP COLUMN reopened_at")
    with pytest.raises(SchemaError, match=rf"says schema revision {HEAD_REVISION} but has no column incident.reopened_at: "):
        open_services(db_url, svc.clock)


def test_eim_db_upgrade_on_a_newer_store_says_so_and_exits_2(old_store: str, capsys) -> None:
    from eim_tui.cli.main import main

    execute(old_store, "UPDATE alembic_version SET version_num = '0999'")
    assert main(["--db", old_store, "db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"eim: the store is at schema revision 0999, newer than this eim knows (up to {HEAD_REVISION})")
    assert err.count("\n") == 1


def test_every_migration_steps_down_and_up_again_keeping_every_row(old_store: str, clock) -> None:
    """From head, one step down at a time to 0001 (each migration's downgrade), then up again:
    the 0001 tables keep every row, the chain verifies and numbering goes on where it was."""
    svc = open_services(old_store, clock)
    svc.db.dispose()
    kept = {t: n for t, n in row_counts(old_store).items() if t in TABLES_0001}
    db = Database(old_store)
    try:
        for revision in sorted(known_revisions(), reverse=True)[1:]:
            downgrade(db, "-1")
            assert current_revision(db) == revision
            assert {t: n for t, n in row_counts(old_store).items() if t in TABLES_0001} == kept
        assert set(row_counts(old_store)) | {"alembic_version"} == TABLES_0001
    finally:
        db.dispose()
    svc = open_services(old_store, clock)
    try:
        assert current_revision(svc.db) == HEAD_REVISION
        assert {t: n for t, n in row_counts(old_store).items() if t in TABLES_0001} == kept
        with svc.db.read() as session:
            assert timeline.verify(session).intact
        assert svc.log_incident(NewIncident(title="After down and up", impact=3, urgency=3), "alice").number == 43
    finally:
        svc.db.dispose()


def test_reopens_made_before_0002_are_read_back_from_the_timeline(db_url: str, svc, clock) -> None:
    """0002 fills `reopened_at` and the pauses counted by then from each incident's timeline, so a
    priority change after the upgrade restarts from the reopen as it would have before."""
    def lived(title: str, reopens: int) -> int:
        number = svc.log_incident(NewIncident(title=title, impact=3, urgency=3), "alice").number
        svc.acknowledge(number, "alice")
        for _ in range(reopens):
            clock.advance(timedelta(minutes=10))
            svc.put_on_hold(number, "alice", "awaiting_user")
            clock.advance(timedelta(hours=1))
            svc.resume(number, "alice")
            svc.put_on_hold(number, "alice", "other", "waiting for the shift lead")  # pauses nothing
            clock.advance(timedelta(minutes=20))
            svc.resume(number, "alice")
            svc.resolve(number, "alice", "fixed", "restarted the pool")
            clock.advance(timedelta(hours=5))
            svc.reopen(number, "alice", "came back")
        clock.advance(timedelta(minutes=7))
        svc.put_on_hold(number, "alice", "awaiting_vendor")
        clock.advance(timedelta(minutes=30))
        svc.resume(number, "alice")
        return number

    numbers = [lived("Never reopened", 0), lived("Reopened once", 1), lived("Reopened twice", 2)]
    made = {n: svc.get(n) for n in numbers}
    assert made[numbers[0]].reopened_at is None and made[numbers[2]].reopened_at is not None
    assert made[numbers[2]].reopen_paused_seconds == 2 * 3600 and made[numbers[2]].sla_paused_seconds == 2.5 * 3600
    svc.db.dispose()

    db = Database(db_url)
    try:
        downgrade(db, "0001")
        assert "reopened_at" not in {c["name"] for c in inspect(db.read_engine).get_columns("incident")}
    finally:
        db.dispose()
    upgraded = open_services(db_url, clock)
    try:
        for number in numbers:
            after = upgraded.get(number)
            assert after.reopened_at == made[number].reopened_at
            assert after.reopen_paused_seconds == made[number].reopen_paused_seconds
        raised = upgraded.prioritize(numbers[2], "alice", impact=1, urgency=1)
        assert raised.resolution_due_at == made[numbers[2]].reopened_at + timedelta(hours=4, minutes=30)
        with upgraded.db.read() as session:
            assert timeline.verify(session).intact
    finally:
        upgraded.db.dispose()


def test_an_old_store_gets_the_stays_of_its_timeline(old_store: str, clock) -> None:
    """Revision 0010 builds `state_visit` from the timeline already there (store/visits.backfill)."""
    from tests.store.test_state_visits import oracle, stored

    svc = open_services(old_store, clock)
    try:
        expected = oracle(svc)
        assert len(expected) > 40 and stored(svc) == expected
    finally:
        svc.db.dispose()
