"""The patterns panel: the problems screen's Patterns tab (`P`, then `t`) and mounted in a container
of its own; the planted cluster is listed with its reason, `W` moves the window, `n` opens the
new-problem form filled from the highlighted candidate and saving it links the candidate's incidents."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import ComposeResult
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import DataTable, Static

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


async def test_the_problems_screen_lists_the_planted_pattern_and_two_keys_make_it_a_problem(planted, app_factory) -> None:
    """P, then t: the Patterns tab lists the planted cluster with its reason; `n` opens the new
    problem form filled from it and ctrl+s makes the problem and links its twelve incidents, which
    then leave the candidates."""
    from eim_tui.services.problems import ProblemCases
    from eim_tui.tui.dialogs.problem_forms import ProblemFromCandidateForm
    from eim_tui.tui.screens.problems import ProblemsScreen

    svc, numbers = planted
    async with app_factory(svc, user="chen").run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("P")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ProblemsScreen)
        await pilot.press("t")
        await settle(pilot)
        panel = screen.query_one(PatternsPanel)
        table = panel.query_one(DataTable)
        assert table.has_focus and table.row_count == 1
        assert table.get_row_at(0) == ["12", "Sev3", "vpn", "network/vpn", "tunnel drops"]
        assert _text(panel, "#patterns-reason").startswith(REASON)
        assert "1 candidate" in _text(panel, "#patterns-title")
        await pilot.press("W")  # 30 → 7 days: the last six of the twelve
        await settle(pilot)
        assert panel.days == 7 and "last 7 days" in _text(panel, "#patterns-title")
        assert table.row_count == 1 and table.get_row_at(0)[0] == "6"
        await pilot.press("W", "W")  # 90, then 30 days again
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ProblemFromCandidateForm)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is screen
        (made,) = [p for p in ProblemCases(svc).list((), limit=10)]
        assert made.problem.title == "Recurring: tunnel drops on vpn" and made.problem.service == "vpn"
        assert made.incidents == 12
        assert {svc.get(n).problem_ref for n in numbers} == {made.problem.key}
        assert any("opened with 12 incidents linked" in str(n.message) for n in pilot.app._notifications)
        assert table.row_count == 0  # linked incidents are no longer a candidate
        await pilot.press("t")
        await settle(pilot)
        assert screen.query_one("#problems-table", DataTable).row_count == 1


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


async def test_imported_history_is_a_candidate_in_all_history_and_two_keys_make_it_a_problem(
        tmp_path: Path, clock, app_factory) -> None:
    """An imported ServiceNow log (no service, no CI, dates of 2016): the last 30 days hold nothing
    and the title says `W` reaches all history, where the location's cluster is; `n`, ctrl+s make
    the problem (no CI: a location is none) and link its incidents."""
    from eim_tui.bootstrap import open_services
    from eim_tui.services.importing import import_history
    from eim_tui.services.problems import ProblemCases
    from eim_tui.tui.screens.problems import ProblemsScreen
    from tests.patterns_fixture import imported_log

    svc = open_services(f"sqlite:///{tmp_path}/eim.db", clock)
    try:
        import_history(svc, imported_log(tmp_path / "log.csv"))
        async with app_factory(svc, user="chen").run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("P")
            await settle(pilot)
            screen = pilot.app.screen
            assert isinstance(screen, ProblemsScreen)
            await pilot.press("t")
            await settle(pilot)
            panel = screen.query_one(PatternsPanel)
            table = panel.query_one(DataTable)
            assert table.row_count == 0 and "W: all history" in _text(panel, "#patterns-title")
            await pilot.press("W", "W", "W")  # 7, 90 days, then all history
            await settle(pilot)
            assert panel.days is None and "all history" in _text(panel, "#patterns-title")
            assert table.get_row_at(0) == ["7", "Sev3", "Location 143", "Category 26/Subcategory 174/Symptom 491",
                                           "(the kind's)"]
            assert _text(panel, "#patterns-reason").startswith(
                "7 incidents · at Location 143 · Category 26/Subcategory 174/Symptom 491 · 2016-03-01 to 2016-03-07")
            await pilot.press("n")
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            (made,) = ProblemCases(svc).list((), limit=10)
            assert made.problem.title == "Recurring: Symptom 491 at Location 143"
            assert (made.problem.configuration_item, made.problem.service, made.incidents) == ("", "", 7)
            assert table.row_count == 0
    finally:
        svc.db.dispose()
