"""NO_COLOR in a real terminal: the real `eim` in tmux, its screen captured with its escape
sequences (`capture-pane -e`).

With NO_COLOR set (https://no-color.org) not one colour reaches the terminal — no foreground or
background, of the 8, 16, 256 or 24-bit kind; bold, reverse and underline may, so the cursor and a
breach still stand out — and the queue still says everything in words: keys, severities, SLA
states. Without NO_COLOR the same capture has colours, which shows the check can fail.

Each test runs its own tmux server (`-L`), so nothing here touches anyone else's sessions.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 60.0  # seconds to wait for a screen; only a hung test ever reaches it
SGR = re.compile(r"\x1b\[([0-9;:]*)m")


def _need_tmux() -> None:
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is not installed (.ci/run installs it)", pytrace=False)
        pytest.skip("tmux is not installed (apt-get install -y tmux)")


def _socket_path(name: str) -> Path:
    """Where tmux puts the socket of `tmux -L name`."""
    return Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}" / name


def colours(screen: str) -> list[str]:
    """The SGR sequences in `screen` that set a colour (default colours, 39 and 49, do not)."""
    found = []
    for match in SGR.finditer(screen):
        params = re.split(r"[;:]", match.group(1))
        at = 0
        while at < len(params):
            code = int(params[at] or 0)
            if code in (38, 48, 58):  # extended colour: 5;n or 2;r;g;b (any sub-parameters)
                found.append(match.group(0))
                break
            if 30 <= code <= 37 or 40 <= code <= 47 or 90 <= code <= 97 or 100 <= code <= 107:
                found.append(match.group(0))
                break
            at += 1
    return found


def plain(screen: str) -> str:
    return SGR.sub("", screen)


class Pane:
    """One tmux server and session running `eim` at 100x30."""

    def __init__(self, env: dict[str, str]) -> None:
        self.socket = f"eim-nocolor-{secrets.token_hex(4)}"
        self.env = env

    def tmux(self, *args: str, check: bool = True) -> str:
        # -f /dev/null: nobody's tmux.conf changes what the pane keeps
        done = subprocess.run(["tmux", "-f", "/dev/null", "-L", self.socket, *args],
                              capture_output=True, text=True, check=check)
        return done.stdout

    def start(self, argv: list[str]) -> None:
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        command = f"cd {shlex.quote(str(ROOT))} && exec env -i {env} {shlex.join(argv)}"
        self.tmux("new-session", "-d", "-s", "eim", "-x", "100", "-y", "30", command)

    def capture(self) -> str:
        """The screen with its colours and attributes."""
        return self.tmux("capture-pane", "-e", "-p", "-t", "eim", check=False)

    def wait_for(self, *texts: str) -> str:
        deadline = time.monotonic() + DEADLINE
        while True:
            screen = self.capture()
            if all(t in plain(screen) for t in texts):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {texts!r}; the screen was:\n{plain(screen)}")
            time.sleep(0.1)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "eim", *keys)

    def stop(self) -> None:
        self.tmux("kill-server", check=False)
        _socket_path(self.socket).unlink(missing_ok=True)  # tmux 3.3 leaves it behind


@pytest.fixture
def pane(tmp_path: Path, request) -> Iterator[Pane]:
    _need_tmux()
    config = tmp_path / "config.toml"
    config.write_text("")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "TERM": "xterm-256color",
           "TZ": "UTC", "EIM_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
    if request.param:
        env["NO_COLOR"] = "1"
    terminal = Pane(env)
    terminal.start([sys.executable, "-m", "eim_tui", "--db", f"sqlite:///{tmp_path}/eim.db", "--user", "alice",
                    "--demo-if-empty"])
    yield terminal
    terminal.stop()


# What the demo queue says in words: a key, the column headings, severities, SLA states.
QUEUE_WORDS = ("INC-000001", "Key", "Sev", "SLA", "S1", "S2", "BREACHED", "paused")


@pytest.mark.parametrize("pane", [True], ids=["NO_COLOR"], indirect=True)
def test_with_no_color_not_one_colour_reaches_the_terminal(pane: Pane) -> None:
    queue = pane.wait_for(*QUEUE_WORDS)
    assert colours(queue) == [], plain(queue)
    # the cursor stays visible without colour: its whole line is drawn in reverse
    starts = [re.match(r"\x1b\[([0-9;]*)m *INC-0000", line) for line in queue.splitlines()]
    assert [m for m in starts if m and "7" in m.group(1).split(";")], queue
    pane.keys("Enter")  # the incident under the cursor, and its detail screen
    detail = pane.wait_for("Summary")
    assert colours(detail) == [], plain(detail)


@pytest.mark.parametrize("pane", [False], ids=["colour"], indirect=True)
def test_without_no_color_the_same_check_finds_colours(pane: Pane) -> None:
    queue = pane.wait_for(*QUEUE_WORDS)
    assert colours(queue), plain(queue)
