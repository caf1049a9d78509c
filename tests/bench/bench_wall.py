"""Wall board benchmark: how long the board takes to read its figures from a 100,000-incident store.

Prints one JSON line per figure ({"metric", "value", "unit"}):
- wall_refresh_ms: one full read of the board (counts, group load, lists, today's flow), median
  of 10, whole store in scope, as a viewer outside the security group (placeholders applied);
- wall_refresh_cpu_ms: the CPU time of the same read;
- wall_refresh_group_ms / wall_refresh_major_ms / wall_refresh_filter_ms: scoped boards;
- wall_poll_ms: the once-a-second look at the change marker when nothing changed;
- wall_refresh_floor_ms: the floor, one read session counting the open incidents per severity
  from the queue index (the cheapest of the board's aggregates), measured in the same run;
- wall_breached_listed / wall_breached_counted: rows the breached list got and the count the
  counters show (the list holds the first BoardLimits.breached of them; "+N more" says the rest).

Run as `python -m tests.bench.bench_wall [--incidents N] [--db URL]`. Without --db it fills a
temporary SQLite store with `eim demo` first (about a minute for 100,000); with --db it reads the
store given (e.g. one made by `eim --db sqlite:///big.db demo --incidents 100000`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def emit(metric: str, value: float, unit: str) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 2), "unit": unit}), flush=True)


def measure(action: Callable[[], object], repeat: int = 10) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of `action`, after one warm-up run."""
    action()
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def open_per_severity(svc) -> list:
    """The floor: one read session and one index-only aggregate, what any board read costs at least."""
    from sqlalchemy import func, select, true

    from eim_tui.store.tables import IncidentRow

    with svc.db.read() as session:
        return session.execute(
            select(IncidentRow.priority, func.count()).where(IncidentRow.is_open == true()).group_by(IncidentRow.priority)
        ).all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--db", default=None, help="an existing store to read instead of a new demo one")
    args = parser.parse_args(argv)

    from eim_tui.bootstrap import open_services
    from eim_tui.services.demo import generate
    from eim_tui.domain.board import BoardScope
    from eim_tui.domain.filters import parse

    with tempfile.TemporaryDirectory(prefix="eim-bench-wall-") as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'wall.db'}"
        svc = open_services(url)
        if args.db is None:
            started = time.perf_counter()
            generate(svc, incidents=args.incidents, seed=7)
            print(f"# filled {args.incidents:,} demo incidents in {time.perf_counter() - started:.1f} s",
                  file=sys.stderr)
        board = svc.board(BoardScope(), viewer="alice")
        print(f"# {board.total.open:,} open, {board.acknowledged.overall.count:,} acknowledged today, "
              f"{board.resolved.overall.count:,} resolved today ({svc.db.dialect})", file=sys.stderr)

        wall, cpu = measure(lambda: svc.board(BoardScope(), viewer="alice"))
        emit("wall_refresh_ms", wall, "ms")
        emit("wall_refresh_cpu_ms", cpu, "ms")
        for name, scope in (
            ("group", BoardScope(group="network-ops")),
            ("major", BoardScope(major_only=True)),
            ("filter", BoardScope(filter=parse("sev<=2 service:payments"))),
        ):
            emit(f"wall_refresh_{name}_ms", measure(lambda s=scope: svc.board(s, viewer="alice"))[0], "ms")
        emit("wall_poll_ms", measure(svc.change_marker, repeat=50)[0], "ms")
        emit("wall_refresh_floor_ms", measure(lambda: open_per_severity(svc))[0], "ms")
        emit("wall_breached_listed", len(board.breached), "incidents")
        emit("wall_breached_counted", board.total.breached, "incidents")
        svc.db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
