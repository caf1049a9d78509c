"""Snapshots of the queue: the seeded demo (60 incidents, seed 7) on a fixed clock at 80x24 and
120x40, the filter bar open, and the help screen.

Each picture was looked at (rsvg-convert to PNG) before it was accepted: every column readable,
severity and SLA by colour and by text, the header clock at 09:00:00 (UTC).
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


async def settle(pilot: Pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@SIZES
def test_queue(snap_compare, fixed_clock_app, size) -> None:
    assert snap_compare(fixed_clock_app(), terminal_size=size, run_before=settle)


@SIZES
def test_queue_with_the_filter_bar_open(snap_compare, fixed_clock_app, size, type_text) -> None:
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("slash")
        box = pilot.app.screen.query_one("#queue-filter", Input)
        box.cursor_blink = False  # a blinking cursor is drawn or not by the instant of the picture
        await type_text(pilot, "sev<=2 disk")
        await settle(pilot)
        assert box.has_focus

    assert snap_compare(fixed_clock_app(), terminal_size=size, run_before=run_before)


def test_queue_filtered(snap_compare, fixed_clock_app, type_text) -> None:
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "sev<=3 state:new,in_progress")
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(fixed_clock_app(), terminal_size=(120, 40), run_before=run_before)


@SIZES
def test_help_over_the_queue(snap_compare, fixed_clock_app, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(fixed_clock_app(), terminal_size=size, run_before=run_before)
