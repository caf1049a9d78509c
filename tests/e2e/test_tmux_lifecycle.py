"""The real `eim` in a real terminal (tmux, 80x24), driven by keys alone.

One incident's whole life: logged with the new-incident form, acknowledged, diagnosed (an
observation and a root cause), put on hold and resumed, resolved and closed — checked on the
screen at each step and at the end through `eim show KEY --json`. And the crash test: the app is
killed (SIGKILL) mid-sentence in the notes editor, restarted, and offers the draft back.

Each test runs its own tmux server (`-L`), so nothing here touches anyone else's sessions. Every
step waits for what it expects to see on the screen (a text, a field drawn with the focus, a box
drawn ticked), never for a length of time, so a slow machine only makes it slower.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from eim_tui.domain.drafts import note_scope
from eim_tui.services.drafts import Drafts
from eim_tui.store.engine import Database

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
EIM = [sys.executable, "-m", "eim_tui"]
DEADLINE = 90.0  # seconds to wait for something to appear; only a hung test ever reaches it
SGR = re.compile(r"\x1b\[([0-9;:]*)m")


@dataclass(frozen=True)
class Cell:
    """One character of a captured screen, with the colour it is drawn in."""

    char: str
    fg: str  # the foreground colour as the SGR parameters say it ("" = the default)


def cells(captured: str) -> list[list[Cell]]:
    """A `capture-pane -e` screen as lines of cells. The colour is carried from one line to the
    next, as the terminal would (tmux only writes a change)."""
    fg = ""
    lines: list[list[Cell]] = []
    for text in captured.split("\n"):
        line: list[Cell] = []
        at = 0
        for match in SGR.finditer(text):
            line += [Cell(c, fg) for c in text[at:match.start()]]
            at = match.end()
            params = re.split(r"[;:]", match.group(1)) if match.group(1) else ["0"]
            i = 0
            while i < len(params):
                code = int(params[i] or 0)
                if code in (0, 39):
                    fg = ""
                elif 30 <= code <= 37 or 90 <= code <= 97:
                    fg = str(code)
                elif code in (38, 48, 58):  # 5;n or 2;r;g;b: the colour is the next parameters
                    length = 3 if params[i + 1:i + 2] == ["5"] else 5
                    if code == 38:
                        fg = ";".join(params[i:i + length])
                    i += length - 1
                i += 1
        line += [Cell(c, fg) for c in text[at:]]
        lines.append(line)
    return lines


def _need_tmux() -> None:
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is not installed (.ci/run installs it)", pytrace=False)
        pytest.skip("tmux is not installed (apt-get install -y tmux)")


def _socket_path(name: str) -> Path:
    """Where tmux puts the socket of `tmux -L name`."""
    return Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}" / name


class Terminal:
    """One tmux server and session running one command at 80x24."""

    def __init__(self, socket: str, env: dict[str, str]) -> None:
        self.socket = socket
        self.env = env
        self.session = "eim"

    def tmux(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check)
        return done.stdout

    def start(self, argv: list[str]) -> None:
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        # `exec` makes the app itself the pane's process, so its pid is the pane's pid.
        command = f"cd {shlex.quote(str(ROOT))} && exec env {env} {shlex.join(argv)}"
        self.tmux("new-session", "-d", "-s", self.session, "-x", "80", "-y", "24", command)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session, check=False)

    def pid(self) -> int:
        return int(self.tmux("display", "-p", "-t", self.session, "#{pane_pid}").strip())

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", self.session, key)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", self.session, "-l", text)

    def wait_for(self, *texts: str, gone: str = "") -> str:
        """Poll the screen until every text is on it (and `gone` is not)."""
        deadline = time.monotonic() + DEADLINE
        while True:
            shown = self.screen()
            if all(t in shown for t in texts) and not (gone and gone in shown):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {texts!r} (gone: {gone!r}); the screen was:\n{shown}")
            time.sleep(0.1)

    def styled_field(self, label: str) -> str:
        """The line holding `label` and the one under it (where a form puts the field when the
        label has a line of its own), with their colours and attributes."""
        lines = self.tmux("capture-pane", "-p", "-e", "-t", self.session, check=False).splitlines()
        for at, line in enumerate(lines):
            if label in line:
                return "\n".join(lines[at:at + 2])
        return ""

    def label_cells(self, label: str) -> list[Cell]:
        """The cells of the line that holds `label`, from the start of the line to the label's
        end; [] while it is not on the screen."""
        for line in cells(self.tmux("capture-pane", "-p", "-e", "-t", self.session, check=False)):
            text = "".join(c.char for c in line)
            if (at := text.find(label)) >= 0:
                return line[:at + len(label)]
        return []

    def until(self, check, what: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}; the screen was:\n{self.screen()}")
            time.sleep(0.05)

    def tick(self, label: str) -> None:
        """Tick the focused checkbox labelled `label` with space, and wait until it is drawn
        ticked. Its X is always there; only the X's colour says whether it is ticked — the focus
        changes the box's weight and the label's colours, never the X's colour — so a late focus
        highlight cannot pass for the tick."""
        def x_colour() -> str:
            box = [c for c in self.label_cells(label)[:-len(label)] if c.char == "X"]
            return box[-1].fg if box else "?"

        self.until(lambda: x_colour() != "?", f"no box beside {label!r}")
        unticked = x_colour()
        self.keys("Space")
        self.until(lambda: x_colour() not in (unticked, "?"), f"{label!r} was never ticked")

    def tab_to(self, label: str, key: str = "Tab") -> None:
        """Move the focus to the field on the line of `label`, and wait until it is drawn there.

        Textual hands a key to the widget focused when the key arrives, and `tab` moves the focus
        only once it has been handled — so text sent right behind a tab can reach the field being
        left. The field's lines change when it takes the focus (a cursor, a highlight), so wait
        for that, as a person would look before typing."""
        before = self.styled_field(label)
        self.keys(key)
        self.until(lambda: self.styled_field(label) != before, f"{label!r} never took the focus")

    def pick(self, downs: int, shown_when_open: str) -> None:
        """Choose in the focused Select: open it, wait until its list is drawn, move, choose.
        (Keys sent before the list has focus would reach the closed Select instead.)"""
        self.keys("Enter")
        self.wait_for(shown_when_open)
        self.keys(*(["Down"] * downs), "Enter")
        self.wait_for(gone=shown_when_open)

    def save_form(self, state: str, form_text: str) -> None:
        """ctrl+s on a detail-screen form, then wait for the incident's new state.

        If the incident changed underneath (here: only ever by this user's own root-cause note,
        when the detail screen had not reloaded yet), the form says so, keeps the input and
        offers ctrl+s again — which is what a person would press."""
        self.keys("C-s")
        deadline = time.monotonic() + DEADLINE
        retried = False
        while True:
            shown = self.screen()
            if f"INC-000001 Sev2 high · {state} ·" in shown and form_text not in shown:
                return
            if "ctrl+s tries again" in shown and not retried:
                retried = True
                self.keys("C-s")
            if time.monotonic() > deadline:
                stored = eim(self, "show", "INC-000001", "--json").stdout
                stored = json.loads(stored)["state"] if stored.startswith("{") else "unknown"
                raise AssertionError(f"never saw the state {state!r} (the store says {stored!r}); "
                                     f"the screen was:\n{shown}")
            time.sleep(0.1)

    def alive(self) -> bool:
        return subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", self.session],
                              capture_output=True).returncode == 0

    def stop(self) -> None:
        self.tmux("kill-server", check=False)
        _socket_path(self.socket).unlink(missing_ok=True)  # tmux 3.3 leaves it behind


@pytest.fixture
def terminal(tmp_path):
    _need_tmux()
    env = {"EIM_USER": "alice", "TZ": "UTC", "TERM": "xterm-256color", "EIM_DB": f"sqlite:///{tmp_path}/eim.db",
           "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    term = Terminal(f"eim-e2e-{secrets.token_hex(4)}", env)
    yield term
    term.stop()


def eim(terminal: Terminal, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **terminal.env}
    return subprocess.run([*EIM, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)


def test_one_incident_through_its_whole_life_with_keys_alone(terminal: Terminal) -> None:
    terminal.start(EIM)
    terminal.wait_for("eim · ", "alice")

    # Logging: the new-incident form.
    terminal.keys("n")
    terminal.wait_for("New incident", "Title")
    terminal.type("Payroll export to the bank fails")
    terminal.tab_to("Description and symptoms")
    terminal.tab_to("Impact *")
    terminal.pick(1, "3 — low: one user")  # impact 1
    terminal.tab_to("Urgency *")
    terminal.pick(2, "3 — low: can wait")  # urgency 2
    terminal.wait_for("Sev2 (high)")
    terminal.keys("C-s")
    shown = terminal.wait_for("INC-000001 Sev2 high · new ·", gone="New incident")
    assert "Payroll export to the bank fails" in shown

    terminal.keys("a")  # acknowledge and take
    terminal.wait_for("INC-000001 Sev2 high · in progress ·")

    # Diagnosis: an observation and a root cause.
    terminal.keys("d")
    terminal.wait_for("diagnosis notes", "No notes yet")
    terminal.keys("o")
    terminal.wait_for("New observation")
    terminal.type("Bank SFTP rejects our key since 08:00")
    terminal.keys("C-s")
    terminal.wait_for("1 Observation", "Bank SFTP rejects our key", gone="New observation")
    terminal.keys("c")
    terminal.wait_for("New root cause")
    terminal.type("The bank rotated its host key without notice")
    terminal.keys("C-s")
    terminal.wait_for("2 Root cause", "root cause: The bank rotated its host key", gone="New root cause")
    terminal.keys("Escape")
    terminal.wait_for("INC-000001 Sev2 high · in progress ·", gone="diagnosis notes")

    terminal.keys("h")  # hold: awaiting the user
    terminal.wait_for("Waiting for")
    terminal.pick(1, "awaiting vendor")
    terminal.save_form("on hold", "Waiting for")
    terminal.keys("h")  # resume
    terminal.wait_for("INC-000001 Sev2 high · in progress ·")

    terminal.keys("r")  # resolve
    terminal.wait_for("Resolution code")
    terminal.pick(1, "Workaround in place")
    terminal.tab_to("What was done *")
    terminal.type("Accepted the bank's new host key after checking its fingerprint by phone")
    terminal.wait_for("Accepted the bank's new host key")
    terminal.save_form("resolved", "Resolution code")

    terminal.keys("x")  # close: verified
    terminal.wait_for("Verification done")
    terminal.tick("Verification done")
    terminal.save_form("closed", "Verification done")

    terminal.keys("Escape")
    terminal.wait_for("eim · ")
    terminal.keys("q")
    deadline = time.monotonic() + DEADLINE
    while terminal.alive() and time.monotonic() < deadline:
        time.sleep(0.1)

    shown = eim(terminal, "show", "INC-000001", "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert (data["key"], data["state"], data["severity"]) == ("INC-000001", "closed", 2)
    assert data["root_cause"] == "The bank rotated its host key without notice"
    assert [(n["kind"], n["author"]) for n in data["diagnosis_notes"]] == [("observation", "alice"),
                                                                             ("root_cause", "alice")]
    kinds = [e["kind"] for e in data["timeline"]]
    assert kinds[0] == "created" and kinds.count("note_added") == 2
    states = [(e["data"]["old"], e["data"]["new"]) for e in data["timeline"] if e["kind"] == "state_changed"]
    assert states == [("new", "in_progress"), ("in_progress", "on_hold"), ("on_hold", "in_progress"),
                      ("in_progress", "resolved"), ("resolved", "closed")]
    assert {e["actor"] for e in data["timeline"]} == {"alice"}
    assert eim(terminal, "audit", "verify").returncode == 0


def test_a_note_being_typed_survives_the_app_being_killed(terminal: Terminal) -> None:
    logged = eim(terminal, "new", "--title", "VPN drops every 5 minutes", "--impact", "2", "--urgency", "2")
    assert logged.returncode == 0, logged.stderr
    db = Database(terminal.env["EIM_DB"])
    drafts = Drafts(db)
    try:
        terminal.start(EIM)
        terminal.wait_for("INC-000001", "VPN drops every 5 m")  # the queue cuts the title at 80 columns
        terminal.keys("Enter")  # open the incident under the cursor
        terminal.wait_for("INC-000001", "Summary")
        terminal.keys("d")
        terminal.wait_for("diagnosis notes", "No notes yet")
        terminal.keys("o")
        terminal.wait_for("New observation")
        terminal.type("Tunnel renegotiates every 300 s; the log shows DPD time")
        deadline = time.monotonic() + DEADLINE
        while (found := drafts.load("alice", note_scope(1))) is None or "DPD time" not in found.content["text"]:
            assert time.monotonic() < deadline, "the draft never reached the store"
            time.sleep(0.1)
        pid = terminal.pid()
        os.kill(pid, signal.SIGKILL)  # mid-sentence, no chance to clean up
        deadline = time.monotonic() + DEADLINE
        while terminal.alive():
            assert time.monotonic() < deadline, "the pane outlived its killed app"
            time.sleep(0.1)

        terminal.start(EIM)
        terminal.wait_for("INC-000001", "VPN drops every 5 m")
        terminal.keys("Enter")
        terminal.wait_for("INC-000001", "Summary")
        terminal.keys("d")
        terminal.wait_for("Restore the observation", "Tunnel renegotiates every 300 s")
        terminal.keys("y")
        terminal.wait_for("New observation", "the log shows DPD time")
        terminal.type("outs")
        terminal.keys("C-s")
        terminal.wait_for("1 Observation", "DPD timeouts", gone="New observation")
        assert drafts.load("alice", note_scope(1)) is None
    finally:
        db.dispose()
