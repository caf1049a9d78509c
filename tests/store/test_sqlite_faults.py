"""A SQLite store in trouble, for real: locked by another process, on a read-only disk, on a disk
that fills during a write. Each gives one clear message (a `StoreUnavailable` saying which),
leaves nothing half-written, and the timeline's chain verifies afterwards — through the services
and through the real `eim` command line (exit 2, one line on stderr).

The read-only and full disks are small tmpfs mounts made by the test as root (CI runs as root);
without root a read-only store is made with chmod instead, and the full disk is skipped — except
under CI, where not being able to mount is a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from eim_tui.bootstrap import open_services
from eim_tui.domain.intake import NewIncident
from eim_tui.domain.model import NoteKind
from eim_tui.reference import load_reference
from eim_tui.services import Services
from eim_tui.store.engine import Database
from eim_tui.store.health import StoreFault, StoreUnavailable

EIM = [sys.executable, "-m", "eim_tui"]


def eim(url: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EIM_DB": url, "EIM_USER": "alice", "NO_COLOR": "1"}
    return subprocess.run([*EIM, *args], capture_output=True, text=True, env=env, timeout=timeout)


def counts(svc: Services) -> tuple[int, int]:
    """(incidents, timeline events): what a half-written change would leave different."""
    from sqlalchemy import text

    with svc.db.read() as session:
        return (session.execute(text("SELECT count(*) FROM incident")).scalar_one(),
                session.execute(text("SELECT count(*) FROM timeline_event")).scalar_one())


@pytest.fixture
def tmpfs(tmp_path) -> Iterator[Path]:
    """A 4 MB tmpfs of this test's own, unmounted afterwards."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root, and this test needs root to mount a small tmpfs")
        pytest.skip("needs root to mount a small tmpfs (CI runs as root)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs as root under CI: {done.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


# --- locked by another writer ---------------------------------------------------------------------

HOLD_LOCK = textwrap.dedent("""
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE incident SET title = title")
    print("locked", flush=True)
    sys.stdin.read()          # held until the test closes our stdin
    conn.execute("ROLLBACK")
""")


@pytest.fixture
def locked_store(tmp_path, clock) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    url = f"sqlite:///{tmp_path}/eim.db"
    svc = open_services(url, clock)
    svc.log_incident(NewIncident("Payments API returns 502", 1, 1), "bob")
    svc.db.dispose()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, f"{tmp_path}/eim.db"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield url, holder
    finally:
        if holder.poll() is None:
            holder.stdin.close()
            holder.wait(timeout=30)


def test_a_write_waits_for_the_lock_then_says_the_store_is_locked_while_reads_go_on(locked_store, clock) -> None:
    url, holder = locked_store
    svc = Services(Database(url, busy_timeout_ms=1500), load_reference(), clock)
    before = counts(svc)
    began = time.monotonic()
    with pytest.raises(StoreUnavailable) as refused:
        svc.log_incident(NewIncident("VPN drops every 5 minutes", 2, 2), "alice")
    assert time.monotonic() - began >= 1.4  # it waited (the busy timeout) before giving up
    assert refused.value.fault is StoreFault.LOCKED
    assert str(refused.value).startswith("store locked: another program kept it busy for over 1.5 s")
    # Reads are not held up by a writer under WAL.
    assert svc.details(1).incident.title == "Payments API returns 502"
    assert counts(svc) == before

    holder.stdin.close()
    holder.wait(timeout=30)
    logged = svc.log_incident(NewIncident("VPN drops every 5 minutes", 2, 2), "alice")
    assert logged.number == 2
    assert svc.verify_chain().intact
    svc.db.dispose()


def test_the_command_line_says_the_store_is_locked_in_one_line(locked_store) -> None:
    url, _ = locked_store
    done = eim(url, "new", "--title", "VPN drops", "--impact", "2", "--urgency", "2")
    assert done.returncode == 2
    assert done.stderr.startswith("eim: store locked: another program kept it busy for over 10 s")
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    listed = eim(url, "list", "--json")  # reading is fine meanwhile
    assert listed.returncode == 0 and "Payments API returns 502" in listed.stdout


# --- a read-only store ----------------------------------------------------------------------------

@pytest.fixture
def read_only_store(tmp_path, clock) -> Iterator[str]:
    """A store with one incident whose disk (as root: a tmpfs remounted read-only) or whose file
    and folder (chmod, without root) cannot be written any more."""
    root = os.geteuid() == 0
    folder = tmp_path / "ro"
    folder.mkdir()
    if root:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            if os.environ.get("CI"):
                pytest.fail(f"cannot mount a tmpfs as root under CI: {done.stderr.strip()}")
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    url = f"sqlite:///{folder}/eim.db"
    svc = open_services(url, clock)
    svc.log_incident(NewIncident("Printer on floor 3 offline", 3, 3), "bob")
    svc.db.dispose()
    if root:
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    else:
        (folder / "eim.db").chmod(0o444)
        folder.chmod(0o555)
    try:
        yield url
    finally:
        if root:
            subprocess.run(["umount", "-l", str(folder)], check=False)
        else:
            folder.chmod(0o755)


def test_a_read_only_store_opens_for_reading_and_refuses_every_write_clearly(read_only_store, clock) -> None:
    svc = open_services(read_only_store, clock)
    assert svc.db.read_only  # said from the start: the TUI shows it
    assert svc.details(1).incident.title == "Printer on floor 3 offline"
    for write in (lambda: svc.log_incident(NewIncident("x", 1, 1), "alice"),
                  lambda: svc.acknowledge(1, "alice"),
                  lambda: svc.add_note(1, "alice", NoteKind.OBSERVATION, "toner empty")):
        with pytest.raises(StoreUnavailable) as refused:
            write()
        assert refused.value.fault is StoreFault.READ_ONLY
        assert str(refused.value).startswith("store is read-only: ")
    assert svc.verify_chain().intact
    svc.db.dispose()


def test_the_command_line_reads_a_read_only_store_and_refuses_writes_with_exit_2(read_only_store) -> None:
    listed = eim(read_only_store, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "Printer on floor 3 offline" in listed.stdout
    for argv in (["new", "--title", "x", "--impact", "1", "--urgency", "1"], ["ack", "INC-000001"]):
        done = eim(read_only_store, *argv)
        assert done.returncode == 2, (argv, done.stderr)
        assert done.stderr.startswith("eim: store is read-only: ") and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    assert eim(read_only_store, "audit", "verify").returncode == 0


# --- a disk that fills during a write ------------------------------------------------------------

def fill(folder: Path, leave: int) -> Path:
    """Fill the disk under `folder` until `leave` bytes are free (a new filler file each call)."""
    filler = folder / f"filler-{len(list(folder.glob('filler-*')))}"
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with open(filler, "wb") as file:
        file.write(b"\0" * max(free - leave, 0))
    return filler


def test_a_write_that_fills_the_disk_is_refused_whole_and_the_chain_still_verifies(tmpfs, clock) -> None:
    url = f"sqlite:///{tmpfs}/eim.db"
    svc = open_services(url, clock)
    svc.log_incident(NewIncident("Payments API returns 502", 1, 1), "bob")
    fill(tmpfs, 64 * 1024)
    before = counts(svc)
    big = "x" * (1024 * 1024)  # far more than the disk has left
    with pytest.raises(StoreUnavailable) as refused:
        svc.log_incident(NewIncident("Log volume full on app07", 2, 2, description=big), "alice")
    assert refused.value.fault is StoreFault.DISK_FULL
    assert str(refused.value).startswith("store's disk is full: nothing was saved")
    assert counts(svc) == before  # nothing half-written
    assert svc.verify_chain().intact

    fill(tmpfs, 16 * 1024)  # what the failed write's journal left free, down to a few pages
    medium = "y" * 100_000  # one argument may be at most 128 KiB
    done = eim(url, "new", "--title", "Log volume full", "--impact", "2", "--urgency", "2", "--description", medium)
    assert done.returncode == 2 and done.stderr.startswith("eim: store's disk is full"), done.stderr
    assert "Traceback" not in done.stderr

    for filler in tmpfs.glob("filler-*"):
        filler.unlink()  # space again: the same write goes through, and the chain still holds
    logged = svc.log_incident(NewIncident("Log volume full on app07", 2, 2, description=big), "alice")
    assert logged.number == 2
    assert svc.verify_chain().intact
    svc.db.dispose()
    assert eim(url, "audit", "verify").returncode == 0
