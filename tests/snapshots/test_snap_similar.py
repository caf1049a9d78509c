"""Snapshots of the detail screen's similar-incidents panel (`s`), at 80x24 and 120x40: the seeded
demo's "Disk /var at 97%" incident and the resolved ones most like it, with how each was resolved.
Accepted after looking at them (converted with rsvg-convert)."""

from __future__ import annotations

import pytest
from test_snap_lifecycle import settle
from textual.pilot import Pilot

from eim_tui.tui.screens.detail import DetailScreen

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
DISK_FULL = 6  # in the seeded demo (seed 7): "Disk /var at 97% on db01.pay.internal"


@SIZES
def test_the_similar_panel_of_a_disk_full_incident(snap_compare, fixed_clock_app, size) -> None:
    app = fixed_clock_app(demo=200)

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        pilot.app.push_screen(DetailScreen(DISK_FULL))
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
