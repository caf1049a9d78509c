"""Group-commit benchmark: a real `eim ingest` at 16 clients on loopback, SQLite and PostgreSQL, each
figure beside its floor measured in the same run — a bare store-first receiver (aiohttp, one
transaction per body inserting it into the same store's inbound_payload table, one writer thread on
SQLite as eim had), sent the same bodies by the same clients.

One JSON line per figure, `{"metric", "value", "unit", "floor", "ratio", "store"}`:
- gc_new_incidents_per_s: unique generic events (one dedup key each), each opening an incident;
  floor: the bare receiver's bodies/s; ratio: eim ÷ bare (the issue's "stored ÷ bare receiver");
- gc_new_incidents_p99_ms: the answer's 99th percentile; floor: the bare receiver's;
- gc_dedup_alerts_per_s: Alertmanager groups of 10 alerts notified again and again (dedup);
  floor: the bare receiver's bodies/s × 10 (alerts it would have stored in the same time);
- gc_lost: bodies answered 2xx whose payload is not stored and processed (must be 0).

Run as `python -m tests.bench.bench_group_commit [--unique N] [--groups G --repeats R] [--store sqlite|postgresql]`;
`--code DIR` runs the receiver from another checkout (a "before" figure on the same machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.bench_ingest import ROOT, start_receiver

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def unique_bodies(n: int, run: str) -> list[tuple[str, bytes]]:
    return [("/api/v1/events", json.dumps({"title": f"Bench event {run} {i}", "dedup_key": f"gc-{run}-{i}",
                                           "sender": "bench", "impact": 3, "urgency": 3}).encode()) for i in range(n)]


def group_bodies(groups: int, repeats: int, run: str) -> list[tuple[str, bytes]]:
    out = []
    for g in range(groups):
        alerts = [{"status": "firing", "labels": {"alertname": f"GcBench{g}", "instance": f"h{g}-{i}:9100",
                                                  "severity": "warning"},
                   "annotations": {"summary": f"bench {g}/{i}"}, "startsAt": "2026-11-26T08:00:00Z",
                   "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": f"{run}{g:04x}{i:02x}"}
                  for i in range(10)]
        body = {"receiver": "bench", "status": "firing", "alerts": alerts, "groupLabels": {"alertname": f"GcBench{g}"},
                "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://bench:9093", "version": "4",
                "groupKey": f"{{}}:{{g=\"{g}\"}}", "truncatedAlerts": 0}
        out.append(("/api/v1/alertmanager", json.dumps(body).encode()))
    return [item for _ in range(repeats) for item in out]  # each round notifies every group again


async def send_all(url: str, work: list[tuple[str, bytes]], clients: int) -> tuple[list[float], int, float]:
    """(answer times in ms, answers that were not 2xx, seconds) — every body sent once, no retries."""
    import aiohttp

    queue = list(reversed(work))
    latencies: list[float] = []
    failed = 0

    async def client(session) -> None:
        nonlocal failed
        while queue:
            path, body = queue.pop()
            started = time.perf_counter()
            async with session.post(url + path, data=body, headers={"Content-Type": "application/json"}) as reply:
                await reply.read()
                latencies.append((time.perf_counter() - started) * 1000)
                failed += not 200 <= reply.status < 300

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        return latencies, failed, time.perf_counter() - started


def p99(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=100)[98], 1)


def counts(url: str) -> tuple[int, int]:
    """(payloads processed, incidents) in the store."""
    from sqlalchemy import func, select

    from eim_tui.store.engine import Database
    from eim_tui.store.tables import InboundPayloadRow, IncidentRow

    db = Database(url)
    try:
        with db.read() as session:
            processed = session.execute(select(func.count()).select_from(InboundPayloadRow)
                                        .where(InboundPayloadRow.status == "processed")).scalar_one()
            return processed, session.execute(select(func.count()).select_from(IncidentRow)).scalar_one()
    finally:
        db.dispose()


class Stores:
    """New, empty stores of one kind; PostgreSQL databases are dropped at the end."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind, self.tmp, self.made = kind, tmp, []

    def new(self) -> str:
        name = f"eim_bench_gc_{secrets.token_hex(4)}"
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp / (name + '.db')}"
        from sqlalchemy import create_engine, text

        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        self.made.append(name)
        return PG_ADMIN.rsplit("/", 1)[0] + "/" + name

    def drop(self) -> None:
        if not self.made:
            return
        from sqlalchemy import create_engine, text

        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.made:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def run_eim(url: str, work, clients: int, tmp: Path, code: Path) -> tuple[list[float], int, float]:
    proc, base = start_receiver(["ingest", "--listen", "127.0.0.1:0", "--db", url], tmp / "eim.log", cwd=code)
    try:
        return asyncio.run(send_all(base, work, clients))
    finally:
        proc.terminate()
        proc.wait(60)


