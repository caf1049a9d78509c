"""The editor docked under the diagnosis notes: what it asks, the note's text, and — for a test or
replication — what happened. It holds text; the notes screen decides what to do with it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static, TextArea

HINT = "ctrl+s saves · escape cancels · the text is kept as a draft while you type"


class NoteEditor(Vertical):
    def compose(self) -> ComposeResult:
        yield Static(id="note-prompt")
        yield TextArea(id="note-text", soft_wrap=True, tab_behavior="focus", compact=True)
        yield Static(Text("What happened?"), id="note-result-label")
        yield TextArea(id="note-result", soft_wrap=True, tab_behavior="focus", compact=True)
        yield Static(Text(HINT), id="note-hint")

    def on_mount(self) -> None:
        self.display = False

    def open(self, prompt: Text, text: str, result: str, with_result: bool) -> None:
        """Show the editor holding `text` (and `result` when `with_result`), the cursor at the end."""
        self.ask(prompt)
        area = self.query_one("#note-text", TextArea)
        area.load_text(text)
        self.query_one("#note-result", TextArea).load_text(result)
        for part in ("#note-result", "#note-result-label"):
            self.query_one(part).display = with_result
        self.display = True
        area.focus()
        area.move_cursor(area.document.end)

    def ask(self, prompt: Text) -> None:
        self.query_one("#note-prompt", Static).update(prompt)

    def close(self) -> None:
        self.display = False

    @property
    def typed(self) -> tuple[str, str]:
        """(text, result) as they stand."""
        return self.query_one("#note-text", TextArea).text, self.query_one("#note-result", TextArea).text
