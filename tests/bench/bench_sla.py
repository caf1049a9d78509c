"""SLA scheduler benchmark on 100,000 open incidents (a temporary SQLite store, bulk-filled).

Prints one JSON line per figure ({"metric", "value", "unit"}):
- sla_schedule_build_ms: planning at start-up — the scheduler's indexed look-ups that find the
  earliest pending moment (warning, breach or escalation) over every open incident;
- sla_startup_run_ms / sla_startup_recorded: the first `run_due` of a TUI opening the store — the
  plan plus recording what fell due in the last 24 hours (and how many moments that was);
- sla_replan_ms: one `run_due` after another process acknowledged an incident (median of 10);
- sla_idle_cpu_ms_per_s: CPU of the real AsyncIOScheduler over 10 s with no user at work: its
  watch job reading the change marker every second, and the due job recording the moments that
  fall due meanwhile (with 100,000 open incidents one comes every few seconds; counted in
  sla_idle_recorded).

- startup_sweep_s / startup_sweep_recorded: the first start on the 100,000-incident demo store
  (`eim demo`, cached under .bench/): every missed moment of the last 24 h recorded, in batches;
- quit_during_sweep_s: the real `eim` in tmux on a fresh copy of that store, `q` pressed while
  its start-up sweep records (some batches are in): the time from the key to the process's exit
  (median of --quit-runs); quit_bare_textual_s is the same for a bare Textual app, the floor.

Run as `python -m tests.bench.bench_sla [--incidents N] [--idle-seconds S] [--quit-runs R]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path


def emit(metric: str, value: float, unit: str) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 2), "unit": unit}), flush=True)


def fill(svc, count: int, seed: int = 7) -> None:
    """`count` open incidents reported over the last 30 days: new, in progress and on hold."""
    from sqlalchemy import insert

    from eim_tui.domain import sla
    from eim_tui.domain.model import HoldReason, Incident, State
    from eim_tui.store.repository import incident_values
    from eim_tui.store.tables import IncidentRow

    rng = random.Random(seed)
    now = svc.clock.now()
    groups = [g.name for g in svc.ref.groups]
    levels = {1: (1, 1), 2: (1, 2), 3: (2, 2), 4: (2, 3), 5: (3, 3)}
    rows = []
    for number in range(1, count + 1):
        priority = rng.choices([1, 2, 3, 4, 5], weights=[2, 8, 40, 35, 15])[0]
        reported = now - timedelta(minutes=rng.uniform(0, 30 * 24 * 60))
        response, resolution = sla.initial_due(svc.ref.policy(priority), reported)
        incident = Incident(number, f"Bench incident {number}", *levels[priority], priority, reported,
                            assignment_group=rng.choice(groups), response_due_at=response,
                            resolution_due_at=resolution, created_by="bench")
        roll = rng.random()
        if roll < 0.5:
            ack = reported + timedelta(minutes=rng.uniform(1, 60))
            incident = incident.replace(state=State.IN_PROGRESS, acknowledged_at=ack, assignee="alice")
            if roll < 0.1:
                incident = incident.replace(state=State.ON_HOLD, hold_reason=HoldReason.AWAITING_VENDOR,
                                            paused_since=ack + timedelta(minutes=5))
        values = incident_values(incident, svc.ref.policies)
        values["id"] = number
        rows.append(values)
    with svc.db.write() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(IncidentRow), rows[start : start + 5000])


async def idle_cpu(scheduler, seconds: float) -> float:
    scheduler.start()
    while not scheduler.planned and scheduler.running:  # the first run: catch-up and plan
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.5)
    cpu = time.process_time()
    await asyncio.sleep(seconds)
    used = time.process_time() - cpu
    scheduler.shutdown()
    return used * 1000 / seconds


BARE_APP = """
from textual.app import App
from textual.widgets import Static
class Bare(App):
    BINDINGS = [("q", "quit", "Quit")]
    def compose(self):
        yield Static("bare textual app")
Bare().run()
"""


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"  # exited, not yet reaped
    except FileNotFoundError:
        return True


def time_quit(command: list[str], ready, env: dict[str, str] | None = None, deadline: float = 60.0) -> float:
    """Seconds from `q` to the exit of `command`'s process, once `ready()` says the moment has come."""
    from tests.bench.terminal import Terminal

    with Terminal(command, env=env) as terminal:
        end = time.perf_counter() + deadline
        while not ready(terminal):
            if time.perf_counter() > end:
                raise TimeoutError(f"never ready:\n{terminal.capture()}")
            time.sleep(0.005)
        pressed = time.perf_counter()
        terminal.send("q")
        while not _gone(terminal.pid):
            if time.perf_counter() - pressed > deadline:
                raise TimeoutError("the program never exited after q")
            time.sleep(0.002)
        return time.perf_counter() - pressed


