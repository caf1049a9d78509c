"""Team mode: ten processes write to one PostgreSQL database while an open TUI watches it.

Nine worker processes (`team_worker.py`, using the services) increment three shared counters by
read-modify-write guarded by version — they collide on purpose and retry on `ConflictError` — and
a tenth runs the real `eim new` command in a shell loop. The TUI (EimApp under Pilot, same
database, polling every 0.5 s) must show every write within 2 s of its commit, and at the end the
store must hold exactly the sum of all intended changes: no increment lost, none applied twice,
every event in the timeline under its writer's name, and the hash chain intact.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from eim_tui.tui.app import EimApp
from eim_tui.bootstrap import open_services
from eim_tui.domain.intake import NewIncident
from eim_tui.domain.model import parse_key
from eim_tui.store import timeline
from eim_tui.store.tables import TimelineRow
from eim_tui.tui.widgets.queue_table import QueueTable

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

WORKER = Path(__file__).with_name("team_worker.py")
WRITERS = ["alice", "bob", "farid", "grace", "hiro", "isabel", "kofi", "lucia", "nadia"]
CLI_USER = "oscar"  # the tenth process: `eim new` from a shell
COUNTERS = 3
STEPS = 6  # increments per worker
CLI_NEW = 4  # incidents the shell logs
DEADLINE = 2.0  # seconds from a commit to the open TUI showing it
PREFIX = "Shared counter "


@dataclass
class Write:
    what: str  # "counter" or "new"
    number: int
    value: int
    committed_at: float
    writer: str
    seen_after: float | None = None


@dataclass
class Team:
    writes: list[Write] = field(default_factory=list)
    conflicts: Counter = field(default_factory=Counter)
    ready: set[str] = field(default_factory=set)
    done: dict[str, tuple[int, int]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _env(url: str, user: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EIM_")}
    env.update(EIM_DB=url, EIM_USER=user, PYTHONWARNINGS="ignore", PYTHONPATH=str(Path.cwd()))
    return env


async def _follow(name: str, proc: asyncio.subprocess.Process, team: Team) -> None:
    """Record what one process says it did, the moment it says it."""
    assert proc.stdout is not None
    async for raw in proc.stdout:
        parts = raw.decode().split()
        if not parts:
            continue
        if parts[0] == "READY":
            team.ready.add(name)
        elif parts[0] == "WROTE":
            number, value, at = int(parts[1]), int(parts[2]), float(parts[4])  # parts[3]: the version
            team.writes.append(Write("counter", number, value, at, name))
        elif parts[0] == "CONFLICT":
            team.conflicts[name] += 1
        elif parts[0] == "DONE":
            team.done[name] = (int(parts[1]), int(parts[2]))
        elif parts[0].startswith("INC-"):  # `eim new` printed the key it just committed
            team.writes.append(Write("new", parse_key(parts[0]), 0, time.time(), name))


def _shown(table: QueueTable, write: Write) -> bool:
    if write.what == "new":
        return write.number in table.numbers
    row = table.row(write.number)
    return row is not None and int(row.title.removeprefix(PREFIX)) >= write.value


async def _watch(table: QueueTable, team: Team, procs: dict[str, asyncio.subprocess.Process]) -> None:
    """Until every process has ended and every write was shown (or is past its deadline)."""
    while True:
        now = time.time()
        pending = [w for w in team.writes if w.seen_after is None]
        for write in pending:
            if _shown(table, write):
                write.seen_after = now - write.committed_at
        finished = all(p.returncode is not None for p in procs.values())
        overdue = all(now - w.committed_at > DEADLINE + 1 for w in team.writes if w.seen_after is None)
        if finished and overdue:
            return
        await asyncio.sleep(0.05)


@pytest.fixture
def team_url(postgres) -> Iterator[str]:
    """A fresh PostgreSQL database of this test's own, dropped after it (`postgres` makes the test
    skip without a server, or fail under CI)."""
    name = f"eim_team_{secrets.token_hex(6)}"
    admin = create_engine(postgres.url("test"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres.url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def test_ten_processes_one_postgres_every_change_shown_within_2s_and_none_lost(team_url) -> None:
    svc = open_services(team_url)
    counters = [svc.log_incident(NewIncident(title=f"{PREFIX}0", impact=3, urgency=3), "lead").number
                for _ in range(COUNTERS)]
    # The TUI runs as people run it, SLA scheduler included.
    app = EimApp(svc, user="lead", poll_interval=0.5, tick_interval=1.0, sla_scheduler=True)
    team = Team()
    procs: dict[str, asyncio.subprocess.Process] = {}
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            table = pilot.app.screen.query_one(QueueTable)
            for _ in range(200):
                if set(counters) <= set(table.numbers):
                    break
                await asyncio.sleep(0.05)
            assert set(counters) <= set(table.numbers), "the TUI never showed the counters"

            for i, user in enumerate(WRITERS):
                procs[user] = await asyncio.create_subprocess_exec(
                    sys.executable, str(WORKER), team_url, user, ",".join(map(str, counters)), str(STEPS), str(i),
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                    env=_env(team_url, user),
                )
            readers = [asyncio.create_task(_follow(name, p, team)) for name, p in procs.items()]
            for _ in range(1200):  # start-up of nine Pythons on a small machine
                if team.ready == set(WRITERS):
                    break
                await asyncio.sleep(0.05)
            assert team.ready == set(WRITERS), f"workers not ready: {set(WRITERS) - team.ready}"

            loop = " ".join(
                f'"$PY" -m eim_tui new --title "Team mode report {n}" --impact 3 --urgency 3 || exit 1;'
                for n in range(1, CLI_NEW + 1)
            )
            procs[CLI_USER] = await asyncio.create_subprocess_exec(
                "sh", "-c", loop, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                env={**_env(team_url, CLI_USER), "PY": sys.executable},
            )
            readers.append(asyncio.create_task(_follow(CLI_USER, procs[CLI_USER], team)))
            go = f"GO {time.time() + 0.6}\n".encode()
            for user in WRITERS:
                procs[user].stdin.write(go)  # type: ignore[union-attr]
                await procs[user].stdin.drain()  # type: ignore[union-attr]

            async def _wait_all() -> None:
                for name, proc in procs.items():
                    await proc.wait()
                    if proc.returncode != 0:
                        team.errors[name] = (await proc.stderr.read()).decode()[-2000:]  # type: ignore[union-attr]

            await asyncio.gather(_wait_all(), _watch(table, team, procs), *readers)
            final_rows = {n: table.row(n) for n in counters}
    finally:
        for proc in procs.values():
            if proc.returncode is None:
                proc.kill()

    assert team.errors == {}, team.errors
    counter_writes = [w for w in team.writes if w.what == "counter"]
    new_writes = [w for w in team.writes if w.what == "new"]
    assert len(counter_writes) == len(WRITERS) * STEPS and len(new_writes) == CLI_NEW
    assert {name: done[0] for name, done in team.done.items()} == {u: STEPS for u in WRITERS}
    assert sum(team.conflicts.values()) >= 1, "the writers never collided: the retry path was not exercised"

    # Every write reached the open TUI within the deadline.
    latencies = [w.seen_after for w in team.writes]
    late = [(w.writer, w.what, w.number, w.value, w.seen_after) for w in team.writes
            if w.seen_after is None or w.seen_after > DEADLINE]
    assert late == [], f"shown late or never (writer, kind, number, value, seconds): {late}"

    # No update lost, none applied twice: each counter holds its number of increments, and the
    # values the writers committed are exactly 1…N for it.
    increments = Counter(w.number for w in counter_writes)
    for number in counters:
        incident = svc.get(number)
        assert incident.title == f"{PREFIX}{increments[number]}"
        assert incident.version == 1 + increments[number]
        assert sorted(w.value for w in counter_writes if w.number == number) == list(range(1, increments[number] + 1))
        assert final_rows[number] is not None and final_rows[number].title == incident.title
    for write in new_writes:
        assert svc.get(write.number).created_by == CLI_USER

    # The timeline: one event per change, under its writer's name, and the chain intact.
    with svc.db.read() as session:
        actors = Counter(session.execute(
            select(TimelineRow.actor).where(TimelineRow.incident_id.in_(counters))).scalars())
        report = timeline.verify(session)
    assert actors == Counter({"lead": COUNTERS, **{u: STEPS for u in WRITERS}})
    assert report.intact, report.describe()
    svc.db.dispose()

    seen = sorted(x for x in latencies if x is not None)
    print(f"\nteam mode: {len(team.writes)} writes by {len(procs)} processes, "
          f"{sum(team.conflicts.values())} conflicts retried; shown in the TUI after "
          f"median {statistics.median(seen):.2f} s, max {max(seen):.2f} s (deadline {DEADLINE} s)")
