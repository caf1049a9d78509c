"""Asked by `s` on the notes screen: what became of a hypothesis — confirmed, rejected, or open again.

Dismisses with the chosen `HypothesisStatus`, or None when escape leaves it as it was.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from eim_tui.domain.model import HypothesisStatus


class HypothesisStatusScreen(ModalScreen[HypothesisStatus | None]):
    BINDINGS = [
        Binding("c", "choose('confirmed')", "Confirmed", id="hypothesis.confirmed",
                tooltip="The test showed the hypothesis holds"),
        Binding("r", "choose('rejected')", "Rejected", id="hypothesis.rejected",
                tooltip="The test showed the hypothesis does not hold"),
        Binding("o", "choose('open')", "Open", id="hypothesis.open", tooltip="Not decided yet"),
        Binding("escape", "choose('')", "Leave it", id="hypothesis.cancel", tooltip="Change nothing"),
    ]

    def __init__(self, hypothesis: str, current: HypothesisStatus | None) -> None:
        super().__init__()
        self.hypothesis = hypothesis
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="status-box"):
            yield Static(Text(f"Hypothesis: {self.hypothesis}"), id="status-question")
            now = self.current.value if self.current else "open"
            yield Static(Text(f"now {now} · c confirmed · r rejected · o open · escape leaves it"),
                         id="status-keys")

    def action_choose(self, value: str) -> None:
        self.dismiss(HypothesisStatus(value) if value else None)
