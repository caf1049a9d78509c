"""Desktop notifications through plyer — in a child process, so they cannot hurt the TUI.

plyer on Linux may print to stderr (notify-send's errors, its own warnings: Textual draws on that
same stream), block on D-Bus, or raise; a directory `/app` makes it think it runs under Flatpak.
So the TUI only tries when a desktop session exists (`desktop_session`), from a worker thread, and
the call runs in `python -m eim_tui.notify.desktop` with every stream piped and a timeout. The
child picks plyer's D-Bus or notify-send backend itself (never the Flatpak portal) and reports
success or the reason it failed as one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass

TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class ChannelOutcome:
    """What one way of telling a person (toast, bell, terminal, desktop) did: shown, or why not."""

    ok: bool
    detail: str = ""


def desktop_session(env: Mapping[str, str] | None = None, is_web: bool = False) -> ChannelOutcome:
    """Whether a desktop notification can be shown here, and if not, why not."""
    env = os.environ if env is None else env
    if is_web:
        return ChannelOutcome(False, "served to a browser")
    if not env.get("DBUS_SESSION_BUS_ADDRESS"):
        return ChannelOutcome(False, "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return ChannelOutcome(False, "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)")
    return ChannelOutcome(True)


def notify_desktop(
    title: str, body: str, env: Mapping[str, str] | None = None, timeout: float = TIMEOUT_S
) -> ChannelOutcome:
    """Show a desktop notification; blocks up to `timeout` (call it from a thread). Never raises."""
    request = json.dumps({"title": title, "body": body})
    try:
        done = subprocess.run(
            [sys.executable, "-m", "eim_tui.notify.desktop"],
            input=request, capture_output=True, text=True, timeout=timeout,
            env=dict(os.environ if env is None else env), start_new_session=True,
        )
    except subprocess.TimeoutExpired:
        return ChannelOutcome(False, f"no answer within {timeout:g}s")
    except OSError as exc:
        return ChannelOutcome(False, f"cannot start the notifier: {exc.strerror or exc}")
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        return ChannelOutcome(bool(answer["ok"]), str(answer.get("detail", "")))
    except (IndexError, ValueError, KeyError, TypeError):
        reason = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return ChannelOutcome(False, reason[:200])


# --- the child --------------------------------------------------------------------------------


class _CheckedSubprocess:
    """Stands in for `subprocess` inside plyer's notify-send backend, which ignores the exit
    status: here a failing notify-send raises with what it said."""

    def __getattr__(self, name: str):
        return getattr(subprocess, name)

    @staticmethod
    def call(args, **_: object) -> int:
        done = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_S)
        if done.returncode != 0:
            raise RuntimeError((done.stderr.strip() or f"notify-send exit status {done.returncode}")[:200])
        return 0


def _backend():
    if not sys.platform.startswith("linux"):
        from plyer import notification

        return notification
    from plyer.platforms.linux import notification as linux

    try:
        import dbus  # noqa: F401 - only to learn whether plyer's D-Bus backend can work

        return linux.NotifyDbus()
    except ImportError:
        pass
    import shutil

    if shutil.which("notify-send"):
        linux.subprocess = _CheckedSubprocess()
        return linux.NotifySendNotification()
    raise RuntimeError("no way to notify: neither dbus-python nor notify-send is installed")


def _child() -> int:
    import warnings

    warnings.simplefilter("ignore")
    try:
        request = json.loads(sys.stdin.read())
        _backend().notify(title=request["title"], message=request["body"], app_name="eim", timeout=10)
    except Exception as exc:  # noqa: BLE001 - every failure is an answer, not a crash
        print(json.dumps({"ok": False, "detail": f"{type(exc).__name__}: {exc}".strip()[:300]}))
        return 1
    print(json.dumps({"ok": True, "detail": "delivered"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(_child())
