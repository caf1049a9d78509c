"""The real `eim` in tmux, where desktop notifications cannot work (a D-Bus address and a display
that are not there): the breach still reaches the screen as a toast, the failed desktop attempt is
recorded in the timeline, and not one stray character lands outside Textual's frame.

Each test runs its own tmux server (`-L`), so nothing here touches anyone else's sessions.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from eim_tui.bootstrap import open_services
from eim_tui.domain.clock import FixedClock, SystemClock
from eim_tui.domain.intake import NewIncident

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 40.0
STRAY = ("Could not connect", "notify-send", "dbus", "DBus", "Traceback", "Warning", "Error:", "GDBus")


def _need_tmux() -> None:
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is not installed (.ci/run installs it)", pytrace=False)
        pytest.skip("tmux is not installed (apt-get install -y tmux)")


def _socket_path(name: str) -> Path:
    """Where tmux puts the socket of `tmux -L name`."""
    return Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}" / name


def _wait(predicate, what: str):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_breach_shows_and_a_failing_desktop_notification_leaves_no_trace(tmp_path: Path) -> None:
    _need_tmux()
    url = f"sqlite:///{tmp_path}/eim.db"
    # Logged 20 minutes ago (real time): its Sev1 response breached 5 minutes ago, so the
    # scheduler's first run, at start-up, records it and alerts alice, who holds it.
    svc = open_services(url, FixedClock(SystemClock().now() - timedelta(minutes=20)))
    svc.log_incident(NewIncident(title="Core switch down in dc1", impact=1, urgency=1,
                                 assignment_group="platform", assignee="alice"), "monitor")
    svc.db.dispose()
    config = tmp_path / "config.toml"
    config.write_text('[alerts]\nchannels = ["toast", "bell", "terminal", "desktop"]\nescape = "osc777"\n')
    env = {
        "EIM_CONFIG": str(config),
        "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/no-such-bus",
        "DISPLAY": ":987",
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
    }
    socket = f"eim-alerts-{secrets.token_hex(4)}"
    argv = [sys.executable, "-m", "eim_tui", "--db", url, "--user", "alice"]
    command = f"cd {shlex.quote(str(ROOT))} && exec env -i {' '.join(f'{k}={shlex.quote(v)}' for k, v in env.items())} " \
              f"{shlex.join(argv)}"

    def tmux(*args: str, check: bool = True) -> str:
        return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, check=check).stdout

    tmux("new-session", "-d", "-s", "eim", "-x", "80", "-y", "24", command)
    try:
        screen = lambda: tmux("capture-pane", "-p", "-t", "eim", check=False)  # noqa: E731
        _wait(lambda: "SLA breached" in screen(), "the breach toast")
        # The desktop notifier answers (it failed) and the outcome is written to the timeline.
        def recorded():
            done = subprocess.run([sys.executable, "-m", "eim_tui", "--db", url, "show", "INC-000001", "--json"],
                                  capture_output=True, text=True, cwd=ROOT)
            if done.returncode != 0:
                return None
            events = [e for e in json.loads(done.stdout).get("timeline", []) if e.get("kind") == "notification_sent"]
            return [e for e in events if "desktop failed" in e.get("summary", "")]
        assert _wait(recorded, "the recorded notification outcome")
        time.sleep(1.0)  # anything the failing notifier might print would be on the screen by now
        shown = screen()
        lines = shown.splitlines()
        # the frame is intact from its first line to its last: the title and the footer
        assert lines[0].strip().startswith("eim · All open (1)"), shown
        assert "palette" in lines[-1], shown
        for word in STRAY:
            assert word not in shown, f"{word!r} leaked onto the screen:\n{shown}"
    finally:
        tmux("kill-server", check=False)
        _socket_path(socket).unlink(missing_ok=True)  # tmux 3.3 leaves it behind
