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
        help="receive monitoring alerts (Alertmanager, Grafana, PagerDuty Events v2, generic JSON) as incidents",
        description="The webhook receiver: POST /api/v1/alertmanager, /api/v1/grafana, /api/v1/pagerduty, /api/v1/events; GET /openapi.yaml, "
                    "GET /healthz. See docs/ingest.md.",
    )
    p.add_argument("--listen", type=_listen, default=DEFAULT_LISTEN, metavar="HOST:PORT",
                   help=f"where to listen (default {DEFAULT_LISTEN}; port 0 picks a free one)")
    p.add_argument("--token", default=None, metavar="T",
                   help="require 'Authorization: Bearer T' on every POST (env EIM_INGEST_TOKEN)")
    p.add_argument("--rules", default=None, metavar="FILE", help="alert routing rules (default data/alert_routing.toml)")
    p.add_argument("--max-body", type=_size, default="1M", metavar="SIZE", help="largest body accepted (default 1M)")

    q = sub.add_parser("payloads", parents=[db_only], help="list what eim ingest received (rejected ones first to look at)",
                       description="List the bodies eim ingest received; `eim payloads retry` processes failed ones again.")
    q.add_argument("--status", choices=["pending", "processed", "rejected", "failed"], default=None)
    q.add_argument("--limit", type=_count, default=20, metavar="N")
    q.add_argument("--json", action="store_true", help="with the raw bodies")
    q_sub = q.add_subparsers(dest="payloads_command", metavar="retry", parser_class=type(q))
    r = q_sub.add_parser(
        "retry", parents=[db_only], help="process failed payloads again (after fixing what made them fail)",
        description="Process stored payloads that failed (`eim payloads --status failed`) again, once each, "
                    "as eim ingest would. Exit status 0 when every one was processed (or none had failed), "
                    "1 when one failed again or was left for the receiver, 2 for an unknown ID or one not failed.",
    )
    r.add_argument("ids", nargs="*", type=_payload_id, metavar="ID", help="the payloads to retry")
    r.add_argument("--failed", action="store_true", help="every failed payload, oldest first")
    r.add_argument("--rules", default=None, metavar="FILE", help="alert routing rules (default data/alert_routing.toml)")
    r.add_argument("--json", action="store_true", help="what became of each, as JSON")


