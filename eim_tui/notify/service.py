"""The loop of `eim service`: the SLA scheduler, the outbox filled from the timeline, deliveries
with retries, a heartbeat, (optionally) the webhook receiver and the timeline's anchors — one
asyncio loop, no Textual.

Store work runs in a small thread pool and every send in another, so a channel that hangs until
its timeout holds one sender, never the scheduler, the receiver or the other channels. Each
action is one log line. `run(stop)` returns within about 1.5 s of `stop` being set: what is being
sent gets that long to finish and be marked; a claim left behind is sent again by the next
service, as the outbox promises (see store/outbox.py).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from typing import Any

from eim_tui.domain.model import format_key
from eim_tui.notify import channels
from eim_tui.notify.scheduler import SlaScheduler
from eim_tui.notify.settings import ServiceSettings
from eim_tui.services.alert_intake import one_line as describe_error
from eim_tui.services.collab import CollabCases
from eim_tui.services.incidents import Services
from eim_tui.services.notifications import BATCH, NotificationCases, Outcome

SCHEDULER_USER = "eim-service"
POLL = 1.0  # seconds before looking again when the store was away
REQUEUE_EVERY = 10.0  # seconds between looks for notifications to queue when nothing woke the loop
SENDERS = 8  # deliveries in flight at once
STOP_GRACE = 1.5  # seconds given to what is in hand after SIGTERM
REMIND_EVERY = 15.0  # seconds between looks for stakeholder updates due and overdue actions (cadences are 30 min and more)


class EimService:
    def __init__(self, svc: Services, settings: ServiceSettings, log: Callable[[str], None],
                 ingest: Any = None, listen: tuple[str, int] | None = None) -> None:
        self.svc = svc
        self.settings = settings
        self.log = log
        self.notifications = NotificationCases(svc, settings.policy)
        self.collab = CollabCases(svc)  # stakeholder updates, their reminders, overdue actions
        self.ingest, self.listen = ingest, listen
        self.host = socket.gethostname()
        self.instance = f"{self.host}:{os.getpid()}:{secrets.token_hex(3)}"
        self.started_at = svc.clock.now()
        self.store_pool = ThreadPoolExecutor(2, thread_name_prefix="eim-service-store")
        self.send_pool = ThreadPoolExecutor(SENDERS, thread_name_prefix="eim-service-send")
        self.scheduler = SlaScheduler(svc, SCHEDULER_USER, on_error=lambda text: log(f"SLA scheduler: {text}"),
                                      on_change=self._marker_moved)
        self.wake = asyncio.Event()
        self.moved = asyncio.Event()  # the scheduler's watch saw the change marker move
        self.loop: asyncio.AbstractEventLoop | None = None
        self.in_flight: set[asyncio.Future[Any]] = set()
        self.bound: tuple[str, int] | None = None
        self._errors: dict[str, str] = {}

    async def _store(self, fn, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.store_pool, partial(fn, *args))

    async def run(self, stop: asyncio.Event, ready: Callable[[], None] | None = None) -> None:
        await self._store(self._beat)
        runner = await self._start_ingest() if self.ingest is not None else None
        self.scheduler.start()
        self.log(f"started on {self.host} (pid {os.getpid()}), store {self._store_name()}")
        loops = [asyncio.create_task(f()) for f in (self._heartbeat_loop, self._enqueue_loop, self._deliver_loop,
                                                    self._remind_loop)]
        if self.settings.anchors is not None:
            loops.append(asyncio.create_task(self._anchor_loop()))
        if ready is not None:
            ready()
        try:
            await stop.wait()
        finally:
            self.log("stopping")
            self.scheduler.shutdown()
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            if self.in_flight:
                await asyncio.wait(self.in_flight, timeout=STOP_GRACE)
            if runner is not None:
                await runner.cleanup()
            # On failure the heartbeat simply goes stale; the guard logs why.
            await self._guard("removing the heartbeat",
                              asyncio.wait_for(self._store(self.notifications.stop_beating, self.instance), STOP_GRACE))
            self.store_pool.shutdown(wait=False, cancel_futures=True)
            self.send_pool.shutdown(wait=False, cancel_futures=True)
            self.log("stopped")

    def _store_name(self) -> str:
        url = self.svc.db.url
        return url.split("@", 1)[1] if "@" in url else url

    # --- the receiver ---------------------------------------------------------------------------

    async def _start_ingest(self):
        from aiohttp import web

        assert self.listen is not None
        runner = web.AppRunner(self.ingest.app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, *self.listen)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ListenError(f"cannot listen on {self.listen[0]}:{self.listen[1]}: {exc.strerror or exc}") from None
        self.bound = (self.listen[0], runner.addresses[0][1])
        print(f"eim service: ingest listening on http://{self.bound[0]}:{self.bound[1]}", flush=True)
        self.log(f"ingest listening on http://{self.bound[0]}:{self.bound[1]}")
        return runner

    # --- heartbeat ------------------------------------------------------------------------------

    def _beat(self) -> None:
        self.notifications.beat(self.instance, self.host, os.getpid(), self.started_at)

    async def _heartbeat_loop(self) -> None:
        every = self.settings.heartbeat.total_seconds()
        while True:
            await asyncio.sleep(every)
            await self._guard("heartbeat", self._store(self._beat))

    async def _guard(self, what: str, work) -> Any:
        """Run store work; a failure is logged once until it succeeds again, and the loop goes on."""
        try:
            result = await work
        except Exception as exc:  # noqa: BLE001 - the store may be away for a while
            text = describe_error(exc)
            if self._errors.get(what) != text:
                self.log(f"{what} failed: {text}")
            self._errors[what] = text
            return None
        if self._errors.pop(what, None) is not None:
            self.log(f"{what} works again")
        return result

    # --- events into the outbox -----------------------------------------------------------------

    def _marker_moved(self, _marker: int) -> None:
        """From the scheduler's thread: something changed in the store."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.moved.set)

    async def _enqueue_loop(self) -> None:
        """Queue notifications for what changed. The scheduler's watch reads the change marker
        every second and wakes this loop when it moves (one read a second for the whole service,
        which idles on a big store); every REQUEUE_EVERY seconds it looks anyway, in case a wake-up
        was missed while the store was away."""
        self.loop = asyncio.get_running_loop()
        while True:
            self.moved.clear()
            done = await self._guard("queueing notifications", self._store(self._enqueue_all))
            if done is None:  # the store is away: look again soon
                await asyncio.sleep(POLL)
                continue
            try:
                await asyncio.wait_for(self.moved.wait(), timeout=REQUEUE_EVERY)
            except TimeoutError:
                pass

    def _enqueue_all(self) -> int:
        total = 0
        while True:
            done = self.notifications.enqueue_new()
            total += done.added
            for line in done.lines:
                self.log(f"queued {line}")
            if done.read < BATCH:
                break
        while True:  # stakeholder updates, update reminders and overdue actions: their own cursor
            done = self.collab.enqueue_new(self.settings.policy)
            total += done.added
            for line in done.lines:
                self.log(f"queued {line}")
            if done.read < BATCH:
                break
        if total:
            self.wake.set()
        return total

    # --- stakeholder-update reminders and overdue actions --------------------------------------

    async def _remind_loop(self) -> None:
        """Record updates due or missed and overdue actions (once each); the enqueue loop then
        sees the records in the timeline and queues their messages."""
        while True:
            lines = await self._guard("looking for updates due", self._store(self.collab.remind, self.settings.cadence))
            for line in lines or []:
                self.log(line)
            await asyncio.sleep(REMIND_EVERY)

    # --- anchors ---------------------------------------------------------------------------------

    async def _anchor_loop(self) -> None:
        """`[audit] anchor_every`: at start and then every so often, the chain head (sequence,
        hash, time) appended to `anchor_file` and sent to `anchor_to`, where the store's writers
        cannot rewrite it; `eim audit verify --anchor FILE` proves the chain still passes through
        each. A head that has not moved since the last anchor is not recorded again."""
        from eim_tui.services.audit_trail import take_anchor

        settings = self.settings.anchors
        last: tuple[int, str] | None = None
        while True:
            anchor = await self._guard("reading the chain head", self._store(take_anchor, self.svc.db, self.svc.clock.now()))
            if anchor is not None and (anchor.seq, anchor.hash) != last:
                kept = []
                if settings.file and await self._guard(f"appending an anchor to {settings.file}",
                                                       self._store(_append_line, settings.file, anchor.line())):
                    kept.append(settings.file)
                for url in settings.to:
                    sent = await asyncio.get_running_loop().run_in_executor(
                        self.send_pool, channels.send, url, f"eim audit anchor: event {anchor.seq}",
                        f"{anchor.line()}\n\nKeep this line. `eim audit verify --anchor FILE` (the line in FILE) "
                        "proves the timeline still passes through this event unchanged.")
                    if sent.ok:
                        kept.append(channels.kind(url))
                    else:
                        self.log(f"anchor to {channels.mask(url)} failed: {sent.error}")
                if kept:
                    last = (anchor.seq, anchor.hash)
                    self.log(f"anchored the timeline at event {anchor.seq} ({anchor.hash[:12]}…) to {', '.join(kept)}")
            await asyncio.sleep(settings.every.total_seconds())

    # --- deliveries -----------------------------------------------------------------------------

    async def _deliver_loop(self) -> None:
        lease = self.settings.lease
        while True:
            self.wake.clear()
            room = SENDERS - len(self.in_flight)
            claimed = []
            if room > 0:
                live = await self._guard("reading heartbeats", self._store(self._live)) or [self.instance]
                claimed = await self._guard("claiming notifications",
                                            self._store(self.notifications.claim, self.instance, lease, live, room)) or []
            for delivery in claimed:
                future = asyncio.ensure_future(self._deliver(delivery))
                self.in_flight.add(future)
                future.add_done_callback(self._done)
            if len(claimed) == room and room > 0:
                continue  # more may be waiting
            await self._sleep_until_due()

    def _done(self, future: asyncio.Future[Any]) -> None:
        self.in_flight.discard(future)
        self.wake.set()

    def _live(self) -> list[str]:
        fresh = timedelta(seconds=3 * self.settings.heartbeat.total_seconds() + 2)
        return [h.instance for h in self.notifications.running_services(fresh)]

    async def _sleep_until_due(self) -> None:
        due = await self._guard("reading the outbox", self._store(self.notifications.next_due))
        wait = 10.0  # claims of a service that died (held for a lease, minutes) are looked for this often
        if due is not None:
            wait = max(0.05, min(wait, (due - self.svc.clock.now()).total_seconds()))
        try:
            await asyncio.wait_for(self.wake.wait(), timeout=wait)
        except TimeoutError:
            pass

    async def _deliver(self, delivery) -> None:
        loop = asyncio.get_running_loop()
        # Sent and marked by the same worker: a mark never waits in a queue behind other store
        # work, so the window in which a crash would send a message twice stays a few milliseconds.
        outcome, done = await loop.run_in_executor(self.send_pool, self._send_and_mark, delivery)
        who = "default channels" if delivery.recipient == "default" else delivery.recipient
        what = f"{format_key(delivery.incident_id)} to {who} by {delivery.channel_kind}"
        if isinstance(done, Exception):
            await self._guard("recording a delivery", _raise(done))
        elif done == "sent":
            self.log(f"sent {what}")
        elif done == "retry":
            self.log(f"failed {what} (attempt {delivery.attempt}): {outcome.error}; will retry")
        elif done == "failed":
            self.log(f"gave up {what} after {delivery.attempt} attempts: {outcome.error}")
        elif done == "lost":
            self.log(f"{what}: another service took this delivery over")

    def _send_and_mark(self, delivery) -> tuple[Outcome, str | Exception]:
        result = channels.send(delivery.url, delivery.title, delivery.body)
        outcome = Outcome(result.ok, result.error)
        try:
            return outcome, self.notifications.finish(delivery, self.instance, outcome)
        except Exception as exc:  # noqa: BLE001 - logged; the claim is taken again after the lease
            return outcome, exc


def _append_line(path: str, line: str) -> bool:
    with open(path, "a", encoding="utf-8") as out:
        out.write(line + "\n")
        out.flush()
        os.fsync(out.fileno())
    return True


async def _raise(exc: Exception) -> None:
    raise exc


class ListenError(Exception):
    """The receiver cannot listen where it was told to."""
