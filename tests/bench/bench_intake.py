"""New-incident form and notes benchmark (a temporary SQLite store, bulk-filled).

Prints one JSON line per figure ({"metric", "value", "unit"}):
- draft_save_ms: one draft upsert, as the forms write while someone types (median of 200);
- similar_open_ms: the duplicate check on save — open incidents on the same service or
  configuration item with a similar title — over 100,000 open incidents (median of 20);
- similar_open_found: how many it offered for the last of those checks (a sanity figure);
- form_ready_ms: `n` pressed on the queue until the form takes typing (Pilot, headless; median of 5).

Run as `python -m tests.bench.bench_intake [--incidents N]`.
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


def fill(svc, count: int, seed: int = 11) -> None:
    """`count` open incidents spread over the services and their items, with varied titles."""
    from sqlalchemy import insert

    from eim_tui.domain import sla
    from eim_tui.domain.model import Incident
    from eim_tui.store.repository import incident_values
    from eim_tui.store.tables import IncidentRow

    rng = random.Random(seed)
    now = svc.clock.now()
    words = ["API", "returns", "502", "slow", "login", "fails", "disk", "full", "VPN", "drops", "timeout",
             "printer", "jams", "queue", "stuck", "backup", "missed", "latency", "high", "errors"]
    rows = []
    for number in range(1, count + 1):
        service = rng.choice(svc.ref.services)
        reported = now - timedelta(minutes=rng.uniform(0, 30 * 24 * 60))
        response, resolution = sla.initial_due(svc.ref.policy(3), reported)
        incident = Incident(number, " ".join(rng.sample(words, 4)), 2, 2, 3, reported, service=service.name,
                            configuration_item=rng.choice(service.configuration_items or ("",)),
                            response_due_at=response, resolution_due_at=resolution, created_by="bench")
        rows.append({"id": number, **incident_values(incident, svc.ref.policies)})
        if len(rows) == 5000:
            with svc.db.write() as session:
                session.execute(insert(IncidentRow), rows)
            rows = []
    if rows:
        with svc.db.write() as session:
            session.execute(insert(IncidentRow), rows)


async def form_ready_ms(svc) -> float:
    from eim_tui.tui.app import EimApp
    from eim_tui.tui.dialogs.new_incident import NewIncidentScreen

    app = EimApp(svc, user="alice", poll_interval=3600, tick_interval=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        while type(app.screen).__name__ != "QueueScreen":
            await pilot.pause(0.01)
        started = time.perf_counter()
        await pilot.press("n")
        deadline = started + 60
        while not (isinstance(app.screen, NewIncidentScreen) and app.screen.draft.enabled):
            if time.perf_counter() > deadline:
                raise SystemExit("the form never became ready")
            await pilot.pause(0.005)
        elapsed = (time.perf_counter() - started) * 1000
        await pilot.press("escape")
    return elapsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=100_000)
    args = parser.parse_args(argv)

    from eim_tui.bootstrap import open_services
    from eim_tui.domain.drafts import NEW_INCIDENT
    from eim_tui.services.drafts import Drafts

    with tempfile.TemporaryDirectory() as tmp:
        svc = open_services(f"sqlite:///{Path(tmp) / 'bench.db'}")
        drafts = Drafts(svc.db, svc.clock)
        times = []
        for i in range(200):
            started = time.perf_counter()
            drafts.save("alice", NEW_INCIDENT, {"title": "VPN drops every 5 min"[: 1 + i % 21], "impact": 2})
            times.append((time.perf_counter() - started) * 1000)
        emit("draft_save_ms", statistics.median(times), "ms")
        drafts.discard("alice", NEW_INCIDENT)  # or the form would first offer it back

        print(f"# filling {args.incidents:,} open incidents", file=sys.stderr, flush=True)
        fill(svc, args.incidents)
        service = svc.ref.services[0]
        times, found = [], []
        for i in range(20):
            started = time.perf_counter()
            found = svc.similar_open(service.name, service.configuration_items[i % len(service.configuration_items)],
                                     "API returns 502 errors", limit=5)
            times.append((time.perf_counter() - started) * 1000)
        emit("similar_open_ms", statistics.median(times), "ms")
        emit("similar_open_found", len(found), "incidents")

        emit("form_ready_ms", statistics.median(asyncio.run(form_ready_ms(svc)) for _ in range(5)), "ms")
        svc.db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
