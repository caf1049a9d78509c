"""`?`: every key of the screen below and of the app, with what it does."""

from __future__ import annotations

import dataclasses

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from eim_tui.tui.widgets.key_footer import KeyFooter

GLOBAL_KEYS = [
    ("ctrl+p", "Command palette: every action of this screen, by name"),
    ("escape", "Back / cancel"),
    ("tab / shift+tab", "Next / previous field"),
    ("ctrl+l", "Clear the alert toasts on screen (shown in the footer while one is)"),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help.close", tooltip="Back to where you were"),
        Binding("question_mark", "dismiss", "Close", id="help.close_again", show=False),
    ]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(self._table(), id="help-keys")
        yield KeyFooter()

    def _table(self) -> Table:
        table = Table(title=f"Keys — {self.under.__class__.__name__.removesuffix('Screen')}", expand=True,
                      show_edge=False, title_style="bold")
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("does", ratio=1)
        table.add_column("binding id", style="dim", no_wrap=True)
        rows = self._rows()
        listed = {key for keys, _, _ in rows for key in keys}
        for keys, does, ident in rows:
            table.add_row(Text(" ".join(keys)), Text(does), Text(ident))
        for key, does in GLOBAL_KEYS:
            if self.app.get_key_display(Binding(key.split(" /")[0], "")) not in listed:
                table.add_row(Text(key), Text(does), Text(""))
        # Text, not a str: a str caption is markup, and "[keymap]" would vanish as a tag.
        table.caption = Text('Remap keys by binding id in config.toml: [keymap] "queue.filter" = "f"')
        return table

    def _rows(self) -> list[tuple[list[str], str, str]]:
        """One row per action (its keys together: `↑ k`), in the order the bindings come."""
        rows: dict[str, tuple[list[str], str, str]] = {}
        for active in self.under.active_bindings.values():
            b = active.binding
            if not b.description:
                continue
            does = (b.tooltip or b.description) + ("" if active.enabled else " (not now)")
            keys, _, _ = rows.setdefault(b.id or b.action, ([], does, b.id or ""))
            if (key := self.app.get_key_display(b)) not in keys:
                keys.append(key)
        for ident, key, does, binding_id in self._hidden_now(set(rows)):
            keys, _, _ = rows.setdefault(ident, ([], does, binding_id))
            keys.append(key)
        return list(rows.values())

    def _hidden_now(self, shown: set[str]) -> list[tuple[str, str, str, str]]:
        """Keys the screen below declares but its state hides right now (acknowledge on an incident
        already taken, bulk actions with nothing marked), so help still lists every key."""
        keymap = self.app.config.keymap
        rows: list[tuple[str, str, str, str]] = []
        listed: set[tuple[str, str]] = set()
        node = self.under.focused or self.under
        for owner in node.ancestors_with_self:  # the focused widget, its containers, the screen, the app
            for b in Binding.make_bindings(type(owner).BINDINGS):  # one per key of "up,k"
                ident = b.id or b.action
                if not b.description or ident in shown:
                    continue
                for key in (keymap[b.id].split(",") if b.id in keymap else [b.key]):
                    if (ident, key.strip()) not in listed:
                        listed.add((ident, key.strip()))
                        display = self.app.get_key_display(dataclasses.replace(b, key=key.strip()))
                        rows.append((ident, display, f"{b.tooltip or b.description} (not now)", b.id or ""))
        return rows

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
