"""Upgrade benchmark: the committed store made by the schema-0001 release, upgraded to head.

For each backend (SQLite; PostgreSQL when the server on 127.0.0.1:5432 answers) prints one JSON
line per figure ({"metric", "value", "unit"}):
- upgrade_<backend>_rows_before.<table> / upgrade_<backend>_rows_after.<table>: the fixture's rows
  per table before and after the upgrade, and `.all` their sum over the 0001 tables;
- upgrade_<backend>_rows_lost: rows gone from a 0001 table (must be 0);
- upgrade_<backend>_chain_intact: 1 when the timeline chain verifies after the upgrade;
- upgrade_<backend>_fixture_ms: `ensure_schema` from 0001 to head on the fixture (median of
  --runs, each on a fresh restore), with upgrade_<backend>_empty_ms, the same upgrade of an empty
  0001 store, as its floor (Alembic's start-up and the DDL, with no rows to carry).

Run as `python -m tests.bench.bench_upgrade [--runs N]`.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from eim_tui.store import timeline
from eim_tui.store.engine import Database
from eim_tui.store.schema import HEAD_REVISION, current_revision, ensure_schema, upgrade

FIXTURES = Path(__file__).resolve().parents[1] / "store" / "fixtures"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def emit(metric: str, value: float, unit: str) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 2), "unit": unit}), flush=True)


def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                    for t in sorted(inspect(conn).get_table_names()) if t != "alembic_version"}
    finally:
        engine.dispose()


def timed_upgrade(url: str) -> float:
    """Milliseconds `ensure_schema` takes to bring the store at `url` to head."""
    db = Database(url)
    try:
        start = time.perf_counter()
        done = ensure_schema(db)
        took = (time.perf_counter() - start) * 1000
        assert done == "upgraded" and current_revision(db) == HEAD_REVISION, done
        return took
    finally:
        db.dispose()


def empty_0001(url: str) -> None:
    """An empty store at schema 0001, made by the 0001 migration itself."""
    db = Database(url)
    try:
        upgrade(db, "0001")
    finally:
        db.dispose()


def chain_intact(url: str) -> bool:
    db = Database(url)
    try:
        with db.read() as session:
            return timeline.verify(session).intact
    finally:
        db.dispose()


# --- where the stores live --------------------------------------------------------------------


@contextmanager
def sqlite_stores(workdir: Path) -> Iterator[tuple[Callable[[], str], Callable[[], str]]]:
    """(a fresh restore of the fixture, a fresh empty 0001 store): each call gives a new URL."""
    made = iter(range(10**6))

    def fixture() -> str:
        path = workdir / f"fixture-{next(made)}.db"
        with sqlite3.connect(path) as conn:
            conn.executescript((FIXTURES / "store-0001.sqlite.sql").read_text(encoding="utf-8"))
        conn.close()
        return f"sqlite:///{path}"

    def empty() -> str:
        url = f"sqlite:///{workdir / f'empty-{next(made)}.db'}"
        empty_0001(url)
        return url

    yield fixture, empty


@contextmanager
def postgres_stores() -> Iterator[tuple[Callable[[], str], Callable[[], str]]]:
    """The same on the PostgreSQL server, each store a database of its own, dropped at the end."""
    if shutil.which("psql") is None:
        raise RuntimeError("psql is not installed (Debian: postgresql-client)")
    admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT", poolclass=NullPool,
                          connect_args={"connect_timeout": 5})
    names: list[str] = []

    def database() -> str:
        name = f"eim_bench_upgrade_{secrets.token_hex(4)}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        return f"{PG_SERVER}/{name}"

    def fixture() -> str:
        url = database()
        parts = urlsplit(url.replace("postgresql+psycopg", "postgresql"))
        done = subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", parts.hostname, "-p", str(parts.port), "-U",
             parts.username, "-d", parts.path.lstrip("/"), "-f", str(FIXTURES / "store-0001.postgresql.sql")],
            check=False, capture_output=True, text=True, timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"restoring the fixture failed: {done.stderr.strip()}")
        return url

    def empty() -> str:
        url = database()
        empty_0001(url)
        return url

    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
        yield fixture, empty
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(backend: str, fixture: Callable[[], str], empty: Callable[[], str], runs: int) -> None:
    url = fixture()
    before = row_counts(url)
    took = [timed_upgrade(url)]
    after = row_counts(url)
    for table, count in before.items():
        emit(f"upgrade_{backend}_rows_before.{table}", count, "rows")
        emit(f"upgrade_{backend}_rows_after.{table}", after.get(table, 0), "rows")
    for table in sorted(set(after) - set(before)):  # tables the upgrade added
        emit(f"upgrade_{backend}_rows_after.{table}", after[table], "rows")
    emit(f"upgrade_{backend}_rows_before.all", sum(before.values()), "rows")
    emit(f"upgrade_{backend}_rows_after.all", sum(after.get(t, 0) for t in before), "rows")
    emit(f"upgrade_{backend}_rows_lost", sum(max(0, n - after.get(t, 0)) for t, n in before.items()), "rows")
    emit(f"upgrade_{backend}_chain_intact", int(chain_intact(url)), "bool")
    took += [timed_upgrade(fixture()) for _ in range(runs - 1)]
    floor = [timed_upgrade(empty()) for _ in range(runs)]
    emit(f"upgrade_{backend}_fixture_ms", statistics.median(took), "ms")
    emit(f"upgrade_{backend}_empty_ms", statistics.median(floor), "ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="upgrades timed per backend (default 3)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="eim-bench-upgrade-") as workdir, sqlite_stores(Path(workdir)) as stores:
        measure("sqlite", *stores, args.runs)
    try:
        with postgres_stores() as stores:
            measure("postgresql", *stores, args.runs)
    except Exception as exc:  # noqa: BLE001 - the SQLite figures stand; say why these are missing
        print(f"bench_upgrade: no PostgreSQL figures: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
