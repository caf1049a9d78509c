"""The apps' own timers, left to run: nothing here calls a tick or a poll by hand.

The other TUI tests build their apps with hour-long intervals and tick and poll by hand, so they
would pass just as well if the timers never fired. Here the queue's tick timer moves a countdown
when the clock moves, and the wall board's poll timer shows an incident that another process (a
real `eim new`) logged.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import timedelta

import pytest
from textual.widgets import Digits

from eim_tui.bootstrap import open_services
from eim_tui.domain.board import BoardScope
from eim_tui.domain.intake import NewIncident
from eim_tui.tui.widgets.queue_table import QueueTable
from eim_tui.tui.widgets.wall_banners import AlertBanner
from eim_tui.tui.widgets.wall_figures import SeverityPanel

DEADLINE = 20.0  # seconds; a timer of 0.2 s gets there in well under one


async def until(pilot, predicate, what: str, timeout: float = DEADLINE):
    """Let the app run until `predicate()` is true; fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        await pilot.pause(0.05)
    raise AssertionError(f"within {timeout:.0f}s: {what}")


@pytest.fixture
def svc(tmp_path, clock):
    services = open_services(f"sqlite:///{tmp_path}/eim.db", clock)
    yield services
    services.db.dispose()


async def test_the_queue_countdown_moves_when_its_tick_timer_runs(svc, clock, app_factory) -> None:
    svc.log_incident(NewIncident(title="Checkout down", impact=1, urgency=1), "monitor")  # Sev1: 15 minutes
    # No polling: only the tick timer can redraw the countdown.
    app = app_factory(svc, tick_interval=0.2)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.screen.query_one(QueueTable)
        line = lambda: table.render_line(1).text  # noqa: E731 - the incident's line, under the header
        clock_text = lambda: str(app.screen.query_one("#queue-clock").render())  # noqa: E731
        await until(pilot, lambda: "INC-000001" in line(), "the incident on the queue")
        assert "15m00s" in line()
        clock.advance(7)
        await until(pilot, lambda: "14m53s" in line(), f"the countdown at 14m53s; the line read {line()!r}")
        assert clock.now().astimezone().strftime("%H:%M:%S") in clock_text()
        clock.advance(timedelta(minutes=15))
        await until(pilot, lambda: "BREACHED" in line(), f"the breach on the line; it read {line()!r}")


async def test_the_wall_shows_what_another_process_logged_by_its_own_poll_timer(tmp_path, app_factory) -> None:
    url = f"sqlite:///{tmp_path}/wall.db"
    svc = open_services(url)  # the real clock, as the other process has
    try:
        svc.log_incident(NewIncident(title="Printer jam on floor 3", impact=3, urgency=3), "kofi")
        app = app_factory(svc, user="lead", wall=BoardScope(), poll_interval=0.2, tick_interval=0.2)
        async with app.run_test(size=(120, 40)) as pilot:
            sev1 = app.screen.query_one("#wall-sev1", SeverityPanel)
            opened = lambda: sev1.query_one(".wall-figure.-open Digits", Digits).value  # noqa: E731
            await until(pilot, lambda: app.screen.snapshot is not None, "the first read of the board")
            assert opened() == "0"
            other = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "eim_tui", "--db", url, "--user", "monitor", "new",
                "--title", "Core router down in DC2", "--impact", "1", "--urgency", "1",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            out, err = await other.communicate()
            assert other.returncode == 0, err.decode()
            assert "INC-000002" in out.decode()
            await until(pilot, lambda: opened() == "1", "the Sev1 counter at 1")
            alert = app.screen.query_one(AlertBanner)
            banner = lambda: str(alert.render())  # noqa: E731
            await until(pilot, lambda: alert.display and "INC-000002" in banner(), "the new Sev1 announced")
            assert "NEW SEV1" in banner()
    finally:
        svc.db.dispose()
