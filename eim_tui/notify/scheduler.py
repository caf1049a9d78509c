"""The SLA scheduler inside the TUI: warnings, breaches and escalations at their due instants.

One APScheduler `AsyncIOScheduler` on Textual's event loop holds two jobs, both plain `def`s that
APScheduler runs in its thread pool (the database is never touched on the UI loop):

* `sla-due`, a one-shot job armed at the earliest pending moment; it runs `run_due(clock.now())`
  and re-arms itself at the next one. Finding that moment is a handful of indexed MIN() look-ups
  (`store/sla_queries.py`), never a scan of every incident.
* `sla-watch`, every `poll_interval` seconds: reads the change marker; when anyone (this process or
  another) changed something, or the injected clock has passed the armed moment (a test's
  FixedClock, a laptop waking up), it runs `run_due` too, which re-plans. On PostgreSQL the store's
  change feed tells of each commit (`Services.watch_changes`): the watch then runs at once when
  told, and between notices does not read the marker while the feed is live (the listener checks
  it every two minutes in case a notice was lost); it polls every `poll_interval` while it is not.

`run_due(now)` records what fell due up to `now` — moments in the window since the last run, and
any moment of an incident that changed (an acknowledgement may put a warning in the past) — then
reads the SLA events that reached the timeline since the last run, from whichever process wrote
them, and hands those this user should hear of to `on_alerts` (the app posts them as a message).
Tests drive `run_due` directly with a FixedClock.

The first run of a process records what fell due in the last 24 hours: on a big store, thousands
of moments. It records them in batches (`SlaService.process`), one transaction each, and asks
between batches whether the scheduler was shut down. That is what lets `q` quit at once: the
interpreter waits at exit for the pool's threads, so a sweep that ran on would hold the exit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from eim_tui.domain.clock import SystemClock
from eim_tui.domain.model import Role
from eim_tui.notify.policy import Audience, SlaNotice, relevant_alerts
from eim_tui.services.incidents import Services
from eim_tui.services.sla import DEFAULT_LOOKBACK, Processed, Recorded, SlaService

# APScheduler logs missed runs and job errors; with no handler Python would print them on stderr,
# which is where Textual draws the screen. A handler here keeps them off it (the root logger's
# handlers, if an embedding program set any, still get them).
logging.getLogger("apscheduler").addHandler(logging.NullHandler())
# "skipped: maximum number of running instances reached" is the watch job doing as told (one at a
# time, the next poll will look again): not worth a warning.
logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)

DUE_JOB, WATCH_JOB = "sla-due", "sla-watch"


@dataclass(frozen=True)
class RunResult:
    recorded: list[Recorded] = field(default_factory=list)
    alerts: list[SlaNotice] = field(default_factory=list)
    next_at: datetime | None = None
    examined: int = 0
    complete: bool = True  # False: stopped mid-way (a quit); the rest is recorded at the next run


class SlaScheduler:
    def __init__(
        self,
        services: Services,
        user: str,
        on_alerts: Callable[[list[SlaNotice]], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        severities: frozenset[int] = frozenset({1, 2, 3}),
        poll_interval: float = 1.0,
        lookback: timedelta = DEFAULT_LOOKBACK,
        on_change: Callable[[int], None] | None = None,
    ) -> None:
        self.svc = services
        self.sla = SlaService(services)
        self.clock = services.clock
        self.user = user
        self.on_alerts = on_alerts
        self.on_error = on_error
        self.severities = severities
        self.poll_interval = poll_interval
        self.lookback = lookback
        self.next_at: datetime | None = None
        self.audience: Audience | None = None
        self._lock = threading.Lock()
        self._done_until: datetime | None = None
        self._planned = False  # next_at None means "nothing pending" only once a plan was made
        self._marker = 0
        self._alert_marker = 0
        self._scheduler = None
        self._stopped = False
        self._last_error = ""
        # Told of every move of the change marker its watch sees (from its thread): `eim service`
        # queues notifications on it instead of reading the marker a second time each second.
        self.on_change = on_change
        self._seen = -1
        # The store's change feed (PostgreSQL): whether it is live, the newest marker it told of
        # (inf: told that something changed, not what).
        self._pushed = False
        self._heard = -1.0
        self._stop_feed: Callable[[], None] | None = None

    # --- the work (any thread) -----------------------------------------------------------------

    def prime(self, now: datetime) -> None:
        """Start from here: moments since `now - lookback` still to record, events from now to alert."""
        self._marker = self._alert_marker = self.svc.change_marker()
        self._done_until = now - self.lookback
        self.audience = self._audience()

    def run_due(self, now: datetime, stop: Callable[[], bool] | None = None) -> RunResult:
        """Record every moment due up to `now`, collect this user's alerts, and plan the next run.

        `stop` is asked between batches (the jobs pass "has the scheduler been shut down"): a first
        run on a big store records thousands of moments, and a quit must not wait for them all.
        Stopped, nothing moves on — the window and the change marker stay where they were, so a
        later run (or the next start's) records what is left."""
        with self._lock:
            if stop is not None and stop():  # waited for the lock while a sweep was told to stop
                return RunResult(next_at=self.next_at, complete=False)
            if self._done_until is None:
                self.prime(now)
            assert self._done_until is not None
            marker = self.svc.change_marker()
            changed: set[int] = set()
            if marker != self._marker:
                marker, changed = self.svc.changes_since(self._marker)
            lo = self._done_until
            # Planning from scratch (every source's look-up) is needed only once the armed instant
            # has come; a change alone can only bring a moment nearer, and the changed incidents
            # were just read: their next moments are known.
            replan = self.next_at is None and not self._planned or (self.next_at is not None and now >= self.next_at)
            numbers = (self.sla.candidates(lo, now) if now > lo else set()) | changed
            done = self.sla.process(numbers, now, now - self.lookback, stop=stop) if numbers else Processed([], None)
            if not done.complete:
                return RunResult(done.recorded, [], self.next_at, len(numbers), complete=False)
            # Our own records count as changes next time: harmless, they are found recorded.
            self._marker = marker
            self._done_until = max(lo, now)
            alerts = self._collect_alerts()
            if replan:
                self.next_at = self.sla.next_instant(self._done_until)
                self._planned = True
            elif done.next_at is not None and (self.next_at is None or done.next_at < self.next_at):
                self.next_at = done.next_at
            return RunResult(done.recorded, alerts, self.next_at, len(numbers))

    def _collect_alerts(self) -> list[SlaNotice]:
        head = self.svc.change_marker()
        if head == self._alert_marker:
            return []
        found = self.sla.alert_events_since(self._alert_marker, self.user, upto=head)
        self._alert_marker = head
        return relevant_alerts(found, self.audience) if self.audience else []

    def _audience(self) -> Audience:
        access = getattr(self.svc, "access", None)
        if access is not None:
            ctx = access.context(self.user)
            return Audience(self.user, ctx.role, ctx.groups, self.severities, ctx.sees_confidential)
        known = self.svc.ref.user(self.user)
        role = known.role if known else Role.RESPONDER
        return Audience(self.user, role, frozenset(self.svc.user_groups(self.user)), self.severities)

    # --- APScheduler glue (start/shutdown on the UI loop; jobs in its thread pool) ---------------

    def start(self) -> None:
        """Start on the running event loop (EimApp.on_mount); the first run happens at once."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self._stopped = False
        self._scheduler = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1,
                                                         "misfire_grace_time": None})
        self._scheduler.add_job(self._watch, "interval", seconds=self.poll_interval, id=WATCH_JOB)
        self._scheduler.add_job(self._run_job, id=DUE_JOB)  # no trigger: run now, then re-armed
        self._scheduler.start()
        watch = getattr(self.svc, "watch_changes", None)
        if watch is not None:
            self._stop_feed = watch(self._told, self._feed_live)

    def _told(self, marker: int) -> None:
        """The feed told of a commit (on the listener's thread): run the watch now."""
        self._heard = max(self._heard, float("inf") if marker < 0 else marker)
        scheduler = self._scheduler
        if scheduler is None or self._stopped or self._heard <= self._seen:
            return
        try:
            scheduler.modify_job(WATCH_JOB, next_run_time=SystemClock().now())
        except Exception:  # noqa: BLE001 - shut down meanwhile: nothing to wake
            return

    def _feed_live(self, live: bool) -> None:
        self._pushed = live
        if live:
            self._told(-1)  # what changed while nobody told: read once

    def shutdown(self) -> None:
        self._stopped = True
        if self._stop_feed is not None:
            self._stop_feed()
            self._stop_feed = None
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None

    def idle(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the run in progress, if any, to end; True once none is.

        After `shutdown` a run ends at its next batch boundary; a test (or a program that must not
        leave before the store is quiet) waits here for it."""
        if not self._lock.acquire(timeout=timeout):
            return False
        self._lock.release()
        return True

    @property
    def planned(self) -> bool:
        """Whether the first run is done: `next_at` is then the plan (None: nothing pending)."""
        return self._planned

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    def _is_stopped(self) -> bool:
        return self._stopped

    def _watch(self) -> None:
        if self._stopped:
            return
        due = self.next_at is not None and self.clock.now() >= self.next_at
        quiet = self._pushed and self._heard <= self._seen and not self._last_error
        if quiet and not due and self._done_until is not None:
            return  # the feed tells of every change: nothing to ask the store
        if self._heard == float("inf"):
            self._heard = -1.0  # this read answers it
        try:
            marker = self.svc.change_marker()
        except Exception as exc:  # noqa: BLE001 - reported once, retried next poll
            self._fail(exc)
            return
        if marker != self._seen:
            self._seen = marker
            if self.on_change is not None:
                self.on_change(marker)
        moved = marker != self._marker
        if moved or due or self._done_until is None:
            self._run_job()

    def _run_job(self) -> None:
        if self._stopped:
            return
        try:
            result = self.run_due(self.clock.now(), stop=self._is_stopped)
        except Exception as exc:  # noqa: BLE001 - a scheduler must outlive a database hiccup
            self._fail(exc)
            return
        self._last_error = ""
        self._arm(result.next_at)
        if result.alerts and self.on_alerts is not None and not self._stopped:
            self.on_alerts(result.alerts)

    def _arm(self, next_at: datetime | None) -> None:
        scheduler = self._scheduler
        if scheduler is None or self._stopped:
            return
        if next_at is None:
            if scheduler.get_job(DUE_JOB) is not None:
                scheduler.remove_job(DUE_JOB)
            return
        # APScheduler waits on the real clock; the instant is on the injected one. Arm it after the
        # same delay; a clock moved by hand is caught by the watch job.
        delay = max(0.0, (next_at - self.clock.now()).total_seconds())
        run_date = SystemClock().now() + timedelta(seconds=delay)
        scheduler.add_job(self._run_job, "date", run_date=run_date, id=DUE_JOB, replace_existing=True)

    def _fail(self, exc: Exception) -> None:
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if text != self._last_error and self.on_error is not None and not self._stopped:
            self.on_error(text)
        self._last_error = text
