"""Start-up after a day of missed SLA instants (issue 14) on the 100,000-incident demo store.

`eim demo` writes each incident's history but records none of its SLA moments: a fresh copy of the
demo store (tests/bench/demo_store.py, cached under .bench/) is a store eim was closed on while a
day of warnings, breaches and escalations fell due. Its first start sweeps them (the scheduler's
first run records the last 24 hours, in batches, in APScheduler's thread pool). The floor is the
same start on a copy whose moments were all recorded beforehand: nothing missed.

For each, the real `eim` in tmux 120x40, a fresh copy of the store each time, median of --runs:
- startup_<case>_first_paint_s: launch to a loaded row on screen;
- startup_<case>_key_ms: `Down` sent as soon as that row shows, to the pane changing (a UI that is
  busy with the sweep answers late);
- startup_<case>_quit_s: `q` sent right after that frame, to the process's exit (target ≤ 0.5 s);
- startup_missed_moments: how many moments the sweep has to record; startup_missed_left: how many
  a quit right after first paint left for the next start (median; the once-keys make that safe).

Each "missed" line carries the "swept" figure as its floor and the ratio. Run as
`python -m tests.bench.bench_startup [--runs N]`.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from tests.bench.bench_million import emit
from tests.bench.bench_queue import EIM, TUI_ENV
from tests.bench.bench_sla import _gone
from tests.bench.demo_store import _checkpoint as checkpoint
from tests.bench.demo_store import cached_store
from tests.bench.terminal import ROW_WITH_DATA, Terminal


def fresh_copy(source: Path, target: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)


def sweep(path: Path) -> int:
    """Record every missed moment now, as a first start would; how many there were."""
    from eim_tui.bootstrap import open_services
    from eim_tui.notify.scheduler import SlaScheduler

    svc = open_services(f"sqlite:///{path}")
    try:
        return len(SlaScheduler(svc, "alice").run_due(svc.clock.now()).recorded)
    finally:
        svc.db.dispose()
        checkpoint(path)  # the file alone is then the whole store, to be copied


def left_over(path: Path) -> int:
    """Moments of the last 24 hours still unrecorded in the store at `path`."""
    from eim_tui.bootstrap import open_services
    from eim_tui.services.sla import DEFAULT_LOOKBACK, SlaService

    svc = open_services(f"sqlite:///{path}")
    try:
        now = svc.clock.now()
        sla = SlaService(svc)
        return len(sla.pending(sla.candidates(now - DEFAULT_LOOKBACK, now), now, now - DEFAULT_LOOKBACK))
    finally:
        svc.db.dispose()


def one_start(path: Path) -> tuple[float, float, float]:
    """The real eim on `path`: (launch → first loaded row s, Down → changed pane ms, q → exit s)."""
    with Terminal([EIM, "--db", f"sqlite:///{path}"], env=TUI_ENV) as terminal:
        painted, _ = terminal.wait_for(lambda screen: ROW_WITH_DATA.search(screen) is not None, timeout=120)
        before = terminal.capture(styles=True)
        sent = time.perf_counter()
        terminal.send("Down")
        answered, _ = terminal.wait_for(lambda screen: screen != before, timeout=60, styles=True)
        pressed = time.perf_counter()
        terminal.send("q")
        while not _gone(terminal.pid):
            if time.perf_counter() - pressed > 60:
                raise TimeoutError("eim never exited after q")
            time.sleep(0.002)
        return painted - terminal.started, (answered - sent) * 1000, time.perf_counter() - pressed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    demo = cached_store()
    figures: dict[str, list[tuple[float, float, float]]] = {"missed": [], "swept": []}
    left: list[int] = []
    with tempfile.TemporaryDirectory(prefix="eim-bench-startup-") as tmp:
        swept = Path(tmp) / "swept.db"
        fresh_copy(demo, swept)
        moments = sweep(swept)
        copy = Path(tmp) / "start.db"
        for _ in range(args.runs):
            fresh_copy(demo, copy)
            figures["missed"].append(one_start(copy))
            left.append(left_over(copy))
            fresh_copy(swept, copy)
            figures["swept"].append(one_start(copy))

    def median(case: str, index: int) -> float:
        return statistics.median(run[index] for run in figures[case])

    emit("startup_missed_moments", moments, "SLA moments of the last 24 h unrecorded in the demo store")
    emit("startup_missed_left", statistics.median(left), "moments still unrecorded after a quit right after "
         "first paint (recorded by the next start)")
    for index, (name, unit, target) in enumerate((("first_paint_s", "s, launch to a loaded row", None),
                                                  ("key_ms", "ms, Down at first paint to a changed pane", None),
                                                  ("quit_s", "s, q right after that frame to the exit", 0.5))):
        extra = {"target": target} if target is not None else {}
        emit(f"startup_swept_{name}", median("swept", index), f"{unit}, nothing missed, median of {args.runs}")
        emit(f"startup_missed_{name}", median("missed", index), f"{unit}, a day of moments missed, median of "
             f"{args.runs}", median("swept", index), floor_is="the same start, nothing missed", **extra)
        emit(f"startup_missed_{name}_max", max(run[index] for run in figures["missed"]), f"{unit}, worst run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
