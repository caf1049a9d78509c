"""Team mode on PostgreSQL: N TUIs idle on one database, changes pushed (LISTEN/NOTIFY) vs polled.

Each TUI is a headless `EimApp` (`App.run_test()`) with a `Services` of its own — its own engine and
its own change listener, as a process of its own would have — with the SLA scheduler on, as
`eim` runs. They run `--per-process` to a worker process. Two rounds on the same store:

- push: as built (the feed live; polling only every SAFETY_POLL_SECONDS);
- poll: the same TUIs with the feed switched off (`Services.watch_changes` answering None, as on
  SQLite): the 1 s change-marker polls of before. This is the floor.

In each round, once every TUI shows its queue, the database's transactions are counted over
`--seconds` of idleness (`pg_stat_database` xact_commit + xact_rollback deltas for the store's
database; one eim read is one transaction), and the statements the TUIs sent are counted too (a
`before_cursor_execute` listener in each worker, by kind). Then one writer logs `--changes`
incidents, one at a time, and each TUI records when the new one is in its queue table (checked
every 5 ms): seconds from the writer's commit to every TUI showing it (p50 / p99 over the
changes), and to each TUI showing it (p99 over every TUI and change). "Showing" is noted when the
queue's table is given numbers that hold it (the frame follows on the next refresh).

Prints one JSON line per figure: {"metric", "value", "unit", "floor", "ratio"} (ratio =
value / floor), measured in the same run. Notes on stderr.

Run: `python -m tests.bench.bench_listen [--tuis 50] [--seconds 60] [--changes 20]`. It runs a
private PostgreSQL cluster of its own (tests/pg_cluster.py) with `max_connections = 400`: each TUI
holds its pool's connections and, pushed, one listening connection more — 50 TUIs would take every
connection of a default server (100) shared with others. `--server URL` uses a server given
instead (a database of its own is made there and dropped at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
MAX_CONNECTIONS = 400


def emit(metric: str, value: float, unit: str, floor: float | None = None, **extra: object) -> None:
    line: dict[str, object] = {"metric": metric, "value": round(value, 4), "unit": unit}
    if floor is not None:
        line["floor"] = round(floor, 4)
        line["ratio"] = round(value / floor, 4) if floor else None
    print(json.dumps({**line, **extra}), flush=True)


def note(text: str) -> None:
    print(f"# {text}", file=sys.stderr, flush=True)


# --- the worker: K headless TUIs in one process ------------------------------------------------------


def kind_of(statement: str) -> str:
    s = " ".join(statement.split()).lower()
    for needle, kind in (("chain_head", "change marker"), ("from timeline_event", "timeline"),
                         ("service_heartbeat", "service status"), ("app_user", "identity"),
                         ("pg_notify", "notify")):
        if needle in s:
            return kind
    return s.split(" ", 1)[0]


def worker(url: str, count: int, first: int, push: bool) -> None:
    """Run `count` TUIs; talk to the parent by lines on stdin/stdout."""
    from sqlalchemy import event

    from eim_tui.bootstrap import make_app, open_services
    from eim_tui.config import Config
    from eim_tui.reference import load_reference
    from eim_tui.services.incidents import Services
    from eim_tui.tui.widgets.queue_table import QueueTable

    if not push:
        Services.watch_changes = lambda self, *a, **k: None  # type: ignore[method-assign] - as on SQLite
    ref = load_reference()
    statements: Counter[str] = Counter()
    guard = threading.Lock()
    counting = threading.Event()

    def count_it(_conn, _cursor, statement, *_args) -> None:
        if counting.is_set():
            with guard:
                statements[kind_of(statement)] += 1

    services = []
    for _ in range(count):
        svc = open_services(url, ref=ref)
        event.listen(svc.db.write_engine, "before_cursor_execute", count_it)
        services.append(svc)

    def say(**fields) -> None:
        print(json.dumps(fields), flush=True)

    # When each TUI's queue shows the number watched: noted as its table is given the numbers (no
    # polling of the screens, which would take the CPU the TUIs need).
    watched: dict = {"number": None, "seen": {}, "apps": {}}
    set_numbers = QueueTable.set_numbers

    def noting_set_numbers(table, numbers) -> None:
        set_numbers(table, numbers)
        number = watched["number"]
        if number is not None and number in table.numbers:
            index = watched["apps"].get(id(table.app))
            if index is not None:
                watched["seen"].setdefault(index, time.time())

    QueueTable.set_numbers = noting_set_numbers  # type: ignore[method-assign]

    async def main() -> None:
        loop = asyncio.get_running_loop()
        # Each as the store's owner login (an eim admin), as `eim` connected as it would be.
        apps = [make_app(Config(), svc, "postgres", poll_interval=1.0, tick_interval=1.0, sla_scheduler=True)
                for svc in services]
        stack = [app.run_test(size=(120, 40), headless=True) for app in apps]
        pilots = [await s.__aenter__() for s in stack]

        def ready() -> bool:
            for app in apps:
                screen = app.screen
                if getattr(screen, "shown_marker", -1) < 0 or (push and not app.changes_pushed):
                    return False
            return True

        while not ready():
            await asyncio.sleep(0.05)
        say(ready=True)
        lines = asyncio.Queue()
        loop.add_reader(sys.stdin.fileno(), lambda: lines.put_nowait(sys.stdin.readline()))
        while True:
            command = json.loads(await lines.get())
            if command["do"] == "count":
                counting.set()
            elif command["do"] == "counted":
                counting.clear()
                with guard:
                    say(statements=dict(statements))
                    statements.clear()
            elif command["do"] == "watch":
                number = command["number"]
                shown = {i for i, app in enumerate(apps)
                         if app.screen.query(QueueTable) and number in app.screen.query_one(QueueTable).numbers}
                seen = {i: time.time() for i in shown}  # (already there: shown before we asked)
                watched.update(number=number, seen=seen, apps={id(app): i for i, app in enumerate(apps)})
                while len(seen) < len(apps):
                    await asyncio.sleep(0.05)
                watched["number"] = None
                say(number=number, seen=list(seen.values()))
            elif command["do"] == "stop":
                break
        loop.remove_reader(sys.stdin.fileno())
        for s in stack:
            await s.__aexit__(None, None, None)
        del pilots

    asyncio.run(main())
    for svc in services:
        svc.db.dispose()


# --- the parent: the store, the rounds, the figures -------------------------------------------------


class Round:
    def __init__(self, url: str, tuis: int, per_process: int, push: bool) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        for first in range(0, tuis, per_process):
            count = min(per_process, tuis - first)
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "tests.bench.bench_listen", "--worker", url, str(count), str(first),
                 "push" if push else "poll"],
                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
            ))

    def tell(self, **command) -> None:
        for p in self.procs:
            assert p.stdin is not None
            p.stdin.write(json.dumps(command) + "\n")
            p.stdin.flush()

    def answers(self) -> list[dict]:
        out = []
        for p in self.procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            if not line:
                raise RuntimeError(f"a worker ended (exit {p.wait()})")
            out.append(json.loads(line))
        return out

    def stop(self) -> None:
        self.tell(do="stop")
        for p in self.procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()


def transactions(admin, database: str) -> int:
    from sqlalchemy import text

    with admin.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        return int(conn.execute(text("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = :d"),
                                {"d": database}).scalar_one())


def run_round(url: str, admin, database: str, args, push: bool) -> dict:
    from eim_tui.bootstrap import open_services
    from eim_tui.domain.intake import NewIncident

    name = "push" if push else "poll"
    started = time.perf_counter()
    rnd = Round(url, args.tuis, args.per_process, push)
    try:
        rnd.answers()  # every TUI shows its queue
        note(f"{name}: {args.tuis} TUIs up after {time.perf_counter() - started:.0f} s")
        # The start's own transactions (first reads, the SLA schedulers' first sweeps) reach
        # pg_stat_database late: an idle backend flushes its counts up to 10 s after (PostgreSQL 15).
        time.sleep(args.settle)
        rnd.tell(do="count")
        before, t0 = transactions(admin, database), time.perf_counter()
        time.sleep(args.seconds)
        after, t1 = transactions(admin, database), time.perf_counter()
        rnd.tell(do="counted")
        kinds: Counter[str] = Counter()
        for answer in rnd.answers():
            kinds.update(answer["statements"])
        idle_s = t1 - t0
        xacts = (after - before) / idle_s  # (our own reads are on another database)
        note(f"{name}: {after - before} transactions in {idle_s:.1f} s idle; statements by kind: {dict(kinds)}")

        writer = open_services(url)
        to_all, to_each = [], []
        try:
            for i in range(args.changes):
                time.sleep(0.3 + (i * 0.37) % 0.7)  # not in step with any 1 s timer
                number = writer.log_incident(NewIncident(title=f"bench change {i}", impact=3, urgency=3),
                                             "postgres").number
                committed = time.time()  # the commit has returned: from here the change is made
                rnd.tell(do="watch", number=number)
                seen = [t for answer in rnd.answers() for t in answer["seen"]]
                lags = [max(0.0, t - committed) for t in seen]
                to_all.append(max(lags))
                to_each.extend(lags)
        finally:
            writer.db.dispose()
        return {"xacts_per_s": xacts, "statements_per_s": sum(kinds.values()) / idle_s, "kinds": kinds,
                "all_p50": statistics.median(to_all), "all_p99": percentile(to_all, 99),
                "each_p99": percentile(to_each, 99), "idle_s": idle_s}
    finally:
        rnd.stop()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        url, count, first, mode = argv[1], int(argv[2]), int(argv[3]), argv[4]
        worker(url, count, first, mode == "push")
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tuis", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the TUIs are counted idle")
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--per-process", type=int, default=10, help="TUIs per worker process")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds between every TUI up and counting")
    parser.add_argument("--server", default=None, help="postgresql+psycopg://user@host:port (default: a private cluster)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # killed: the cluster and workers still go
    cluster = None
    if args.server is None:
        from tests.pg_cluster import PrivateCluster

        cluster = PrivateCluster("eim").create()
        with open(cluster.dir / "data" / "postgresql.conf", "a") as conf:
            # autovacuum off: its ANALYZE of the freshly seeded tables (one transaction per table)
            # would be counted as the TUIs' if it fell in the idle window.
            conf.write(f"\nmax_connections = {MAX_CONNECTIONS}\nautovacuum = off\n")
        cluster.stop()
        cluster.start()
        args.server = f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}"
        note(f"a private cluster on port {cluster.port}, max_connections = {MAX_CONNECTIONS}")
    try:
        return measure(args)
    finally:
        if cluster is not None:
            cluster.cleanup()


def measure(args) -> int:

    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from eim_tui.bootstrap import open_services
    from eim_tui.domain.intake import NewIncident

    database = f"eim_bench_listen_{secrets.token_hex(4)}"
    admin = create_engine(f"{args.server}/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    url = f"{args.server}/{database}"
    try:
        svc = open_services(url)
        for i in range(100):  # a queue to show; low severities: no SLA moment falls due while measured
            svc.log_incident(NewIncident(title=f"seeded {i}", impact=3, urgency=3), "postgres")
        svc.db.dispose()
        analyze = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with analyze.connect() as conn:  # what autovacuum would do (on a server given), done now
            conn.execute(text("VACUUM ANALYZE"))
        analyze.dispose()
        push = run_round(url, admin, database, args, push=True)
        poll = run_round(url, admin, database, args, push=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()

    n = args.tuis
    emit("listen_idle_xacts_per_s", push["xacts_per_s"], "transactions/s", floor=poll["xacts_per_s"], tuis=n,
         theoretical_floor=float(n))
    emit("listen_idle_xacts_per_tui_per_min", push["xacts_per_s"] * 60 / n, "transactions/min",
         floor=poll["xacts_per_s"] * 60 / n, target=1.0)
    emit("listen_idle_statements_per_s", push["statements_per_s"], "statements/s", floor=poll["statements_per_s"])
    emit("listen_change_marker_reads_per_s", push["kinds"].get("change marker", 0) / push["idle_s"], "statements/s",
         floor=poll["kinds"].get("change marker", 0) / poll["idle_s"])
    emit("listen_propagation_all_p50_s", push["all_p50"], "s", floor=poll["all_p50"], tuis=n, changes=args.changes)
    emit("listen_propagation_all_p99_s", push["all_p99"], "s", floor=poll["all_p99"], target=1.0)
    emit("listen_propagation_each_p99_s", push["each_p99"], "s", floor=poll["each_p99"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
