"""A yes / no question in a small modal: `y` or enter says yes, `n` or escape says no."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True (yes) or False (no). `body` is optional extra plain text."""

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
        #confirm-box {
            width: auto;
            min-width: 36;
            max-width: 90%;
            height: auto;
            max-height: 90%;
            background: $surface;
            border: thick $warning;
            padding: 0 1;
        }
        #confirm-question { text-style: bold; }
        Footer { dock: none; }
    }
    """
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes", tooltip="Yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no", tooltip="No"),
    ]

    def __init__(self, question: str, yes: str = "Yes", no: str = "No", body: str = "") -> None:
        super().__init__()
        self.question = question
        self.body = body
        self.yes_label = yes
        self.no_label = no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Text(self.question), id="confirm-question")
            if self.body:
                yield Static(Text(self.body), id="confirm-body")
            yield Static(Text(f"y: {self.yes_label}   n: {self.no_label}"), id="confirm-keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
