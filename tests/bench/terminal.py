"""A real terminal for the benchmarks: a program in a tmux pane, read back with capture-pane.

Each `Terminal` uses its own tmux server (`-L`), so it never touches anyone's sessions, and it
is killed on exit. `wait_for` polls the pane about every 5 ms (each capture is a short
subprocess, so that is the resolution of every figure measured this way).
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

_SERVERS = itertools.count()

ROW_WITH_DATA = re.compile(r"INC-\d{6}\S*\s+S[1-5]")
"""A queue line whose row is loaded (a placeholder shows the key and an ellipsis only)."""
PLACEHOLDER = re.compile(r"INC-\d{6}\s+…\s*$", re.MULTILINE)


class Terminal:
    def __init__(self, command: Sequence[str], width: int = 120, height: int = 40,
                 env: dict[str, str] | None = None) -> None:
        self.socket = f"eim-bench-{os.getpid()}-{next(_SERVERS)}"
        environment = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
        # `exec`: the pane's process is the program itself, so its pid is the one to measure.
        line = f"exec env {environment} {shlex.join(command)}"
        self.started = time.perf_counter()
        self._tmux("new-session", "-d", "-s", "bench", "-x", str(width), "-y", str(height), line)
        pid, self.socket_path = self._tmux("display-message", "-p", "-t", "bench",
                                           "#{pane_pid} #{socket_path}").strip().split(" ", 1)
        self.pid = int(pid)

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=True, capture_output=True,
                              text=True).stdout

    def capture(self, styles: bool = False) -> str:
        """The screen's text; with `styles`, its colours too (a moved cursor changes only those)."""
        return self._tmux("capture-pane", "-p", *(["-e"] if styles else []), "-t", "bench")

    def send(self, *keys: str, literal: bool = False) -> None:
        self._tmux("send-keys", "-t", "bench", *(["-l"] if literal else []), *keys)

    def wait_for(self, condition: Callable[[str], bool], timeout: float = 30.0,
                 styles: bool = False) -> tuple[float, str]:
        """Poll until the screen satisfies `condition`: (the instant it was seen, the screen)."""
        deadline = time.perf_counter() + timeout
        while True:
            screen = self.capture(styles)
            seen = time.perf_counter()
            if condition(screen):
                return seen, screen
            if seen > deadline:
                raise TimeoutError(f"the screen never showed what was expected:\n{screen}")
            time.sleep(0.005)

    def rss_mb(self) -> float:
        """Resident memory of the program (VmRSS), in MiB."""
        with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        """User + system CPU the program has used so far."""
        with open(f"/proc/{self.pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        Path(self.socket_path).unlink(missing_ok=True)  # a killed server leaves its socket file

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
