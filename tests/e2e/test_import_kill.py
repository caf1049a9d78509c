"""A real `eim import servicenow` killed (SIGKILL) part-way leaves whole tickets only — every batch
is one transaction — with a timeline that verifies, and the next run carries on from there."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.importing.conftest import write_slice

pytestmark = pytest.mark.e2e

DEADLINE_S = 60


def _imported(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM incident_import").fetchone()[0]
    except sqlite3.OperationalError:  # not made yet
        return 0


def _eim(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "eim_tui", "--db", f"sqlite:///{db}", *args], check=False,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "EIM_USER": "alice"})


def test_a_killed_import_leaves_whole_batches_and_resumes(tmp_path: Path) -> None:
    log = write_slice(tmp_path / "log.csv", 40_000)  # about 7,000 tickets: several batches of 1,000
    db = tmp_path / "eim.db"
    assert _eim(db, "db", "upgrade").returncode == 0
    child = subprocess.Popen([sys.executable, "-m", "eim_tui", "--db", f"sqlite:///{db}", "import", "servicenow",
                              str(log)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**os.environ, "EIM_USER": "alice"})
    try:
        deadline = time.monotonic() + DEADLINE_S
        while _imported(db) == 0 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert child.poll() is None, "the import finished before it could be killed; give it a bigger slice"
        child.send_signal(signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=30)
    kept = _imported(db)
    assert kept > 0 and kept % 1000 == 0, kept  # whole batches only
    verify = _eim(db, "audit", "verify")
    assert verify.returncode == 0 and verify.stdout.startswith("timeline intact"), verify.stdout + verify.stderr
    again = _eim(db, "import", "servicenow", str(log))
    assert again.returncode == 0, again.stderr
    new = int(again.stdout.split(": ")[1].split(" new")[0].replace(",", ""))
    assert again.stdout.strip().endswith(f"{new:,} new, 0 changed, {kept:,} unchanged")
    assert _imported(db) == kept + new
    assert _eim(db, "audit", "verify").stdout.startswith("timeline intact")
