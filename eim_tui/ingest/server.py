"""The webhook receiver (aiohttp): Alertmanager, Grafana Alerting, PagerDuty Events v2 and generic JSON endpoints.

Each request is checked at the HTTP level (token, size, content type), then its body is stored
before anything else (`AlertProcessor.accept`) and processed right after. The answer follows what
happened to the body: 2xx once it is stored, 4xx with a one-line reason when it is refused (the
body is kept as rejected), 5xx only when it could not be stored — Alertmanager retries on 5xx and
not on 4xx. Store work runs in threads so the event loop keeps accepting; on SQLite one writer
thread queues the writes, which beats contending for SQLite's single write lock.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from aiohttp import web

from eim_tui.domain.alert_plan import PayloadStatus
from eim_tui.domain.model import format_key
from eim_tui.ingest.processor import AlertProcessor, Receipt
from eim_tui.services.alert_intake import one_line
from eim_tui.store.health import StoreUnavailable

log = logging.getLogger("eim.ingest")

MAX_BODY = 1024 * 1024
ROUTES = {
    "/api/v1/alertmanager": "alertmanager",  # also takes Grafana Alerting's webhook (version "1")
    "/api/v1/grafana": "grafana",
    "/api/v1/pagerduty": "pagerduty",
    "/api/v1/events": "generic",
}
JSON_TYPES = ("application/json", "text/json")
RETRY_AFTER = "5"  # seconds: what a 503 asks the sender to wait before trying again


@dataclass
class Settings:
    token: str | None = None
    max_body: int = MAX_BODY
    recover_every: float = 5.0  # seconds between looks for payloads left pending
    recover_after: timedelta = timedelta(seconds=30)  # younger ones are still being processed


class IngestServer:
    def __init__(self, processor: AlertProcessor, settings: Settings | None = None) -> None:
        self.processor = processor
        self.settings = settings or Settings()
        one_writer = processor.intake.one_writer
        self.writer = ThreadPoolExecutor(1 if one_writer else 4, thread_name_prefix="eim-ingest-write")
        self.reader = ThreadPoolExecutor(2, thread_name_prefix="eim-ingest-read")
        self._recovery: asyncio.Task[None] | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=self.settings.max_body)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/openapi.yaml", openapi)
        for path, source in ROUTES.items():
            app.router.add_post(path, partial(self.receive, source=source))
        app.on_startup.append(self._start)
        app.on_cleanup.append(self._stop)
        return app

    async def _run(self, pool: ThreadPoolExecutor, fn, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(pool, partial(fn, *args))

    # --- endpoints ------------------------------------------------------------------------------

    async def healthz(self, request: web.Request) -> web.Response:
        try:
            counts = await self._run(self.reader, self.processor.intake.payload_counts)
        except Exception as exc:  # noqa: BLE001 - health is exactly "can we reach the store"
            return _answer(503, status="unavailable", error=_unstored(exc, "the store cannot be read"),
                           headers={"Retry-After": RETRY_AFTER})
        return _answer(200, status="ok", payloads=counts)

    async def receive(self, request: web.Request, source: str) -> web.Response:
        if not self._authorized(request):
            return _answer(401, status="unauthorized", error="send Authorization: Bearer <token>",
                           headers={"WWW-Authenticate": 'Bearer realm="eim ingest"'})
        body, too_big = await _read(request, self.settings.max_body)
        remote = request.remote or ""
        content_type = request.headers.get("Content-Type", "")
        if too_big:
            reason = f"the body is over the {self.settings.max_body} byte limit (the first part is kept)"
            return await self._refuse(source, body, reason, 413, content_type, remote)
        if not _is_json(request.content_type):
            reason = f"content type {content_type or 'none'!r} is not JSON; send Content-Type: application/json"
            return await self._refuse(source, body, reason, 415, content_type, remote)
        try:
            receipt: Receipt = await self._run(self.writer, self.processor.accept, source, body, content_type, remote)
        except Exception as exc:  # noqa: BLE001 - not stored: the sender must retry
            log.error("could not store a %s payload: %s", source, one_line(exc))
            return _answer(503, status="unavailable", error=_unstored(exc, "the payload could not be stored"),
                           headers={"Retry-After": RETRY_AFTER})
        if receipt.status != PayloadStatus.PENDING:
            return _answer(receipt.http_status, status="rejected", error=receipt.error, payload=receipt.payload_id)
        try:
            done = await self._run(self.writer, self.processor.process, receipt.payload_id, receipt.alerts)
        except Exception as exc:  # noqa: BLE001 - stored: the recovery loop will process it
            log.warning("payload %s stored, processing deferred: %s", receipt.payload_id, one_line(exc))
            return _answer(202, status="stored", payload=receipt.payload_id, note="processing deferred")
        fields: dict[str, Any] = {"status": done.status, "payload": receipt.payload_id,
                                  "alerts": len(receipt.alerts), "incidents": [format_key(n) for n in done.incidents]}
        if done.error:
            fields["error"] = done.error
        if source == "pagerduty":  # what PagerDuty's own API answers, so its clients are content
            fields.update(message="Event processed", dedup_key=_pagerduty_key(body))
        return _answer(200 if done.status == PayloadStatus.PROCESSED else 202, **fields)

    async def _refuse(
        self, source: str, body: bytes, reason: str, http_status: int, content_type: str, remote: str
    ) -> web.Response:
        receipt = await self._run(self.writer, self.processor.reject, source, body, reason, http_status,
                                  content_type, remote)
        return _answer(http_status, status="rejected", error=reason, payload=receipt.payload_id)

    def _authorized(self, request: web.Request) -> bool:
        if not self.settings.token:
            return True
        given = request.headers.get("Authorization", "")
        scheme, _, token = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self.settings.token.encode())

    # --- start-up and the recovery loop ---------------------------------------------------------

    async def _start(self, app: web.Application) -> None:
        self._recovery = asyncio.create_task(self._recover_loop())

    async def _stop(self, app: web.Application) -> None:
        if self._recovery is not None:
            self._recovery.cancel()
            try:
                await self._recovery
            except asyncio.CancelledError:
                pass
        self.writer.shutdown(wait=True)
        self.reader.shutdown(wait=True)

    async def _recover_loop(self) -> None:
        """At start-up, everything left pending (a crash between storing and processing); then,
        now and again, what a busy store made us leave."""
        older_than: timedelta | None = None
        while True:
            try:
                done = await self._run(self.writer, self.processor.recover, older_than)
                if done:
                    log.info("processed %d payloads left pending", done)
            except Exception as exc:  # noqa: BLE001 - keep looking; the store may come back
                log.warning("recovery of pending payloads failed: %s", one_line(exc))
            older_than = self.settings.recover_after
            await asyncio.sleep(self.settings.recover_every)


OPENAPI = "openapi.yaml"  # beside this module; docs/ingest.openapi.yaml is the same file (a test checks)


async def openapi(request: web.Request) -> web.Response:
    """This receiver's OpenAPI description, for senders' tooling (and schemathesis in the tests)."""
    from importlib.resources import files

    text = files("eim_tui.ingest").joinpath(OPENAPI).read_text(encoding="utf-8")
    return web.Response(text=text, content_type="application/yaml")


async def _read(request: web.Request, limit: int) -> tuple[bytes, bool]:
    """The body, or its first `limit` bytes and True when it is longer."""
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True
    return b"".join(chunks), False


def _unstored(exc: BaseException, what: str) -> str:
    """Why the store could not be used, for the sender: a store fault in eim's words (unreachable,
    locked, read-only, disk full), else only the kind of error — never the driver's text."""
    if isinstance(exc, StoreUnavailable):
        return f"{what}: {exc}; retry later"
    return f"{what} ({type(exc).__name__}); retry later"


def _is_json(content_type: str) -> bool:
    return content_type in JSON_TYPES or (content_type.startswith("application/") and content_type.endswith("+json"))


def _answer(http_status: int, headers: dict[str, str] | None = None, **fields: Any) -> web.Response:
    return web.json_response({k: v for k, v in fields.items() if v is not None}, status=http_status, headers=headers)


def _pagerduty_key(body: bytes) -> str | None:
    from eim_tui.ingest.adapters import parse

    try:
        return parse("pagerduty", body)[0].dedup_key
    except Exception:  # noqa: BLE001 - only decoration of an answer already decided
        return None
