"""`eim status` (the tmux status line) on a 100,000-incident store: it has 100 ms.

Prints one JSON line per figure ({"metric", "value", "unit"}), each beside its floor measured in
the same run, since this machine is shared:
- status_floor_python_ms: `python -c pass` with the same interpreter and environment — the least
  any Python command costs here;
- status_sqlite_ms / status_postgres_ms: a real `eim status` process (the installed entry point)
  on the SQLite demo store and on the same incidents copied to PostgreSQL (median of 15 runs);
- status_over_floor_ms: the SQLite figure minus the floor — what eim adds.

Run as `python -m tests.bench.bench_status [--runs N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.bench.demo_store import cached_store

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def emit(metric: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 2), "unit": unit, **extra}), flush=True)


def median_ms(argv: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env=env)
        times.append((time.perf_counter() - started) * 1000)
        if done.returncode != 0:
            raise SystemExit(f"{argv} failed: {done.stderr.strip()}")
    return statistics.median(times)


def postgres_copy(store: Path) -> tuple[str, str] | None:
    """The demo's incidents copied to a new PostgreSQL database (only the columns status reads)."""
    try:
        import sqlite3

        import psycopg
    except ImportError:
        return None
    name = f"eim_bench_status_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        print(f"# PostgreSQL not reachable, skipping: {exc}", file=sys.stderr)
        return None
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    with sqlite3.connect(store) as lite, psycopg.connect(url) as pg:
        pg.execute("CREATE TABLE incident (id int primary key, priority int, is_open boolean, assignee text,"
                   " sla_warn_at timestamptz, sla_due_at timestamptz)")
        pg.execute("CREATE INDEX ix_open ON incident (is_open, priority, sla_due_at)")
        rows = lite.execute("SELECT id, priority, is_open, assignee, sla_warn_at, sla_due_at FROM incident")
        with pg.cursor().copy("COPY incident FROM STDIN") as copy:
            for id_, priority, is_open, assignee, warn, due in rows:
                copy.write_row((id_, priority, bool(is_open), assignee, warn and warn + "+00", due and due + "+00"))
        pg.execute("ANALYZE incident")
    return url.replace("postgresql://", "postgresql+psycopg://"), name


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    store = cached_store()
    eim = shutil.which("eim", path=str(Path(sys.executable).parent)) or "eim"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EIM_")} | {"EIM_USER": "alice"}
    floor = median_ms([sys.executable, "-c", "pass"], args.runs, env)
    emit("status_floor_python_ms", floor, "ms")
    sqlite_ms = median_ms([eim, "status", "--db", f"sqlite:///{store}"], args.runs, env)
    emit("status_sqlite_ms", sqlite_ms, "ms", floor_ms=round(floor, 2), target_ms=100)
    emit("status_over_floor_ms", sqlite_ms - floor, "ms")
    copied = postgres_copy(store)
    if copied is not None:
        url, name = copied
        try:
            pg_ms = median_ms([eim, "status", "--db", url], args.runs, env)
            emit("status_postgres_ms", pg_ms, "ms", floor_ms=round(floor, 2), target_ms=100)
        finally:
            import psycopg

            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
