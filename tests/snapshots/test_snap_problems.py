"""Snapshots of problems at 80x24 (and the list at 120x40), on the seeded demo and the fixed clock:
the problems screen, a known error's view with its incidents and timeline (`r Resolve` on its
footer), a resolved one's (`x Close`), and the known error line on a matching incident's detail screen. Looked at (rsvg-convert to PNG) before they were accepted."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from eim_tui.domain.intake import NewIncident
from eim_tui.services.problems import ProblemCases


@pytest.fixture
def problems_app(fixed_clock_app):
    app = fixed_clock_app(demo=60, user="chen")
    svc = app.services
    cases = ProblemCases(svc)
    cases.create("chen", "Checkout latency p99 above 2s under load", service="checkout-web", category="software",
                 owner_group="app-support", description="Seen at every sale since the November release")
    cases.create("chen", "Wi-Fi drops near the loading docks", service="wifi-campus", category="network")
    cases.create("chen", "Payments API 502 after certificate rotation [prod]", service="payments")
    cases.mark_known_error("chen", 1, "Scale checkout to 6 pods: kubectl scale deploy/checkout --replicas=6",
                           root_cause="Thread pool of 20 is too small for sale traffic")
    for number in (5, 18):
        cases.link("chen", number, 1)
    cases.resolve("chen", 3, "Intermediate certificate missing from the bundle")
    svc.log_incident(NewIncident(title="checkout latency p99 above 2s again", impact=2, urgency=2,
                                 service="checkout-web", category="software"), "alice")
    return app


def keys_then_settle(*keys: str):
    async def run(pilot: Pilot) -> None:
        for key in keys:
            await pilot.press(key)
            for _ in range(3):
                await pilot.pause()
                await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_problems_list(snap_compare, problems_app, size) -> None:
    assert snap_compare(problems_app, terminal_size=size, run_before=keys_then_settle("P", "f", "f"))


def test_a_known_error_with_its_incidents(snap_compare, problems_app) -> None:
    assert snap_compare(problems_app, terminal_size=(80, 24), run_before=keys_then_settle("P", "f", "enter"))


def test_a_resolved_problem_shows_close_at_80x24(snap_compare, problems_app) -> None:
    """The footer keeps every step the state allows (here `x Close`); greyed ones leave first."""
    assert snap_compare(problems_app, terminal_size=(80, 24),
                        run_before=keys_then_settle("P", "f", "f", "f", "enter"))


def test_the_known_error_on_a_matching_incident(snap_compare, problems_app) -> None:
    async def run(pilot: Pilot) -> None:
        from eim_tui.tui.screens.detail import DetailScreen

        await pilot.pause()
        pilot.app.push_screen(DetailScreen(61))
        for _ in range(3):
            await pilot.pause()
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(problems_app, terminal_size=(80, 24), run_before=run)
