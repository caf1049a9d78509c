"""Import and report benchmark on the whole ServiceNow event log (141,712 rows, 24,918 incidents).

Prints one JSON line per figure ({"metric", "value", "unit"}), each import in a fresh process of
its own so its peak memory is its own:
- csv_floor_s: reading the gzipped log with the csv module alone (the floor of any import);
- import_sqlite_s / import_sqlite_rss_mb: `import_history` into a new SQLite store (limits 30 s, 400 MB);
- reimport_sqlite_s: the same file again, which changes nothing (limit 10 s);
- import_postgres_s / import_postgres_rss_mb / reimport_postgres_s: the same on a database of its
  own on the PostgreSQL server at 127.0.0.1:5432 (limit 60 s), skipped with a note if none answers;
- report_ms / report_month_ms / process_report_ms: the report over the imported log on SQLite
  (median of 5; limit 500 ms), with report_floor_ms, the report's query alone;
- patterns_imported_all_ms / patterns_imported_command_ms: `eim patterns --window all` over the
  imported log, in process and as a real process (target 3 s), beside their floors (the rows it
  reads, read alone; `eim --version`).

Run as `python -m tests.bench.bench_import [--file PATH]`.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATASET = (ROOT / ".." / "shared" / "datasets" / "servicenow_incident_event_log.csv.gz").resolve()
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def emit(metric: str, value: float, unit: str) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 2), "unit": unit}), flush=True)


def csv_floor(path: Path) -> float:
    started = time.perf_counter()
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        for _ in csv.reader(handle):
            pass
    return time.perf_counter() - started


def child(url: str, path: str) -> None:
    """In its own process: one import; prints its time, peak RSS and summary as JSON."""
    from eim_tui.bootstrap import open_services
    from eim_tui.services.importing import import_history

    svc = open_services(url)
    started = time.perf_counter()
    summary = import_history(svc, path)
    seconds = time.perf_counter() - started
    svc.db.dispose()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "rss_mb": rss_kib / 1024, "summary": summary.line()}))


def run_import(url: str, path: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "tests.bench.bench_import", "--child", url, str(path)],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"# {result['summary']}", file=sys.stderr, flush=True)
    return result


def report_figures(url: str) -> None:
    from eim_tui.bootstrap import open_services
    from eim_tui.services.reports import Reports
    from eim_tui.store import reports as stored

    svc = open_services(url)
    reports = Reports(svc.db, svc.clock)

    def median_ms(call) -> float:
        call()  # warm: the first read loads the pages
        times = []
        for _ in range(5):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    def floor() -> None:
        with svc.db.read() as session:
            stored.report_rows(session, svc.clock.now())

    emit("report_floor_ms", median_ms(floor), "ms")
    emit("report_ms", median_ms(lambda: reports.report(by="severity")), "ms")
    emit("report_month_ms", median_ms(lambda: reports.report(by="month")), "ms")
    emit("process_report_ms", median_ms(reports.process_report), "ms")
    svc.db.dispose()


def patterns_figures(url: str) -> None:
    """`eim patterns --window all` over the imported log (issue 11: the history of 2016–2017 is all
    older than any "last 30 days"), each beside its floor measured in the same run: the rows the
    search reads, read alone; and the real process beside `eim --version`."""
    from eim_tui.bootstrap import open_services
    from eim_tui.services.patterns import Patterns
    from eim_tui.store.patterns import pattern_incidents
    from tests.bench.bench_reports import emit as emit_with
    from tests.bench.bench_reports import median_ms, process_ms

    svc = open_services(url)
    patterns = Patterns(svc.db, svc.clock)

    def floor() -> None:
        with svc.db.read() as session:
            pattern_incidents(session, None, True)

    with svc.db.read() as session:
        rows = len(pattern_incidents(session, None, True))
    found = patterns.candidates("all", 5, include_confidential=True)["candidates"]
    emit_with("patterns_imported_all_floor_ms", median_ms(floor, 5), "ms", incidents=rows)
    emit_with("patterns_imported_all_ms", median_ms(lambda: patterns.candidates("all", 5, include_confidential=True), 5),
              "ms", target=3000, incidents=rows, candidates=len(found))
    svc.db.dispose()
    emit_with("patterns_imported_command_floor_ms", process_ms("--version"), "ms")
    emit_with("patterns_imported_command_ms", process_ms("--db", url, "patterns", "--json", "--window", "all",
                                                         "--user", "admin"), "ms", target=3000)


def postgres_database():
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT", poolclass=NullPool,
                          connect_args={"connect_timeout": 3})
    name = f"eim_bench_import_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:  # no server here: the SQLite figures still stand
        print(f"# PostgreSQL not reachable ({type(exc).__name__}); its figures are skipped", file=sys.stderr)
        return None, None

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    return f"{PG_SERVER}/{name}", drop


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2])
        return 0
    parser = argparse.ArgumentParser(prog="bench_import")
    parser.add_argument("--file", type=Path, default=DATASET)
    args = parser.parse_args(argv)
    emit("csv_floor_s", csv_floor(args.file), "s")
    with tempfile.TemporaryDirectory(prefix="eim-bench-import-") as tmp:
        url = f"sqlite:///{tmp}/history.db"
        first = run_import(url, args.file)
        emit("import_sqlite_s", first["seconds"], "s")
        emit("import_sqlite_rss_mb", first["rss_mb"], "MB")
        emit("reimport_sqlite_s", run_import(url, args.file)["seconds"], "s")
        report_figures(url)
        patterns_figures(url)
    pg_url, drop = postgres_database()
    if pg_url is not None:
        try:
            first = run_import(pg_url, args.file)
            emit("import_postgres_s", first["seconds"], "s")
            emit("import_postgres_rss_mb", first["rss_mb"], "MB")
            emit("reimport_postgres_s", run_import(pg_url, args.file)["seconds"], "s")
        finally:
            drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
