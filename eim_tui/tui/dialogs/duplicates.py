"""Asked when a new incident looks like open ones: link it to one as a duplicate, or log it anyway.

Dismisses with the chosen incident's number (link as its duplicate), "new" (save as a new
incident), or None (back to the form, nothing saved).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from eim_tui.services.similar import SimilarIncident
from eim_tui.tui.widgets.key_footer import KeyFooter


class DuplicatesScreen(ModalScreen[int | str | None]):
    BINDINGS = [
        Binding("enter", "link", "Link as duplicate", id="duplicates.link",
                tooltip="Log the report as a duplicate of the highlighted incident"),
        Binding("n", "save_new", "Save as new", id="duplicates.new",
                tooltip="Log the report as a new incident anyway"),
        Binding("escape", "back", "Back to form", id="duplicates.back", tooltip="Nothing is saved"),
    ]

    def __init__(self, title: str, similar: list[SimilarIncident]) -> None:
        super().__init__()
        self.report_title = title
        self.similar = similar

    def compose(self) -> ComposeResult:
        with Vertical(id="duplicates-box"):
            yield Static(Text(f"{len(self.similar)} open incident(s) look like “{self.report_title}”"),
                         id="duplicates-question")
            yield OptionList(*(Option(self._describe(s), id=str(s.number)) for s in self.similar),
                             id="duplicates-list")
            yield Static(Text("enter: link as a duplicate of the highlighted one · n: save as new · "
                              "escape: back to the form"), id="duplicates-keys")
            yield KeyFooter()

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    @staticmethod
    def _describe(s: SimilarIncident) -> Text:
        line = Text()
        line.append(f"{s.key} ", "bold")
        line.append(f"Sev{s.priority} {s.state.label} · {s.why} · {round(s.score * 100)}% alike\n")
        line.append(f"  {s.title}")
        where = " / ".join(x for x in (s.service, s.configuration_item) if x)
        if where:
            line.append(f"  ({where})", "dim")
        return line

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(int(event.option.id or 0))

    def action_link(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is not None:
            self.dismiss(self.similar[index].number)

    def action_save_new(self) -> None:
        self.dismiss("new")

    def action_back(self) -> None:
        self.dismiss(None)
