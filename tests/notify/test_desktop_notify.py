"""Desktop notifications for real: a private D-Bus session bus, dunst on Xvfb, and dbus-monitor
watching what reaches the notification daemon. And the other side: with no usable bus, nothing is
written to the terminal's stream and the failure comes back as an outcome.

Without the tools these tests skip — except under CI, where a missing tool fails them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from eim_tui.notify.desktop import desktop_session, notify_desktop

TOOLS = ("dbus-daemon", "dbus-send", "dbus-monitor", "Xvfb", "dunst")


def _need_tools(*tools: str) -> None:
    missing = [t for t in tools or TOOLS if shutil.which(t) is None]
    if missing:
        reason = f"missing {', '.join(missing)} (apt-get install dbus libnotify-bin dunst xvfb)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must have them", pytrace=False)
        pytest.skip(reason)


def _wait_for(predicate, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(processes: list[subprocess.Popen]) -> None:
    for p in reversed(processes):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture
def desktop(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    """A private session bus, an X server, a notification daemon and a monitor: (env, monitor log)."""
    _need_tools()
    started: list[subprocess.Popen] = []
    try:
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        started.append(bus)
        address = bus.stdout.readline().strip()
        assert address.startswith("unix:"), address
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-nolisten", "tcp", "-screen", "0", "640x480x24"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        started.append(xvfb)
        display = ":" + xvfb.stdout.readline().strip()
        env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address, "DISPLAY": display}
        env.pop("WAYLAND_DISPLAY", None)
        log = tmp_path / "monitor.log"
        with log.open("w") as out:
            started.append(subprocess.Popen(["dbus-monitor", "--session", "interface=org.freedesktop.Notifications"],
                                            stdout=out, stderr=subprocess.DEVNULL, env=env))
        started.append(subprocess.Popen(["dunst"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        # dunst is ready once it owns the notifications name on the bus
        _wait_for(lambda: "org.freedesktop.Notifications" in subprocess.run(
            ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
             "org.freedesktop.DBus.ListNames"], capture_output=True, text=True, env=env).stdout, "dunst on the bus")
        yield env, log
    finally:
        _stop(started)


def _notify_calls(log: Path) -> list[list[str]]:
    """The string arguments of each Notify call the monitor saw: app, icon, title, body."""
    calls, current = [], None
    for line in log.read_text().splitlines():
        if "member=Notify" in line:
            current = []
            calls.append(current)
        elif current is not None and line.strip().startswith("string "):
            current.append(json.loads(line.strip()[len("string "):]))
    return calls


def test_a_real_notification_reaches_the_daemon_with_title_and_body(desktop) -> None:
    env, log = desktop
    assert desktop_session(env).ok
    outcome = notify_desktop("INC-000042 Sev1 resolution SLA breached", "Core database down — SLA breached", env=env)
    assert outcome.ok, outcome.detail
    calls = _wait_for(lambda: [c for c in _notify_calls(log) if len(c) >= 4], "the Notify call")
    assert calls[0][:4] == ["eim", "", "INC-000042 Sev1 resolution SLA breached", "Core database down — SLA breached"]


def test_eim_alerts_test_reports_the_desktop_channel_working(desktop, tmp_path: Path) -> None:
    env, log = desktop
    env = {**env, "EIM_CONFIG": str(tmp_path / "none.toml")}
    done = subprocess.run([sys.executable, "-m", "eim_tui", "alerts", "test", "--json", "--tty", os.devnull],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["desktop"] == {"ok": True, "detail": "delivered", "enabled": True}
    assert report["terminal"]["ok"] and report["bell"]["ok"] and not report["toast"]["ok"]
    calls = _wait_for(lambda: [c for c in _notify_calls(log) if len(c) >= 4], "the Notify call")
    assert calls[0][2] == "eim test alert"


def test_with_no_usable_bus_nothing_reaches_the_terminal_stream(tmp_path: Path) -> None:
    # A process whose fd 2 is the terminal (captured here) asks for a notification where a bus is
    # named but not there: notify-send's complaint must not appear on its fd 2.
    script = (
        "from eim_tui.notify.desktop import notify_desktop\n"
        "o = notify_desktop('INC-000001 Sev1', 'body')\n"
        "print(o.ok, o.detail)\n"
    )
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/no-bus", "DISPLAY": ":987"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0
    assert done.stderr == ""
    ok, _, detail = done.stdout.strip().partition(" ")
    assert ok == "False" and detail  # the reason comes back instead


def test_no_session_no_attempt() -> None:
    assert not desktop_session({}).ok
    assert "D-Bus" in desktop_session({"DISPLAY": ":0"}).detail
    assert "display" in desktop_session({"DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"}).detail
    assert "browser" in desktop_session({"DBUS_SESSION_BUS_ADDRESS": "x", "DISPLAY": ":0"}, is_web=True).detail


def test_the_child_never_takes_the_flatpak_portal(monkeypatch) -> None:
    # plyer reads a directory /app as Flatpak; the notifier chooses its backend itself.
    import eim_tui.notify.desktop as notifier

    _need_tools("notify-send")
    real_isdir = os.path.isdir
    monkeypatch.setattr(os.path, "isdir", lambda p: True if p == "/app" else real_isdir(p))
    import plyer.platforms.linux.notification as linux

    monkeypatch.setattr(linux, "subprocess", linux.subprocess)  # restored after the test
    backend = notifier._backend()
    assert type(backend).__name__ in ("NotifyDbus", "NotifySendNotification")