def sweep_figures(quit_runs: int) -> None:
    """startup_sweep_s on the demo store, and the quit during the sweep against the bare floor."""
    import shutil

    from sqlalchemy import func, select

    from eim_tui.bootstrap import open_services
    from eim_tui.notify.scheduler import SlaScheduler
    from eim_tui.store.tables import TimelineRow
    from tests.bench.demo_store import cached_store

    demo = cached_store()
    eim = str(Path(sys.executable).with_name("eim"))
    env = {"EIM_USER": "alice", "EIM_CONFIG": "/nonexistent/eim-bench-config.toml"}
    with tempfile.TemporaryDirectory(prefix="eim-bench-sweep-") as tmp:
        copy = Path(tmp) / "sweep.db"
        shutil.copyfile(demo, copy)
        svc = open_services(f"sqlite:///{copy}")
        wall = time.perf_counter()
        first = SlaScheduler(svc, "alice").run_due(svc.clock.now())
        emit("startup_sweep_s", time.perf_counter() - wall, "s")
        emit("startup_sweep_recorded", len(first.recorded), "moments")
        svc.db.dispose()

        quits, floors = [], []
        for run in range(quit_runs):
            shutil.copyfile(demo, copy)
            for suffix in ("-wal", "-shm"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
            svc = open_services(f"sqlite:///{copy}")

            def sweeping(_terminal) -> bool:
                with svc.db.read() as session:
                    return session.execute(select(func.count()).select_from(TimelineRow).where(
                        TimelineRow.actor == "scheduler")).scalar_one() > 0

            quits.append(time_quit([eim, "--db", f"sqlite:///{copy}"], sweeping, env))
            with svc.db.read() as session:
                written = session.execute(select(func.count()).select_from(TimelineRow).where(
                    TimelineRow.actor == "scheduler")).scalar_one()
            print(f"# quit run {run + 1}: {quits[-1]:.3f} s, {written:,} of {len(first.recorded):,} "
                  "moments recorded when it stopped", file=sys.stderr)
            svc.db.dispose()
            floors.append(time_quit([sys.executable, "-c", BARE_APP], lambda t: "bare textual app" in t.capture()))
        emit("quit_during_sweep_s", statistics.median(quits), "s")
        emit("quit_during_sweep_max_s", max(quits), "s")
        emit("quit_bare_textual_s", statistics.median(floors), "s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--quit-runs", type=int, default=5)
    parser.add_argument("--only-sweep", action="store_true", help="only the start-up sweep and quit figures")
    args = parser.parse_args(argv)
    sweep_figures(args.quit_runs)
    if args.only_sweep:
        return 0

    from eim_tui.bootstrap import open_services
    from eim_tui.notify.scheduler import SlaScheduler
    from eim_tui.services.sla import SlaService

    with tempfile.TemporaryDirectory(prefix="eim-bench-sla-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'sla.db'}"
        svc = open_services(url)
        started = time.perf_counter()
        fill(svc, args.incidents)
        print(f"# filled {args.incidents:,} open incidents in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        now = svc.clock.now()

        walls = []
        for _ in range(5):
            wall = time.perf_counter()
            plan = SlaService(svc).next_instant(now)
            walls.append((time.perf_counter() - wall) * 1000)
        assert plan is not None and plan > now
        emit("sla_schedule_build_ms", statistics.median(walls), "ms")

        scheduler = SlaScheduler(svc, "alice")
        wall = time.perf_counter()
        first = scheduler.run_due(svc.clock.now())
        emit("sla_startup_run_ms", (time.perf_counter() - wall) * 1000, "ms")
        emit("sla_startup_recorded", len(first.recorded), "moments")

        other = open_services(url)
        new = [n for n in range(1, args.incidents + 1)][:200]
        replans = []
        for number in new:
            try:
                other.acknowledge(number, "bob")
            except Exception:  # noqa: BLE001 - already in progress: try the next one
                continue
            wall = time.perf_counter()
            scheduler.run_due(svc.clock.now())
            replans.append((time.perf_counter() - wall) * 1000)
            if len(replans) == 10:
                break
        emit("sla_replan_ms", statistics.median(replans), "ms")
        other.db.dispose()

        idle = SlaScheduler(svc, "alice", poll_interval=1.0)
        before = svc.change_marker()
        emit("sla_idle_cpu_ms_per_s", asyncio.run(idle_cpu(idle, args.idle_seconds)), "ms/s")
        emit("sla_idle_recorded", svc.change_marker() - before, "events")
        svc.db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
