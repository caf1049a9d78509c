"""1,000 escalations due at once, with alerts still arriving: a real `eim service --ingest` on SQLite.

1,000 Sev1 incidents (assigned, not acknowledged) are logged so that the rule
`sev1-not-acknowledged` (5 minutes) falls due for all of them at the same instant T0, while the
service runs. The shift lead's channel is a JSON webhook (a local aiohttp receiver started here),
so each escalation is one delivery. Meanwhile a client posts Alertmanager notifications to the
service's own receiver (same process) at a steady rate.

Prints one JSON line per figure ({"metric", "value", "unit"}):
- storm_escalations_recorded_s: T0 → the 1,000th escalation in the timeline (target ≤ 30 s);
- storm_escalations_delivered_s: T0 → the 1,000th message at the webhook (target ≤ 30 s);
- storm_ingest_p99_ms: the receiver's answer time, p99, from T0 until every message arrived
  (target ≤ 200 ms), beside
- storm_ingest_quiet_p99_ms: the floor, the same sender against the same process before T0,
  with nothing due.

Run as `python -m tests.bench.bench_escalation_storm [--incidents N] [--rate R]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from tests.bench.bench_ingest import notifications, start_receiver
from tests.notify.receivers import Webhook

ROOT = Path(__file__).resolve().parents[2]
LEAD_S = 45.0  # T0 this long after the first incident is logged: room to log them and to start


def emit(metric: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 3), "unit": unit, **extra}), flush=True)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def post_steadily(url: str, bodies: list[bytes], rate: float, stop: Callable[[], bool]) -> list[float]:
    """POST one body every 1/rate seconds (without waiting for answers) until `stop()`; each
    answer time in ms."""
    import aiohttp

    times: list[float] = []
    index = 0
    async with aiohttp.ClientSession() as session:
        pending: set[asyncio.Task] = set()

        async def one(body: bytes) -> None:
            started = time.perf_counter()
            async with session.post(f"{url}/api/v1/alertmanager", data=body,
                                    headers={"Content-Type": "application/json"}) as reply:
                await reply.read()
                if reply.status >= 300:
                    raise SystemExit(f"the receiver answered {reply.status}")
            times.append((time.perf_counter() - started) * 1000)

        next_at = time.monotonic()
        while not stop():
            task = asyncio.create_task(one(bodies[index % len(bodies)]))
            pending.add(task)
            task.add_done_callback(pending.discard)
            index += 1
            next_at += 1 / rate
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await asyncio.gather(*pending)
    return times


def _poster(url: str, bodies: list[bytes], rate: float, stop, out) -> None:
    """In a process of its own: the webhook receiver and the watcher share the bench's GIL, and
    must not slow the client whose answer times are the figure."""
    out.put(asyncio.run(post_steadily(url, bodies, rate, stop.is_set)))


def post_elsewhere(url: str, bodies: list[bytes], rate: float, until: Callable[[], bool]) -> list[float]:
    """`post_steadily` in a spawned process until `until()` says stop (asked every 50 ms)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    stop, out = context.Event(), context.Queue()
    child = context.Process(target=_poster, args=(url, bodies, rate, stop, out), daemon=True)
    child.start()
    while not until():
        time.sleep(0.05)
    stop.set()
    times = out.get(timeout=60)
    child.join(10)
    return times


def escalations(url: str) -> int:
    from sqlalchemy import func, select

    from eim_tui.store.engine import Database
    from eim_tui.store.tables import TimelineRow

    db = Database(url)
    try:
        with db.read() as session:
            return session.execute(select(func.count()).select_from(TimelineRow).where(
                TimelineRow.kind == "escalation")).scalar_one()
    finally:
        db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="alert notifications per second")
    args = parser.parse_args(argv)

    from eim_tui.bootstrap import open_services
    from eim_tui.domain.clock import FixedClock, SystemClock
    from eim_tui.domain.intake import NewIncident
    from eim_tui.services.notifications import NotificationCases

    with tempfile.TemporaryDirectory() as tmp, Webhook() as hook:
        url = f"sqlite:///{tmp}/storm.db"
        env = {**os.environ, "EIM_CONFIG": str(Path(tmp) / "config.toml"), "PYTHONUNBUFFERED": "1"}
        (Path(tmp) / "config.toml").write_text('[notify]\nbackoff = "1s"\n')
        start = SystemClock().now()
        t0 = start + timedelta(seconds=LEAD_S)
        svc = open_services(url, FixedClock(t0 - timedelta(minutes=5)))
        NotificationCases(svc).set_channels("admin", "user", "chen", [hook.url])
        for n in range(args.incidents):
            svc.log_incident(NewIncident(title=f"Storm {n + 1}: core switch down", impact=1, urgency=1,
                                         assignment_group="platform", assignee="bob"), "monitor")
        svc.db.dispose()
        logged = (SystemClock().now() - start).total_seconds()
        if logged > LEAD_S - 15:
            raise SystemExit(f"logging {args.incidents} incidents took {logged:.0f} s: too close to T0")

        log = Path(tmp) / "service.log"
        proc, receiver = start_receiver(["service", "--ingest", "127.0.0.1:0", "--db", url], log, env)
        try:
            bodies = [body for body, _ in notifications(groups=5000, repeats=1)]
            wall_t0 = time.monotonic() + (t0 - SystemClock().now()).total_seconds()
            if wall_t0 - time.monotonic() < 8:
                raise SystemExit("the service started too close to T0")
            quiet = post_elsewhere(receiver, bodies[:2000], args.rate, lambda: time.monotonic() >= wall_t0 - 1)
            done: dict[str, float] = {}

            def watch() -> None:
                while "delivered" not in done and time.monotonic() < wall_t0 + 120:
                    now = time.monotonic()
                    if "recorded" not in done and escalations(url) >= args.incidents:
                        done["recorded"] = now - wall_t0
                    if len(hook.received) >= args.incidents:
                        done["delivered"] = now - wall_t0
                    time.sleep(0.2)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            stormy = post_elsewhere(receiver, bodies[2000:], args.rate, lambda: not watcher.is_alive())
            watcher.join(10)
        finally:
            proc.terminate()
            proc.wait(10)
        if "delivered" not in done:
            raise SystemExit(f"not everything arrived: {escalations(url)} escalations, {len(hook.received)} "
                             f"messages\n{log.read_text()[-2000:]}")
        emit("storm_escalations_recorded_s", done["recorded"], "s", target=30, incidents=args.incidents)
        emit("storm_escalations_delivered_s", done["delivered"], "s", target=30, incidents=args.incidents)
        emit("storm_ingest_p99_ms", p99(stormy), "ms", target=200, requests=len(stormy),
             median=round(statistics.median(stormy), 2), floor_p99=round(p99(quiet), 2))
        emit("storm_ingest_quiet_p99_ms", p99(quiet), "ms", requests=len(quiet),
             median=round(statistics.median(quiet), 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
