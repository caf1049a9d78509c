"""Every screen's footer keeps `? Help`, `q Quit` and its way back at 80x24, most important keys first.

At 80 columns Textual's own footer let the end of the row fall off, and the end is where help and
quit sat. These tests walk the screens a responder uses at 80x24 and read the keys the footer
really shows (its `FooterKey` cells, inside the footer's width).
"""

from __future__ import annotations

from lifecycle_helpers import log, press, settle
from textual.binding import Binding
from textual.widgets._footer import FooterKey

from eim_tui.tui.widgets.key_footer import KeyFooter, Shown, fit


def shown(screen) -> list[str]:
    """The footer's keys as `key description`, left to right, only those wholly on screen."""
    footer = screen.query_one(KeyFooter)
    right = footer.region.right
    cells = [key for key in footer.query(FooterKey)
             if key.region.width and key.region.right <= right and not key.has_class("-command-palette")]
    return [f"{key.key_display} {key.description}".strip() for key in sorted(cells, key=lambda k: k.region.x)]


def key(key_name: str, action: str, text: str) -> Shown:
    return Shown(Binding(key_name, action, text), key_name, True, "")


def test_fit_keeps_pinned_keys_and_drops_the_least_important_first() -> None:
    keys = [key("a", "one", "First"), key("b", "two", "Second"), key("c", "three", "Third"),
            key("escape", "back", "Back"), key("?", "help", "Help"), key("q", "quit", "Quit")]
    everything = sum(k.width(False) for k in keys)
    assert fit(keys, everything, compact=False) == keys[:3] + keys[3:]
    narrow = fit(keys, everything - 1, compact=False)
    assert [k.binding.action for k in narrow] == ["one", "two", "back", "help", "quit"]
    # Even with no room at all, the way out stays: an unreadable row beats a missing key.
    assert [k.binding.action for k in fit(keys, 0, compact=False)] == ["back", "help", "quit"]


def test_fit_leaves_out_greyed_out_keys_before_usable_ones() -> None:
    keys = [key("a", "one", "First"), key("b", "two", "Second"), key("c", "three", "Third"),
            key("escape", "back", "Back")]
    keys[1] = Shown(keys[1].binding, "b", False, "")  # greyed out: the screen's state does not allow it
    everything = sum(k.width(False) for k in keys)
    assert fit(keys, everything, compact=False) == keys
    narrow = fit(keys, everything - 1, compact=False)
    assert [k.binding.action for k in narrow] == ["one", "three", "back"]  # in their order still


async def test_a_problem_view_at_80_columns_shows_every_step_its_state_allows(store, app_factory) -> None:
    """At 80x24 the view lost `r Resolve` and `x Close` off the footer's end. Now every step the
    problem's state allows is on the footer, each is in the palette, and `?` lists all four."""
    from eim_tui.services.problems import ProblemCases
    from eim_tui.tui.dialogs.help import HelpScreen

    cases = ProblemCases(store)
    cases.create("chen", "Checkout slow, p99 above 2s", service="checkout-web")
    cases.mark_known_error("chen", 1, "scale the checkout pods to 6", root_cause="thread pool too small")
    async with app_factory(store, user="chen").run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "P", "enter")
        view = pilot.app.screen
        assert shown(view) == ["l Link", "k Known error", "r Resolve", "esc Back", "? Help", "q Quit"]
        palette = [c.title for c in pilot.app.get_system_commands(view)]
        assert {"Link (l)", "Known error (k)", "Resolve (r)"} <= set(palette)
        assert "Close (x)" not in palette  # not allowed yet: the palette offers what can be done
        await press(pilot, "question_mark")
        assert isinstance(pilot.app.screen, HelpScreen)
        listed = {ident: (keys, does) for keys, does, ident in pilot.app.screen._rows()}
        assert listed["problem.resolve"][0] == ["r"] and listed["problem.close"] == (
            ["x"], "Close the resolved problem (not now)")
        await press(pilot, "escape")
        assert pilot.app.screen is view
        cases.resolve("chen", 1)
        view.reload()
        await settle(pilot)
        # Close is usable now; the greyed Known error keeps its place while there is room.
        assert shown(view) == ["l Link", "k Known error", "x Close", "esc Back", "? Help", "q Quit"]
        assert "Close (x)" in [c.title for c in pilot.app.get_system_commands(view)]


async def test_queue_footer_at_80_columns_keeps_help_and_quit(store, app_factory) -> None:
    for _ in range(3):
        log(store)
    async with app_factory(store).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        keys = shown(pilot.app.screen)
        assert keys[-2:] == ["? Help", "q Quit"], keys
        assert keys[0] == "⏎ Open" and "n New" in keys and "/ Filter" in keys, keys


async def test_detail_and_notes_footers_at_80_columns(store, app_factory) -> None:
    incident = log(store, assignment_group="platform")
    async with app_factory(store).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "enter")
        keys = shown(pilot.app.screen)
        assert keys[-3:] == ["esc Back", "? Help", "q Quit"], keys
        # The responder's first moves come first: acknowledge, then hold and notes.
        assert keys[0] == "a Ack+take" and "d Notes" in keys, keys
        assert pilot.app.screen.number == incident.number

        await press(pilot, "d")
        keys = shown(pilot.app.screen)
        assert {"esc Back", "? Help", "q Quit"} <= set(keys), keys


async def test_footer_lays_out_again_when_the_terminal_grows(store, app_factory) -> None:
    log(store)
    async with app_factory(store).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        narrow = shown(pilot.app.screen)
        await pilot.resize_terminal(200, 40)
        await settle(pilot)
        wide = shown(pilot.app.screen)
        assert len(wide) > len(narrow) and "s Sort" in wide and "s Sort" not in narrow, (narrow, wide)
        assert wide[-2:] == ["? Help", "q Quit"]
