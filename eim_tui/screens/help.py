"""`?`: every key of the screen below and of the app, with what it does."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

GLOBAL_KEYS = [
    ("ctrl+p", "Command palette: every action of this screen, by name"),
    ("escape", "Back / cancel"),
    ("tab / shift+tab", "Next / previous field"),
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
        yield Footer()

    def _table(self) -> Table:
        table = Table(title=f"Keys — {self.under.__class__.__name__.removesuffix('Screen')}", expand=True,
                      show_edge=False, title_style="bold")
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("does")
        table.add_column("binding id", style="dim", no_wrap=True)
        seen: set[tuple[str, str]] = set()
        rows: list[tuple[str, str, str]] = []
        for active in self.under.active_bindings.values():
            b = active.binding
            if not b.description:
                continue
            key = self.app.get_key_display(b)
            ident = (key, b.action)
            if ident in seen:
                continue
            seen.add(ident)
            does = b.tooltip or b.description
            if not active.enabled:
                does += " (not now)"
            rows.append((key, does, b.id or ""))
        for key, does, ident in rows:
            table.add_row(Text(key), Text(does), Text(ident))
        for key, does in GLOBAL_KEYS:
            table.add_row(Text(key), Text(does), Text(""))
        table.caption = "Remap keys by binding id in config.toml: [keymap] \"queue.filter\" = \"f\""
        return table

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
