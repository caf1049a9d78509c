"""A million incidents (issue 14): the demo that makes them, the queue, the wall and `eim report`.

Prints one JSON line per figure ({"metric", "value", "unit", and "floor" where one applies: the same
thing's least cost, measured in the same run, with "ratio" = value / floor):
- million_demo_s / million_demo_peak_rss_mb: `eim demo --incidents N` into a new SQLite store (target
  ≤ 300 s, ≤ 500 MB), beside a bare `sqlite3` executemany of as many rows (incidents and timeline
  events, no index) in its own process. Building the store takes minutes, so it is done once and
  cached under .bench/ (tests/bench/demo_store.py, keyed by size, schema and generator): these two
  figures are measured when the store is built and kept beside it, and later runs print them again
  with "measured": "when built" (--rebuild measures them anew);
- million_open_share: the share of open incidents (about 40 % wanted);
- million_first_paint_s: the real `eim` in tmux 120x40 to a loaded row (bench_queue.first_paint),
  floor the bare Textual app to its first frame (bench_sla.BARE_APP) (target ≤ 2× the floor);
- million_tui_rss_mb: VmRSS of eim 2 s after its first paint (target ≤ 150 MB);
- million_pagedown_p50_ms / _p99_ms (and down): tmux send-keys to a changed pane
  (bench_queue.key_times), floor one 60 Hz frame, 16 ms (target ≤ 20 ms);
- million_filter_ms: `sev<=2 disk` in process (bench_queue.filter_in_store), and each of
  bench_queue.FILTERS_UI typed into the real TUI (bench_queue.filter_in_tui) (target ≤ 100 ms),
  floor bench_wall.open_per_severity (one read session and an index-only aggregate);
- million_wall_refresh_ms: one read of the whole board (bench_wall.measure), same floor (≤ 200 ms);
- million_report_command_ms: `eim report --json` as a process, floor `eim --version` (≤ 3 s).

Run as `python -m tests.bench.bench_million [--incidents N] [--repeat R] [--rebuild]`. The first run
builds the store (about 10 minutes on an idle machine for 1,000,000); later runs take a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.bench import bench_queue, bench_reports, bench_wall
from tests.bench.bench_sla import BARE_APP
from tests.bench.demo_store import ROOT, adopt, cached_path, timed_demo
from tests.bench.terminal import Terminal

FRAME_MS = 1000 / 60


def emit(metric: str, value: float, unit: str, floor: float | None = None, **extra: object) -> None:
    figure: dict[str, object] = {"metric": metric, "value": round(value, 3), "unit": unit}
    if floor is not None:
        figure.update(floor=round(floor, 3), ratio=round(value / floor, 2) if floor else None)
    print(json.dumps({**figure, **extra}), flush=True)


def note(text: str) -> None:
    print(f"# {text}", file=sys.stderr, flush=True)


# --- building the store ---------------------------------------------------------------------------

def build(incidents: int) -> dict[str, float]:
    """`eim demo` into a new store, kept as the cache: its wall and CPU seconds and peak RSS."""
    fresh = Path(tempfile.mkdtemp(prefix="eim-bench-million-", dir=ROOT / ".bench")) / "demo.db"
    note(f"building a {incidents:,}-incident store with eim demo (minutes; done once)")
    wall, cpu = timed_demo(fresh, incidents)
    # The largest resident set of any child waited for: the demo is this process's first child.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    adopt(fresh, incidents)
    shutil.rmtree(fresh.parent, ignore_errors=True)
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak}


BARE_INSERT = """
import resource, sqlite3, sys, time
path, incidents, events = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
db = sqlite3.connect(path)
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE incident (id INTEGER PRIMARY KEY, title TEXT, state TEXT, priority INTEGER, reported_at TEXT)")
db.execute("CREATE TABLE event (seq INTEGER PRIMARY KEY, incident_id INTEGER, at TEXT, kind TEXT, data TEXT)")
started = time.perf_counter()
with db:
    db.executemany("INSERT INTO incident VALUES (?, ?, ?, ?, ?)",
                   ((n, "Disk full on a database server", "in_progress", 3, "2026-12-01 10:00:00") for n in range(incidents)))
    db.executemany("INSERT INTO event VALUES (?, ?, ?, ?, ?)",
                   ((n, n % incidents, "2026-12-01 10:00:00", "state_changed", '{"old": "new"}') for n in range(events)))
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def bare_insert(incidents: int, events: int) -> tuple[float, float]:
    """The floor of the demo: as many incident and event rows, bare executemany into SQLite, in a
    process of its own (seconds, peak RSS in MiB)."""
    with tempfile.TemporaryDirectory(prefix="eim-bench-bare-") as tmp:
        done = subprocess.run([sys.executable, "-c", BARE_INSERT, str(Path(tmp) / "bare.db"), str(incidents),
                               str(events)], check=True, capture_output=True, text=True)
    seconds, peak = done.stdout.split()
    return float(seconds), float(peak)


