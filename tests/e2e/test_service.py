"""`eim service` as a real process on a real store (SQLite and PostgreSQL), with no TUI running:
the escalation mail of an unacknowledged Sev1 reaches a real SMTP server; a webhook that fails
twice gets its message once; a refused connection is recorded failed and retried; SIGKILL in the
middle of a sweep and a restart double nothing; SIGTERM ends it with status 0 in time, without
Textual ever imported; and `--check` names the file and line of each problem."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from eim_tui.bootstrap import open_services
from eim_tui.domain.clock import FixedClock, SystemClock
from eim_tui.domain.intake import NewIncident
from eim_tui.domain.model import EventKind
from eim_tui.services.notifications import NotificationCases
from tests.notify.receivers import Mailbox, Webhook, free_port, wait_for

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
CONFIG = '[notify]\nbackoff = "1s"\nheartbeat = "1s"\nlease = "1m"\n'


def _log_sev1(url: str, count: int = 1, minutes_ago: float = 7, **fields) -> None:
    """Sev1 incidents reported `minutes_ago` (real time): the 5-minute unacknowledged rule is due."""
    svc = open_services(url, FixedClock(SystemClock().now() - timedelta(minutes=minutes_ago)))
    try:
        for n in range(count):
            svc.log_incident(NewIncident(title=f"Core switch down in dc{n + 1}", impact=1, urgency=1,
                                         assignment_group="platform", **fields), "monitor")
    finally:
        svc.db.dispose()


def _eim(url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "eim_tui", "--db", url, *args], capture_output=True, text=True,
                          cwd=ROOT, env=env or os.environ.copy(), timeout=60, check=False)


class Service:
    """`eim service` in its own process; stderr (its log) kept in a file."""

    def __init__(self, url: str, tmp: Path, config: str = CONFIG, *extra: str) -> None:
        self.config = tmp / "config.toml"
        self.config.write_text(config)
        self.env = {**os.environ, "EIM_CONFIG": str(self.config), "JOURNAL_STREAM": "8:1234"}
        self.log_path = tmp / f"service-{time.monotonic_ns()}.log"
        self.argv = [sys.executable, "-m", "eim_tui", "--db", url, "service", *extra]

    def start(self, argv: list[str] | None = None) -> Service:
        self.log_file = self.log_path.open("w")
        self.proc = subprocess.Popen(argv or self.argv, stdout=subprocess.PIPE, stderr=self.log_file, cwd=ROOT,
                                     env=self.env, text=True)
        wait_for(lambda: "started on" in self.log(), "the service to start")
        return self

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)
            self.log_file.close()


def _timeline(url: str, kind: EventKind) -> list:
    svc = open_services(url)
    try:
        with svc.db.read() as session:
            from sqlalchemy import select

            from eim_tui.store.tables import TimelineRow

            rows = session.execute(select(TimelineRow.incident_id, TimelineRow.summary, TimelineRow.data)
                                   .where(TimelineRow.kind == kind.value).order_by(TimelineRow.seq)).all()
        return [tuple(r) for r in rows]
    finally:
        svc.db.dispose()


def _set_channel(url: str, kind: str, name: str, channel: str) -> None:
    svc = open_services(url)
    try:
        NotificationCases(svc).set_channels("admin", kind, name, [channel])
    finally:
        svc.db.dispose()


def test_the_escalation_mail_reaches_the_shift_lead_with_no_tui_running(db_url: str, tmp_path: Path) -> None:
    _log_sev1(db_url, assignee="bob")
    with Mailbox() as box:
        done = _eim(db_url, "users", "set", "chen", "--notify", box.url("chen@example.com"), "--user", "admin")
        assert done.returncode == 0, done.stderr
        service = Service(db_url, tmp_path).start()
        try:
            mail = wait_for(lambda: [m for m in box.messages if "not acknowledged" in m["body"]], "the mail")[0]
        finally:
            status = service.stop()
        assert status == 0
        assert mail["to"] == "chen@example.com"
        assert mail["subject"].startswith("Sev1 INC-000001 escalated: Core switch down in dc1")
        assert "SLA: response" in mail["body"] and "Act: eim ack INC-000001" in mail["body"]
    sent = [s for _, s, d in _timeline(db_url, EventKind.NOTIFICATION_SENT) if d.get("ok")]
    assert sent == ["notified chen by mailto"]
    log = service.log()
    assert "sent INC-000001 to chen by mailto" in log
    assert "\x1b[" not in log and not any(line[:4].isdigit() for line in log.splitlines())  # journald: no stamps


def test_the_commander_is_reached_when_the_response_sla_breaches(db_url: str, tmp_path: Path) -> None:
    """Escalation rules can name the incident's commander (`notify = ["commander"]`): the shipped
    response-breached rule does, so the commander set with `eim role` gets the mail, once."""
    _log_sev1(db_url, minutes_ago=20, assignee="bob")  # Sev1 response is 15 minutes: breached
    with Mailbox() as box:
        for args in (("users", "set", "dmitri", "--notify", box.url("dmitri@example.com")),
                     ("role", "INC-000001", "--commander", "dmitri")):
            done = _eim(db_url, *args, "--user", "admin")
            assert done.returncode == 0, done.stderr
        service = Service(db_url, tmp_path).start()
        try:
            mail = wait_for(lambda: [m for m in box.messages if m["to"] == "dmitri@example.com"], "the mail")[0]
            time.sleep(1.5)  # a second delivery would come now
        finally:
            assert service.stop() == 0
        assert mail["subject"].startswith("Sev1 INC-000001 escalated: Core switch down in dc1")
        assert "first response SLA breached" in mail["body"]
        assert len([m for m in box.messages if m["to"] == "dmitri@example.com"]) == 1
    breached = [d for _, _, d in _timeline(db_url, EventKind.ESCALATION) if d["rule"] == "response-breached"]
    assert len(breached) == 1 and "dmitri" in breached[0]["notify"]
    sent = [s for _, s, d in _timeline(db_url, EventKind.NOTIFICATION_SENT) if d.get("ok")]
    assert sent.count("notified dmitri by mailto") == 1


def test_a_webhook_failing_twice_gets_it_once_and_a_refused_one_is_retried(db_url: str, tmp_path: Path) -> None:
    _log_sev1(db_url, assignee="bob")
    dead_port = free_port()
    with Webhook(fail_times=2) as hook:
        _set_channel(db_url, "user", "chen", hook.url)  # the shift lead: the webhook
        _set_channel(db_url, "user", "bob", f"json://127.0.0.1:{dead_port}/hook")  # nobody listens yet
        _log_sev1(db_url, minutes_ago=0.1, assignee="alice")  # assigned to alice by monitor: no rule due
        assigned = _eim(db_url, "--user", "alice", "assign", "INC-000002", "--user", "bob")
        assert assigned.returncode == 0, assigned.stderr
        service = Service(db_url, tmp_path).start()
        try:
            wait_for(lambda: hook.received, "the webhook delivery after two failures")
            wait_for(lambda: "failed INC-000002 to bob by json (attempt 2)" in service.log(), "a second attempt")
            with Webhook(port=dead_port) as late:  # the refused channel comes up: the retry gets through
                wait_for(lambda: late.received, "the retried delivery")
                assert len(late.received) == 1 and "assigned to you" in late.received[0]["title"]
            time.sleep(1.5)  # a doubled delivery would have arrived by now
        finally:
            assert service.stop() == 0
        # chen: the not-acknowledged escalation of INC-000001, once, after two refusals
        assert [m["title"] for m in hook.received] == ["Sev1 INC-000001 escalated: Core switch down in dc1"]
        assert hook.requests == 3
    records = _timeline(db_url, EventKind.NOTIFICATION_SENT)
    failed_bob = [s for n, s, d in records if n == 2 and not d["ok"]]
    assert len(failed_bob) == 1 and "retrying" in failed_bob[0] and str(dead_port) not in failed_bob[0]


def test_sigkill_mid_sweep_then_restart_doubles_nothing(db_url: str, tmp_path: Path) -> None:
    count = 300
    _log_sev1(db_url, count, minutes_ago=11)  # both rules due: not acknowledged, and unassigned (the group)
    with Webhook(failing=True, fail_status=503) as hook:
        _set_channel(db_url, "group", "platform", hook.url)  # high-unassigned alerts the group
        service = Service(db_url, tmp_path, CONFIG.replace('"1m"', '"1h"'))
        service.start()
        engine = create_engine(open_services(db_url).db.url, poolclass=NullPool)
        query = text("SELECT count(*) FROM timeline_event WHERE kind = 'escalation'")
        tried = text("SELECT count(*) FROM outbox WHERE attempts > 0 AND status = 'pending'")

        def escalations() -> int:
            with engine.connect() as conn:
                return conn.execute(query).scalar_one()

        wait_for(lambda: escalations() or None, "the sweep to begin")
        service.proc.send_signal(signal.SIGKILL)
        with engine.connect() as conn:  # where the kill caught it: recording, or delivering
            mid = (conn.execute(query).scalar_one(), conn.execute(tried).scalar_one())
        service.proc.wait(10)
        engine.dispose()
        service.log_file.close()
        hook.failing = False
        again = Service(db_url, tmp_path, CONFIG.replace('"1m"', '"1h"')).start()
        try:
            wait_for(lambda: len(hook.received) >= count, f"{count} deliveries", deadline=90)
            wait_for(lambda: "sent" in again.log() and len(
                [1 for *_, d in _timeline(db_url, EventKind.NOTIFICATION_SENT) if d["ok"]]) >= count,
                "every delivery marked sent", deadline=60)
            time.sleep(1.5)  # a doubled delivery would have arrived by now
        finally:
            assert again.stop() == 0
    assert mid[0] < 2 * count or mid[1] < count, f"killed after all the work was done {mid}: use more incidents"
    escalations = _timeline(db_url, EventKind.ESCALATION)
    keys = Counter((n, d["rule"]) for n, _, d in escalations)
    assert len(keys) == 2 * count and set(keys.values()) == {1}  # not acknowledged, unassigned: once each
    per_incident = Counter(m["title"].split(" ")[1] for m in hook.received)
    assert len(per_incident) == count and set(per_incident.values()) == {1}, per_incident.most_common(3)
    sent = [n for n, _, d in _timeline(db_url, EventKind.NOTIFICATION_SENT) if d["ok"]]
    assert len(sent) == count and len(set(sent)) == count


def test_sigterm_exits_0_in_time_and_textual_is_never_imported(db_url: str, tmp_path: Path) -> None:
    _log_sev1(db_url)
    probe = ("import sys, eim_tui.cli.service as s\n"
             "leave = s._leave_by_deadline\n"
             "def report(since):\n"
             "    print('MODULES', json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('textual', 'rich', 'eim_tui') and (m.startswith('eim_tui.tui') or not m.startswith('eim_tui')))),"
             " flush=True)\n"
             "    leave(since)\n"
             "import json\n"
             "s._leave_by_deadline = report\n"
             "from eim_tui.cli.main import main\n"
             f"sys.exit(main(['--db', {db_url!r}, 'service', '--ingest', '127.0.0.1:0']))\n")
    service = Service(db_url, tmp_path)
    service.start([sys.executable, "-c", probe])
    port_line = wait_for(lambda: service.proc.stdout.readline(), "the receiver's line")
    assert "ingest listening on http://127.0.0.1:" in port_line
    service.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 2.0
    while service.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert service.proc.poll() == 0, f"still running or failed 2 s after SIGTERM:\n{service.log()}"
    out = service.proc.stdout.read()
    service.stop()
    modules = json.loads(out.split("MODULES", 1)[1])
    assert modules == [], modules
    assert "stopped" in service.log()


def test_check_names_the_file_and_line_of_each_problem(db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[alerts]\nseverities = [1, 2]\n\n[notify]\nattempts = 3\ndefault = ["bogus://x"]\n\n'
                      '[updates]\ncadence = { 1 = "0m" }\n')
    env = {**os.environ, "EIM_CONFIG": str(config)}
    _eim(db_url, "users", "list")  # make the store
    svc = open_services(db_url)
    try:
        NotificationCases(svc).set_channels("admin", "user", "bob", ["nope://bob:hunter2@x"])
    finally:
        svc.db.dispose()
    for args in (["service", "--check"], ["service"]):
        done = _eim(db_url, *args, env=env)
        assert done.returncode == 2, done
        lines = done.stderr.splitlines()
        assert f"eim: {config}: line 6: [notify] 'bogus://x' is not a notification URL" in lines[0]
        assert f"{config}: line 9: [updates] cadence for Sev1 must be more than 0" in lines[1]
        assert "the user bob's channel 'nope://bob:****@x'" in lines[2] and "hunter2" not in done.stderr
        assert len(lines) == 3 and done.stdout == ""
    config.write_text("")
    svc = open_services(db_url)
    try:
        NotificationCases(svc).set_channels("admin", "user", "bob", [])
    finally:
        svc.db.dispose()
    done = _eim(db_url, "service", "--check", env=env)
    assert done.returncode == 0 and "fine" in done.stdout, done.stderr
