"""Confidential placeholders on PostgreSQL (issue 13): what a login outside the security group pays for
seeing them. Row-level security hides confidential incidents from such a login; its reads run against
the incident table UNION ALL `eim_incident_placeholder` (store/placeholders.py).

A private PostgreSQL cluster, a store filled with `eim demo` (20,000 incidents by default; the
demo's security incidents are confidential), then each figure as `rory` (responder, outside the
security group, placeholders merged) beside its floor: the same call by the store's owner, who reads
the table alone (no row-level security, no placeholders), measured in the same run. Median of N.

Prints one JSON line per figure ({"metric", "value", "unit", "floor", "rls_only"}; rls_only: rory's
same call with row-level security but the placeholders left out, to tell what the union costs):
- placeholders_queue_ms: the open queue's ordered numbers and its first 60 rows;
- placeholders_filter_ms: the same with `sev<=3 disk`;
- placeholders_board_ms: one full read of the wall board;
- placeholders_status_ms: the counts `eim status` reads (libpq, no SQLAlchemy);
- placeholders_confidential: how many confidential incidents the store holds (and rory's placeholders).

Run as `python -m tests.bench.bench_placeholders [--incidents N] [--runs N]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

OWNER = "postgres"


def emit(metric: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 2), "unit": unit, **extra}), flush=True)


def median_ms(action: Callable[[], object], runs: int) -> float:
    action()  # warm-up: caches, the connection pool, the plan
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)

    from eim_tui.bootstrap import open_services
    from eim_tui.domain.board import BoardScope
    from eim_tui.domain.filters import parse as parse_filter
    from eim_tui.domain.queue import View
    from eim_tui.services.demo import generate
    from eim_tui.store import placeholders
    from eim_tui.store.status_counts import read_counts
    from tests.pg_cluster import PrivateCluster

    cluster = PrivateCluster()
    try:
        cluster.create()
        owner = open_services(cluster.url)
        owner.upgrade_store()
        owner.access.add_user(OWNER, "rory", "responder")
        generate(owner, incidents=args.incidents, seed=7)
        with owner.db.write() as session:
            from sqlalchemy import text

            session.execute(text("ANALYZE"))
            confidential = session.execute(text("SELECT count(*) FROM incident WHERE confidential")).scalar()
        url = {login: f"postgresql+psycopg://{login}@127.0.0.1:{cluster.port}/eim" for login in (OWNER, "rory")}
        rory = open_services(url["rory"])
        services = {OWNER: owner, "rory": rory}

        def queue(login: str, text: str = "") -> Callable[[], object]:
            svc = services[login]

            def run() -> object:
                numbers = svc.queue(View.OPEN, parse_filter(text), login, [])
                return svc.rows(numbers[:60], viewer=login)
            return run

        def board(login: str) -> Callable[[], object]:
            return lambda: services[login].board(BoardScope(), viewer=login)

        def status(login: str) -> Callable[[], object]:
            return lambda: read_counts(url[login], login, datetime.now(UTC))

        open_seen = {login: len(services[login].queue(View.OPEN, parse_filter(""), login, [])) for login in services}
        if open_seen["rory"] != open_seen[OWNER]:
            raise SystemExit(f"rory sees {open_seen['rory']} open incidents, the owner {open_seen[OWNER]}")
        emit("placeholders_confidential", confidential, "incidents", incidents=args.incidents,
             open=open_seen["rory"])
        figures = (("placeholders_queue_ms", queue("rory"), queue(OWNER)),
                   ("placeholders_filter_ms", queue("rory", "sev<=3 disk"), queue(OWNER, "sev<=3 disk")),
                   ("placeholders_board_ms", board("rory"), board(OWNER)),
                   ("placeholders_status_ms", status("rory"), status(OWNER)))
        for metric, as_rory, as_owner in figures:
            value, floor = median_ms(as_rory, args.runs), median_ms(as_owner, args.runs)
            extra = {}
            if metric != "placeholders_status_ms":
                # rory with row-level security but no placeholders: what the union itself costs.
                placeholders.owed, kept = (lambda session: False), placeholders.owed
                try:
                    extra["rls_only"] = round(median_ms(as_rory, args.runs), 2)
                finally:
                    placeholders.owed = kept
            emit(metric, value, "ms", floor=round(floor, 2), over_floor=round(value - floor, 2), **extra)
        rory.db.dispose()
        owner.db.dispose()
    finally:
        cluster.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