def _count(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _payload_id(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a payload id (a number from eim payloads)")
    return int(text)


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
    logging.getLogger("aiohttp.server").addFilter(BadRequestsInOneLine())
    settings = Settings(token=args.token or args.config.ingest_token, max_body=args.max_body)
    server = IngestServer(AlertProcessor(svc, routing), settings)
    try:
        asyncio.run(_serve(server, *args.listen))
    finally:
        svc.db.dispose()
    return 0


cmd_ingest.needs_store = False  # the rules are checked before the store is opened


class BadRequestsInOneLine(logging.Filter):
    """aiohttp answers a malformed HTTP request (a NUL in a header, a broken request line) with a
    400 itself, and logs it with a traceback, as if it were a fault: make it one warning line."""

    def filter(self, record: logging.LogRecord) -> bool:
        from aiohttp.http_exceptions import HttpProcessingError

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and 400 <= (exc.code or 500) < 500:
            reason = " ".join(str(exc.message).split())[:200]
            record.msg, record.args, record.exc_info, record.exc_text = (
                "refused a malformed HTTP request (%s): %s", (exc.code, reason), None, None)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


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

    if getattr(args, "payloads_command", None) == "retry":
        return _retry(args, svc)
    rows = svc.payloads(args.status, args.limit)
    hidden = svc.access.hidden_payloads(args.user, [p.id for p in rows])  # confidential: security group only
    if args.json:
        emit_json([{"id": p.id, "received_at": plain(p.received_at), "source": p.source, "status": p.status,
                    "error": p.error, "remote": p.remote, "content_type": p.content_type,
                    "body": "confidential" if p.id in hidden else p.body}
                   for p in rows])
        return 0
    for p in rows:
        error = f"  {p.error}" if p.error else ""
        print(f"{p.id:>7}  {plain(p.received_at)}  {p.source:<12} {p.status:<9}{error}")
    return 0


RETRY_LIMIT = 1_000_000  # `--failed`: every failed payload, however many


def _retry(args, svc) -> int:
    """`eim payloads retry`: each payload once, in id order; what became of each, one line each."""
    from eim_tui.domain.alert_plan import PayloadStatus
    from eim_tui.domain.model import format_key
    from eim_tui.ingest.processor import AlertProcessor
    from eim_tui.ingest.routing import load_alert_routing
    from eim_tui.reference import ReferenceError
    from eim_tui.services.alert_intake import one_line

    if args.ids and args.failed:
        raise UsageError("give payload IDs or --failed, not both")
    if not (args.ids or args.failed):
        raise UsageError("name the payloads to retry (eim payloads retry ID…) or give --failed for every failed one")
    try:  # first: a mistaken --rules is refused whether or not anything waits
        routing = load_alert_routing(svc.ref, args.rules)
    except ReferenceError as exc:
        raise UsageError(str(exc)) from None
    if args.failed:
        ids = sorted(p.id for p in svc.payloads(PayloadStatus.FAILED, RETRY_LIMIT))
        if not ids:
            if args.json:
                emit_json([])
            else:
                print("no failed payloads to retry")
            return 0
    processor = AlertProcessor(svc, routing)
    if not args.failed:
        ids = list(dict.fromkeys(args.ids))  # each once, in the order given
        _check_failed(processor, ids)
    results = []
    for payload_id in ids:
        try:
            done = processor.retry(payload_id)
            status, error, incidents = done.status, done.error, [format_key(n) for n in done.incidents]
        except Exception as exc:  # noqa: BLE001 - the store busy or racing: left pending for the receiver
            status, error, incidents = PayloadStatus.PENDING, one_line(exc), []
        results.append({"payload": payload_id, "status": status, "incidents": incidents, "error": error})
    if args.json:
        emit_json(results)
    else:
        for r in results:
            print(_retry_line(r))
    return 0 if all(r["status"] == PayloadStatus.PROCESSED for r in results) else 1


def _check_failed(processor, ids: list[int]) -> None:
    """Refuse, before retrying anything, IDs that do not exist or did not fail."""
    from eim_tui.domain.alert_plan import PayloadStatus

    for payload_id in ids:
        stored = processor.intake.payload(payload_id)
        status = stored.status if stored is not None else None
        if status is None:
            raise UsageError(f"there is no payload {payload_id}; see eim payloads")
        if status != PayloadStatus.FAILED:
            why = {PayloadStatus.PENDING: "eim ingest processes it by itself",
                   PayloadStatus.REJECTED: "its body was refused; the sender must send a corrected one",
                   PayloadStatus.PROCESSED: "it was applied already"}.get(status, "")
            raise UsageError(f"payload {payload_id} is {status}, not failed: {why}; only failed payloads are retried")


def _retry_line(r: dict) -> str:
    from eim_tui.domain.alert_plan import PayloadStatus

    incidents = ", ".join(r["incidents"])
    match r["status"]:
        case PayloadStatus.PROCESSED:
            return f"payload {r['payload']}: processed" + (f" ({incidents})" if incidents else "")
        case PayloadStatus.FAILED:
            return f"payload {r['payload']}: failed again: {r['error']}"
        case PayloadStatus.REJECTED:
            return f"payload {r['payload']}: rejected: {r['error']}"
        case PayloadStatus.PENDING:
            return f"payload {r['payload']}: left pending (eim ingest will process it): {r['error']}"
        case _:
            return f"payload {r['payload']}: skipped, no longer failed (retried by someone else meanwhile)"
