"""`eim status`: one line of counts for tmux and shell prompts, on both backends, without loading
SQLAlchemy, psycopg or Textual (it has 100 ms; `make bench` measures it: bench_status)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from eim_tui.cli.status import fast_path
from eim_tui.domain.intake import NewIncident
from eim_tui.store.status_counts import read_counts


def log(svc, title: str, impact: int, urgency: int, **fields) -> int:
    return svc.log_incident(NewIncident(title=title, impact=impact, urgency=urgency, **fields), "monitor").number


@pytest.fixture
def queue(svc, clock):
    """Two Sev1 (one bob's), three Sev2, one Sev3 already resolved… and one whose SLA is breached."""
    log(svc, "Core switch down", 1, 1, assignment_group="network-ops", assignee="bob")
    log(svc, "Payments API 502", 1, 1)
    for n in range(3):
        log(svc, f"Slow share {n}", 1, 2)
    done = log(svc, "Printer jam", 2, 2)
    svc.acknowledge(done, "bob")
    svc.resolve(done, "bob", code="fixed", notes="cleared the jam")
    return svc


def test_counts_on_both_backends(queue, db_url, clock) -> None:
    now = clock.now()
    counts = read_counts(db_url, "bob", now)
    assert counts.open_by_severity == {1: 2, 2: 3}
    assert counts.mine == 1 and counts.warning == 0 and counts.breached == 0
    # A day on, every response clock has run out: all five open incidents are breached.
    later = read_counts(db_url, "bob", now + timedelta(days=1))
    assert later.breached == 5 and later.warning == 0


def test_the_line_in_each_format(queue, db_url, clock, eim) -> None:
    done = eim("status", "--user", "bob", db=db_url)
    # Counted at the real time: the fixed clock of these incidents is in the past, so all breached.
    assert done.out.strip() == "S1 2 · S2 3 · ⚠ 5 · mine 1"
    tmux = eim("status", "--format", "tmux", db=db_url, env={"EIM_USER": "bob"}).out.strip()
    assert tmux == "#[fg=red,bold]S1 2#[default] · #[fg=yellow]S2 3#[default] · #[fg=red,bold]⚠ 5#[default] · #[bold]mine 1#[default]"
    plain = eim("status", "--format", "tmux", db=db_url, env={"EIM_USER": "bob", "NO_COLOR": "1"}).out.strip()
    assert plain == "S1 2 · S2 3 · ⚠ 5 · mine 1"
    data = json.loads(eim("status", "--format", "json", db=db_url).out)
    assert data["open"] == 5 and data["open_by_severity"] == {"1": 2, "2": 3, "3": 0, "4": 0, "5": 0}
    assert data["sla_breached"] == 5 and data["mine"] == 0  # alice has none


def test_bad_stores_are_one_line_and_exit_2(eim, tmp_path) -> None:
    missing = eim("status", db=f"sqlite:///{tmp_path}/nowhere.db", ok=False)
    assert missing.status == 2 and missing.err == f"eim: no store at {tmp_path}/nowhere.db: run eim once to create it, or check --db / EIM_DB\n"
    (tmp_path / "other.db").write_bytes(b"")
    other = eim("status", db=f"sqlite:///{tmp_path}/other.db", ok=False)
    assert other.status == 2 and "is not an eim store" in other.err
    refused = eim("status", db="postgresql+psycopg://postgres@127.0.0.1:1/eim", ok=False)
    assert refused.err == ("eim: store unreachable: PostgreSQL at 127.0.0.1:1: connection refused "
                           "(check --db / EIM_DB)\n")
    wrong = eim("status", "--format", "xml", ok=False)
    assert wrong.status == 2 and "invalid choice: 'xml'" in wrong.err


@pytest.mark.parametrize("argv, expected", [
    (["status"], []),
    (["status", "--format", "json"], ["--format", "json"]),
    (["--db", "sqlite:///x", "status"], ["--db", "sqlite:///x"]),
    (["--user=bob", "--db", "u", "status", "--format", "tmux"], ["--user=bob", "--db", "u", "--format", "tmux"]),
    (["list"], None), (["--db", "u", "list"], None), ([], None), (["--db"], None), (["show", "status"], None),
])
def test_the_fast_path_takes_status_only(argv, expected) -> None:
    assert fast_path(argv) == expected


def test_a_real_process_loads_neither_sqlalchemy_psycopg_nor_textual(queue, db_url) -> None:
    probe = ("import sys\nfrom eim_tui.cli.entry import main\nstatus = main(['status', '--db', sys.argv[1]])\n"
             "print(sorted(m for m in ('sqlalchemy', 'psycopg', 'textual', 'rich') if m in sys.modules), status)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EIM_")}
    done = subprocess.run([sys.executable, "-c", probe, db_url], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    line, loaded = done.stdout.splitlines()
    assert line.startswith("S1 2 · S2 3 · ")
    assert loaded == "[] 0"


def test_status_is_listed_in_help(eim) -> None:
    assert "status" in eim("--help").out
