"""`eim service`: the headless process a team runs beside its store — SLA scheduler, escalations,
outbound notifications with retries, and with `--ingest` the webhook receiver.

    eim service [--ingest HOST:PORT] [--token T] [--rules FILE]
    eim service --check

Everything is checked before anything runs: config.toml (`[alerts]`, `[notify]`, `[updates]`),
the escalation rules' people and groups, every stored channel URL. Each problem is one line with
its file and line; any problem is exit status 2. Logs go to stderr, one line per action (under
systemd, without timestamps: journald adds its own). SIGTERM or SIGINT: exit 0 within 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
import time

from eim_tui.cli.context import open_store
from eim_tui.cli.errors import UsageError
from eim_tui.cli.ingest import _listen

EXIT_DEADLINE = 1.8  # seconds after SIGTERM by which the process is gone, whatever still runs


def add_parsers(sub, common, db_only) -> None:
    p = sub.add_parser(
        "service", parents=[db_only],
        help="the headless service: SLA scheduler, escalations, notifications by mail/chat/push (--ingest: receiver)",
        description="Runs until SIGTERM. Channels: `eim users set NAME --notify URL`, `eim groups set NAME "
                    "--notify URL`, [notify] default in config.toml. See docs/deploy.md.",
    )
    p.add_argument("--ingest", type=_listen, default=None, metavar="HOST:PORT",
                   help="also run the webhook receiver there (port 0 picks a free one)")
    p.add_argument("--token", default=None, metavar="T",
                   help="the receiver requires 'Authorization: Bearer T' (env EIM_INGEST_TOKEN)")
    p.add_argument("--rules", default=None, metavar="FILE", help="alert routing rules for the receiver")
    p.add_argument("--check", action="store_true",
                   help="check the configuration, escalation rules and channels; exit 0 or 2")


def collect_problems(args: argparse.Namespace, svc) -> list[str]:
    """Every problem with what the service would run on, one line each."""
    from eim_tui.notify.channels import check_url, mask
    from eim_tui.notify.settings import read_settings
    from eim_tui.services.notifications import NotificationCases, check_reach

    _, problems = read_settings(args.config)
    cases = NotificationCases(svc)
    users, groups = cases.known_names()
    problems += check_reach(svc.ref.escalation_rules, users, groups)  # the store's rules
    for kind, name, url in cases.every_channel():
        if (wrong := check_url(url)) is not None:
            problems.append(f"the {kind} {name}'s channel {mask(url)!r}: {wrong} "
                            f"(fix it with `eim {kind}s set {name} --notify URL`)")
    return problems


def cmd_service(args, svc) -> int:
    from eim_tui.notify.settings import read_settings

    routing = _routing(args) if args.ingest or args.rules else None  # --check checks --rules too
    svc = open_store(args)
    try:
        problems = collect_problems(args, svc)
        if problems:
            for line in problems:
                print(f"eim: {line}", file=sys.stderr)
            return 2
        if args.check:
            print("eim service: configuration, escalation rules and channels are fine")
            return 0
        settings, _ = read_settings(args.config)
        return _run(args, svc, settings, routing)
    finally:
        svc.db.dispose()


cmd_service.needs_store = False  # the routing rules are read before the store is opened


def _routing(args):
    from eim_tui.ingest.routing import load_alert_routing
    from eim_tui.reference import ReferenceError, load_reference

    try:
        return load_alert_routing(load_reference(), args.rules)
    except ReferenceError as exc:
        raise UsageError(str(exc)) from None


def _logger() -> logging.Logger:
    log = logging.getLogger("eim.service")
    handler = logging.StreamHandler(sys.stderr)
    # journald stamps each line itself; elsewhere the line carries its own time.
    fmt = "eim service: %(message)s" if os.environ.get("JOURNAL_STREAM") else "%(asctime)s eim service: %(message)s"
    handler.setFormatter(logging.Formatter(fmt, "%Y-%m-%dT%H:%M:%S%z"))
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.INFO)
    for name in ("eim.ingest",):  # the receiver's own lines, the same way
        logging.getLogger(name).handlers[:] = [handler]
        logging.getLogger(name).setLevel(logging.INFO)
        logging.getLogger(name).propagate = False
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    return log


def _run(args, svc, settings, routing) -> int:
    from eim_tui.notify.service import EimService, ListenError

    log = _logger()
    ingest = None
    if routing is not None:
        from eim_tui.ingest.processor import AlertProcessor
        from eim_tui.ingest.server import IngestServer, Settings

        ingest = IngestServer(AlertProcessor(svc, routing), Settings(token=args.token or args.config.ingest_token))
    service = EimService(svc, settings, lambda line: log.info("%s", line), ingest, args.ingest)
    stopped_at: list[float] = []

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal() -> None:
            stopped_at.append(time.monotonic())
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)
        await service.run(stop)

    try:
        asyncio.run(main())
    except ListenError as exc:
        raise UsageError(str(exc)) from None
    _leave_by_deadline(stopped_at[0] if stopped_at else time.monotonic())
    return 0


def _leave_by_deadline(since: float) -> None:
    """Worker threads still busy (a send waiting on its timeout, a sweep between batches) would
    keep the interpreter alive past the promise; what they hold is a transaction the database
    rolls back, or a claim the next service sends again. Wait for them until the deadline only."""
    while time.monotonic() - since < EXIT_DEADLINE:
        busy = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]
        if not busy:
            return
        time.sleep(0.05)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
