"""Faults survived out of faults tried, per kind, and how soon the TUI is back after PostgreSQL is.

    python -m tests.bench.bench_faults

Each kind is tried a few times for real: a private PostgreSQL cluster (tests/pg_cluster.py)
stopped and started under the TUI (headless, Pilot), under a live `eim ingest` and under the CLI;
a SQLite store locked by another process, on a read-only disk, on a disk that fills. A fault is
survived when eim said what was wrong in one clear line (or banner), lost and half-wrote nothing,
and worked again once the fault was gone. `reconnect_after_db_return_s` is the median time from
`pg_ctl start` returning (the server takes connections) to the TUI's banner going away; its floor,
`pg_ctl_start_s`, is how long the start itself took, measured in the same run. The read-only and
full disks need root (tmpfs mounts); without root those kinds print 0 of 0.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

TRIES = int(os.environ.get("EIM_BENCH_FAULT_TRIES", "3"))
EIM = [sys.executable, "-m", "eim_tui"]


def emit(metric: str, value: float, unit: str) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 2), "unit": unit}), flush=True)


def survived(kind: str, results: list[bool]) -> None:
    emit(f"{kind}_faults_survived", sum(results), f"of {len(results)} tried")


# --- PostgreSQL ------------------------------------------------------------------------------------

def pg_outage_tui(cluster, data: Path) -> tuple[list[bool], list[float], list[float]]:
    from eim_tui.bootstrap import make_app, open_services
    from eim_tui.config import Config
    from eim_tui.domain.intake import NewIncident
    from eim_tui.tui.screens.queue import QueueScreen
    from eim_tui.tui.widgets.queue_table import QueueTable
    from eim_tui.tui.widgets.store_banner import StoreBanner

    os.environ["XDG_DATA_HOME"] = str(data)
    svc = open_services(cluster.url)
    first = svc.log_incident(NewIncident("Payments API returns 502", 1, 1), "bob")
    results: list[bool] = []
    reconnects: list[float] = []
    starts: list[float] = []

    async def wait(pilot, check, deadline: float) -> bool:
        end = time.monotonic() + deadline
        while not check():
            if time.monotonic() > end:
                return False
            await pilot.pause(0.02)
        return True

    async def trial(app, pilot) -> bool:
        def banner() -> str:
            found = app.screen.query(StoreBanner)
            return found.first().text if found else ""

        cluster.stop()
        ok = await wait(pilot, lambda: "store unreachable since" in banner(), 30)
        ok = ok and first.number in app.screen.query_one(QueueTable).numbers
        starts.append(cluster.start())
        back = time.monotonic()
        ok = await wait(pilot, lambda: not banner(), 30) and ok
        reconnects.append(time.monotonic() - back)
        ok = ok and reconnects[-1] <= 5.0
        logged = svc.log_incident(NewIncident(f"after outage {len(results)}", 3, 3), "bob")
        return ok and await wait(pilot, lambda: logged.number in app.screen.query_one(QueueTable).numbers, 30)

    async def run() -> None:
        app = make_app(Config(), svc, "alice", poll_interval=0.5, tick_interval=3600, sla_scheduler=False)
        async with app.run_test(size=(120, 30)) as pilot:
            await wait(pilot, lambda: isinstance(app.screen, QueueScreen)
                       and first.number in app.screen.query_one(QueueTable).numbers, 60)
            for _ in range(TRIES):
                results.append(await trial(app, pilot))

    asyncio.run(run())
    svc.db.dispose()
    return results, reconnects, starts


def _post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers)
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers)


def pg_outage_ingest(cluster, log: Path) -> list[bool]:
    from eim_tui.bootstrap import open_services
    from tests.ingest.live import LiveIngest

    receiver = LiveIngest(cluster.url, log)
    results = []
    sent = 0
    try:
        for n in range(TRIES):
            cluster.stop()
            bodies = [{"title": f"outage {n} event {i}", "dedup_key": f"o{n}-{i}"} for i in range(3)]
            answers = [_post(f"{receiver.url}/api/v1/events", b) for b in bodies]
            ok = all(s == 503 and h.get("Retry-After") for s, h in answers) and receiver.proc.poll() is None
            cluster.start()
            end = time.monotonic() + 30
            retried = []
            for body in bodies:  # the sender's retry
                while True:
                    status, _ = _post(f"{receiver.url}/api/v1/events", body)
                    if status in (200, 202) or time.monotonic() > end:
                        break
                    time.sleep(0.2)
                retried.append(status in (200, 202))
            sent += len(bodies)
            results.append(ok and all(retried))
    finally:
        receiver.stop()
    svc = open_services(cluster.url)
    from sqlalchemy import text

    with svc.db.read() as session:
        kept = session.execute(text("SELECT count(*) FROM inbound_payload WHERE status = 'processed'")).scalar_one()
    svc.db.dispose()
    if kept != sent:  # something lost or doubled: none of the tries counts as survived
        return [False] * len(results)
    return results


def pg_outage_cli(cluster) -> list[bool]:
    results = []
    cluster.stop()
    try:
        for _ in range(TRIES):
            done = subprocess.run([*EIM, "--db", cluster.url, "list"], capture_output=True, text=True, timeout=120)
            results.append(done.returncode == 2 and done.stderr.startswith("eim: store unreachable: ")
                           and len(done.stderr.strip().splitlines()) == 1)
    finally:
        cluster.start()
    done = subprocess.run([*EIM, "--db", cluster.url, "audit", "verify"], capture_output=True, text=True, timeout=120)
    return results if done.returncode == 0 else [False] * len(results)


# --- SQLite ----------------------------------------------------------------------------------------

HOLD_LOCK = textwrap.dedent("""
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    sys.stdin.read()
""")


def sqlite_locked(folder: Path) -> list[bool]:
    from eim_tui.bootstrap import open_services
    from eim_tui.domain.intake import NewIncident
    from eim_tui.reference import load_reference
    from eim_tui.services import Services
    from eim_tui.store.engine import Database
    from eim_tui.store.health import StoreFault, StoreUnavailable

    url = f"sqlite:///{folder}/locked.db"
    open_services(url).db.dispose()
    svc = Services(Database(url, busy_timeout_ms=1000), load_reference())
    results = []
    for n in range(TRIES):
        holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, f"{folder}/locked.db"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        holder.stdout.readline()
        try:
            svc.log_incident(NewIncident(f"locked {n}", 3, 3), "bob")
            ok = False
        except StoreUnavailable as exc:
            ok = exc.fault is StoreFault.LOCKED
        try:
            svc.change_marker()  # reads go on
        except Exception:  # noqa: BLE001 - a failed read is a fault not survived
            ok = False
        holder.stdin.close()
        holder.wait(30)
        ok = ok and svc.log_incident(NewIncident(f"after lock {n}", 3, 3), "bob").number == n + 1
        results.append(ok and svc.verify_chain().intact)
    svc.db.dispose()
    return results


def _mount(folder: Path, size: str) -> bool:
    folder.mkdir(exist_ok=True)
    return os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                                                capture_output=True).returncode == 0


def sqlite_readonly(folder: Path) -> list[bool]:
    from eim_tui.bootstrap import open_services
    from eim_tui.domain.intake import NewIncident
    from eim_tui.store.health import StoreFault, StoreUnavailable

    disk = folder / "ro"
    if not _mount(disk, "16m"):
        return []
    try:
        url = f"sqlite:///{disk}/eim.db"
        svc = open_services(url)
        svc.log_incident(NewIncident("Printer offline", 3, 3), "bob")
        svc.db.dispose()
        results = []
        for _ in range(TRIES):
            subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
            svc = open_services(url)
            try:
                svc.acknowledge(1, "alice")
                ok = False
            except StoreUnavailable as exc:
                ok = exc.fault is StoreFault.READ_ONLY and bool(svc.db.read_only)
            ok = ok and svc.details(1).incident.title == "Printer offline"
            cli = subprocess.run([*EIM, "--db", url, "ack", "INC-000001"], capture_output=True, text=True,
                                 timeout=120)
            ok = ok and cli.returncode == 2 and cli.stderr.startswith("eim: store is read-only: ")
            svc.db.dispose()
            subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
            svc = open_services(url)
            ok = ok and svc.verify_chain().intact
            svc.db.dispose()
            results.append(ok)
        return results
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def sqlite_disk_full(folder: Path) -> list[bool]:
    from eim_tui.bootstrap import open_services
    from eim_tui.domain.intake import NewIncident
    from eim_tui.store.health import StoreFault, StoreUnavailable

    disk = folder / "full"
    if not _mount(disk, "4m"):
        return []
    try:
        svc = open_services(f"sqlite:///{disk}/eim.db")
        results = []
        for n in range(TRIES):
            stat = os.statvfs(disk)
            filler = disk / "filler"
            filler.write_bytes(b"\0" * max(stat.f_bavail * stat.f_frsize - 64 * 1024, 0))
            before = svc.change_marker()
            try:
                svc.log_incident(NewIncident(f"big {n}", 3, 3, description="x" * 1024 * 1024), "bob")
                ok = False
            except StoreUnavailable as exc:
                ok = exc.fault is StoreFault.DISK_FULL
            ok = ok and svc.change_marker() == before and svc.verify_chain().intact
            filler.unlink()
            ok = ok and svc.log_incident(NewIncident(f"small {n}", 3, 3), "bob").number == n + 1
            results.append(ok)
        svc.db.dispose()
        return results
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def main() -> None:
    from tests.pg_cluster import PrivateCluster

    with tempfile.TemporaryDirectory(prefix="eim-bench-faults-") as tmp:
        folder = Path(tmp)
        cluster = PrivateCluster().create()
        try:
            tui, reconnects, starts = pg_outage_tui(cluster, folder / "data")
            survived("pg_outage_tui", tui)
            survived("pg_outage_ingest", pg_outage_ingest(cluster, folder / "ingest.log"))
            survived("pg_outage_cli", pg_outage_cli(cluster))
        finally:
            cluster.cleanup()
        survived("sqlite_locked", sqlite_locked(folder))
        survived("sqlite_readonly", sqlite_readonly(folder))
        survived("sqlite_disk_full", sqlite_disk_full(folder))
        emit("reconnect_after_db_return_s", statistics.median(reconnects), "s")
        emit("pg_ctl_start_s", statistics.median(starts), "s (floor)")


if __name__ == "__main__":
    main()
