"""`eim patterns` over the 100,000-incident demo store (issue 11: ≤ 3 s at 100,000 incidents).

Prints one JSON line per figure ({"metric", "value", "unit"}), each beside its floor measured in
the same run, since this machine is shared:
- patterns_100k_<window>_floor_ms: the rows the search reads, read alone (`store.patterns.pattern_incidents`);
- patterns_100k_<window>_ms: `Patterns.candidates(window)` — the same read plus the clustering —
  for the default 30-day window and for a window holding every incident of the store (3660 days),
  median of N after one warm run;
- patterns_100k_command_ms / patterns_command_floor_ms: the real `eim patterns --json --window 3660d`
  process, beside `eim --version` (the interpreter and eim's start-up), median of 3.

Run as `python -m tests.bench.bench_patterns [--runs N]`.
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from tests.bench.bench_reports import emit, median_ms, process_ms
from tests.bench.demo_store import cached_store

WINDOWS = ("30d", "3660d")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    from eim_tui.bootstrap import open_services
    from eim_tui.services.patterns import Patterns, parse_window
    from eim_tui.store.patterns import pattern_incidents

    path = cached_store()
    url = f"sqlite:///{path}"
    svc = open_services(url)
    patterns = Patterns(svc.db, svc.clock)
    try:
        for window in WINDOWS:
            since = svc.clock.now() - timedelta(days=parse_window(window))

            def floor(since=since) -> None:
                with svc.db.read() as session:
                    pattern_incidents(session, since, True)

            with svc.db.read() as session:
                rows = len(pattern_incidents(session, since, True))
            found = patterns.candidates(window, 5, include_confidential=True)["candidates"]
            emit(f"patterns_100k_{window}_floor_ms", median_ms(floor, args.runs), "ms", incidents=rows)
            emit(f"patterns_100k_{window}_ms",
                 median_ms(lambda w=window: patterns.candidates(w, 5, include_confidential=True), args.runs), "ms",
                 target=3000, incidents=rows, candidates=len(found))
    finally:
        svc.db.dispose()

    emit("patterns_command_floor_ms", process_ms("--version"), "ms")
    emit("patterns_100k_command_ms", process_ms("--db", url, "patterns", "--json", "--window", "3660d",
                                                "--user", "admin"), "ms", target=3000)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
