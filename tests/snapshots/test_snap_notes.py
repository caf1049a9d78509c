"""Snapshots of the diagnosis notes screen at 80x24 and 120x40: notes of several kinds (a
confirmed hypothesis, a test with its result, two whys, the recorded root cause), and the
editor open on the next why, quoting the why it answers.

A fixed clock (2026-11-26 09:00 UTC), a seeded SQLite store, TZ=UTC and a cursor that does not
blink make each picture the same on every machine. Each was accepted after looking at it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea

from eim_tui.bootstrap import open_services
from eim_tui.domain.clock import FixedClock
from eim_tui.domain.intake import NewIncident
from eim_tui.tui.screens.notes import NotesScreen

FIXED_NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


@pytest.fixture
def app(tmp_path, app_factory):
    clock = FixedClock(FIXED_NOW - timedelta(minutes=40))
    svc = open_services(f"sqlite:///{tmp_path}/eim.db", clock)
    number = svc.log_incident(NewIncident("Payments API returns 502 [prod]", 1, 2, service="payments"), "bob").number
    steps = [
        ("bob", "observation", "502s since 08:20 on both API nodes; p99 latency 9 s", None, ""),
        ("alice", "hypothesis", "DB connection pool exhausted", None, ""),
        ("alice", "test", "Replayed 200 rps against staging with the production pool size", None,
         "Pool saturated after 40 s; the same 502s"),
        ("alice", "finding", "Pool size is 20 per node; peak needs about 70", None, ""),
        ("bob", "why", "The API timed out because no DB connection was free", None, ""),
        ("bob", "why", "The pool was sized for last year's load", None, ""),
        ("alice", "root_cause", "Pool sized for last year's load; no capacity review since", None, ""),
        ("alice", "action", "Raise the pool to 80 and add a saturation alert — alice, today", None, ""),
    ]
    for author, kind, text, status, result in steps:
        clock.advance(timedelta(minutes=5))
        note = svc.add_note(number, author, kind, text, status=status, result=result)
        if kind == "hypothesis":
            svc.edit_note(note.id, author, None, status="confirmed")
    clock.set(FIXED_NOW)
    yield app_factory(svc), number
    svc.db.dispose()


async def until(pilot: Pilot, predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the screen never got there"
        await pilot.pause(0.02)


async def open_notes(pilot: Pilot, number: int) -> NotesScreen:
    await until(pilot, lambda: type(pilot.app.screen).__name__ == "QueueScreen")
    pilot.app.push_screen(NotesScreen(number))
    await until(pilot, lambda: isinstance(pilot.app.screen, NotesScreen) and pilot.app.screen.details)
    screen = pilot.app.screen
    for area in screen.query(TextArea).results():
        area.cursor_blink = False
    await pilot.pause()
    return screen


@SIZES
def test_notes_of_several_kinds(snap_compare, app, size) -> None:
    instance, number = app

    async def run_before(pilot: Pilot) -> None:
        await open_notes(pilot, number)
        await pilot.press("up", "up", "up")  # the highlight on the second why

    assert snap_compare(instance, terminal_size=size, run_before=run_before)


@SIZES
def test_editor_open_on_the_next_why(snap_compare, app, size, type_text) -> None:
    instance, number = app

    async def run_before(pilot: Pilot) -> None:
        screen = await open_notes(pilot, number)
        await pilot.press("w")
        await type_text(pilot, "Nobody reviews pool sizes before the peak")
        await until(pilot, lambda: screen.editing is not None)

    assert snap_compare(instance, terminal_size=size, run_before=run_before)
