"""A real Prometheus Alertmanager (Debian `prometheus-alertmanager` 0.25) sends its webhooks to a
real `eim ingest`; alerts are fired and resolved with `amtool`, and the store is checked.

Skipped when the binary is missing, except under CI (`CI` set), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from eim_tui.bootstrap import open_services
from eim_tui.domain.alerts import AlertStatus
from eim_tui.domain.clock import SystemClock
from eim_tui.store import inbound, timeline
from eim_tui.store.tables import IncidentRow

pytestmark = pytest.mark.e2e

ALERTMANAGER = shutil.which("prometheus-alertmanager")
AMTOOL = shutil.which("amtool")
DEADLINE = 45.0  # seconds; Alertmanager sends within a few seconds (group_wait 1s, group_interval 2s)


@pytest.fixture(autouse=True)
def alertmanager_installed() -> None:
    """Each test skips without the binaries (a check at import time would stop the whole run at
    collection) — except under CI, where they must be there and the test fails."""
    if not (ALERTMANAGER and AMTOOL):
        reason = "prometheus-alertmanager / amtool not installed (apt-get install prometheus-alertmanager)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so this test must run", pytrace=False)
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check: Callable[[], Any], deadline: float = DEADLINE) -> Any:
    """Poll `check` until it returns something true; fail saying `what` did not happen."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if result := check():
            return result
        time.sleep(0.2)
    pytest.fail(f"within {deadline:.0f}s: {what}")


class Ingest:
    """`eim ingest` as a child process; the port is read from its "listening on" line."""

    def __init__(self, db_url: str, log: Path) -> None:
        self.log = log.open("w")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "eim_tui", "ingest", "--listen", "127.0.0.1:0", "--db", db_url],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=env,
        )
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(DEADLINE)
        if not lines or "listening on" not in lines[0]:
            self.stop()
            pytest.fail(f"eim ingest did not start: {log.read_text()[-2000:]}")
        self.url = lines[0].strip().rsplit(" ", 1)[1]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


@pytest.fixture
def ingest(db_url: str, tmp_path: Path) -> Iterator[Ingest]:
    receiver = Ingest(db_url, tmp_path / "ingest.log")
    yield receiver
    status = receiver.stop()
    log = (tmp_path / "ingest.log").read_text()
    assert status == 0, log
    assert "Traceback" not in log, log


@pytest.fixture
def alertmanager(ingest: Ingest, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    config = tmp_path / "am.yml"
    # Alerts group by name, so a second DiskFull joins the first one's notification.
    config.write_text(textwrap.dedent(f"""\
        route: {{receiver: eim, group_by: [alertname], group_wait: 1s, group_interval: 2s, repeat_interval: 1h}}
        receivers:
          - name: eim
            webhook_configs: [{{url: "{ingest.url}/api/v1/alertmanager", send_resolved: true}}]
        """))
    log = (tmp_path / "alertmanager.log").open("w")
    proc = subprocess.Popen(
        [ALERTMANAGER, f"--config.file={config}", f"--storage.path={tmp_path / 'am-data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as answer:
                return answer.status == 200
        except OSError:
            return proc.poll() is not None and pytest.fail((tmp_path / "alertmanager.log").read_text())

    wait_for("Alertmanager answers /-/ready", ready)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def amtool(url: str, *labels: str, summary: str = "", end: bool = False) -> None:
    args = [AMTOOL, f"--alertmanager.url={url}", "alert", "add", *labels]
    if summary:
        args.append(f"--annotation=summary={summary}")
    if end:  # an end time in the past resolves it
        args.append("--end=" + SystemClock().now().strftime("%Y-%m-%dT%H:%M:%SZ"))
    subprocess.run(args, check=True, capture_output=True, timeout=30)


def test_alerts_from_a_real_alertmanager_become_incidents(alertmanager: str, ingest: Ingest, db_url: str) -> None:
    svc = open_services(db_url)

    def alert(instance: str):
        with svc.db.read() as session:
            found = inbound.list_alerts(session, "alertmanager")
        return next((a for a in found if a.labels.get("instance") == instance), None)

    def incidents() -> int:
        with svc.db.read() as session:
            return session.execute(select(func.count()).select_from(IncidentRow)).scalar_one()

    try:
        db01 = ("alertname=DiskFull", "severity=critical", "instance=db01:9100")
        db02 = ("alertname=DiskFull", "severity=critical", "instance=db02:9100")
        amtool(alertmanager, *db01, summary="Disk almost full on db01")
        first = wait_for("the first alert reaches the store", lambda: alert("db01:9100"))
        number = first.incident_number
        incident = svc.get(number)
        assert incident.title == "DiskFull on db01:9100"
        assert (incident.category, incident.subcategory, incident.assignment_group, incident.priority) == (
            "hardware", "storage", "platform", 1)
        assert incident.source.value == "monitoring" and incident.alert_count == 1

        # A second alert of the group: Alertmanager sends both, so db01 arrives again (dedup).
        amtool(alertmanager, *db02, summary="Disk almost full on db02")
        wait_for("the second alert reaches the store", lambda: alert("db02:9100"))
        assert incidents() == 1
        assert alert("db01:9100").count == 2 and alert("db02:9100").incident_number == number
        assert svc.get(number).alert_count == 3

        amtool(alertmanager, *db01, end=True)
        wait_for("db01 is resolved", lambda: alert("db01:9100").status is AlertStatus.RESOLVED)
        assert svc.get(number).alerts_resolved is False  # db02 still fires
        amtool(alertmanager, *db02, end=True)
        wait_for("all alerts of the incident resolved", lambda: svc.get(number).alerts_resolved)
        incident = svc.get(number)
        assert incident.state.value == "new"  # by default a person verifies before resolving
        kinds = [e.kind.value for e in svc.details(number).timeline]
        assert kinds.count("alert_resolved") == 2 and kinds[0] == "created"

        # Another group is another incident, routed by its own rule.
        amtool(alertmanager, "alertname=InstanceDown", "severity=warning", "instance=web01:9100")
        wait_for("a second incident", lambda: incidents() == 2)
        other = alert("web01:9100")
        assert svc.get(other.incident_number).title == "web01:9100 is down"

        with svc.db.read() as session:
            counts = inbound.payload_counts(session)
            assert set(counts) == {"processed"}, counts
            assert timeline.verify(session).intact
    finally:
        svc.db.dispose()
