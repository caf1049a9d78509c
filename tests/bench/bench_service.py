"""`eim service` benchmark: a real service process on a temporary SQLite store.

Prints one JSON line per figure ({"metric", "value", "unit"}):
- service_idle_cpu_ms_per_s: CPU (user + system, from /proc, 10 ms ticks) of `eim service` over
  `--idle-seconds` on a store of 100,000 open incidents with nobody at work, once its first sweep
  is over (the first quiet 2-second window); it still
  records the moments that fall due meanwhile (one every few seconds at this size);
- service_idle_floor_cpu_ms_per_s: the floor, a bare Python process idling in `asyncio.sleep`;
- breach_to_mail_s: from an incident's resolution breach instant to its mail arriving at a real
  SMTP server (aiosmtpd), median of `--mails` incidents breaching 3 s apart, with only the service
  running;
- breach_to_mail_floor_ms: the floor, one smtplib round trip to the same server (in ms: it is small).

Run as `python -m tests.bench.bench_service [--incidents N] [--idle-seconds S] [--mails M]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from tests.bench.bench_sla import emit, fill
from tests.notify.receivers import Mailbox, wait_for

ROOT = Path(__file__).resolve().parents[2]
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def idle_cpu(argv: list[str], env: dict[str, str], warm: float, seconds: float, ready: str | None = None,
             log: Path | None = None) -> float:
    with open(log or os.devnull, "w") as err:
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
    try:
        if ready and log:
            wait_for(lambda: ready in log.read_text(), "the service to start", deadline=120)
        time.sleep(warm)
        # Settled: the first sweep (24 h of moments on 100,000 incidents, ~20 s on a busy machine)
        # is start-up, not idling. Wait until a 2-second window is quiet, at most two minutes.
        end = time.monotonic() + 120
        while time.monotonic() < end:
            before = cpu_seconds(proc.pid)
            time.sleep(2.0)
            if (cpu_seconds(proc.pid) - before) * 1000 / 2.0 < 30:
                break
        start = cpu_seconds(proc.pid)
        time.sleep(seconds)
        return (cpu_seconds(proc.pid) - start) * 1000 / seconds
    finally:
        proc.terminate()
        proc.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--mails", type=int, default=5)
    args = parser.parse_args(argv)

    from eim_tui.bootstrap import open_services
    from eim_tui.domain.clock import FixedClock, SystemClock
    from eim_tui.domain.intake import NewIncident
    from eim_tui.services.notifications import NotificationCases

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "EIM_CONFIG": str(Path(tmp) / "config.toml")}
        big = f"sqlite:///{tmp}/big.db"
        svc = open_services(big)
        fill(svc, args.incidents)
        svc.db.dispose()
        log = Path(tmp) / "idle.log"
        service = [sys.executable, "-m", "eim_tui", "--db", big, "service"]
        emit("service_idle_cpu_ms_per_s", idle_cpu(service, env, 1.0, args.idle_seconds, "started on", log), "ms/s")
        floor = [sys.executable, "-c", "import asyncio; asyncio.run(asyncio.sleep(3600))"]
        emit("service_idle_floor_cpu_ms_per_s", idle_cpu(floor, env, 1.0, args.idle_seconds), "ms/s")

        small = f"sqlite:///{tmp}/small.db"
        with Mailbox() as box:
            now = SystemClock().now()
            breaches = []
            for n in range(args.mails):
                # Sev1, acknowledged and assigned: its only moment to come is the resolution breach (4 h).
                breach = now + timedelta(seconds=6 + 3 * n)
                clock = FixedClock(breach - timedelta(hours=4))
                svc = open_services(small, clock)
                incident = svc.log_incident(NewIncident(title=f"Bench breach {n + 1}", impact=1, urgency=1,
                                                        assignment_group="platform", assignee="bob"), "bob")
                svc.acknowledge(incident.number, "bob")
                if n == 0:
                    NotificationCases(svc).set_channels("admin", "user", "bob", [box.url("bob@example.com")])
                svc.db.dispose()
                breaches.append((incident.key, breach))
            log = Path(tmp) / "mail.log"
            with open(log, "w") as err:
                proc = subprocess.Popen([sys.executable, "-m", "eim_tui", "--db", small, "service"], env=env,
                                        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
            arrived: dict[str, float] = {}
            try:
                def all_in() -> bool:
                    for mail in box.messages:
                        for key, _ in breaches:
                            if key in mail["subject"] and "SLA breached" in mail["subject"] and key not in arrived:
                                arrived[key] = SystemClock().now().timestamp()
                    return len(arrived) == len(breaches)
                wait_for(all_in, "every breach mail", deadline=60 + 3 * args.mails)
            finally:
                proc.terminate()
                proc.wait(10)
            delays = [arrived[key] - at.timestamp() for key, at in breaches]
            emit("breach_to_mail_s", statistics.median(delays), "s")

            import smtplib

            rounds = []
            for _ in range(5):
                start = time.perf_counter()
                with smtplib.SMTP("127.0.0.1", box.port, timeout=10) as smtp:
                    smtp.sendmail("eim@example.com", ["bob@example.com"], "Subject: floor\r\n\r\nfloor\r\n")
                rounds.append(time.perf_counter() - start)
            emit("breach_to_mail_floor_ms", statistics.median(rounds) * 1000, "ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
