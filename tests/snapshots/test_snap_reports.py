"""Snapshots of the reports screen at 80x24 and 120x40 on a slice of the real event log (its first
600 rows), on the fixed clock: the table by severity with the MTTR-per-month chart, the weekly
opened/resolved/backlog chart, and where incidents wait. Looked at (rsvg-convert to PNG) before
they were accepted: every series has its own marker and a legend, so they read without colour."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from eim_tui.bootstrap import open_services
from eim_tui.services.importing import import_history
from tests.importing.conftest import write_slice


@pytest.fixture
def history_app(tmp_path, snapshot_clock, app_factory):
    svc = open_services(f"sqlite:///{tmp_path}/reports.db", snapshot_clock)
    import_history(svc, write_slice(tmp_path / "slice.csv", 600))
    yield app_factory(svc, "alice")
    svc.db.dispose()


def keys_then_settle(*keys: str):
    async def run(pilot: Pilot) -> None:
        await pilot.pause()
        await pilot.press("R")
        for _ in range(3):
            await pilot.pause()
            await pilot.app.workers.wait_for_complete()
        await pilot.press(*keys)
        for _ in range(3):  # the key may start a read (the weekly chart's): wait for it, not a guess
            await pilot.pause()
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize(("keys", "what"), [((), "mttr"), (("c",), "weekly"), (("w",), "process")])
def test_reports_screen(snap_compare, history_app, size, keys, what) -> None:
    assert snap_compare(history_app, terminal_size=size, run_before=keys_then_settle(*keys))
