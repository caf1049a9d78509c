"""`eim status [--format plain|tmux|json]`: one line for tmux's status bar or a shell prompt.

It runs every few seconds from tmux, so it must answer in well under 100 ms: the `eim` entry point
sends `status` here before loading the rest of the command line (`eim_tui/cli/__init__.py`), and
the counts come from `store/status_counts.py`, which needs neither SQLAlchemy nor Textual. A store
that cannot be read is one line on stderr and exit status 2, like every other command.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from eim_tui.cli.errors import Parser, UsageError, fail
from eim_tui.domain.clock import SystemClock
from eim_tui.output.status_line import FORMATS, render

HELP = "one line of counts for tmux's status bar or a shell prompt (S1 · S2 · ⚠ SLA · mine)"


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="plain",
                        help="plain (default), tmux (with colour markup; none under NO_COLOR) or json")


def add_parsers(sub, common, db_only) -> None:
    _options(sub.add_parser("status", parents=[common], help=HELP, description=HELP))


def cmd_status(args: argparse.Namespace, _svc) -> int:
    return show(args.db, args.user, args.format)


cmd_status.needs_store = False  # type: ignore[attr-defined] - it reads the store its own, faster way


def show(url: str | None, user: str, fmt: str) -> int:
    from eim_tui.store.location import default_url
    from eim_tui.store.status_counts import StatusUnavailable, read_counts

    now = SystemClock().now()
    try:
        counts = read_counts(url or default_url(), user, now)
    except StatusUnavailable as exc:
        return fail(str(exc))
    print(render(counts, fmt, now, colour="NO_COLOR" not in os.environ))
    return 0


def main(argv: Sequence[str]) -> int:
    """The fast path: `eim [--db URL] [--user NAME] status …` without the full command line."""
    parser = Parser(prog="eim status", description=HELP)
    parser.add_argument("--db", metavar="URL", help="store URL (env EIM_DB)")
    parser.add_argument("--user", metavar="NAME", help="who you are, for 'mine' (env EIM_USER)")
    _options(parser)
    try:
        args = parser.parse_args(list(argv))
    except UsageError as exc:
        return fail(str(exc))
    from eim_tui.cli.context import default_user, load_config

    try:
        config = load_config()
    except UsageError as exc:
        return fail(str(exc))
    return show(args.db or config.db_url, args.user or default_user(config), args.format)


def fast_path(argv: Sequence[str]) -> list[str] | None:
    """`argv` rearranged for `main` when the command is `status` (global options may come first),
    else None. Only `--db` and `--user` may precede it, as `eim --db URL status`."""
    before: list[str] = []
    rest = list(argv)
    while rest:
        word = rest[0]
        if word == "status":
            return before + rest[1:]
        if word in ("--db", "--user") and len(rest) > 1:
            before += rest[:2]
            rest = rest[2:]
        elif word.startswith(("--db=", "--user=")):
            before.append(rest.pop(0))
        else:
            return None
    return None


if __name__ == "__main__":  # pragma: no cover - `python -m eim_tui.cli.status`
    sys.exit(main(sys.argv[1:]))
