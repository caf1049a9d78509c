"""The reports screen, from the queue (`R`): the table for a grouping, a chart at a time, where
incidents wait, and exports of what is shown — on a store holding a slice of the real event log."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from eim_tui.config import Config
from eim_tui.services.importing import import_history
from eim_tui.tui.screens.reports import CHARTS, ReportsScreen
from eim_tui.tui.widgets.chart import Chart
from tests.importing.conftest import write_slice


@pytest.fixture
def history(tmp_path: Path, clock):
    from eim_tui.bootstrap import open_services

    svc = open_services(f"sqlite:///{tmp_path}/eim.db", clock)
    import_history(svc, write_slice(tmp_path / "slice.csv", 600))
    yield svc
    svc.db.dispose()


async def settle(pilot: Pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _text(screen: ReportsScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_the_table_follows_the_grouping_and_the_tabs(history, app_factory) -> None:
    async with app_factory(history).run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("R")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReportsScreen)
        table = _text(screen, "#reports-table")
        assert table.splitlines()[0].startswith("key") and table.splitlines()[-1].startswith("total")
        assert "by severity" in _text(screen, "#reports-title")
        await pilot.press("b")  # severity → category
        await settle(pilot)
        assert screen.by == "category" and "Category " in _text(screen, "#reports-table")
        assert screen.figures["report"]["by"] == "category"
        for name in CHARTS[1:]:
            await pilot.press("c")
            await pilot.pause()
            assert name in _text(screen, "#reports-title")
        await pilot.press("w")
        await pilot.pause()
        assert "on hold: awaiting user" in _text(screen, "#reports-table")
        assert not screen.query_one("#reports-chart", Chart).display
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, ReportsScreen)


async def test_exports_write_what_is_shown(history, app_factory, tmp_path: Path) -> None:
    config = replace(Config(), export_dir=tmp_path)
    async with app_factory(history, config=config).run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("R")
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        shown = pilot.app.screen.figures["report"]
        assert json.loads((tmp_path / "eim-report-by-severity.json").read_text()) == shown
        await pilot.press("w", "m")
        await settle(pilot)
        assert "| state | incidents |" in (tmp_path / "eim-where-incidents-wait.md").read_text()
        await pilot.press("v")
        await settle(pilot)
        assert (tmp_path / "eim-where-incidents-wait.csv").read_text().startswith("state,incidents,left")


async def test_the_first_chart_is_drawn_before_the_rest_is_computed(history, app_factory, monkeypatch) -> None:
    """The table and the chart on show come first; where incidents wait (held back here until the
    test lets it go) follows, and exporting it before then says to wait rather than write nothing."""
    import threading

    from eim_tui.services.reports import Reports

    release = threading.Event()
    process_report = Reports.process_report

    def held(self, *args, **kwargs):
        release.wait(10)
        return process_report(self, *args, **kwargs)

    monkeypatch.setattr(Reports, "process_report", held)
    async with app_factory(history).run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("R")
        screen = pilot.app.screen
        for _ in range(200):
            await pilot.pause(0.02)
            if screen.figures is not None:
                break
        assert screen.figures is not None and "process" not in screen.figures and not screen.complete
        assert "computing the rest" in _text(screen, "#reports-title")
        assert "MTTR per month" in str(screen.query_one("#reports-chart", Chart).shows)
        await pilot.press("m")  # what is shown is not all there yet: said, nothing written
        await pilot.pause()
        await pilot.press("w")
        await pilot.pause()
        assert "computing" in _text(screen, "#reports-table")
        release.set()
        await settle(pilot)
        assert screen.complete and "on hold: awaiting user" in _text(screen, "#reports-table")
        assert "computing" not in _text(screen, "#reports-title")
