"""`eim wall` (the live board in this terminal) and `eim serve` (the TUI or the board in a browser).

`eim serve` runs textual-serve: every browser tab that opens the page gets its own `eim` (or
`eim wall`) process, started with this store (`EIM_DB`) and this user (`EIM_USER`); such an app
knows it runs in a browser (`App.is_web`) and leaves desktop notifications alone. It binds to loopback unless `--host` says otherwise: whoever reaches the
page acts as the user who started the server.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import socket
import sys

from eim_tui.cli.errors import UsageError
from eim_tui.domain.board import BoardScope
from eim_tui.domain.filters import FilterError, parse

VIEWS = ("open", "major")


def add_parsers(sub, common, db_only) -> None:
    wall = sub.add_parser("wall", parents=[common], help="the read-only live board for a wall screen")
    _scope_arguments(wall)

    serve = sub.add_parser("serve", parents=[common], help="serve the TUI (or with --wall the board) to a browser")
    serve.add_argument("--wall", action="store_true", help="serve the wall board instead of the TUI")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback only)")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--public-url", default=None, metavar="URL",
                       help="the address browsers use, when it is not http://HOST:PORT (a proxy, 0.0.0.0)")
    _scope_arguments(serve, " (with --wall)")


def _scope_arguments(parser, suffix: str = "") -> None:
    parser.add_argument("--group", default="", metavar="NAME", help=f"only this assignment group's incidents{suffix}")
    parser.add_argument("--view", default="open", choices=VIEWS, help=f"open (default) or major incidents only{suffix}")
    parser.add_argument("--filter", default="", metavar="EXPR",
                        help=f"the queue's filter, e.g. 'sev<=2 service:payments'{suffix}")


def _port(text: str) -> int:
    import argparse

    if text.isdigit() and 0 < int(text) < 65536:
        return int(text)
    raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1–65535)")


def build_scope(args, svc) -> BoardScope:
    """The board's scope from `--group`, `--view` and `--filter`; a bad one is a one-line usage error."""
    try:
        f = parse(args.filter)
    except FilterError as exc:
        raise UsageError(f"--filter: {exc}") from None
    group = args.group.strip()
    if group and svc.ref.group(group) is None:
        known = ", ".join(g.name for g in svc.ref.groups)
        raise UsageError(f"unknown group {group!r}; use one of: {known}")
    return BoardScope(filter=f.with_user(args.user), group=group, major_only=args.view == "major")


def cmd_wall(args, svc) -> int:
    from eim_tui.bootstrap import make_app

    make_app(args.config, svc, args.user, wall=build_scope(args, svc)).run()
    return 0


def served_command(args) -> list[str]:
    """The command textual-serve starts for each browser tab (the store and user go by environment)."""
    command = [sys.executable, "-m", "eim_tui"]
    if args.wall:
        command.append("wall")
        if args.group:
            command += ["--group", args.group]
        if args.view != "open":
            command += ["--view", args.view]
        if args.filter:
            command += ["--filter", args.filter]
    return command


def cmd_serve(args, svc) -> int:
    if not _is_loopback(args.host):  # textual-serve has no login: whoever reached the port would be args.user
        raise UsageError(f"eim serve listens on loopback only (127.0.0.1, ::1, localhost), not {args.host}: it has "
                         f"no login of its own; reach it through SSH: ssh -L {args.port}:127.0.0.1:{args.port} HOST")
    if not args.wall and (args.group or args.view != "open" or args.filter):
        raise UsageError("--group, --view and --filter choose what the wall board shows; add --wall")
    if args.wall:
        build_scope(args, svc)  # refuse a bad scope here, not in every browser tab
    _check_port_free(args.host, args.port)
    # The served processes inherit this environment (textual-serve copies it).
    os.environ["EIM_DB"] = svc.db.url
    os.environ["EIM_USER"] = args.user
    svc.db.dispose()

    from textual_serve.server import Server

    server = Server(
        shlex.join(served_command(args)), host=args.host, port=args.port,
        title="eim wall" if args.wall else "eim", public_url=args.public_url,
    )
    try:
        server.serve()
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "in use" if exc.errno in (98, 48) else (exc.strerror or str(exc))
            raise UsageError(f"cannot listen on {host}:{port}: {reason}; choose another with --port") from None
