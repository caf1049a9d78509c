"""Recurring patterns → problem candidates, as a panel any screen can mount (the problems screen's
"Patterns" tab; until that exists, the reports screen's patterns view).

A table of the candidates (count, worst severity, service or item, kind, shared words), and under
it the highlighted candidate's reason and incidents. Keyboard only: up/down move, `W` the next
window (30, 7, 90 days, all history — where an imported log of years ago is found), `n` posts
`PatternsPanel.MakeProblem(candidate)` for the screen that owns
problems to make one and link the candidate's incidents. The candidates are read in a worker
(services/patterns.py); confidential incidents take part only for those who may see them.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import var
from textual.widgets import DataTable, Static

from eim_tui.domain.model import format_key
from eim_tui.domain.patterns import Candidate, kind_path, window_label
from eim_tui.services.patterns import Patterns
from eim_tui.tui.workers import ReportsWorkers, explain

WINDOWS: tuple[int | None, ...] = (30, 7, 90, None)  # days (None: all history); `W` goes round them
SHOW_KEYS = 8  # incident keys in the reason line; the rest are counted


@dataclass
class PatternsLoaded(Message):
    days: int | None
    candidates: list[Candidate] | None
    error: str = ""


class PatternsPanel(ReportsWorkers, Vertical):
    DEFAULT_CSS = """
    PatternsPanel {
        height: 1fr;
        #patterns-title { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
        #patterns-table { height: 1fr; }
        #patterns-reason { height: auto; max-height: 4; padding: 0 1; border-top: solid $primary; }
    }
    """

    BINDINGS = [
        Binding("n", "make_problem", "Make problem", id="patterns.make_problem",
                tooltip="Make a problem from the highlighted candidate and link its incidents"),
        Binding("W", "next_window", "Window", id="patterns.window",
                tooltip="Next window: last 30, 7, 90 days, all history"),
    ]

    @dataclass
    class MakeProblem(Message):
        """Make a problem of this candidate and link its incidents (the screen owning problems does)."""

        candidate: Candidate

    window_index: var[int] = var(0)

    def __init__(self, minimum: int = 5, *, load_on_mount: bool = True, id: str | None = "patterns-panel") -> None:
        super().__init__(id=id)
        self.minimum = minimum
        self.load_on_mount = load_on_mount  # False: the owner calls reload() when it shows the panel
        self.candidates: list[Candidate] = []

    @property
    def days(self) -> int | None:
        return WINDOWS[self.window_index]

    def compose(self) -> ComposeResult:
        yield Static(Content(self._title("loading…")), id="patterns-title")
        table: DataTable[str] = DataTable(id="patterns-table", cursor_type="row", zebra_stripes=False)
        # Fixed widths (longer text is cropped; the reason line has it whole) leave the shared words
        # about 25 cells at 80 columns.
        for label, width in (("n", 3), ("Sev", 4), ("service / item", 14), ("kind", 22), ("shared words", None)):
            table.add_column(label, width=width)
        yield table
        yield Static(Content("—"), id="patterns-reason")

    def on_mount(self) -> None:
        if self.load_on_mount:
            self.reload()

    def reload(self) -> None:
        """Read the candidates again (after a problem was made of one, its incidents are gone)."""
        self.query_one("#patterns-title", Static).update(Content(self._title("loading…")))
        self._load(self.days)

    @work(thread=True, exclusive=True, group="patterns-load", exit_on_error=False, description="find recurring patterns")
    def _load(self, days: int | None) -> None:
        svc = self.app.services
        try:
            sees = svc.access.context(self.app.user).sees_confidential
            found = Patterns(svc.db, svc.clock).find(days, self.minimum, include_confidential=sees)
        except Exception as exc:  # the title line says why there is nothing to show
            self.post_message(PatternsLoaded(days, None, explain(exc)))
            return
        self.post_message(PatternsLoaded(days, found))

    def on_patterns_loaded(self, message: PatternsLoaded) -> None:
        message.stop()
        if message.days != self.days:
            return  # the window moved on while this was read
        title = self.query_one("#patterns-title", Static)
        if message.candidates is None:
            title.update(Content(self._title(message.error)))
            return
        self.candidates = message.candidates
        table = self.query_one("#patterns-table", DataTable)
        table.clear()
        for rank, c in enumerate(self.candidates, 1):
            table.add_row(str(c.count), f"Sev{c.worst_severity}", c.anchor,
                          kind_path(c.category, c.subcategory, c.symptom), c.phrase or "(the kind's)",
                          key=str(rank))
        found = len(self.candidates)
        title.update(Content(self._title(f"{found} candidate{'s' * (found != 1)}" if found else
                                         f"none of {self.minimum} or more incidents"
                                         + (" · W: all history" if self.days is not None else ""))))
        self._show_reason(table.cursor_row)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_reason(event.cursor_row)

    def _title(self, status: str) -> str:
        return f"recurring patterns · {window_label(self.days)} · not linked to a problem · {status}"

    def _show_reason(self, row: int) -> None:
        reason = self.query_one("#patterns-reason", Static)
        if not 0 <= row < len(self.candidates):
            reason.update(Content("no recurring pattern: nothing to make a problem of"))
            return
        c = self.candidates[row]
        keys = " ".join(format_key(n) for n in c.numbers[:SHOW_KEYS])
        more = f" … +{c.count - SHOW_KEYS}" if c.count > SHOW_KEYS else ""
        reason.update(Content(f"{c.reason}\n{keys}{more}"))  # Content: titles' words are never markup

    @property
    def highlighted(self) -> Candidate | None:
        row = self.query_one("#patterns-table", DataTable).cursor_row
        return self.candidates[row] if 0 <= row < len(self.candidates) else None

    def action_make_problem(self) -> None:
        candidate = self.highlighted
        if candidate is not None:
            self.post_message(self.MakeProblem(candidate))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "make_problem" and self.is_mounted and self.highlighted is None:
            return None  # shown greyed out: no candidate to make a problem of
        return True

    def action_next_window(self) -> None:
        self.window_index = (self.window_index + 1) % len(WINDOWS)

    def watch_window_index(self) -> None:
        if self.is_mounted:
            self.reload()
