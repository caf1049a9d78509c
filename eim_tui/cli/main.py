"""The command line: `eim` (the TUI) and the subcommands scripts rely on.

Exit status 0 on success, 2 on bad input with one line on stderr — never a traceback. Heavy
imports happen inside each command, so `eim --help` and the TUI start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from eim_tui import __version__
from eim_tui.cli import (
    alerts,
    audit,
    catalogue,
    changes,
    collab,
    export,
    groups,
    history,
    incidents,
    ingest,
    patterns,
    problems,
    service,
    similar,
    ssh,
    status,
    users,
    wall,
)
from eim_tui.cli.context import complete, open_store
from eim_tui.cli.errors import Parser, UsageError, explain, fail, store_fault
from eim_tui.domain.errors import DomainError

# Modules that add subcommands: each has `add_parsers(sub, common, db_only)` and `cmd_<command>(args, svc)`.
COMMAND_MODULES = (incidents, export, users, ingest, wall, alerts, service, groups, status, catalogue, changes, collab,
                   audit, ssh, history, problems, similar, patterns)


def build_parser() -> Parser:
    db_only = Parser(add_help=False)
    db_only.add_argument("--db", metavar="URL", default=argparse.SUPPRESS,
                         help="store URL: sqlite:///PATH or postgresql+psycopg://… (env EIM_DB)")
    common = Parser(add_help=False, parents=[db_only])
    common.add_argument("--user", metavar="NAME", default=argparse.SUPPRESS,
                        help="who you are in the timeline (env EIM_USER; default your login)")
    common.add_argument("--ssh-identity", metavar="NAME", default=argparse.SUPPRESS,
                        help="set by `eim ssh authorized-keys` lines only; trusted only from sshd as the [ssh] account")
    parser = Parser(prog="eim", description="Enterprise incident management in the terminal.", parents=[common])
    parser.add_argument("--version", action="version", version=f"eim {__version__}")
    parser.add_argument("--demo-if-empty", action="store_true", help="fill an empty store with demo incidents first")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    demo = sub.add_parser("demo", parents=[common], help="fill the store with realistic demo incidents")
    demo.add_argument("--incidents", type=_positive, default=60, metavar="N")
    demo.add_argument("--seed", type=int, default=7, metavar="S")

    new = sub.add_parser("new", parents=[common], help="log a new incident and print its key")
    # --title, --impact and --urgency are needed unless the report comes on stdin (checked in cmd_new).
    new.add_argument("--title")
    new.add_argument("--impact", type=_level)
    new.add_argument("--urgency", type=_level)
    new.add_argument("--from-email", action="store_true", help="read an RFC 822 message on stdin: subject, body, sender")
    for name in ("description", "category", "subcategory", "service", "ci", "reporter", "contact", "department",
                 "group", "assignee"):
        new.add_argument(f"--{name}", default="")
    new.add_argument("--source", default=None, help="default user_report (email with --from-email, monitoring "
                     "for an event)",
                     choices=["monitoring", "user_report", "proactive", "email", "phone"])
    new.add_argument("--detected", default="", metavar="WHEN", help="10m ago, 14:05 or ISO 8601")
    new.add_argument("--severity-guess", type=int, choices=range(1, 6), metavar="1-5")
    new.add_argument("--json", action="store_true",
                     help="print the new incident as JSON; without --title, read a generic event (JSON) on stdin")

    lst = sub.add_parser("list", parents=[common], help="list incidents (open ones by default)")
    lst.add_argument("--filter", default="", metavar="EXPR", help="e.g. 'sev<=2 service:payments breached'")
    lst.add_argument("--view", default="open", choices=["open", "mine", "my_groups", "unassigned", "breaching",
                                                         "major", "resolved"])
    lst.add_argument("--limit", type=_positive, default=None, metavar="N")
    lst.add_argument("--json", action="store_true")

    show = sub.add_parser("show", parents=[common], help="show one incident with its SLA, notes and timeline")
    show.add_argument("key")
    show.add_argument("--json", action="store_true")

    db = sub.add_parser("db", parents=[common], help="schema management")
    db_sub = db.add_subparsers(dest="db_command", metavar="upgrade", required=True, parser_class=Parser)
    db_sub.add_parser("upgrade", parents=[common], help="create the store or apply schema migrations")

    for module in COMMAND_MODULES:
        module.add_parsers(sub, common, db_only)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _level(text: str) -> int:
    if text.strip() in ("1", "2", "3"):
        return int(text)
    raise argparse.ArgumentTypeError(f"{text!r} must be 1 (high), 2 (medium) or 3 (low)")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(complete(build_parser().parse_args(ssh.forced_argv(argv))))
    except UsageError as exc:
        return fail(str(exc))
    except DomainError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last line of defence: one line, not a traceback
        # A store that cannot be used is the setting's fault (--db / EIM_DB), not eim's: status 2.
        return fail(explain(exc), status=2 if store_fault(exc) is not None else 1)


def run(args: argparse.Namespace) -> int:
    command = args.command
    if command is None:
        return run_tui(args)
    for module in COMMAND_MODULES:
        if handler := getattr(module, f"cmd_{command}", None):
            if not getattr(handler, "needs_store", True):
                return handler(args, None)
            svc = open_store(args)
            try:
                return handler(args, svc)
            finally:
                svc.db.dispose()  # the connections go back now, not when the process ends
    raise UsageError(f"unknown command {command!r}")


def run_tui(args: argparse.Namespace) -> int:
    svc = open_store(args)
    if args.demo_if_empty and svc.change_marker() == 0:
        from eim_tui.services.demo import generate

        generate(svc, incidents=60, seed=7)
    from eim_tui.bootstrap import make_app

    app = make_app(args.config, svc, args.user)
    app.run()
    return _leave(app)


LEAVE_WAIT_S = 0.1  # how long a quit waits for an SLA batch in flight to end at its boundary


def _leave(app) -> int:
    """The TUI has closed: leave at once, without the interpreter's teardown.

    Freeing every object of a Textual app holding a big queue took 1.4 s of the 1.7 s from `q` to
    the exit (tests/bench/bench_startup.py, 100,000 incidents, a loaded machine); nothing in it is
    needed: the store's connections are closed here first (a clean close, its WAL folded in),
    the log handlers and the standard streams flushed. Should the SLA scheduler's start-up sweep
    still be mid-batch, it is not waited for either: every batch is one transaction and every
    record is once-keyed, so leaving without it is what kill -9 does, which loses nothing
    (tests/e2e/test_kill9.py): the transaction rolls back and the next start records it once.
    """
    import logging

    scheduler = getattr(app, "sla_scheduler", None)
    services = getattr(app, "services", None)
    if services is not None and (scheduler is None or scheduler.idle(LEAVE_WAIT_S)):
        services.db.dispose()  # nothing in flight: close the connections cleanly
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(getattr(app, "return_code", None) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
