"""`eim report` over the 100,000-incident demo store (issue 11: any report ≤ 1 s).

Prints one JSON line per figure ({"metric", "value", "unit"}), each beside its floor measured in
the same run, since this machine is shared:
- report_100k_floor_ms: the report's rows read from the store alone (`store.reports.report_rows`),
  the least any report costs;
- report_100k_<by>_ms: `Reports.report(by=…)` over every incident (from the first to today), for
  each grouping eim offers (median of 5, after one warm run);
- report_100k_process_ms: the process report (time per state, transitions), read from `state_visit`;
  report_100k_process_30d_ms the same for the incidents reported in the last 30 days;
- report_100k_command_ms / report_command_floor_ms: the real `eim report --json` process, beside
  `eim --version` (the interpreter and eim's start-up), median of 3.

Run as `python -m tests.bench.bench_reports [--runs N]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import timedelta

from tests.bench.demo_store import ROOT, cached_store


def emit(metric: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 2), "unit": unit, **extra}), flush=True)


def median_ms(call, runs: int) -> float:
    call()  # warm: the first read loads the pages
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def process_ms(*command: str) -> float:
    """A real `python -m eim_tui …` process, median wall milliseconds of 3."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "eim_tui", *command], cwd=ROOT, check=True, capture_output=True)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    from eim_tui.bootstrap import open_services
    from eim_tui.services.reports import GROUPINGS, Reports
    from eim_tui.store import reports as stored

    path = cached_store()
    url = f"sqlite:///{path}"
    svc = open_services(url)
    reports = Reports(svc.db, svc.clock)
    try:
        def floor() -> None:
            with svc.db.read() as session:
                stored.report_rows(session, svc.clock.now())

        incidents = reports.report(by="severity")["total"]["opened"]  # every incident is counted
        emit("report_100k_floor_ms", median_ms(floor, args.runs), "ms")
        for by in GROUPINGS:
            emit(f"report_100k_{by}_ms", median_ms(lambda by=by: reports.report(by=by), args.runs), "ms", target=1000,
                 incidents=incidents)
        emit("report_100k_process_ms", median_ms(reports.process_report, args.runs), "ms", target=1000)
        month = svc.clock.now().date() - timedelta(days=30)  # a period: the stays of the incidents reported in it
        emit("report_100k_process_30d_ms", median_ms(lambda: reports.process_report(month), args.runs), "ms",
             target=1000)
    finally:
        svc.db.dispose()

    emit("report_command_floor_ms", process_ms("--version"), "ms")
    emit("report_100k_command_ms", process_ms("--db", url, "report", "--json", "--user", "admin"), "ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
