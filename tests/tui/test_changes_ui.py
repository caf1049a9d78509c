"""Changes in the TUI (Pilot): the changes screen from the queue's `C` and from the palette, the
detail screen's "recent changes" panel, and `b` linking the change that caused the incident."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lifecycle_helpers import form, log, press, settle

from eim_tui.services.changes import ChangeCases
from eim_tui.tui.screens.changes import ChangesScreen
from eim_tui.tui.screens.detail import DetailScreen

HOUR = timedelta(hours=1)


@pytest.fixture
def planned(store, clock):
    """Three changes on payments: one done yesterday, one in progress, one planned for tomorrow."""
    cases = ChangeCases(store)
    now = clock.now()
    done = cases.create("alice", "Payments DB minor upgrade", now - 20 * HOUR, now - 19 * HOUR, "high",
                        ["payments"], ["db01.pay.internal"])
    cases.start("alice", done.number)
    cases.complete("alice", done.number, "no errors")
    running = cases.create("bob", "Rotate payments API keys", now - HOUR, now + HOUR, "low", ["payments"])
    cases.start("bob", running.number)
    cases.create("alice", "Checkout release 7", now + 20 * HOUR, now + 21 * HOUR, "medium", ["checkout-web"])
    return cases


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector).content)


async def test_the_changes_screen_lists_state_and_window_and_shows_one(store, planned, app_factory) -> None:
    async with app_factory(store).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "C")
        screen = pilot.app.screen
        assert isinstance(screen, ChangesScreen)
        await settle(pilot)
        table = screen.query_one("#changes-table")
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        assert [r[:3] for r in rows] == [["CHG-000003", "planned", "medium"], ["CHG-000002", "in progress", "low"],
                                          ["CHG-000001", "completed", "high"]]
        assert "payments, db01.pay.internal" in rows[2][4]
        assert "Changes · all (3)" in _text(screen, "#changes-title")
        await press(pilot, "down", "enter")  # the change in progress
        shown = _text(screen, "#changes-shown")
        assert "CHG-000002 Rotate payments API keys · in progress · low risk · owner bob" in shown
        assert "state planned → in progress" in shown
        await press(pilot, "f")  # in progress only
        assert "in progress (1)" in _text(screen, "#changes-title") and table.row_count == 1
        await press(pilot, "escape")
        assert not isinstance(pilot.app.screen, ChangesScreen)


async def test_the_palette_opens_the_changes_screen(store, planned, app_factory) -> None:
    async with app_factory(store).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        commands = [c.title for c in pilot.app.get_system_commands(pilot.app.screen)]
        assert "Changes (C)" in commands
        await press(pilot, "ctrl+p")
        await pilot.press(*"Changes (C)")
        await settle(pilot)
        await press(pilot, "enter")
        assert isinstance(pilot.app.screen, ChangesScreen)


async def test_recent_changes_on_the_incident_and_caused_by_from_the_detail_screen(store, planned, app_factory):
    number = log(store, "Payments API returns 502", service="payments").number
    other = log(store, "Mail delayed", service="email").number
    async with app_factory(store).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pilot.app.push_screen(DetailScreen(number))
        await settle(pilot)
        screen = pilot.app.screen
        panel = _text(screen, "#detail-changes")
        assert "Recent changes (24 h" in panel
        lines = panel.splitlines()
        assert "CHG-000002" in lines[1] and "in progress" in lines[1] and "Rotate payments API keys" in lines[1]
        assert "CHG-000001" in lines[2] and "completed" in lines[2]
        assert "CHG-000003" not in panel  # tomorrow's, on another service
        await press(pilot, "b")
        caused = form(pilot)
        assert caused.value_of("change") == "CHG-000002"  # the latest recent change is offered
        await press(pilot, "ctrl+s")
        await settle(pilot)
        assert store.get(number).change_ref == "CHG-000002"
        assert "caused by     CHG-000002 (in progress) Rotate payments API keys" in _text(screen, "#detail-changes")
        pilot.app.pop_screen()
        pilot.app.push_screen(DetailScreen(other))
        await settle(pilot)
        assert "none" in _text(pilot.app.screen, "#detail-changes")
    assert [link.change.key for link in planned.links_of(number)] == ["CHG-000002"]


async def test_titles_with_markup_are_shown_as_typed_and_do_not_crash(store, clock, app_factory) -> None:
    """A change title is text, never Rich markup: `[bold]` stays on screen as typed, and a lone `[/]`
    (which as markup closes nothing and raises) neither crashes the list nor the change shown."""
    cases = ChangeCases(store)
    now = clock.now()
    titles = ["Deploy [bold]payments[/bold] v2", "Rotate keys [/] now", "Patch [red]db01[/] and [link=x]y"]
    for title in titles:
        cases.create("alice", title, now + HOUR, now + 2 * HOUR, "low", ["payments"])
    async with app_factory(store).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "C")
        screen = pilot.app.screen
        assert isinstance(screen, ChangesScreen)
        table = screen.query_one("#changes-table")
        assert [table.get_row_at(i)[5].plain for i in range(table.row_count)] == titles[::-1]
        painted = "\n".join("".join(seg.text for seg in table.render_line(y)) for y in range(1, 4))
        assert "Patch [red]db01[/] and [link" in painted and "Rotate keys [/] now" in painted, painted
        assert "Deploy [bold]payments[/bold] v2" in painted, painted
        for _ in titles:
            await press(pilot, "enter")
            await press(pilot, "down")
        assert "Deploy [bold]payments[/bold] v2 · planned" in _text(screen, "#changes-shown")
        assert pilot.app.is_running
