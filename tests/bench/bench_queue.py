"""Queue benchmark on a 100,000-incident SQLite store (the demo: about 40 % open).

Prints one JSON line per figure ({"metric", "value", "unit"}; `unit` also says how it was measured):
- demo_100k_s / demo_100k_cpu_s: `eim demo --incidents 100000` into a fresh store (target ≤ 60 s);
- queue_first_paint_s / queue_first_paint_cpu_s: the real `eim` started in a tmux pane at 120x40
  until the pane shows a loaded incident row (capture-pane polled every ~5 ms) (target ≤ 0.8 s);
- queue_key_to_frame_ms: tmux send-keys (down, then pagedown) until the captured pane changed,
  median over --keys presses; the slower key's figure (target ≤ 30 ms); each key also on its own
  line, with its 99th percentile (queue_key_<key>_to_frame_p99_ms; one 60 Hz frame is 16 ms);
- filter_ms: `sev<=2 disk` — the store's ordered numbers plus the rows of the first page, in
  process (target ≤ 100 ms); filter_ui_<expr>_rows_ms / _counted_ms: typical expressions (`sev<=2
  disk`, `breached`, `state:open sev>=3`, and a filter cleared) typed into the real TUI, Enter to the
  pane showing the filtered rows (target ≤ 50 ms), and to those rows with their count; _rows_cpu_ms:
  the CPU the program used from Enter to those rows;
  filter_store_<expr>_head_ms / _whole_ms: the same expressions in process — the head page the
  screen paints first (its numbers, LIMIT 80, and rows) and the whole ordered list the count waits
  for, beside reading the same 80 rows by key (where the time goes: store, or the screen);
- sla_tick_cpu_ms_1k / sla_tick_cpu_ms_100k: CPU of one countdown tick of the queue screen and the
  frame it causes, in process with a headless app, at 1,000 and 100,000 incidents (target ≤ 5 ms);
- tui_rss_mb: VmRSS of the TUI 2 s after its first paint (target ≤ 120 MB);
- datatable_first_paint_s: Textual's stock DataTable holding the rows the queue lists (the open
  incidents, about 40,000), measured like queue_first_paint_s, for the ratio.

Every figure measured in a terminal carries `floor` and `ratio`: the same measurement, in the same
run, of a bare Textual app that looks like the queue to these functions (tests/bench/queue_floor_app.py:
fixed lines in memory, no store) — what tmux, capture-pane and Textual cost before any queue work.

The store is built once (tests/bench/demo_store.py, under .bench/) and reused. The machine's load
average is printed first: on a busy machine every wall-clock figure is inflated, CPU ones less so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.demo_store import ROOT, adopt, cached_store, timed_demo
from tests.bench.terminal import PLACEHOLDER, ROW_WITH_DATA, Terminal

EIM = str(Path(sys.executable).with_name("eim"))
TUI_ENV = {"EIM_USER": "alice", "EIM_CONFIG": "/nonexistent/eim-bench-config.toml"}
FILTER = "sev<=2 disk"


ANSI = re.compile(r"\x1b\[[0-9;:?]*[A-Za-z]")


def _plain(screen: str) -> str:
    return ANSI.sub("", screen)


def emit(metric: str, value: float, unit: str, floor: float | None = None) -> None:
    """One figure; `floor`: the same measurement of the bare app (queue_floor_app.py), same run."""
    line: dict[str, object] = {"metric": metric, "value": round(value, 3), "unit": unit}
    if floor is not None:
        line.update(floor=round(floor, 3), ratio=round(value / floor, 2) if floor else None)
    print(json.dumps(line), flush=True)


def p99(values: list[float]) -> float:
    """The 99th percentile (nearest rank): with fewer than 100 samples, the slowest but one in 100."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def note(text: str) -> None:
    print(f"# {text}", file=sys.stderr, flush=True)


# --- demo -----------------------------------------------------------------------------------------

def bench_demo(incidents: int) -> None:
    fresh = Path(tempfile.mkdtemp(prefix="eim-bench-")) / "demo.db"
    wall, cpu = timed_demo(fresh, incidents)
    emit("demo_100k_s", wall, "s wall, eim demo --incidents 100000 into a new SQLite store")
    emit("demo_100k_cpu_s", cpu, "s CPU (user+system) of that process")
    adopt(fresh, incidents)  # the first run keeps it as the cached store
    for suffix in ("", "-wal", "-shm"):
        Path(f"{fresh}{suffix}").unlink(missing_ok=True)


