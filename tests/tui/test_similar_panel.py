"""The detail screen's similar-incidents panel: `s` shows the resolved incidents most like this one
with how each was resolved, `s` again hides it; it is in the palette and the help screen."""

from __future__ import annotations

import io

from lifecycle_helpers import log, press, settle
from rich.console import Console
from textual.widgets import Static

from eim_tui.tui.dialogs.help import HelpScreen
from eim_tui.tui.screens.detail import DetailScreen


async def test_s_shows_the_similar_resolved_incidents_and_hides_them_again(store, app_factory) -> None:
    fixed = log(store, title="Disk full on db03")
    store.acknowledge(fixed.number, "alice")
    store.resolve(fixed.number, "alice", "fixed", "rotated the audit logs")
    unrelated = log(store, title="Printer jams on floor 3")
    store.acknowledge(unrelated.number, "alice")
    store.resolve(unrelated.number, "alice", "fixed", "cleared the tray")
    again = log(store, title="Disk full on db03 again")
    app = app_factory(store, "alice")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        pilot.app.push_screen(DetailScreen(again.number))
        await settle(pilot)
        screen = pilot.app.screen
        panel = screen.query_one("#detail-similar", Static)
        assert not panel.display
        titles = [command.title for command in app.get_system_commands(screen)]
        assert "Similar (s)" in titles
        await press(pilot, "s")
        shown = str(panel.visual)
        assert panel.display and fixed.key in shown and "rotated the audit logs" in shown
        assert unrelated.key not in shown
        await press(pilot, "s")
        assert not panel.display
        await press(pilot, "question_mark")
        assert isinstance(pilot.app.screen, HelpScreen)
        console = Console(width=220, file=io.StringIO(), record=True)
        console.print(pilot.app.screen.query_one("#help-keys", Static).content)
        assert any(line.split()[:1] == ["s"] and "detail.similar" in line for line in console.export_text().splitlines())
