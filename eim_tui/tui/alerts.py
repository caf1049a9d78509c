"""Where alerts go: the in-app toast, the terminal bell, a terminal notification escape, and a
desktop notification (plyer), for the person running this TUI.

`AlertCenter` lives in the app. The scheduler's thread posts `SlaAlerts`; the app hands them to
`receive`, which de-duplicates and rate-limits (`alert_policy.AlertGate`) and delivers on every
channel the user's `[alerts]` settings enable. Toast, bell and escape are written on the UI
thread through Textual; the desktop notification runs in a worker thread and a child process
(`desktop_notify`), so it never blocks the UI, never writes to the terminal, and when it fails
the other channels have fired already. Each delivery about one incident is recorded in its
timeline (NOTIFICATION_SENT, with each channel's outcome); every delivery is kept in `history`.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from rich.markup import escape
from textual.message import Message

from eim_tui.config import AlertSettings
from eim_tui.notify.desktop import ChannelOutcome, desktop_session, notify_desktop
from eim_tui.notify.policy import (
    AlertGate,
    Delivery,
    SlaNotice,
    compact,
    in_quiet_hours,
)
from eim_tui.notify.terminal import for_terminal, write_in_app
from eim_tui.tui.workers import explain

SMALL_WIDTH, SMALL_HEIGHT = 100, 30
"""A terminal narrower or lower than this gets short alert toasts."""
SMALL_BODY = 36
"""Characters of a short toast's one line: what fits in the toast at 80 columns."""


@dataclass
class SlaAlerts(Message):
    """From the scheduler's thread: SLA events this user should hear of."""

    alerts: list[SlaNotice]


@dataclass
class SchedulerTrouble(Message):
    """The scheduler could not reach the store (it retries on its own)."""

    error: str


@dataclass
class DeliveryReport:
    delivery: Delivery
    at: datetime
    channels: dict[str, ChannelOutcome] = field(default_factory=dict)


class AlertCenter:
    def __init__(
        self,
        app,
        settings: AlertSettings,
        env: Mapping[str, str] | None = None,
        desktop: Callable[[str, str], ChannelOutcome] = notify_desktop,
        gate: AlertGate | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.env = os.environ if env is None else env
        self.gate = gate or AlertGate()
        self.desktop = desktop
        self.history: deque[DeliveryReport] = deque(maxlen=200)

    def receive(self, alerts: list[SlaNotice]) -> list[DeliveryReport]:
        return [self.deliver(d) for d in self.gate.offer(alerts, self.app.clock.now())]

    def flush(self) -> list[DeliveryReport]:
        """Deliver what the rate limit held back (the app calls it every few seconds)."""
        if not self.gate.waiting:
            return []
        return [self.deliver(d) for d in self.gate.flush(self.app.clock.now())]

    def deliver(self, delivery: Delivery) -> DeliveryReport:
        now = self.app.clock.now()
        report = DeliveryReport(delivery, now)
        self.history.append(report)
        channels = self.settings.channels
        quiet = in_quiet_hours(self.settings.quiet_hours, now.astimezone().time())
        if "toast" in channels:
            # Titles come from users and hold `[`: escaped before they meet markup.
            title, body, timeout = delivery.title, delivery.body, 15
            if self.app.size.width < SMALL_WIDTH or self.app.size.height < SMALL_HEIGHT:
                # At 80x24 a full summary covered a quarter of the queue: one line, gone sooner
                # (and ctrl+l clears it at once).
                title, body = compact(delivery, SMALL_BODY)
                timeout = 8
            self.app.notify(escape(body), title=escape(title),
                            severity="error" if delivery.urgent else "warning", timeout=timeout)
            report.channels["toast"] = ChannelOutcome(True)
        if quiet:
            report.channels["quiet"] = ChannelOutcome(True, "quiet hours: toast only")
            self._record(report)
            return report
        if "bell" in channels:
            self.app.bell()
            report.channels["bell"] = ChannelOutcome(True)
        if "terminal" in channels:
            sequence = for_terminal(self.settings.escape, delivery.title, delivery.body, dict(self.env),
                                    self.settings.tmux_passthrough)
            written = write_in_app(self.app, sequence)
            report.channels["terminal"] = ChannelOutcome(
                written, "" if written else "no terminal (headless or browser)")
        if "desktop" in channels:
            session = desktop_session(self.env, self.app.is_web)
            if session.ok:
                self._desktop_in_thread(report)
                return report  # recorded when the notifier answers
            report.channels["desktop"] = ChannelOutcome(False, f"skipped: {session.detail}")
        self._record(report)
        return report

    def _desktop_in_thread(self, report: DeliveryReport) -> None:
        def work() -> None:
            try:
                report.channels["desktop"] = self.desktop(report.delivery.title, report.delivery.body)
            except Exception as exc:  # noqa: BLE001 - a failed channel is an outcome, recorded like the others
                report.channels["desktop"] = ChannelOutcome(False, explain(exc))
            self._record_now(report)

        self.app.run_worker(work, thread=True, exit_on_error=False, group="desktop-notify",
                            description="notify the desktop and record it")

    def _record(self, report: DeliveryReport) -> None:
        if len(report.delivery.numbers) != 1:
            return  # a summary names many incidents: it stays in `history`, not in 200 timelines
        self.app.run_worker(lambda: self._record_now(report), thread=True, exit_on_error=False,
                            group="alert-record", description="record a notification")

    def _record_now(self, report: DeliveryReport) -> None:
        """In a worker thread: one NOTIFICATION_SENT event with what each channel did. A failure is the
        app's to tell (app.py): the alert went out already."""
        if len(report.delivery.numbers) != 1:
            return
        number = report.delivery.numbers[0]
        outcomes = {name: {"ok": o.ok, "detail": o.detail} for name, o in report.channels.items()}
        failed = [name for name, o in report.channels.items() if not o.ok and not o.detail.startswith("skipped")]
        summary = f"notified {self.app.user}: {report.delivery.title}" + (f" ({', '.join(failed)} failed)" if failed else "")
        self.app.services.record_notification(number, self.app.user, summary, outcomes)
