"""Real receivers for outbound notifications, started by the tests: an SMTP server (aiosmtpd) and
an HTTP webhook receiver (aiohttp) that can be told to fail a few times, or until told otherwise."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from typing import Any, Self

DEADLINE = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], Any], what: str, deadline: float = DEADLINE) -> Any:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {deadline:.0f}s waiting for {what}")


@dataclass
class Mailbox:
    """An aiosmtpd server on loopback; `messages` holds each mail received (subject, to, body)."""

    port: int = field(default_factory=free_port)
    messages: list[dict[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        mail = message_from_bytes(envelope.content, policy=policy.default)
        body = mail.get_body(("plain", "html"))
        self.messages.append({"subject": str(mail["subject"]), "to": ",".join(envelope.rcpt_tos),
                              "body": body.get_content() if body is not None else ""})
        return "250 Message accepted for delivery"

    def __enter__(self) -> Self:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def url(self, to: str) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=eim@example.com&to={to}&user=&pass="


@dataclass
class Webhook:
    """An aiohttp receiver on loopback in its own thread. It answers `fail_status` to the first
    `fail_times` requests (or while `failing` is set), then 200; `received` holds the 200s' bodies
    and `requests` counts every request."""

    port: int = field(default_factory=free_port)
    fail_times: int = 0
    fail_status: int = 500
    failing: bool = False
    received: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0

    async def _hook(self, request):
        from aiohttp import web

        body = await request.json()
        self.requests += 1
        if self.failing or self.requests <= self.fail_times:
            return web.Response(status=self.fail_status, text="not now")
        self.received.append(body)
        return web.Response(text="ok")

    def __enter__(self) -> Self:
        from aiohttp import web

        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        async def start() -> None:
            app = web.Application()
            app.router.add_post("/hook", self._hook)
            self.runner = web.AppRunner(app, access_log=None)
            await self.runner.setup()
            await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(start())
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert started.wait(10), "the webhook receiver did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"
