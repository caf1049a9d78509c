"""The patterns panel: on the reports screen (`t`) and mounted in a container of its own; the
planted cluster is listed with its reason, `n` posts MakeProblem with the highlighted candidate,
`W` moves the window."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import ComposeResult
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import DataTable, Static

from eim_tui.tui.screens.reports import ReportsScreen
from eim_tui.tui.widgets.patterns_panel import PatternsPanel
from tests.patterns_fixture import REASON, plant


@pytest.fixture
def planted(tmp_path: Path, clock):
    from eim_tui.bootstrap import open_services

    svc = open_services(f"sqlite:///{tmp_path}/eim.db", clock)
    numbers = plant(svc, clock)
    yield svc, numbers
    svc.db.dispose()


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _text(node, selector: str) -> str:
    return str(node.query_one(selector, Static).render())


async def test_the_reports_screen_shows_the_planted_pattern_and_n_asks_for_a_problem(planted, app_factory) -> None:
    svc, numbers = planted
    posted: list[PatternsPanel.MakeProblem] = []

    def hook(message) -> None:
        if isinstance(message, PatternsPanel.MakeProblem):
            posted.append(message)

    async with app_factory(svc).run_test(size=(80, 24), message_hook=hook, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("R")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReportsScreen)
        panel = screen.query_one(PatternsPanel)
        assert not panel.display
        await pilot.press("t")
        await settle(pilot)
        assert panel.display and not screen.query_one("#reports-chart").display
        table = panel.query_one(DataTable)
        assert table.has_focus and table.row_count == 1
        assert table.get_row_at(0) == ["12", "Sev3", "vpn", "network/vpn", "tunnel drops"]
        assert _text(panel, "#patterns-reason").startswith(REASON)
        assert "1 candidate" in _text(panel, "#patterns-title")
        await pilot.press("n")
        await pilot.pause()
        assert len({id(m) for m in posted}) == 1  # one message (the hook sees it at each node it bubbles to)
        assert posted[0].candidate.numbers == tuple(numbers)
        assert any(REASON in str(n.message) for n in pilot.app._notifications)
        await pilot.press("W")  # 30 → 7 days: the last six of the twelve
        await settle(pilot)
        assert panel.days == 7 and "last 7 days" in _text(panel, "#patterns-title")
        assert table.row_count == 1 and table.get_row_at(0)[0] == "6"
        await pilot.press("t")
        await pilot.pause()
        assert not panel.display and screen.query_one("#reports-table-box").display


class Host(Screen[None]):
    """Any screen: the panel in a container, as the problems screen's tab will hold it."""

    def compose(self) -> ComposeResult:
        with Container():
            yield PatternsPanel(minimum=13)


async def test_the_panel_mounts_in_any_container_and_says_when_there_is_nothing(planted, app_factory) -> None:
    svc, _ = planted
    posted = []
    async with app_factory(svc).run_test(size=(80, 24), message_hook=posted.append) as pilot:
        await pilot.pause()
        await pilot.app.push_screen(Host())
        await settle(pilot)
        panel = pilot.app.screen.query_one(PatternsPanel)
        assert panel.query_one(DataTable).row_count == 0
        assert "none of 13 or more incidents" in _text(panel, "#patterns-title")
        assert _text(panel, "#patterns-reason") == "no recurring pattern: nothing to make a problem of"
        panel.query_one(DataTable).focus()
        await pilot.press("n")
        await pilot.pause()
        assert not [m for m in posted if isinstance(m, PatternsPanel.MakeProblem)]
