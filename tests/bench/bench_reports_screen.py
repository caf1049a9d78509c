"""The reports screen's first chart (issue 11: drawn ≤ 0.5 s after opening).

Prints one JSON line per figure ({"metric", "value", "unit"}), each beside its floor from the same run:
- reports_first_chart_floor_ms: a bare Textual app (tests/bench/chart_floor_app.py) in a tmux pane
  at 120x40, from `R` sent to the pane showing its fixed chart's title — a screen and a chart, no figures;
- reports_first_chart_100k_ms: the real `eim` on the 100,000-incident demo store, from `R` on the
  queue to the pane showing the first chart ("MTTR per month" with its bars);
- reports_first_chart_log_ms: the same on a store holding the imported ServiceNow event log (when
  ../shared/datasets has it).
Each is the median of --runs keys, each in a fresh process.

Run as `python -m tests.bench.bench_reports_screen [--runs N]`.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.demo_store import ROOT, cached_store
from tests.bench.terminal import Terminal

EIM = str(Path(sys.executable).with_name("eim"))
TUI_ENV = {"EIM_USER": "alice", "EIM_CONFIG": "/nonexistent/eim-bench-config.toml"}
DATASET = (ROOT / ".." / "shared" / "datasets" / "servicenow_incident_event_log.csv.gz").resolve()
CHART = re.compile(r"MTTR per month \(median hours\)")


def emit(metric: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 1), "unit": unit, **extra}), flush=True)


def key_to_chart(command: list[str], ready: re.Pattern[str], runs: int) -> float:
    """Median ms from `R` sent to the chart's title on screen, each run in a fresh process."""
    times = []
    for _ in range(runs):
        with Terminal(command, env=TUI_ENV) as terminal:
            terminal.wait_for(lambda screen: ready.search(screen) is not None, timeout=120)
            time.sleep(1.5)  # past the start-up work
            sent = time.perf_counter()
            terminal.send("R")
            seen, _ = terminal.wait_for(lambda screen: CHART.search(screen) is not None, timeout=60)
            times.append((seen - sent) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    floor = key_to_chart([sys.executable, "-m", "tests.bench.chart_floor_app"], re.compile("ready: press R"), args.runs)
    emit("reports_first_chart_floor_ms", floor, "ms")
    queue_ready = re.compile(r"All open \([\d,]+\)")
    url = f"sqlite:///{cached_store()}"
    value = key_to_chart([EIM, "--db", url], queue_ready, args.runs)
    emit("reports_first_chart_100k_ms", value, "ms", target=500, ratio=round(value / floor, 2))
    if DATASET.exists():
        from eim_tui.bootstrap import open_services
        from eim_tui.services.importing import import_history

        with tempfile.TemporaryDirectory() as folder:
            log_url = f"sqlite:///{folder}/log.db"
            svc = open_services(log_url)
            try:
                import_history(svc, DATASET)
            finally:
                svc.db.dispose()
            value = key_to_chart([EIM, "--db", log_url], queue_ready, args.runs)
            emit("reports_first_chart_log_ms", value, "ms", target=500, ratio=round(value / floor, 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
