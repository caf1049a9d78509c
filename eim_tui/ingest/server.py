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


class Overloaded(Exception):
    """More bodies are waiting to be stored than the receiver keeps in memory: answer 503."""


class GroupCommit:
    """Bodies arriving within `window` seconds of each other are handled as one batch (at most
    `batch` of them): `flush(items)` runs in `pool` and makes the whole batch durable in one
    transaction, then processes it in one more, and each request is answered from its own
    result — only after the transaction that stored it committed. If `flush` raises, every
    request of the batch gets that error (nothing of the batch was kept: a 503 for each). More
    than `limit` waiting is refused at once (`Overloaded`): back-pressure, not a queue that
    grows until the process runs out of memory. Batches run one after another, in the order the
    bodies came, so alerts with one dedup key are applied in the order they were received."""

    def __init__(self, flush, pool: ThreadPoolExecutor, window: float = 0.002, batch: int = 64,
                 limit: int = 2000) -> None:
        self.flush, self.pool = flush, pool
        self.window, self.batch, self.limit = window, batch, limit
        self._waiting: list[tuple[Any, asyncio.Future]] = []
        self._runner: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def submit(self, item: Any) -> Any:
        if len(self._waiting) >= self.limit:
            raise Overloaded(f"{len(self._waiting)} bodies are waiting to be stored")
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            if len(self._waiting) < self.batch:
                await asyncio.sleep(self.window)  # let the bodies arriving together join this batch
            taken, self._waiting = self._waiting[: self.batch], self._waiting[self.batch :]
            try:
                results = await loop.run_in_executor(self.pool, self.flush, [item for item, _ in taken])
            except Exception as exc:  # noqa: BLE001 - each request of the batch answers it
                results = [exc] * len(taken)
            for (_, future), result in zip(taken, results, strict=True):
                if future.done():  # the request went away (the sender closed the connection)
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)


@dataclass
class Settings:
    token: str | None = None
    max_body: int = MAX_BODY
    recover_every: float = 5.0  # seconds between looks for payloads left pending
    recover_after: timedelta = timedelta(seconds=30)  # younger ones are still being processed
    group_window: float = 0.002  # seconds a body waits for others to be stored with it
    group_size: int = 64  # bodies stored (and processed) in one transaction at most
    max_waiting: int = 2000  # bodies waiting beyond this are answered 503 (back-pressure)


class IngestServer:
    def __init__(self, processor: AlertProcessor, settings: Settings | None = None) -> None:
        self.processor = processor
        self.settings = settings or Settings()
        one_writer = processor.intake.one_writer
        self.writer = ThreadPoolExecutor(1 if one_writer else 4, thread_name_prefix="eim-ingest-write")
        self.reader = ThreadPoolExecutor(2, thread_name_prefix="eim-ingest-read")
        self.group = GroupCommit(self._store_and_process, self.writer, self.settings.group_window,
                                 self.settings.group_size, self.settings.max_waiting)
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
        # Checking is pure unless the body is refused (it is then kept as rejected): off the event loop,
        # and not behind the writer's batches.
        checked = await self._run(self.reader, self.processor.check, source, body, content_type, remote)
        if isinstance(checked, Receipt):
            return _answer(checked.http_status, status="rejected", error=checked.error, payload=checked.payload_id)
        try:
            payload_id, done = await self.group.submit((source, body, content_type, remote, checked))
        except Overloaded as exc:
            log.warning("refused a %s payload: %s", source, exc)
            return _answer(503, status="unavailable", error=f"the receiver is overloaded ({exc}); retry later",
                           headers={"Retry-After": RETRY_AFTER})
        except Exception as exc:  # noqa: BLE001 - not stored: the sender must retry
            log.error("could not store a %s payload: %s", source, one_line(exc))
            return _answer(503, status="unavailable", error=_unstored(exc, "the payload could not be stored"),
                           headers={"Retry-After": RETRY_AFTER})
        receipt = Receipt(payload_id, PayloadStatus.PENDING, alerts=checked)
        if isinstance(done, Exception):  # stored: the recovery loop will process it
            log.warning("payload %s stored, processing deferred: %s", receipt.payload_id, one_line(done))
            return _answer(202, status="stored", payload=receipt.payload_id, note="processing deferred")
        fields: dict[str, Any] = {"status": done.status, "payload": receipt.payload_id,
                                  "alerts": len(receipt.alerts), "incidents": [format_key(n) for n in done.incidents]}
        if done.error:
            fields["error"] = done.error
        if source == "pagerduty":  # what PagerDuty's own API answers, so its clients are content
            fields.update(message="Event processed", dedup_key=_pagerduty_key(body))
        return _answer(200 if done.status == PayloadStatus.PROCESSED else 202, **fields)

    def _store_and_process(self, items: list[tuple[str, bytes, str, str, list]]) -> list[tuple[int, Any]]:
        """A group commit's batch (in the writer thread): stored in one transaction — if that fails
        it raises and every request of the batch is answered 503 — then processed in one more;
        (payload id, what processing it gave or raised) for each body, in order."""
        ids = self.processor.store([(source, body, content_type, remote) for source, body, content_type, remote, _ in items])
        done = self.processor.process_batch([(pid, item[4]) for pid, item in zip(ids, items, strict=True)])
        return list(zip(ids, done, strict=True))

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
