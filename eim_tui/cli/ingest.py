"""`eim ingest` (the webhook receiver) and `eim payloads` (what it received), for the command line.

The routing rules are read before the store is opened, so a rule file with a mistake stops the
receiver at once with one line naming the line at fault (exit status 2).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
import sys

from eim_tui.cli.context import open_store
from eim_tui.cli.errors import UsageError, emit_json

DEFAULT_LISTEN = "127.0.0.1:9095"


def _listen(text: str) -> tuple[str, int]:
    host, sep, port = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT, e.g. {DEFAULT_LISTEN}")
    return host, int(port)


def _size(text: str) -> int:
    m = re.fullmatch(r"(\d+)\s*([km]?)(i?b)?", text.strip().lower())
    if not m or int(m.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 1M or 512k")
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[m.group(2)]


def add_parsers(sub, common, db_only) -> None:
    p = sub.add_parser(
        "ingest", parents=[db_only],
        help="receive monitoring alerts (Alertmanager, PagerDuty Events v2, generic JSON) as incidents",
        description="The webhook receiver: POST /api/v1/alertmanager, /api/v1/pagerduty, /api/v1/events; "
                    "GET /healthz. See docs/ingest.md.",
    )
    p.add_argument("--listen", type=_listen, default=DEFAULT_LISTEN, metavar="HOST:PORT",
                   help=f"where to listen (default {DEFAULT_LISTEN}; port 0 picks a free one)")
    p.add_argument("--token", default=None, metavar="T",
                   help="require 'Authorization: Bearer T' on every POST (env EIM_INGEST_TOKEN)")
    p.add_argument("--rules", default=None, metavar="FILE", help="alert routing rules (default data/alert_routing.toml)")
    p.add_argument("--max-body", type=_size, default="1M", metavar="SIZE", help="largest body accepted (default 1M)")

    q = sub.add_parser("payloads", parents=[db_only], help="list what eim ingest received (rejected ones first to look at)")
    q.add_argument("--status", choices=["pending", "processed", "rejected", "failed"], default=None)
    q.add_argument("--limit", type=int, default=20, metavar="N")
    q.add_argument("--json", action="store_true", help="with the raw bodies")


def cmd_ingest(args, svc) -> int:
    from eim_tui.ingest.processor import AlertProcessor
    from eim_tui.ingest.routing import load_alert_routing
    from eim_tui.ingest.server import IngestServer, Settings
    from eim_tui.reference import ReferenceError, load_reference

    try:
        routing = load_alert_routing(load_reference(), args.rules)
    except ReferenceError as exc:
        raise UsageError(str(exc)) from None
    svc = open_store(args)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="eim ingest: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    settings = Settings(token=args.token or args.config.ingest_token, max_body=args.max_body)
    server = IngestServer(AlertProcessor(svc, routing), settings)
    try:
        asyncio.run(_serve(server, *args.listen))
    finally:
        svc.db.dispose()
    return 0


cmd_ingest.needs_store = False  # the rules are checked before the store is opened


async def _serve(server, host: str, port: int) -> None:
    from aiohttp import web

    runner = web.AppRunner(server.app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound = runner.addresses[0]
    # One line on stdout when ready: scripts (and the tests) read the port from it.
    print(f"eim ingest: listening on http://{host}:{bound[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def cmd_payloads(args, svc) -> int:
    from eim_tui.output.json_shapes import plain

    rows = svc.payloads(args.status, args.limit)
    if args.json:
        emit_json([{"id": p.id, "received_at": plain(p.received_at), "source": p.source, "status": p.status,
                    "error": p.error, "remote": p.remote, "content_type": p.content_type, "body": p.body}
                   for p in rows])
        return 0
    for p in rows:
        error = f"  {p.error}" if p.error else ""
        print(f"{p.id:>7}  {plain(p.received_at)}  {p.source:<12} {p.status:<9}{error}")
    return 0
