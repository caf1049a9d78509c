"""PostgreSQL stopped and started under real eim processes: the TUI in tmux and `eim ingest`.

The cluster is the test's own (`tests/pg_cluster.py`: initdb and pg_ctl as the postgres user on a
spare loopback port), so the outage touches nobody else. What must hold:

- the TUI shows `store unreachable since HH:MM — retrying`, keeps the queue on screen, keeps what
  is typed in the new-incident form as a draft on this computer, and once the server is back takes
  the banner down by itself within 5 s — no restart, no traceback — and the draft reaches the store;
- `eim ingest` answers 503 with Retry-After (and /healthz 503) while it cannot store, stays up,
  and stores everything the senders retry once the server is back: nothing lost, nothing doubled.

Every wait polls the screen or the server with a deadline; only a hung test reaches `DEADLINE`.
`RETURN_DEADLINE` is the requirement itself.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from eim_tui.bootstrap import open_services
from eim_tui.domain.drafts import NEW_INCIDENT
from tests.pg_cluster import private_cluster

pytestmark = pytest.mark.e2e
EIM = [sys.executable, "-m", "eim_tui"]
DEADLINE = 90.0
RETURN_DEADLINE = 5.0


@pytest.fixture
def cluster():
    made = private_cluster()
    try:
        yield made
    finally:
        made.cleanup()


def eim(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EIM, "--db", url, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "EIM_USER": "alice"})


def poll(check: Callable[[], object], what: str, deadline: float = DEADLINE) -> float:
    """Wait until `check()` is true; the seconds it took."""
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > deadline:
            pytest.fail(f"gave up after {deadline:g} s waiting for {what}")
        time.sleep(0.1)
    return time.monotonic() - began


class Tmux:
    """One tmux server of the test's own (-L), one session running `eim`."""

    def __init__(self, tmp_path: Path) -> None:
        if shutil.which("tmux") is None:
            if os.environ.get("CI"):
                pytest.fail("tmux is needed under CI")
            pytest.skip("tmux is not installed")
        self.socket = f"eim-outage-{os.getpid()}-{time.monotonic_ns()}"

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True).stdout

    def start(self, command: str, env: dict[str, str]) -> None:
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        self.run("new-session", "-d", "-s", "t", "-x", "110", "-y", "32", f"env {exports} {command}")

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "t")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "t", *keys)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", "t", "-l", text)

    def stop(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def test_the_tui_rides_out_a_postgres_outage_and_reconnects_by_itself(cluster, tmp_path) -> None:
    url = cluster.url
    assert eim(url, "demo", "--incidents", "6").returncode == 0
    data = tmp_path / "data"
    term = Tmux(tmp_path)
    try:
        term.start(" ".join(shlex.quote(a) for a in [*EIM, "--db", url]),
                   {"EIM_USER": "alice", "XDG_DATA_HOME": str(data), "TERM": "xterm-256color",
                    "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
        poll(lambda: "INC-000001" in term.screen(), "the queue")
        term.keys("n")
        poll(lambda: "New incident" in term.screen(), "the new-incident form")

        cluster.stop()
        poll(lambda: "store unreachable since" in term.screen(), "the outage banner")
        screen = term.screen()
        assert "retrying" in screen and "Traceback" not in screen
        term.type("Mail relay rejects every message")
        drafts = data / "eim" / "drafts"
        poll(lambda: any("Mail relay rejects" in p.read_text() for p in drafts.rglob("*.json")),
             "the draft kept on this computer")
        cluster.start()
        took = poll(lambda: "store unreachable" not in term.screen(), "the banner to go", RETURN_DEADLINE)
        assert took <= RETURN_DEADLINE
        screen = term.screen()
        assert "Traceback" not in screen
        assert "Mail relay rejects every message" in screen  # still in the form, as typed
        # The next keystroke saves the draft again, now to the store; the local file goes.
        term.type("!")
        poll(lambda: not any(drafts.rglob("*.json")), "the local draft merged into the store")
        svc = open_services(url)
        try:
            draft = svc.drafts.load("alice", NEW_INCIDENT)
            assert draft is not None and draft.content["title"] == "Mail relay rejects every message!"
        finally:
            svc.db.dispose()
    finally:
        term.stop()
    verified = eim(url, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def post(url: str, body: dict) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), json.loads(refused.read() or b"{}")


def health(base: str) -> tuple[int, dict, dict]:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=30) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), json.loads(refused.read() or b"{}")


def test_ingest_answers_503_with_retry_after_while_the_store_is_away_and_loses_nothing(cluster, tmp_path) -> None:
    from tests.ingest.live import LiveIngest

    url = cluster.url
    assert eim(url, "db", "upgrade").returncode == 0
    receiver = LiveIngest(url, tmp_path / "ingest.log")
    try:
        base = receiver.url
        status, _, answer = post(f"{base}/api/v1/events", {"title": "Checkout latency above 2s",
                                                           "dedup_key": "before", "service": "checkout-web"})
        assert status in (200, 202), answer
        assert health(base)[0] == 200

        cluster.stop()
        refused = [post(f"{base}/api/v1/events", {"title": f"Disk full on db0{n}", "dedup_key": f"during-{n}"})
                   for n in range(5)]
        for status, headers, answer in refused:
            assert status == 503, answer
            assert headers.get("Retry-After") == "5"
            assert answer["error"].startswith("the payload could not be stored: store unreachable: ")
            assert "psycopg" not in answer["error"] and "Traceback" not in answer["error"]
        status, headers, answer = health(base)
        assert status == 503 and headers.get("Retry-After") == "5" and "store unreachable" in answer["error"]
        assert receiver.proc.poll() is None  # it stays up

        cluster.start()
        poll(lambda: health(base)[0] == 200, "the receiver to see the store again", 30)
        for n in range(5):  # what Alertmanager does after a 5xx: send the same again
            status, _, answer = post(f"{base}/api/v1/events", {"title": f"Disk full on db0{n}",
                                                               "dedup_key": f"during-{n}"})
            assert status in (200, 202), answer
    finally:
        receiver.stop()
    assert "Traceback" not in receiver.stderr()
    svc = open_services(url)
    try:
        from sqlalchemy import text

        with svc.db.read() as session:
            titles = sorted(session.execute(text("SELECT title FROM incident")).scalars())
            statuses = dict(session.execute(text("SELECT status, count(*) FROM inbound_payload GROUP BY status")).all())
        assert titles == sorted(["Checkout latency above 2s"] + [f"Disk full on db0{n}" for n in range(5)])
        assert statuses == {"processed": 6}  # every body stored once it could be, none lost, none twice
        assert svc.verify_chain().intact
    finally:
        svc.db.dispose()
