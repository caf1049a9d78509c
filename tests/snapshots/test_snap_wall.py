"""Snapshots of the wall board at 80x24, 120x40 and 250x70, and of a new Sev1's alert.

A fixed clock (2026-11-26 09:00 UTC), the seeded demo (60 incidents, seed 7) and TZ=UTC make
every picture the same on every machine. Each was accepted after looking at it (rsvg-convert
to PNG): compact counters over one column at 80x24, big digits and side-by-side lists at 120x40,
every figure in digits and three list columns at 250x70.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from eim_tui.bootstrap import open_services
from eim_tui.domain.board import BoardScope
from eim_tui.domain.intake import NewIncident
from eim_tui.services.demo import generate
from eim_tui.tui.screens.wall import WallScreen


@pytest.fixture
def board_app(tmp_path, snapshot_clock, app_factory):
    """The board on the seeded demo; local time is UTC (conftest.py's autouse fixture)."""
    svc = open_services(f"sqlite:///{tmp_path}/wall.db", snapshot_clock)
    generate(svc, incidents=60, seed=7)
    app = app_factory(svc, "lead", wall=BoardScope())
    yield app
    svc.db.dispose()


async def settle(pilot: Pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (250, 70)], ids=["80x24", "120x40", "250x70"])
def test_wall_board(snap_compare, board_app, size) -> None:
    assert snap_compare(board_app, terminal_size=size, run_before=settle)


def test_wall_board_announces_a_new_sev1(snap_compare, board_app) -> None:
    async def new_sev1(pilot: Pilot) -> None:
        await settle(pilot)
        board_app.services.log_incident(
            NewIncident(title="Core router down in DC2 [east]", impact=1, urgency=1, assignment_group="network-ops"),
            "monitor",
        )
        screen = pilot.app.screen
        assert isinstance(screen, WallScreen)
        screen.poll()
        await settle(pilot)

    assert snap_compare(board_app, terminal_size=(120, 40), run_before=new_sev1)