def run_bare(url: str, work, clients: int, tmp: Path) -> tuple[list[float], int, float]:
    from eim_tui.bootstrap import open_services

    open_services(url).db.dispose()  # the schema, as eim makes it
    proc, base = start_receiver(["--bare", url], tmp / "bare.log", program="tests.bench.bench_group_commit")
    try:
        return asyncio.run(send_all(base, work, clients))
    finally:
        proc.terminate()
        proc.wait(60)


def bare_receiver(url: str) -> None:
    """The floor: store each body in its own transaction, then answer (what any store-first
    receiver must at least do)."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime

    from aiohttp import web

    from eim_tui.store.engine import Database
    from eim_tui.store.inbound import save_payload

    db = Database(url)
    pool = ThreadPoolExecutor(1 if db.is_sqlite else 4)

    def store(path: str, body: bytes) -> int:
        with db.write() as session:
            return save_payload(session, datetime.now(UTC), path.rsplit("/", 1)[1], body.decode(), "application/json")

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        payload = await asyncio.get_running_loop().run_in_executor(pool, store, request.path, body)
        return web.json_response({"status": "stored", "payload": payload})

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/api/v1/{source}", receive)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        print(f"bare receiver listening on http://127.0.0.1:{port}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def emit(metric: str, value: float, unit: str, floor: float, store: str, higher_is_better: bool = True) -> None:
    ratio = round(value / floor, 2) if floor else None
    print(json.dumps({"metric": metric, "value": value, "unit": unit, "floor": floor, "ratio": ratio,
                      "store": store, "better": "higher" if higher_is_better else "lower"}), flush=True)


def bench(kind: str, args, tmp: Path) -> int:
    stores = Stores(kind, tmp)
    run = secrets.token_hex(3)
    lost = 0
    try:
        unique = unique_bodies(args.unique, run)
        bare_lat, bare_failed, bare_s = run_bare(stores.new(), unique, args.clients, tmp)
        bare_rate = round(len(unique) / bare_s, 1)
        url = stores.new()
        lat, failed, elapsed = run_eim(url, unique, args.clients, tmp, args.code)
        processed, incidents = counts(url)
        lost += len(unique) - failed - processed
        emit("gc_new_incidents_per_s", round(incidents / elapsed, 1), "incidents/s", bare_rate, kind)
        emit("gc_new_incidents_p99_ms", p99(lat), "ms", p99(bare_lat), kind, higher_is_better=False)
        groups = group_bodies(args.groups, args.repeats, run)
        url = stores.new()
        lat, failed, elapsed = run_eim(url, groups, args.clients, tmp, args.code)
        processed, _ = counts(url)
        lost += len(groups) - failed - processed
        emit("gc_dedup_alerts_per_s", round(10 * (len(groups) - failed) / elapsed, 1), "alerts/s", 10 * bare_rate, kind)
        emit("gc_dedup_p99_ms", p99(lat), "ms", p99(bare_lat), kind, higher_is_better=False)
        emit("gc_lost", lost, "bodies", 0, kind, higher_is_better=False)
        print(f"# {kind}: bare {len(unique)} bodies in {bare_s:.1f}s ({bare_failed} not 2xx); eim failed {failed}",
              file=sys.stderr)
    finally:
        stores.drop()
    return lost


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unique", type=int, default=1500)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout the receiver runs from")
    parser.add_argument("--bare", metavar="URL", help=argparse.SUPPRESS)  # run the bare receiver (internal)
    args = parser.parse_args()
    if args.bare:
        bare_receiver(args.bare)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="eim-bench-gc-"))
    try:
        lost = sum(bench(kind, args, tmp) for kind in args.store or ("sqlite", "postgresql"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
