"""Kill -9 loses nothing committed and doubles nothing: real `eim` processes killed with SIGKILL at
work, then started again.

* `eim ingest` during a burst of real HTTP posts: every post answered 2xx is stored exactly once,
  with its alert and incident, after the restart (whatever was stored but not yet processed is
  processed by the restarted receiver); SQLite and PostgreSQL.
* The TUI's SLA scheduler during its start-up sweep on a big store: what it committed stays, the
  restarted TUI records the rest, each moment once; SQLite and PostgreSQL.
* The TUI (in tmux) during a save of a new incident and of a note, killed at several delays after
  ctrl+s, and during bulk triage in the queue: each incident at most once, what the screen showed
  as saved is in the store, each bulk change at most once per incident, and the bulk run again
  after the restart finishes the job.

After each: `eim audit verify` passes. (An import during its run is not here: there is no import
command yet.) Each scenario is a plain function returning an `Outcome`, so `tests/bench/bench_kill9.py`
runs the same ones and prints the counts.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import func, select

from eim_tui.bootstrap import open_services
from eim_tui.domain.intake import NewIncident
from eim_tui.domain.model import EventKind, State
from eim_tui.store.tables import AlertRow, DiagnosisNoteRow, IncidentRow, InboundPayloadRow, TimelineRow

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the bench's fill, the sweep checks
from bench.bench_sla import fill  # noqa: E402
from services.test_sla_sweep import SLA_KINDS, doubled as sla_doubled  # noqa: E402

from test_tmux_lifecycle import EIM, ROOT, Terminal, _need_tmux  # noqa: E402

pytestmark = pytest.mark.e2e
DEADLINE = 120.0
LISTENING = re.compile(r"listening on http://([\d.]+):(\d+)")


@dataclass
class Outcome:
    """One kill scenario: how many kills, what was acknowledged before them, and what went wrong."""

    scenario: str
    kills: int = 0
    acknowledged: int = 0
    lost: list = field(default_factory=list)
    doubled: list = field(default_factory=list)
    chain_ok: bool = False

    def check(self) -> None:
        assert self.kills > 0 and self.acknowledged > 0, f"{self.scenario}: nothing was tested"
        assert self.lost == [], f"{self.scenario}: lost {self.lost[:10]}"
        assert self.doubled == [], f"{self.scenario}: doubled {self.doubled[:10]}"
        assert self.chain_ok, f"{self.scenario}: eim audit verify failed"


def _env(url: str, home: Path) -> dict[str, str]:
    return {**os.environ, "EIM_DB": url, "EIM_USER": "alice", "TZ": "UTC", "HOME": str(home),
            "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}


def audit_ok(url: str, home: Path) -> bool:
    done = subprocess.run([*EIM, "audit", "verify"], capture_output=True, text=True, env=_env(url, home),
                          cwd=ROOT, timeout=600)
    return done.returncode == 0


def poll(what: str, check, deadline: float = DEADLINE):
    end = time.monotonic() + deadline
    while not (result := check()):
        if time.monotonic() > end:
            raise AssertionError(f"{what} never happened")
        time.sleep(0.02)
    return result


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


# --- eim ingest during a burst ------------------------------------------------------------------


class Receiver:
    def __init__(self, url: str, home: Path) -> None:
        self.log = open(home / f"ingest-{secrets.token_hex(3)}.log", "w")  # noqa: SIM115 - closed in stop
        self.proc = subprocess.Popen([*EIM, "ingest", "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, env=_env(url, home), cwd=ROOT)
        line = self.proc.stdout.readline()
        found = LISTENING.search(line)
        if not found:
            self.stop()
            raise AssertionError(f"eim ingest did not start: {line!r}; see {self.log.name}")
        self.base = f"http://{found.group(1)}:{found.group(2)}"

    def post(self, body: dict) -> int:
        request = urllib.request.Request(f"{self.base}/api/v1/events", json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def pending(self) -> int:
        with urllib.request.urlopen(f"{self.base}/healthz", timeout=30) as answer:
            return json.loads(answer.read())["payloads"].get("pending", 0)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def ingest_burst(url: str, home: Path, posts: int = 600, kill_after: int = 120, senders: int = 6) -> Outcome:
    """`senders` threads post generic events, each with its own dedup key; the receiver is killed
    once `kill_after` are acknowledged; then started again and left to process what it stored."""
    open_services(url).db.dispose()
    run = secrets.token_hex(3)
    outcome = Outcome("ingest burst")
    acked: list[str] = []
    lock = threading.Lock()
    receiver = Receiver(url, home)
    todo = iter(range(posts))

    def send() -> None:
        while True:
            with lock:
                number = next(todo, None)
            if number is None:
                return
            key = f"kill9-{run}-{number}"
            try:
                status = receiver.post({"title": f"Kill test event {run} {number}", "dedup_key": key,
                                        "sender": "kill9", "impact": 3, "urgency": 3})
            except OSError:  # the receiver is gone: this one was not acknowledged
                continue
            if 200 <= status < 300:
                with lock:
                    acked.append(key)

    threads = [threading.Thread(target=send) for _ in range(senders)]
    try:
        for t in threads:
            t.start()
        poll("enough acknowledged posts", lambda: len(acked) >= kill_after)
        kill(receiver.proc.pid)
        outcome.kills = 1
        for t in threads:
            t.join(DEADLINE)
        receiver.proc.wait(DEADLINE)
        receiver.stop()
        outcome.acknowledged = len(acked)
        receiver = Receiver(url, home)  # the restart processes what was stored but not processed
        poll("the restarted receiver's recovery", lambda: receiver.pending() == 0)
    finally:
        receiver.stop()

    svc = open_services(url)
    try:
        with svc.db.read() as session:
            bodies = Counter(json.loads(body).get("dedup_key") for body, in session.execute(
                select(InboundPayloadRow.body).where(InboundPayloadRow.source == "generic")))
            processed = Counter(json.loads(body).get("dedup_key") for body, in session.execute(
                select(InboundPayloadRow.body).where(InboundPayloadRow.status == "processed")))
            alerts = {key: incident for key, incident in session.execute(
                select(AlertRow.dedup_key, AlertRow.incident_id).where(AlertRow.source == "generic"))}
            titles = Counter(session.execute(select(IncidentRow.title).where(
                IncidentRow.title.like(f"Kill test event {run} %"))).scalars())
            per_incident = Counter((n, kind) for n, kind in session.execute(
                select(TimelineRow.incident_id, TimelineRow.kind).where(
                    TimelineRow.kind.in_([EventKind.CREATED.value, EventKind.ALERT_RECEIVED.value]))))
    finally:
        svc.db.dispose()
    for key in acked:
        if bodies[key] == 0 or processed[key] == 0 or alerts.get(key) is None:
            outcome.lost.append(key)
    outcome.doubled += [k for k, n in bodies.items() if n > 1]
    outcome.doubled += [t for t, n in titles.items() if n > 1]
    outcome.doubled += [pair for pair, n in per_incident.items() if n > 1]
    outcome.chain_ok = audit_ok(url, home)
    return outcome


# --- the SLA scheduler's start-up sweep ---------------------------------------------------------


def scheduler_events(url: str) -> set[str]:
    svc = open_services(url)
    try:
        with svc.db.read() as session:
            return set(session.execute(select(TimelineRow.once_key).where(TimelineRow.kind.in_(SLA_KINDS))).scalars())
    finally:
        svc.db.dispose()


def sla_sweep(url: str, home: Path, incidents: int = 30_000) -> Outcome:
    """A store with `incidents` open incidents (a few thousand moments due in the last 24 h); the TUI
    is killed once its sweep has committed a batch, started again, and left to finish."""
    from eim_tui.services.sla import DEFAULT_LOOKBACK, SlaService

    outcome = Outcome("SLA start-up sweep")
    svc = open_services(url)
    fill(svc, incidents)
    svc.db.dispose()
    term = Terminal(f"eim-kill9-{secrets.token_hex(4)}", {k: v for k, v in _env(url, home).items()
                                                          if k in ("EIM_DB", "EIM_USER", "TZ", "HOME", "PYTHONPATH")})
    try:
        _start(term)
        poll("a batch of the sweep", lambda: scheduler_events(url))
        kill(term.pid())
        outcome.kills = 1
        poll("the killed app's pane to close", lambda: not term.alive())
        before = scheduler_events(url)
        outcome.acknowledged = len(before)
        restarted = open_services(url).clock.now()
        _start(term)
        svc = open_services(url)
        sla = SlaService(svc)
        # Everything due in the restarted sweep's window (from a little after its horizon, so
        # history at the edge does not count) is recorded by it.
        horizon, until = restarted - DEFAULT_LOOKBACK + DEFAULT_LOOKBACK / 1000, restarted
        try:
            numbers = sla.candidates(horizon, until)
            poll("the restarted sweep", lambda: not sla.pending(numbers, until, horizon))
            after = scheduler_events(url)
            outcome.lost = sorted(before - after)
            outcome.doubled = sla_doubled(svc)
            # The kill did land mid-way: the restart had moments left to record.
            assert len(after) > len(before), "the sweep had finished before the kill"
        finally:
            svc.db.dispose()
        term.keys("q")
        poll("the app to quit", lambda: not term.alive())
    finally:
        term.stop()
    outcome.chain_ok = audit_ok(url, home)
    return outcome


# --- the TUI saving ------------------------------------------------------------------------------

SUBJECTS = ("Printer on floor 3 jams", "Payroll export rejected by the bank", "Wiki search returns nothing",
            "Badge reader at door B dead", "Mail relay queue growing", "Proxy refuses CONNECT to 8443")
SAVED = re.compile(r"INC-\d{6} Sev\d \w+ · new ·")  # the new incident's own screen: it was saved
KILL_DELAYS = (0.0, 0.03, 0.1, 0.25, 0.6, 2.0)  # the last lets the save finish first


def _terminal(url: str, home: Path) -> Terminal:
    _need_tmux()
    return Terminal(f"eim-kill9-{secrets.token_hex(4)}",
                    {"EIM_USER": "alice", "TZ": "UTC", "TERM": "xterm-256color", "EIM_DB": url,
                     "HOME": str(home), "PYTHONPATH": str(ROOT)})


def _type_into_new_field(term: Terminal, text: str) -> None:
    """Type into a form just opened. Keys that arrive before its field has the focus go nowhere
    (under load the form can take a moment), so type again until the text is on the screen."""
    for _ in range(10):
        term.type(text)
        end = time.monotonic() + 3
        while time.monotonic() < end:
            if text[:20] in term.screen():
                return
            time.sleep(0.05)
    raise AssertionError(f"the form never took the text; the screen was:\n{term.screen()}")


def _discard_offered_draft(term: Terminal, wait: float = 2.0) -> None:
    """A kill after the form wrote its draft and before the save removed it leaves the draft, and
    the next form offers it back in a dialog a moment after opening: the `y` of a title typed then
    would answer it and restore the old title before the new one. Said no to here, so the round
    types into an empty form (what a kept draft holds is tests/tui's business)."""
    end = time.monotonic() + wait
    while time.monotonic() < end:
        if "Restore the draft" in term.screen():
            term.keys("n")
            poll("the draft dialog to close", lambda: "Restore the draft" not in term.screen())
            return
        time.sleep(0.05)


def _start(term: Terminal) -> None:
    """Start `eim` in the terminal. Just after a kill the tmux server may still be exiting (its last
    pane closed) and refuse the new session: try again until it has gone."""
    end = time.monotonic() + DEADLINE
    while True:
        try:
            term.start(EIM)
            return
        except subprocess.CalledProcessError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def _kill_app(term: Terminal) -> None:
    kill(term.pid())
    poll("the killed app's pane to close", lambda: not term.alive())


def tui_new_incident(url: str, home: Path, delays=KILL_DELAYS) -> Outcome:
    """For each delay: log a new incident with the form, ctrl+s, wait `delay`, look at the screen,
    kill -9. The incident is in the store at most once — and once if the screen showed it saved."""
    open_services(url).db.dispose()
    outcome = Outcome("TUI new incident")
    term = _terminal(url, home)
    titles: dict[str, bool] = {}
    try:
        for delay, subject in zip(delays, SUBJECTS, strict=False):
            # Titles unlike each other: a similar open incident would bring up the duplicates dialog.
            title = f"{subject} {secrets.token_hex(2)}"
            _start(term)
            term.wait_for("eim · ", "alice")
            term.keys("n")
            term.wait_for("New incident", "Title")
            _discard_offered_draft(term)
            _type_into_new_field(term, title)
            term.tab_to("Description and symptoms")
            term.tab_to("Impact *")
            term.pick(1, "3 — low: one user")  # impact 1
            term.tab_to("Urgency *")
            term.pick(2, "3 — low: can wait")  # urgency 2
            term.wait_for("Sev2 (high)")
            term.keys("C-s")
            time.sleep(delay)  # where in the save the kill lands
            shown = term.screen()
            _kill_app(term)
            outcome.kills += 1
            titles[title] = bool(SAVED.search(shown)) and title[:20] in shown
        svc = open_services(url)
        try:
            with svc.db.read() as session:
                stored = Counter(session.execute(select(IncidentRow.title)).scalars())
                created = Counter(session.execute(select(TimelineRow.incident_id).where(
                    TimelineRow.kind == EventKind.CREATED.value)).scalars())
        finally:
            svc.db.dispose()
        outcome.acknowledged = sum(titles.values()) or sum(stored[t] for t in titles)
        outcome.lost = [t for t, saved in titles.items() if saved and stored[t] == 0]
        outcome.doubled = [t for t in titles if stored[t] > 1] + [n for n, c in created.items() if c > 1]
        _start(term)  # and it opens on what is there
        term.wait_for("eim · ", "alice")
        term.keys("q")
        poll("the app to quit", lambda: not term.alive())
    finally:
        term.stop()
    outcome.chain_ok = audit_ok(url, home)
    return outcome


def tui_note(url: str, home: Path, delays=KILL_DELAYS) -> Outcome:
    """For each delay: an observation typed on INC-000001, ctrl+s, the kill. Each note at most once."""
    svc = open_services(url)
    svc.log_incident(NewIncident(title="VPN drops every 5 minutes", impact=2, urgency=2), "alice")
    svc.db.dispose()
    outcome = Outcome("TUI note")
    term = _terminal(url, home)
    texts: dict[str, bool] = {}
    try:
        for delay in delays:
            text = f"Observation {secrets.token_hex(3)} tunnel renegotiates"
            _start(term)
            term.wait_for("INC-000001", "VPN drops every 5 m")
            term.keys("Enter")
            term.wait_for("INC-000001", "Summary")
            term.keys("d")
            term.wait_for("diagnosis notes")
            shown = term.screen()
            if "Restore the" in shown:  # a draft from a kill before: not this test's business
                term.keys("n")
                term.wait_for(gone="Restore the")
            term.keys("o")
            term.wait_for("New observation")
            _type_into_new_field(term, text)
            term.keys("C-s")
            time.sleep(delay)
            shown = term.screen()
            _kill_app(term)
            outcome.kills += 1
            texts[text] = "New observation" not in shown and text[:20] in shown
        svc = open_services(url)
        try:
            with svc.db.read() as session:
                stored = Counter(session.execute(select(DiagnosisNoteRow.text)).scalars())
                added = session.execute(select(func.count()).select_from(TimelineRow).where(
                    TimelineRow.kind == EventKind.NOTE_ADDED.value)).scalar_one()
        finally:
            svc.db.dispose()
        if added != sum(stored.values()):  # a note without its event, or an event twice
            outcome.doubled.append(f"{added} note events for {sum(stored.values())} notes")
        outcome.acknowledged = sum(texts.values()) or sum(stored.values())
        outcome.lost = [t for t, saved in texts.items() if saved and stored[t] == 0]
        outcome.doubled += [t for t in texts if stored[t] > 1]
    finally:
        term.stop()
    outcome.chain_ok = audit_ok(url, home)
    return outcome


def tui_bulk(url: str, home: Path, incidents: int = 150) -> Outcome:
    """Mark every incident, bulk acknowledge, kill once some are done; restart and run the same
    bulk again. Each incident is acknowledged exactly once, with one state change in its timeline."""
    svc = open_services(url)
    for number in range(incidents):
        svc.log_incident(NewIncident(title=f"Storm alert {number}", impact=3, urgency=3), "bob")
    svc.db.dispose()
    outcome = Outcome("TUI bulk acknowledge")

    def acknowledged() -> int:
        svc = open_services(url)
        try:
            with svc.db.read() as session:
                return session.execute(select(func.count()).select_from(IncidentRow).where(
                    IncidentRow.state == State.IN_PROGRESS.value)).scalar_one()
        finally:
            svc.db.dispose()

    term = _terminal(url, home)

    def bulk_acknowledge() -> None:
        _start(term)
        term.wait_for("eim · ", "INC-")
        term.keys("*")
        term.wait_for("marked")
        term.keys("b")
        term.wait_for("marked incidents")
        term.keys("a")
        term.wait_for("y")
        term.until(lambda: "loading the marked" not in term.screen(), "the bulk preview never loaded")
        term.keys("y")

    try:
        bulk_acknowledge()
        poll("some acknowledged", lambda: acknowledged() > 0)
        _kill_app(term)
        outcome.kills = 1
        outcome.acknowledged = acknowledged()
        killed_at = outcome.acknowledged
        bulk_acknowledge()  # again, after the restart: finishes the rest
        poll("every incident acknowledged", lambda: acknowledged() == incidents)
        term.keys("Enter")
        term.keys("q")
        assert killed_at < incidents, "the bulk run had finished before the kill"
    finally:
        term.stop()
    svc = open_services(url)
    try:
        with svc.db.read() as session:
            changes = Counter(n for n, data in session.execute(
                select(TimelineRow.incident_id, TimelineRow.data).where(
                    TimelineRow.kind == EventKind.STATE_CHANGED.value)) if data.get("new") == State.IN_PROGRESS.value)
            unacked = session.execute(select(IncidentRow.id).where(IncidentRow.acknowledged_at.is_(None))).scalars().all()
    finally:
        svc.db.dispose()
    outcome.lost = list(unacked) + [n for n in range(1, incidents + 1) if changes[n] == 0]
    outcome.doubled = [n for n, c in changes.items() if c > 1]
    outcome.acknowledged = incidents
    outcome.chain_ok = audit_ok(url, home)
    return outcome


# --- the tests ----------------------------------------------------------------------------------


def test_ingest_killed_during_a_burst(db_url, tmp_path) -> None:
    ingest_burst(db_url, tmp_path).check()


def test_ingest_killed_in_the_middle_of_group_commits(db_url, tmp_path) -> None:
    """16 senders: the receiver stores and processes bodies in batches (group commit), so the kill
    lands between, or inside, batch transactions; nothing acknowledged is lost, nothing doubled."""
    ingest_burst(db_url, tmp_path, posts=900, kill_after=250, senders=16).check()


def test_ingest_killed_right_after_a_2xx_keeps_that_body(db_url, tmp_path) -> None:
    """Durable before 2xx: the receiver is killed the moment it has answered one post 2xx, before
    it could do anything more; the body is in the store, and the restarted receiver processes it."""
    open_services(db_url).db.dispose()
    key = f"durable-{secrets.token_hex(4)}"
    receiver = Receiver(db_url, tmp_path)
    try:
        status = receiver.post({"title": f"Durable {key}", "dedup_key": key, "sender": "kill9", "impact": 3, "urgency": 3})
        kill(receiver.proc.pid)
        receiver.proc.wait(DEADLINE)
    finally:
        receiver.stop()
    assert 200 <= status < 300, status
    svc = open_services(db_url)
    try:
        with svc.db.read() as session:
            bodies = [json.loads(b).get("dedup_key") for b in session.execute(
                select(InboundPayloadRow.body).where(InboundPayloadRow.source == "generic")).scalars()]
    finally:
        svc.db.dispose()
    assert bodies.count(key) == 1
    receiver = Receiver(db_url, tmp_path)
    try:
        poll("the restarted receiver's recovery", lambda: receiver.pending() == 0)
    finally:
        receiver.stop()
    svc = open_services(db_url)
    try:
        with svc.db.read() as session:
            titles = session.execute(select(IncidentRow.title).where(IncidentRow.title == f"Durable {key}")).scalars().all()
    finally:
        svc.db.dispose()
    assert len(titles) == 1


def test_scheduler_killed_during_its_startup_sweep(db_url, tmp_path) -> None:
    _need_tmux()
    sla_sweep(db_url, tmp_path).check()


def test_tui_killed_while_saving_a_new_incident(tmp_path) -> None:
    tui_new_incident(f"sqlite:///{tmp_path}/eim.db", tmp_path).check()


def test_tui_killed_while_saving_a_note(tmp_path) -> None:
    tui_note(f"sqlite:///{tmp_path}/eim.db", tmp_path).check()


def test_tui_killed_during_bulk_triage(tmp_path) -> None:
    tui_bulk(f"sqlite:///{tmp_path}/eim.db", tmp_path).check()