def store_counts(url: str) -> tuple[int, int, int]:
    """Incidents, open ones, and timeline events in the store."""
    path = url.removeprefix("sqlite:///")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        total, opened = db.execute("SELECT count(*), coalesce(sum(is_open), 0) FROM incident").fetchone()
        events = db.execute("SELECT max(seq) FROM timeline_event").fetchone()[0] or 0
    finally:
        db.close()
    return total, opened, events


# --- the TUI --------------------------------------------------------------------------------------

def bare_first_paint(repeat: int) -> float:
    """The floor of first paint: a bare Textual app, launch to its first frame in tmux, median s."""
    walls = []
    for _ in range(repeat):
        with Terminal([sys.executable, "-c", BARE_APP]) as terminal:
            seen, _ = terminal.wait_for(lambda screen: "bare textual app" in screen, timeout=60)
            walls.append(seen - terminal.started)
    return statistics.median(walls)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="build the store again (measures the demo)")
    parser.add_argument("--db", type=Path, default=None,
                        help="measure this SQLite store instead of the cached demo one (no demo figures)")
    args = parser.parse_args(argv)
    note(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    size = f"{args.incidents:,}"

    path = args.db or cached_path(args.incidents)
    measured = path.with_suffix(".build.json")
    if args.db is not None:
        figures, when = {}, ""
    elif args.rebuild or not path.exists():
        path.unlink(missing_ok=True)
        figures = build(args.incidents)
        measured.write_text(json.dumps(figures))
        when = "this run"
    else:
        figures = json.loads(measured.read_text()) if measured.exists() else {}
        when = "when built"
    url = f"sqlite:///{path}"
    total, opened, events = store_counts(url)
    if args.db is not None:
        note(f"measuring {path}: the demo's figures are those of the cached store only")
    elif figures:
        if "bare_s" not in figures:  # the floor, measured beside the demo
            figures["bare_s"], figures["bare_peak_rss_mb"] = bare_insert(total, events)
            measured.write_text(json.dumps(figures))
        emit("million_demo_s", figures["wall_s"], f"s wall, eim demo --incidents {size} into a new SQLite store",
             figures["bare_s"], measured=when, target=300, cpu_s=round(figures["cpu_s"], 1),
             floor_is=f"bare sqlite3 executemany of {total:,} incident + {events:,} event rows, no index")
        emit("million_demo_peak_rss_mb", figures["peak_rss_mb"], "MiB peak RSS of that process",
             figures["bare_peak_rss_mb"], measured=when, target=500, floor_is="the bare executemany's process")
    else:
        note(f"{path.name} was built before its figures were kept: --rebuild to measure the demo")
    emit("million_open_share", opened / total, f"open incidents / all ({opened:,} of {total:,})", target=0.4)

    eim = [bench_queue.EIM, "--db", url]
    bare = bare_first_paint(args.repeat)
    wall, cpu, rss = bench_queue.first_paint(eim, args.repeat)
    emit("million_first_paint_s", wall, "s wall, launch of eim in tmux 120x40 to a loaded row, median", bare,
         target_ratio=2, floor_is="bare Textual app to its first frame", cpu_s=round(cpu, 3))
    emit("million_tui_rss_mb", rss, "MiB VmRSS of eim 2 s after its first paint", target=150)

    keys = bench_queue.key_times(url, args.repeat * 10)
    for key, times in keys.items():
        emit(f"million_{key}_p50_ms", statistics.median(times), "ms, tmux send-keys to a changed pane", FRAME_MS,
             target=20, floor_is="one 60 Hz frame", samples=len(times))
        emit(f"million_{key}_p99_ms", percentile(times, 0.99), "ms, same, 99th percentile", FRAME_MS, target=20)

    from eim_tui.bootstrap import open_services
    from eim_tui.domain.board import BoardScope

    svc = open_services(url)
    try:
        floor = bench_wall.measure(lambda: bench_wall.open_per_severity(svc))[0]
        emit("million_wall_refresh_ms", bench_wall.measure(lambda: svc.board(BoardScope(), viewer="alice"))[0],
             "ms, one read of the whole board, median of 10", floor, target=200,
             floor_is="one read session counting open incidents per severity")
    finally:
        svc.db.dispose()
    emit("million_filter_ms", bench_queue.filter_in_store(url), f"ms, '{bench_queue.FILTER}': ordered numbers + "
         "first-page rows, in process, median", floor, target=100, floor_is="as million_wall_refresh_ms")
    for expression in bench_queue.FILTERS_UI:
        rows, counted, _cpu = bench_queue.filter_in_tui(eim, args.repeat, expression)
        name = re.sub(r"[^a-z0-9]+", "_", expression).strip("_") or "cleared"
        emit(f"million_filter_ui_{name}_rows_ms", rows, f"ms, '{expression}' typed in the TUI: Enter to its rows "
             "on screen, median", floor, target=100)
        emit(f"million_filter_ui_{name}_counted_ms", counted, f"ms, '{expression}': Enter to rows and count, median",
             floor, target=100)

    emit("million_report_command_ms", bench_reports.process_ms("--db", url, "report", "--json", "--user", "admin"),
         "ms wall, eim report --json as a process, median of 3", bench_reports.process_ms("--version"), target=3000,
         floor_is="eim --version")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
