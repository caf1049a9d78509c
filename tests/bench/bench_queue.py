"""Queue benchmark on a 100,000-incident SQLite store (the demo: about 40 % open).

Prints one JSON line per figure ({"metric", "value", "unit"}; `unit` also says how it was measured):
- demo_100k_s / demo_100k_cpu_s: `eim demo --incidents 100000` into a fresh store (target ≤ 60 s);
- queue_first_paint_s / queue_first_paint_cpu_s: the real `eim` started in a tmux pane at 120x40
  until the pane shows a loaded incident row (capture-pane polled every ~5 ms) (target ≤ 0.8 s);
- queue_key_to_frame_ms: tmux send-keys (down, then pagedown) until the captured pane changed,
  median over repeats; the slower key's figure (target ≤ 30 ms); each key also on its own line;
- filter_ms: `sev<=2 disk` — the store's ordered numbers plus the rows of the first page, in
  process (target ≤ 100 ms); filter_ui_<expr>_rows_ms / _counted_ms: typical expressions (`sev<=2
  disk`, `breached`, `state:open sev>=3`, and a filter cleared) typed into the real TUI, Enter to the
  pane showing the filtered rows (target ≤ 50 ms), and to those rows with their count;
- sla_tick_cpu_ms_1k / sla_tick_cpu_ms_100k: CPU of one countdown tick of the queue screen and the
  frame it causes, in process with a headless app, at 1,000 and 100,000 incidents (target ≤ 5 ms);
- tui_rss_mb: VmRSS of the TUI 2 s after its first paint (target ≤ 120 MB);
- datatable_first_paint_s: Textual's stock DataTable holding all 100,000 incidents, measured like
  queue_first_paint_s, for the ratio.

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


def emit(metric: str, value: float, unit: str) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 3), "unit": unit}), flush=True)


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


def key_to_frame(url: str, repeat: int) -> dict[str, float]:
    """Median ms from send-keys to a changed pane, per key, in one running TUI."""
    return {key: statistics.median(values) for key, values in key_times(url, repeat).items()}


def key_times(url: str, repeat: int) -> dict[str, list[float]]:
    """Every ms from send-keys to a changed pane, per key (down, pagedown), in one running TUI."""
    times: dict[str, list[float]] = {"down": [], "pagedown": []}
    with Terminal([EIM, "--db", url], env=TUI_ENV) as terminal:
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


def filter_in_tui(url: str, repeat: int, expression: str) -> tuple[float, float]:
    """Median ms from Enter on the filter bar to (a) the pane showing the filtered queue's rows —
    the first capture whose incident keys, in order, are those of the finished screen, every row
    loaded — and (b) the pane showing its count as well. `expression` "" clears a filter applied first."""
    to_rows, to_count = [], []
    shown = re.escape(expression) if expression else r"[^·]*?"
    counted = re.compile(r"All open \([\d,]+\) · sort: [^·]+ · " + (f"filter: {shown} · " if expression else "") + "alice")

    def titled(screen: str) -> bool:  # the title says the filter asked (it changes at Enter, before the rows)
        return f"filter: {expression} ·" in screen if expression else "filter:" not in screen
    for _ in range(repeat):
        with Terminal([EIM, "--db", url], env=TUI_ENV) as terminal:
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
            sent = time.perf_counter()
            terminal.send("Enter")

            def finished(screen: str, screens: list[tuple[float, str]] = screens) -> bool:
                screens.append((time.perf_counter(), screen))
                return counted.search(screen) is not None and not PLACEHOLDER.search(screen) \
                    and ROW_WITH_DATA.search(screen) is not None

            seen, final = terminal.wait_for(finished)
            keys = KEYS.findall(final)
            first = next(at for at, screen in screens if KEYS.findall(screen) == keys and titled(screen)
                         and not PLACEHOLDER.search(screen))
            to_rows.append((first - sent) * 1000)
            to_count.append((seen - sent) * 1000)
    return statistics.median(to_rows), statistics.median(to_count)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-demo", action="store_true", help="do not time a fresh `eim demo`")
    args = parser.parse_args()
    note(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if not args.skip_demo:
        bench_demo(args.incidents)
    url = f"sqlite:///{cached_store(args.incidents)}"

    wall, cpu, rss = first_paint([EIM, "--db", url], args.repeat)
    emit("queue_first_paint_s", wall, "s wall, launch of eim in tmux 120x40 to a loaded row on screen, median")
    emit("queue_first_paint_cpu_s", cpu, "s CPU of the eim process at that moment, median")
    emit("tui_rss_mb", rss, "MiB VmRSS of eim 2 s after its first paint")

    keys = key_to_frame(url, args.repeat * 4)
    emit("queue_key_to_frame_ms", max(keys.values()),
         "ms, tmux send-keys to a changed capture-pane (polled ~5 ms), median, slower of down/pagedown")
    emit("queue_key_down_to_frame_ms", keys["down"], "ms, down, same method")
    emit("queue_key_pagedown_to_frame_ms", keys["pagedown"], "ms, pagedown, same method")

    emit("filter_ms", filter_in_store(url), f"ms, '{FILTER}': ordered numbers + first-page rows, in process, median")
    for expression in FILTERS_UI:
        rows, counted = filter_in_tui(url, args.repeat, expression)
        name = re.sub(r"[^a-z0-9]+", "_", expression).strip("_") or "cleared"
        emit(f"filter_ui_{name}_rows_ms", rows,
             f"ms, '{expression}' typed in the TUI: Enter to its rows on screen (tmux), median; target 50")
        emit(f"filter_ui_{name}_counted_ms", counted, f"ms, '{expression}': Enter to its rows and count, median")

    emit("sla_tick_cpu_ms_1k", sla_tick_cpu(f"sqlite:///{cached_store(1000)}"),
         "ms main-thread CPU of one tick + its frame, headless app, 1,000 incidents")
    emit("sla_tick_cpu_ms_100k", sla_tick_cpu(url),
         "ms main-thread CPU of one tick + its frame, headless app, 100,000 incidents")

    wall, cpu, _ = first_paint([sys.executable, "-m", "tests.bench.datatable_app", "--db", url],
                               max(1, args.repeat // 2), env={"PYTHONPATH": str(ROOT)})
    emit("datatable_first_paint_s", wall, "s wall, stock DataTable loaded with all 100,000 incidents, same method")


if __name__ == "__main__":
    main()
