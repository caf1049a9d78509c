"""`eim alerts test`: send a test alert through every channel and say which ones worked.

Outside the TUI there is no toast; the bell and the terminal notification escape go to the
controlling terminal (/dev/tty), never to stdout, so a script's output stays clean; the desktop
notification goes through the same child-process notifier the TUI uses.
"""

from __future__ import annotations

import os

from eim_tui.cli.errors import Parser, emit_json
from eim_tui.config import CHANNELS
from eim_tui.notify.desktop import ChannelOutcome, desktop_session, notify_desktop
from eim_tui.notify.terminal import BEL, for_terminal, write_to_tty

TITLE = "eim test alert"
BODY = "If you can read this, eim's SLA alerts reach you here."


def add_parsers(sub, common, db_only) -> None:
    alerts = sub.add_parser("alerts", help="SLA alerts: test the channels")
    alerts_sub = alerts.add_subparsers(dest="alerts_command", metavar="test", required=True, parser_class=Parser)
    test = alerts_sub.add_parser("test", help="send a test alert through every channel and report which worked")
    test.add_argument("--json", action="store_true", help="print each channel's outcome as JSON")
    test.add_argument("--tty", default="/dev/tty", type=_terminal, metavar="PATH",
                      help="terminal for the bell and escape")


def _terminal(text: str) -> str:
    """A path for --tty: refused when it names something that is not a terminal — writing the bell
    there would overwrite the start of an ordinary file."""
    import argparse
    import stat

    if "\x00" in text:
        raise argparse.ArgumentTypeError("a path cannot contain a NUL character")
    try:
        mode = os.stat(text).st_mode
    except (OSError, ValueError):
        return text  # nothing there (yet): the test reports "no terminal at PATH"
    if not stat.S_ISCHR(mode):
        raise argparse.ArgumentTypeError(f"{text!r} is not a terminal (give a device such as /dev/pts/3)")
    return text


def cmd_alerts(args, _svc) -> int:
    settings = args.config.alerts
    results = run_test(settings.escape, settings.tmux_passthrough, args.tty)
    if args.json:
        emit_json({name: {"ok": o.ok, "detail": o.detail, "enabled": name in settings.channels}
                   for name, o in results.items()})
    else:
        for name, outcome in results.items():
            enabled = "" if name in settings.channels else " [disabled in your [alerts] settings]"
            status = "ok" if outcome.ok else "n/a" if name == "toast" else "FAILED"
            print(f"{name:<9} {status:<6} {outcome.detail}{enabled}")
    return 0 if any(o.ok for o in results.values()) else 1


cmd_alerts.needs_store = False  # type: ignore[attr-defined]


def run_test(escape: str, passthrough: bool, tty: str = "/dev/tty") -> dict[str, ChannelOutcome]:
    results: dict[str, ChannelOutcome] = {}
    for channel in CHANNELS:
        if channel == "toast":
            results[channel] = ChannelOutcome(False, "shown only inside the TUI")
        elif channel == "bell":
            ok = write_to_tty(BEL, tty)
            results[channel] = ChannelOutcome(ok, f"written to {tty}" if ok else f"no terminal at {tty}")
        elif channel == "terminal":
            sequence = for_terminal(escape, TITLE, BODY, dict(os.environ), passthrough)
            ok = write_to_tty(sequence, tty)
            via = " through tmux passthrough" if passthrough and os.environ.get("TMUX") else ""
            results[channel] = ChannelOutcome(ok, f"{escape} written to {tty}{via}" if ok else f"no terminal at {tty}")
        else:
            session = desktop_session()
            results[channel] = notify_desktop(TITLE, BODY) if session.ok else ChannelOutcome(False, session.detail)
    return results
