"""Snapshot of the patterns panel at 80x24, as the problems screen's Patterns tab shows it (`P`, `t`), on the planted
cluster (tests/patterns_fixture.py) and the fixed clock. Looked at (rsvg-convert to PNG) before it
was accepted: the table, the highlighted row, the reason line and the keys all fit."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from eim_tui.bootstrap import open_services
from tests.patterns_fixture import plant


@pytest.fixture
def patterns_app(tmp_path, snapshot_clock, app_factory):
    svc = open_services(f"sqlite:///{tmp_path}/patterns.db", snapshot_clock)
    plant(svc, snapshot_clock)
    yield app_factory(svc, "alice")
    svc.db.dispose()


async def open_patterns(pilot: Pilot) -> None:
    await pilot.pause()
    await pilot.press("P")
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.press("t")
    for _ in range(3):  # `t` reads the candidates: wait for that read, not a guess
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_patterns_panel_80x24(snap_compare, patterns_app) -> None:
    assert snap_compare(patterns_app, terminal_size=(80, 24), run_before=open_patterns)
