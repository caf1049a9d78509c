"""The detail screen's "recent changes" panel at 10,000 change records (target ≤ 20 ms).

    python -m tests.bench.bench_changes [--changes N] [--runs R] [--db URL]

Fills a new store (a SQLite file in a temporary directory, or `--db`: an EMPTY database) with N
changes over the last 180 days on the shipped services and their CIs (a quarter of them on
`payments`, the busiest), each with its targets, and 2,000 incident links. Then times what the
panel reads, through the same call the detail screen's worker makes (`load_incident_changes`:
recent changes on the incident's service and CI, the changes it is tied to, its alerts' links),
for an incident on `payments` / `db01.pay.internal`. Prints, one JSON line each:

- recent_changes_panel_ms: the median of R reads; recent_changes_panel_p95_ms: their 95th percentile;
- recent_changes_floor_ms: the median of R reads of one row by primary key through the same
  services (a session, one query, domain objects back): the floor any panel read pays here;
- recent_changes_found: how many changes the panel showed (a sanity check: not zero).
"""

from __future__ import annotations

import argparse
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


def fill(svc, count: int, seed: int = 7) -> int:
    """`count` changes and their targets and links, written in bulk; returns the incident's number."""
    from sqlalchemy import insert

    from eim_tui.domain.changes import ChangeState
    from eim_tui.domain.intake import NewIncident
    from eim_tui.store.changes import RUNNING
    from eim_tui.store.tables import ChangeIncidentRow, ChangeRow, ChangeTargetRow

    rng = random.Random(seed)
    now = svc.clock.now()
    services = [s for s in svc.ref.services if s.configuration_items]
    payments = next(s for s in services if s.name == "payments")
    incidents = [svc.log_incident(NewIncident(title=f"Bench incident {n}", impact=2, urgency=2,
                                              service=rng.choice(services).name), "bench").number
                 for n in range(200)]
    target = svc.log_incident(NewIncident(title="Payments API returns 502", impact=1, urgency=2, service="payments",
                                          configuration_item="db01.pay.internal"), "bench").number
    rows, targets, links = [], [], []
    for number in range(1, count + 1):
        service = payments if rng.random() < 0.25 else rng.choice(services)
        start = now - timedelta(minutes=rng.uniform(-7 * 24 * 60, 180 * 24 * 60))
        end = start + timedelta(minutes=rng.choice([30, 60, 120, 240]))
        if start > now:
            state, began, ended = ChangeState.PLANNED, None, None
        elif end > now and rng.random() < 0.5:
            state, began, ended = ChangeState.IN_PROGRESS, start, None
        else:
            state = rng.choices([ChangeState.COMPLETED, ChangeState.FAILED, ChangeState.CANCELLED], [85, 5, 10])[0]
            began, ended = (None, None) if state is ChangeState.CANCELLED else (start, end)
        rows.append(dict(id=number, title=f"Bench change {number}", description="", owner="bench", risk="low",
                         state=state.value, planned_start=start, planned_end=end, started_at=began, finished_at=ended,
                         outcome="", created_at=start - timedelta(days=1), created_by="bench", version=1))
        window = dict(change_id=number, active_from=began or start,
                      active_until=None if state is ChangeState.CANCELLED else RUNNING if ended is None and began
                      else (ended or end))
        targets.append(dict(window, kind="service", name=service.name))
        for ci in rng.sample(service.configuration_items, k=min(2, len(service.configuration_items))):
            targets.append(dict(window, kind="ci", name=ci))
        if number % 5 == 0:
            links.append(dict(change_id=number, incident_id=rng.choice(incidents), relation="caused_by", linked_at=now))
    with svc.db.write() as session:
        for start in range(0, len(rows), 2000):
            session.execute(insert(ChangeRow), rows[start:start + 2000])
        for start in range(0, len(targets), 2000):
            session.execute(insert(ChangeTargetRow), targets[start:start + 2000])
        session.execute(insert(ChangeIncidentRow), links)
        if svc.db.dialect == "postgresql":  # ids were given: move the sequence past them
            from sqlalchemy import text

            session.execute(text("SELECT setval(pg_get_serial_sequence('change_request', 'id'), :n)"), {"n": count})
    return target


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--db", default=None, help="an empty database URL (default: a temporary SQLite file)")
    args = parser.parse_args(argv)

    from eim_tui.bootstrap import open_services
    from eim_tui.domain import FixedClock
    from eim_tui.tui.screens.changes import load_incident_changes

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        from datetime import UTC, datetime

        svc = open_services(url, FixedClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC)))
        try:
            number = fill(svc, args.changes)
            incident = svc.get(number)
            load_incident_changes(svc, incident)  # warm the connection pool and caches, as a screen would be
            panel = timed(lambda: load_incident_changes(svc, incident), args.runs)
            floor = timed(lambda: svc.get(number), args.runs)
            found = len(load_incident_changes(svc, incident).recent)
        finally:
            svc.db.dispose()
    print(f"# {svc.db.dialect}, {args.changes:,} changes, {args.runs} reads each", file=sys.stderr)
    emit("recent_changes_panel_ms", statistics.median(panel), "ms")
    emit("recent_changes_panel_p95_ms", statistics.quantiles(panel, n=20)[-1], "ms")
    emit("recent_changes_floor_ms", statistics.median(floor), "ms")
    emit("recent_changes_found", found, "changes")
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
