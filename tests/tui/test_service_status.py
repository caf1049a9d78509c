"""The queue's title line says "service: running on HOST" while an `eim service` beats on the
store, and nothing while none does (or its heartbeat went stale)."""

from __future__ import annotations

import time
from datetime import timedelta

from textual.widgets import Static

from eim_tui.services.notifications import NotificationCases
from eim_tui.tui.widgets.service_status import ServiceStatus, service_text

DEADLINE = 10.0


async def _wait(pilot, predicate, what: str) -> None:
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_words() -> None:
    assert service_text([]) == ""
    assert service_text(["ops-1"]) == "service: running on ops-1"
    assert service_text(["ops-1", "ops-2"]) == "service: running on ops-1 +1"


async def test_a_running_service_shows_in_the_title_line_and_a_stale_one_does_not(store, clock, app_factory) -> None:
    cases = NotificationCases(store)
    cases.beat("ops-1:42:abc", "ops-1", 42, clock.now())
    app = app_factory(store)
    async with app.run_test(size=(100, 24)) as pilot:
        await _wait(pilot, lambda: app.screen.query(ServiceStatus), "the status widget")
        status = app.screen.query_one(ServiceStatus)
        await _wait(pilot, lambda: status.display, "the status to show")
        assert str(status.render()) == "service: running on ops-1"
        assert status.parent is app.screen.query_one("#queue-top")
        assert app.screen.query_one("#queue-title", Static).region.y == status.region.y  # the same line
        clock.advance(timedelta(minutes=5))  # the service stopped beating
        status._read()
        await _wait(pilot, lambda: not status.display, "the status to go")


async def test_nothing_shows_without_a_service(store, app_factory) -> None:
    app = app_factory(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await _wait(pilot, lambda: app.screen.query(ServiceStatus), "the status widget")
        await pilot.pause(0.3)
        assert not app.screen.query_one(ServiceStatus).display
