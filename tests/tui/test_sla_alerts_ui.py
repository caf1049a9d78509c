"""The SLA scheduler inside the running app, on a fake clock: a breach reaches the responder as a
toast, the bell and the terminal notification escape (written through the driver, between
frames), the desktop attempt fails quietly and is recorded, and the queue row turns red."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from textual.drivers.headless_driver import HeadlessDriver

from eim_tui.bootstrap import open_services
from eim_tui.domain.clock import FixedClock
from eim_tui.domain.intake import NewIncident
from eim_tui.domain.model import EventKind
from eim_tui.tui.widgets.queue_table import QueueTable
from tests.tui.lifecycle_helpers import workers_done

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
DUE = NOW + timedelta(minutes=15)  # a Sev1's response


class RecordingDriver(HeadlessDriver):
    """A driver that keeps what the app writes to the terminal, as a real one would send it."""

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        self._app.terminal_output.append(data)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def svc(tmp_path, clock):
    services = open_services(f"sqlite:///{tmp_path}/eim.db", clock)
    services.log_incident(NewIncident(title="Core switch down [dc1]", impact=1, urgency=1,
                                      assignment_group="platform", assignee="alice"), "monitor")
    yield services
    services.db.dispose()


# The app with its SLA scheduler, polling fast and ticking every second as in real use.
LIVE = dict(poll_interval=0.05, tick_interval=1.0, sla_scheduler=True)


def recording(app):
    """`app`, keeping what it writes to the terminal in `app.terminal_output` (RecordingDriver)."""
    app.terminal_output = []
    app.driver_class = RecordingDriver
    return app


async def until(pilot, predicate, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_breach_reaches_the_responder_on_every_channel(svc, clock, monkeypatch, capfd, app_factory) -> None:
    # A desktop session that is not there: plyer's attempt must fail without a word on the terminal.
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    monkeypatch.setenv("DISPLAY", ":987")
    monkeypatch.delenv("TMUX", raising=False)
    app = recording(app_factory(svc, **LIVE))
    async with app.run_test(headless=False, size=(100, 30), notifications=True) as pilot:
        await until(pilot, lambda: app.sla_scheduler and app.sla_scheduler.next_at, "the scheduler's plan")
        assert app.sla_scheduler.running
        clock.set(DUE)  # the watch job sees the clock pass the armed instant
        await until(pilot, lambda: any("response SLA breached" in n.title for n in app._notifications), "the toast")
        toast = next(n for n in app._notifications if "response SLA breached" in n.title)
        assert toast.severity == "error" and "Core switch down \\[dc1]" in toast.message
        written = "".join(app.terminal_output)
        escape = "\x1b]777;notify;INC-000001 Sev1 response SLA breached;Core switch down [dc1] — SLA breached"
        assert escape in written  # whole, in one write: never split by a frame
        assert any(w.startswith(escape) for w in app.terminal_output)
        assert "\x07" in app.terminal_output  # the bell
        report = await until(pilot, lambda: next((r for r in app.alert_center.history
                                                  if "desktop" in r.channels), None), "the desktop outcome")
        assert not report.channels["desktop"].ok
        await workers_done(app)  # a queue load replaced by a newer one is cancelled, not failed
        notes = await until(pilot, lambda: [e for e in svc.details(1).timeline
                                            if e.kind is EventKind.NOTIFICATION_SENT], "the notification record")
        assert "desktop failed" in notes[0].summary
        assert notes[0].data["channels"]["terminal"]["ok"] and not notes[0].data["channels"]["desktop"]["ok"]
    assert not app.sla_scheduler.running  # shut down on unmount
    captured = capfd.readouterr()
    assert "connect" not in captured.err.lower() and "notify" not in captured.err.lower()


async def test_a_flood_of_breaches_is_one_toast(tmp_path, clock, app_factory) -> None:
    svc = open_services(f"sqlite:///{tmp_path}/eim.db", clock)
    try:
        for n in range(40):
            svc.log_incident(NewIncident(title=f"Outage {n}", impact=1, urgency=1, assignment_group="platform"),
                             "monitor")
        app = app_factory(svc, **LIVE)
        async with app.run_test(notifications=True) as pilot:
            await until(pilot, lambda: app.sla_scheduler and app.sla_scheduler.next_at, "the scheduler's plan")
            clock.set(DUE)
            await until(pilot, lambda: any("40 incidents breached" in n.title for n in app._notifications),
                        "the summary toast")
            await pilot.pause(0.3)
            breach_toasts = [n for n in app._notifications if "breached" in n.title]
            assert len(breach_toasts) == 1
    finally:
        svc.db.dispose()


async def test_the_queue_row_turns_red_at_the_due_instant(svc, clock, app_factory) -> None:
    svc.log_incident(NewIncident(title="Printer jam", impact=3, urgency=3), "kofi")
    app = app_factory(svc, **LIVE)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.screen.query_one(QueueTable)
        await until(pilot, lambda: table.row(1) is not None and table.row(2) is not None, "the rows")
        await pilot.press("down")  # the cursor's colours would cover the row's
        clock.set(DUE - timedelta(seconds=1))
        await until(pilot, lambda: table.now == clock.now(), "a tick")
        assert "BREACHED" not in table.render_line(1).text
        clock.set(DUE)
        # The queue ticks every second (tick_interval): red at the next tick after the due instant
        # (that the tick timer itself redraws the countdown: tests/tui/test_live_timers.py).
        await until(pilot, lambda: "BREACHED" in table.render_line(1).text, "the breach on the row")
        breached = table.get_component_rich_style("queue-table--breached")
        cell = next(s for s in table.render_line(1) if "BREACHED" in s.text)
        assert cell.style.color == breached.color and cell.style.reverse
        # the scheduler recorded the same breach at the same instant
        await until(pilot, lambda: any(e.kind is EventKind.SLA_BREACH for e in svc.details(1).timeline),
                    "the recorded breach")
        await asyncio.sleep(0)
