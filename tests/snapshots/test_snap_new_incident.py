"""Snapshots of the new-incident form at 80x24 and 120x40: empty, with a routing proposal and the
live priority, and with inline validation errors.

A fixed clock (2026-11-26 09:00 UTC), an empty SQLite store, TZ=UTC and cursors that do not
blink make each picture the same on every machine. Each was accepted after looking at it
(rsvg-convert to PNG).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, TextArea

from eim_tui.bootstrap import open_services
from eim_tui.domain.clock import FixedClock
from eim_tui.tui.dialogs.new_incident import NewIncidentScreen

FIXED_NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


@pytest.fixture
def app(tmp_path, monkeypatch, app_factory):
    monkeypatch.setattr(NewIncidentScreen, "PROPOSAL_DELAY", 0.01)
    svc = open_services(f"sqlite:///{tmp_path}/eim.db", FixedClock(FIXED_NOW))
    yield app_factory(svc)
    svc.db.dispose()


async def until(pilot: Pilot, predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the screen never got there"
        await pilot.pause(0.02)


async def open_form(pilot: Pilot) -> NewIncidentScreen:
    await until(pilot, lambda: type(pilot.app.screen).__name__ == "QueueScreen")
    await pilot.press("n")
    await until(pilot, lambda: isinstance(pilot.app.screen, NewIncidentScreen) and pilot.app.screen.draft.enabled)
    form = pilot.app.screen
    for widget in form.query(Input).results():
        widget.cursor_blink = False
    for area in form.query(TextArea).results():
        area.cursor_blink = False
    return form


@SIZES
def test_empty_form(snap_compare, app, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_form(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_form_with_a_proposal_and_the_priority(snap_compare, app, size, type_text) -> None:
    async def run_before(pilot: Pilot) -> None:
        form = await open_form(pilot)
        await type_text(pilot, "VPN drops every 5 minutes for remote staff")
        await until(pilot, lambda: form.proposal is not None)
        form.query_one("#field-impact", Select).value = 1
        form.query_one("#field-urgency", Select).value = 2
        await until(pilot, lambda: "Sev2" in str(form.query_one("#field-priority").render()))

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_form_with_validation_errors(snap_compare, app, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        form = await open_form(pilot)
        form.query_one("#field-service", Input).value = "paymnts"
        form.query_one("#field-detected", Input).value = "yesterday-ish"
        await pilot.pause()  # the fields' Changed messages first, or they would clear the errors
        await pilot.press("ctrl+s")
        await until(pilot, lambda: form.query_one("#error-service").has_class("-shown"))

    assert snap_compare(app, terminal_size=size, run_before=run_before)