# --- the real TUI in tmux -------------------------------------------------------------------------

def first_paint(command: list[str], repeat: int, env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Median (wall s, CPU s) from launch to a loaded row on screen, and the last run's RSS 2 s on."""
    walls, cpus, rss = [], [], 0.0
    for _ in range(repeat):
        with Terminal(command, env={**TUI_ENV, **(env or {})}) as terminal:
            seen, _ = terminal.wait_for(lambda screen: ROW_WITH_DATA.search(screen) is not None, timeout=120)
            walls.append(seen - terminal.started)
            cpus.append(terminal.cpu_seconds())
            time.sleep(2.0)
            rss = terminal.rss_mb()
    return statistics.median(walls), statistics.median(cpus), rss


def key_times(url: str, repeat: int) -> dict[str, list[float]]:
    """Every ms from send-keys to a changed pane, per key (down, pagedown), in `eim` on the store `url`."""
    return key_to_frame([EIM, "--db", url], repeat)


def key_to_frame(command: list[str], repeat: int, env: dict[str, str] | None = None) -> dict[str, list[float]]:
    """Every ms from send-keys to a changed pane, per key, in one running TUI."""
    times: dict[str, list[float]] = {"down": [], "pagedown": []}
    with Terminal(command, env={**TUI_ENV, **(env or {})}) as terminal:
        terminal.wait_for(lambda screen: re.search(r"All open \([\d,]+\)", screen) is not None, timeout=120)
        time.sleep(1.5)  # past the start-up work (the SLA scheduler's first sweep)
        for _ in range(repeat):
            for key, tmux_key in (("down", "Down"), ("pagedown", "NPage")):
                before = terminal.capture(styles=True)
                sent = time.perf_counter()
                terminal.send(tmux_key)
                # Changed, and with every row loaded (no placeholder left on the page).
                seen, _ = terminal.wait_for(
                    lambda screen, b=before: screen != b and not PLACEHOLDER.search(_plain(screen)), styles=True
                )
                times[key].append((seen - sent) * 1000)
                time.sleep(0.1)
    return times


KEYS = re.compile(r"INC-\d{6}")
FILTERS_UI = ("sev<=2 disk", "breached", "state:open sev>=3", "")  # "": the filter cleared (Enter on an empty bar)


def filter_in_tui(command: list[str], repeat: int, expression: str,
                  env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Median ms from Enter on the filter bar to (a) the pane showing the filtered queue's rows —
    the first capture whose incident keys, in order, are those of the finished screen, every row
    loaded — and (b) the pane showing its count as well; and (c) the CPU ms the program used from
    Enter to (a) (/proc, 10 ms ticks: what a busy machine inflates least). `expression` "" clears
    a filter applied first."""
    to_rows, to_count, rows_cpu = [], [], []
    shown = re.escape(expression) if expression else r"[^·]*?"
    counted = re.compile(r"All open \([\d,]+\) · sort: [^·]+ · " + (f"filter: {shown} · " if expression else "") + "alice")

    def titled(screen: str) -> bool:  # the title says the filter asked (it changes at Enter, before the rows)
        return f"filter: {expression} ·" in screen if expression else "filter:" not in screen
    for _ in range(repeat):
        with Terminal(command, env={**TUI_ENV, **(env or {})}) as terminal:
            terminal.wait_for(lambda screen: re.search(r"All open \([\d,]+\)", screen) is not None, timeout=120)
            time.sleep(1.5)
            if not expression:  # something to clear
                terminal.send("/")
                terminal.wait_for(lambda screen: "enter applies" in screen)
                terminal.send(FILTER, literal=True)
                terminal.send("Enter")
                terminal.wait_for(lambda screen: re.search(r"All open \([\d,]+\) · sort: [^·]+ · filter:", screen)
                                  is not None)
                time.sleep(0.5)
            terminal.send("/")
            terminal.wait_for(lambda screen: "enter applies" in screen)
            if not expression:
                terminal.send("C-u")  # the bar opens holding the current filter
            else:
                terminal.send(expression, literal=True)
            time.sleep(0.3)
            screens: list[tuple[float, str]] = []
            cpu: dict[float, float] = {}
            cpu_sent = terminal.cpu_seconds()
            sent = time.perf_counter()
            terminal.send("Enter")

            def finished(screen: str, screens: list[tuple[float, str]] = screens, cpu: dict[float, float] = cpu,
                         terminal: Terminal = terminal) -> bool:
                at = time.perf_counter()
                cpu[at] = terminal.cpu_seconds()
                screens.append((at, screen))
                return counted.search(screen) is not None and not PLACEHOLDER.search(screen) \
                    and ROW_WITH_DATA.search(screen) is not None

            seen, final = terminal.wait_for(finished)
            keys = KEYS.findall(final)
            first = next(at for at, screen in screens if KEYS.findall(screen) == keys and titled(screen)
                         and not PLACEHOLDER.search(screen))
            to_rows.append((first - sent) * 1000)
            to_count.append((seen - sent) * 1000)
            rows_cpu.append((cpu[first] - cpu_sent) * 1000)
    return statistics.median(to_rows), statistics.median(to_count), statistics.median(rows_cpu)


# --- in process ------------------------------------------------------------------------------------

def filter_in_store(url: str, repeat: int = 10) -> float:
    from eim_tui.bootstrap import open_services
    from eim_tui.domain.filters import parse
    from eim_tui.domain.queue import View

    svc = open_services(url)
    groups = svc.user_groups("alice")

    def once() -> None:
        numbers = svc.queue(View.OPEN, parse(FILTER), "alice", groups)
        svc.rows(numbers[:80], viewer="alice")

    once()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        once()
        times.append((time.perf_counter() - started) * 1000)
    svc.db.dispose()
    return statistics.median(times)


def filter_store_split(url: str, expression: str, repeat: int = 10) -> tuple[float, float, float]:
    """Median CPU ms, in process, of what a filter costs the store: (the head page's numbers and rows —
    what the screen paints first, the whole ordered list — what the count waits for, the floor:
    the same page's rows read by key alone)."""
    from eim_tui.bootstrap import open_services
    from eim_tui.domain.filters import parse
    from eim_tui.domain.queue import View

    svc = open_services(url)
    groups = svc.user_groups("alice")
    f = parse(expression)
    page = svc.queue(View.OPEN, f, "alice", groups, limit=80)

    def median(work) -> float:  # CPU of this thread (SQLite runs in it): what a busy machine inflates least
        work()
        times = []
        for _ in range(repeat):
            started = time.thread_time()
            work()
            times.append((time.thread_time() - started) * 1000)
        return statistics.median(times)

    head = median(lambda: svc.rows(svc.queue(View.OPEN, f, "alice", groups, limit=80), viewer="alice"))
    whole = median(lambda: svc.queue(View.OPEN, f, "alice", groups))
    floor = median(lambda: svc.rows(page, viewer="alice"))
    svc.db.dispose()
    return head, whole, floor


def sla_tick_cpu(url: str, ticks: int = 100) -> float:
    """Marginal main-thread CPU (ms) of one tick of the queue screen plus the frame it causes."""
    from eim_tui.bootstrap import open_services
    from eim_tui.domain.clock import FixedClock, SystemClock
    from eim_tui.tui.app import EimApp
    from eim_tui.tui.screens.queue import QueueScreen

    clock = FixedClock(SystemClock().now())
    svc = open_services(url, clock)
    app = EimApp(svc, user="alice", poll_interval=3600, tick_interval=3600, sla_scheduler=False)
    result: list[float] = []

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(5):
                await pilot.pause()
                await app.workers.wait_for_complete()
            screen = app.screen
            assert isinstance(screen, QueueScreen)

            async def loop(tick: bool) -> float:
                started = time.thread_time()
                for _ in range(ticks):
                    clock.advance(1)
                    if tick:
                        screen._tick()  # what the screen's 1 s timer calls
                    await pilot.pause()
                return time.thread_time() - started

            await loop(True)  # warm up
            idle = min([await loop(False) for _ in range(3)])
            ticking = min([await loop(True) for _ in range(3)])
            result.append(max(0.0, ticking - idle) / ticks * 1000)

    asyncio.run(run())
    svc.db.dispose()
    return result[0]


def run_filters(url: str, eim: list[str], floor_app: list[str], floor_env: dict[str, str], repeat: int) -> None:
    """The typed filters' figures: in the store, then in the TUI beside the floor app."""
    for expression in FILTERS_UI:
        name = re.sub(r"[^a-z0-9]+", "_", expression).strip("_") or "cleared"
        head, whole, floor = filter_store_split(url, expression)
        emit(f"filter_store_{name}_head_ms", head, f"ms CPU, '{expression}' in process: the head page's numbers "
             "(LIMIT 80) and rows, median; floor: those 80 rows read by key alone", floor)
        emit(f"filter_store_{name}_whole_ms", whole, f"ms CPU, '{expression}' in process: the whole ordered list, "
             "median; floor: as above", floor)
    for expression in FILTERS_UI:
        floor_rows, floor_counted, floor_cpu = filter_in_tui(floor_app, repeat, expression, env=floor_env)
        rows, counted, cpu = filter_in_tui(eim, repeat, expression)
        name = re.sub(r"[^a-z0-9]+", "_", expression).strip("_") or "cleared"
        emit(f"filter_ui_{name}_rows_ms", rows,
             f"ms, '{expression}' typed in the TUI: Enter to its rows on screen (tmux), median; target 50; "
             "floor: the bare app filtering a list in memory", floor_rows)
        emit(f"filter_ui_{name}_rows_cpu_ms", cpu, f"ms CPU of the program from Enter to '{expression}''s rows on "
             "screen (/proc, 10 ms ticks), median", floor_cpu)
        emit(f"filter_ui_{name}_counted_ms", counted, f"ms, '{expression}': Enter to its rows and count, median",
             floor_counted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keys", type=int, default=100, help="presses of each key for the key-to-frame figures")
    parser.add_argument("--filters-only", action="store_true", help="only the typed filters' figures")
    parser.add_argument("--skip-comparisons", action="store_true",
                        help="leave out the SLA tick and the stock DataTable (the slowest, unrelated to filters)")
    parser.add_argument("--skip-demo", action="store_true", help="do not time a fresh `eim demo`")
    args = parser.parse_args()
    note(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if not args.skip_demo:
        bench_demo(args.incidents)
    url = f"sqlite:///{cached_store(args.incidents)}"

    floor_app = [sys.executable, "-m", "tests.bench.queue_floor_app"]
    floor_env = {"PYTHONPATH": str(ROOT)}
    eim = [EIM, "--db", url]
    if args.filters_only:
        run_filters(url, eim, floor_app, floor_env, args.repeat)
        return
    floor_wall, floor_cpu, _ = first_paint(floor_app, args.repeat, env=floor_env)
    wall, cpu, rss = first_paint(eim, args.repeat)
    emit("queue_first_paint_s", wall, "s wall, launch of eim in tmux 120x40 to a loaded row on screen, median; "
         "floor: the bare app (tests/bench/queue_floor_app.py), same method", floor_wall)
    emit("queue_first_paint_cpu_s", cpu, "s CPU of the eim process at that moment, median", floor_cpu)
    emit("tui_rss_mb", rss, "MiB VmRSS of eim 2 s after its first paint")

    floor_keys = key_to_frame(floor_app, args.keys, env=floor_env)
    keys = key_to_frame(eim, args.keys)
    medians = {key: statistics.median(values) for key, values in keys.items()}
    slower = max(medians, key=medians.__getitem__)
    emit("queue_key_to_frame_ms", medians[slower],
         f"ms, tmux send-keys to a changed capture-pane (polled ~5 ms), median of {args.keys}, slower of "
         f"down/pagedown ({slower}); floor: the bare app's same key", statistics.median(floor_keys[slower]))
    for key in ("down", "pagedown"):
        emit(f"queue_key_{key}_to_frame_ms", medians[key], f"ms, {key}, same method, median of {args.keys}",
             statistics.median(floor_keys[key]))
        emit(f"queue_key_{key}_to_frame_p99_ms", p99(keys[key]),
             f"ms, {key}, same method, 99th percentile of {args.keys} (nearest rank); target: one 60 Hz frame, 16 ms",
             p99(floor_keys[key]))

    emit("filter_ms", filter_in_store(url), f"ms, '{FILTER}': ordered numbers + first-page rows, in process, median")
    run_filters(url, eim, floor_app, floor_env, args.repeat)

    if args.skip_comparisons:
        return
    emit("sla_tick_cpu_ms_1k", sla_tick_cpu(f"sqlite:///{cached_store(1000)}"),
         "ms main-thread CPU of one tick + its frame, headless app, 1,000 incidents")
    emit("sla_tick_cpu_ms_100k", sla_tick_cpu(url),
         "ms main-thread CPU of one tick + its frame, headless app, 100,000 incidents")

    wall, cpu, _ = first_paint([sys.executable, "-m", "tests.bench.datatable_app", "--db", url],
                               max(1, args.repeat // 2), env={"PYTHONPATH": str(ROOT)})
    emit("datatable_first_paint_s", wall, "s wall, stock DataTable loaded with the open incidents the queue "
         "lists (not every incident), same method; floor: the bare app", floor_wall)


if __name__ == "__main__":
    main()
