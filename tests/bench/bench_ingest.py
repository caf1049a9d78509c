"""Ingest benchmark: 10,000 Alertmanager alerts (with repeats) from 20 concurrent clients on
loopback to a real `eim ingest` on a temporary SQLite store.

Prints one JSON line per figure: ingest_alerts_per_s (alerts accepted per second of sending),
ingest_p99_ms (99th-percentile reply time), ingest_lost (alerts sent minus alerts the store
counted; must be 0). Run as `python -m tests.bench.bench_ingest` or `python tests/bench/bench_ingest.py`.

The load is shaped like Alertmanager's: 1,000 groups of 1–4 alerts (2,500 distinct alerts), each
group notified 4 times with all its alerts, in a shuffled order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

GO_ZERO_TIME = "0001-01-01T00:00:00Z"


def notifications(groups: int, repeats: int, seed: int = 7) -> list[tuple[bytes, int]]:
    """(webhook body, alerts in it) for every notification, shuffled."""
    out = []
    for g in range(groups):
        alerts = [
            {
                "status": "firing",
                "labels": {"alertname": f"BenchAlert{g % 50}", "instance": f"host{g}-{i}:9100", "severity": "warning",
                           "group": str(g)},
                "annotations": {"summary": f"bench alert {g}/{i}"},
                "startsAt": "2026-11-26T08:00:00.123456789Z",
                "endsAt": GO_ZERO_TIME,
                "generatorURL": "",
                "fingerprint": f"{g:06x}{i:02x}bench",
            }
            for i in range(g % 4 + 1)
        ]
        body = {"receiver": "web\\.hook", "status": "firing", "alerts": alerts, "groupLabels": {"group": str(g)},
                "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://bench:9093", "version": "4",
                "groupKey": f'{{}}:{{group="{g}"}}', "truncatedAlerts": 0}
        out += [(json.dumps(body).encode(), len(alerts))] * repeats
    random.Random(seed).shuffle(out)
    return out


def start_receiver(args: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path = ROOT,
                   program: str = "eim_tui") -> tuple[subprocess.Popen, str]:
    """`eim ARGS` (`ingest --listen …` or `service --ingest …`) with its log in `log`; the process
    and its URL, read from the "listening on" line it prints first (exit with the log if none)."""
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", program, *args], stdout=subprocess.PIPE, stderr=err, text=True,
                                env={**(env or os.environ), "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(cwd)}, cwd=cwd)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(60)
    if not lines or "listening on" not in lines[0]:
        proc.kill()
        raise SystemExit(f"{program} {args[0]} did not start: {log.read_text()[-2000:]}")
    return proc, lines[0].strip().rsplit(" ", 1)[1]


def start_ingest(db_url: str, log: Path) -> tuple[subprocess.Popen, str]:
    return start_receiver(["ingest", "--listen", "127.0.0.1:0", "--db", db_url], log)


async def send_all(url: str, work: list[tuple[bytes, int]], clients: int) -> tuple[list[float], int, float]:
    """Send everything with `clients` concurrent senders; (reply times in ms, alerts refused, seconds)."""
    import aiohttp

    queue: asyncio.Queue[tuple[bytes, int]] = asyncio.Queue()
    for item in work:
        queue.put_nowait(item)
    latencies: list[float] = []
    refused = 0

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal refused
        while not queue.empty():
            body, count = queue.get_nowait()
            for _attempt in range(4):  # Alertmanager retries on 5xx; so does the benchmark
                started = time.perf_counter()
                async with session.post(f"{url}/api/v1/alertmanager", data=body,
                                        headers={"Content-Type": "application/json"}) as reply:
                    await reply.read()
                    latencies.append((time.perf_counter() - started) * 1000)
                    if reply.status < 500:
                        if reply.status >= 300:
                            refused += count
                        break
            else:
                refused += count

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return latencies, refused, elapsed


def stored_alerts(db_url: str) -> tuple[int, int, int]:
    """(distinct alerts, firing notifications counted, incidents) in the store."""
    from sqlalchemy import func, select

    from eim_tui.store.engine import Database
    from eim_tui.store.inbound import alert_totals
    from eim_tui.store.tables import IncidentRow

    db = Database(db_url)
    try:
        with db.read() as session:
            distinct, counted = alert_totals(session)
            incidents = session.execute(select(func.count()).select_from(IncidentRow)).scalar_one()
        return distinct, counted, incidents
    finally:
        db.dispose()


def emit(metric: str, value: float, unit: str) -> None:
    print(json.dumps({"metric": metric, "value": value, "unit": unit}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--db", default=None, help="store URL (default: a new SQLite file in a temp directory)")
    args = parser.parse_args()
    work = notifications(args.groups, args.repeats)
    sent = sum(count for _, count in work)
    tmp = Path(tempfile.mkdtemp(prefix="eim-bench-ingest-"))
    db_url = args.db or f"sqlite:///{tmp / 'eim.db'}"
    proc, url = start_ingest(db_url, tmp / "ingest.log")
    try:
        latencies, refused, elapsed = asyncio.run(send_all(url, work, args.clients))
    finally:
        proc.terminate()
        proc.wait(30)
    distinct, counted, incidents = stored_alerts(db_url)
    emit("ingest_alerts_per_s", round(sent / elapsed, 1), "alerts/s")
    emit("ingest_p99_ms", round(statistics.quantiles(latencies, n=100)[98], 1), "ms")
    emit("ingest_p50_ms", round(statistics.median(latencies), 1), "ms")
    emit("ingest_lost", sent - counted, "alerts")
    print(f"# {sent} alerts in {len(work)} requests, {elapsed:.1f}s; stored {distinct} distinct alerts counted "
          f"{counted} times in {incidents} incidents; refused {refused}", file=sys.stderr)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if sent == counted else 1


if __name__ == "__main__":
    raise SystemExit(main())
