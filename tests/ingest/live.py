"""A real `eim ingest` process for the tests that talk to it over HTTP, and the stores it runs on.

`LiveIngest` starts `python -m eim_tui ingest --listen 127.0.0.1:0`, reads the port from its
"listening on" line, and stops it with SIGTERM (SIGKILL if it does not go). `live_store` gives a
store location of its own: a SQLite file, or a PostgreSQL database made for it and dropped after.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from eim_tui.bootstrap import open_services
from eim_tui.store.tables import InboundPayloadRow

STARTUP_DEADLINE = 60.0  # seconds; a loaded 2-core machine can take a while to import everything


class LiveIngest:
    """`eim ingest` as a child process; stderr goes to `log` so a failure can show it."""

    def __init__(self, db_url: str, log: Path, token: str | None = None, max_body: str | None = None) -> None:
        self.log_path = log
        self._log = log.open("w")
        args = [sys.executable, "-m", "eim_tui", "ingest", "--listen", "127.0.0.1:0", "--db", db_url]
        if token:
            args += ["--token", token]
        if max_body:
            args += ["--max-body", max_body]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(STARTUP_DEADLINE)
        if not lines or "listening on" not in lines[0]:
            self.stop()
            pytest.fail(f"eim ingest did not start: {lines!r}\n{self.stderr()}")
        self.url = lines[0].split("listening on", 1)[1].strip()

    def alive(self) -> bool:
        """The process runs and answers its health check."""
        if self.proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=10) as answer:
                return answer.status == 200
        except OSError:
            return False

    def stderr(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after 15 s; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)
        if self.proc.stdout:
            self.proc.stdout.close()
        self._log.close()
        return self.proc.returncode


@contextmanager
def live_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A new store (schema and reference data) for one live receiver, on `backend`."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path}/live.db"
        open_services(url).db.dispose()
        yield url
        return
    server = request.getfixturevalue("postgres")  # skips, or fails under CI, without a server
    name = f"eim_live_{secrets.token_hex(5)}"
    with server.admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = server.url(name)
        open_services(url).db.dispose()
        yield url
    finally:
        with server.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def payload_counts(db_url: str) -> dict[str, int]:
    """The stored bodies by status, read afresh."""
    svc = open_services(db_url)
    try:
        with svc.db.read() as session:
            rows = session.execute(select(InboundPayloadRow.status, func.count()).group_by(InboundPayloadRow.status))
            return {status: count for status, count in rows}
    finally:
        svc.db.dispose()


def wait_until(what: str, check, deadline: float = 30.0):
    """Poll `check` until it returns something true; fail saying `what` did not happen."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if result := check():
            return result
        time.sleep(0.1)
    pytest.fail(f"within {deadline:.0f}s: {what}")
