"""Problems in the TUI: the problems screen (from the queue's `P` and the palette) and the view of
one problem with its linked incidents.

The problems screen is a `TabbedContent` (`t` switches tabs): its first tab lists problem records
(state, incidents, service, title; `f` cycles which states), its second the recurring patterns that
are problem candidates (widgets/patterns_panel.py), where `n` makes a problem of the highlighted one
and links its incidents. `enter` opens
the highlighted problem's view, whose keys link an incident, record the known error, resolve and
close. Every store read and write runs in a worker that ends in a message (workers.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from eim_tui.domain.problems import Problem, ProblemState
from eim_tui.tui.dialogs.problem_forms import (
    CloseProblemForm,
    KnownErrorForm,
    LinkIncidentForm,
    NewProblemForm,
    ProblemForm,
    ProblemFromCandidateForm,
    ResolveProblemForm,
)
from eim_tui.tui.render.theme_styles import PALETTE_CLASSES, Palette, palette
from eim_tui.tui.widgets.key_footer import KeyFooter
from eim_tui.tui.widgets.patterns_panel import PatternsPanel
from eim_tui.tui.workers import REPEATING, ReportsWorkers, explain

STATE_FILTERS: list[tuple[str, tuple[ProblemState, ...]]] = [
    ("unresolved", (ProblemState.OPEN, ProblemState.KNOWN_ERROR)),
    ("known errors", (ProblemState.KNOWN_ERROR,)),
    ("all", ()),
    ("resolved and closed", (ProblemState.RESOLVED, ProblemState.CLOSED)),
]
LIMIT = 500  # the newest; `eim problem list --limit` reaches further back


def state_style(problem: Problem, p: Palette) -> str:
    return {ProblemState.KNOWN_ERROR: p["accent"], ProblemState.OPEN: p["bad"],
            ProblemState.RESOLVED: p["good"]}.get(problem.state, p["label"])


def _about(problem: Problem) -> str:
    return ", ".join(x for x in (problem.service, problem.configuration_item) if x) or "-"


@dataclass
class ProblemsLoaded(Message):
    found: list[Any] | None  # services.problems.ProblemSummary
    error: str = ""
    marker: tuple[int, int] | None = None  # the problems' change marker read with the list


@dataclass
class ProblemsChanged(Message):
    """Someone changed a problem (or linked an incident) since the list was read."""


@dataclass
class ProblemDone(Message):
    """A problem form's use case ran: what to say, or the refusal (the form opens again with it)."""

    said: str
    form: ProblemForm | None = None
    values: dict[str, Any] | None = None
    error: str = ""


class RunsProblemForms(ReportsWorkers):
    """Opening a problem form, running its use case in a worker, and re-opening it on refusal."""

    def open_form(self: Any, form: ProblemForm) -> None:
        self.app.push_screen(form, partial(self._submitted, form))

    def _submitted(self: Any, form: ProblemForm, values: dict[str, Any] | None) -> None:
        if values is not None:
            self.run_form(form, values)

    @work(thread=True, exclusive=True, group="problem-write", exit_on_error=False, description="save the problem")
    def run_form(self: Any, form: ProblemForm, values: dict[str, Any]) -> None:
        from eim_tui.services.problems import ProblemCases

        try:
            said = form.call(ProblemCases(self.app.services), self.app.user, values)
        except Exception as exc:  # the form opens again with the typed text and the reason
            self.post_message(ProblemDone("", form, values, explain(exc)))
            return
        self.post_message(ProblemDone(said))

    def on_problem_done(self: Any, message: ProblemDone) -> None:
        if message.error and message.form is not None:
            self.open_form(message.form.again(message.values or {}, message.error))
            return
        self.notify(message.said)
        self.reload()


class ProblemsScreen(RunsProblemForms, Screen[None]):
    COMPONENT_CLASSES = PALETTE_CLASSES
    BINDINGS = [
        Binding("escape", "back", "Back", id="problems.back", tooltip="Back to the queue"),
        Binding("enter", "open", "Open", id="problems.open", tooltip="The problem with its incidents and timeline"),
        Binding("n", "new_problem", "New", id="problems.new", tooltip="Open a problem record (shift lead or admin)"),
        Binding("f", "next_state", "States", id="problems.states", tooltip="Show the next set of states (cycles)"),
        Binding("r", "reload", "Reload", id="problems.reload", tooltip="Read the problems again"),
        Binding("t", "next_tab", "Problems/Patterns", id="problems.tab",
                tooltip="Switch between the problem list and recurring patterns (problem candidates)"),
    ]

    state_index: var[int] = var(0, init=False)

    def __init__(self) -> None:
        super().__init__()
        self.found: list[Any] = []
        self._patterns_read = False
        # The marker the shown list was read with (services.problems.ProblemCases.marker); None
        # before the first list, so the poll has nothing to compare with.
        self.shown_marker: tuple[int, int] | None = None
        self._shown_states = -1  # the STATE_FILTERS index the shown list was read for
        self._reading = False  # a read the poll asked for is on its way

    def compose(self) -> ComposeResult:
        yield Static(Content("Problems · loading…"), id="problems-title")
        with TabbedContent(id="problems-tabs"):
            with TabPane("Problems", id="tab-problems"):
                yield DataTable(id="problems-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Patterns", id="tab-patterns"):
                yield PatternsPanel(load_on_mount=False)  # read when the tab is first shown
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#problems-table", DataTable)
        title = max(30, self.app.size.width - 56)  # the title takes the room a wide terminal has
        for label, width in (("Problem", 10), ("State", 11), ("Inc", 4), ("About", 16), ("Title", title)):
            table.add_column(label, width=width)
        table.focus()
        self.reload()
        # Live like the queue: what others create or change appears without `r` (the poll reads
        # two chain heads; the list is read again only when they say it changed).
        self.set_interval(self.app.poll_interval, self._poll)

    def reload(self) -> None:
        self.load(STATE_FILTERS[self.state_index][1])

    @work(thread=True, exclusive=True, group="problems-load", exit_on_error=False, description="load the problems")
    def load(self, states: tuple[ProblemState, ...]) -> None:
        from eim_tui.services.problems import ProblemCases

        try:
            found, marker = ProblemCases(self.app.services).list_marked(states, limit=LIMIT)
        except Exception as exc:  # the title says why the list is empty
            self.post_message(ProblemsLoaded(None, explain(exc)))
            return
        self.post_message(ProblemsLoaded(found, marker=marker))

    def _poll(self) -> None:
        if self.shown_marker is not None and not self._reading:
            self._changes_since(self.shown_marker)

    @work(thread=True, exclusive=True, group=f"problems{REPEATING}", exit_on_error=False,
          description="watch the problems for changes")
    def _changes_since(self, since: tuple[int, int]) -> None:
        # Nothing caught: a failure reaches the app's handler, which says it once until a poll succeeds.
        from eim_tui.services.problems import ProblemCases

        _, changed = ProblemCases(self.app.services).changed_since(since)
        if changed:
            self.post_message(ProblemsChanged())

    def on_problems_changed(self, _: ProblemsChanged) -> None:
        # One read per change, not one per poll while it is read. The marker stays the shown list's
        # until a read succeeds: a read that failed (the store away) is tried again by the next poll.
        self._reading = True
        self.reload()

    def on_problems_loaded(self, message: ProblemsLoaded) -> None:
        name, _ = STATE_FILTERS[self.state_index]
        title = self.query_one("#problems-title", Static)
        self._reading = False
        if message.found is None:
            title.update(Content(f"Problems · {message.error}"))
            return
        table = self.query_one("#problems-table", DataTable)
        row = table.cursor_row
        # The same states read again (a change elsewhere, `r`): the highlighted problem stays so.
        same = self._shown_states == self.state_index
        was = self.found[row].problem.key if same and 0 <= row < len(self.found) else None
        self._shown_states = self.state_index
        self.found = message.found
        self.shown_marker = message.marker
        title.update(Content.assemble(("Problems", "bold"), f" · {name} ({len(self.found)}) · f: states · n: new"))
        table.clear()
        for summary in self.found:  # Text cells: a str cell is markup, and a title may hold `[prod]`
            p = summary.problem
            table.add_row(p.key, p.state.label, str(summary.incidents), Text(_about(p)), Text(p.title), key=p.key)
        keys = [summary.problem.key for summary in self.found]
        if was in keys:  # a list read again keeps the highlighted problem highlighted
            table.move_cursor(row=keys.index(was))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_next_tab(self) -> None:
        tabs = self.query_one("#problems-tabs", TabbedContent)
        tabs.active = "tab-patterns" if tabs.active == "tab-problems" else "tab-problems"

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tab-patterns":
            panel = self.query_one(PatternsPanel)
            if not self._patterns_read:
                self._patterns_read = True
                panel.reload()
            self.query_one("#patterns-table").focus()
        else:
            self.query_one("#problems-table", DataTable).focus()

    def on_patterns_panel_make_problem(self, message: PatternsPanel.MakeProblem) -> None:
        """`n` on a candidate: the new-problem form filled from it; saving links its incidents."""
        message.stop()
        self.open_form(ProblemFromCandidateForm.of(self.app.services.ref, message.candidate))

    def on_problem_done(self, message: ProblemDone) -> None:
        super().on_problem_done(message)
        if not message.error and self._patterns_read:
            self.query_one(PatternsPanel).reload()  # linked incidents leave the candidates

    def action_next_state(self) -> None:
        self.state_index = (self.state_index + 1) % len(STATE_FILTERS)

    def action_show_states(self, index: int) -> None:
        self.state_index = index

    def watch_state_index(self) -> None:
        self.reload()

    def action_new_problem(self) -> None:
        self.open_form(NewProblemForm(self.app.services.ref))

    def action_open(self) -> None:
        table = self.query_one("#problems-table", DataTable)
        if self.found and 0 <= table.cursor_row < len(self.found):
            self.app.push_screen(ProblemScreen(self.found[table.cursor_row].problem.number), lambda _: self.reload())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Problems: recurring patterns / problem list",
                            "Switch between the problem list and the recurring patterns that are problem candidates",
                            self.action_next_tab)
        for index, (name, _) in enumerate(STATE_FILTERS):
            yield SystemCommand(f"Problems: show {name}", f"Show {name} problems", partial(self.action_show_states, index))


@dataclass
class ProblemShown(Message):
    details: Any  # services.problems.ProblemDetails, or None with `error`
    error: str = ""


class ProblemScreen(RunsProblemForms, Screen[None]):
    """One problem: its fields, its linked incidents and its timeline."""

    COMPONENT_CLASSES = PALETTE_CLASSES
    BINDINGS = [
        Binding("escape", "back", "Back", id="problem.back", tooltip="Back to the problems"),
        Binding("l", "link", "Link", id="problem.link", tooltip="Link an incident to this problem"),
        Binding("k", "known_error", "Known error", id="problem.known_error",
                tooltip="Record the workaround (and root cause): the problem becomes a known error"),
        Binding("r", "resolve", "Resolve", id="problem.resolve", tooltip="The root cause is removed"),
        Binding("x", "close", "Close", id="problem.close", tooltip="Close the resolved problem"),
    ]

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number
        self.details: Any = None

    def compose(self) -> ComposeResult:
        yield Static(Content("loading…"), id="problem-title")
        with VerticalScroll(id="problem-body"):
            yield Static(Content(""), id="problem-fields")
            yield Static(Content(""), id="problem-incidents")
            yield Static(Content(""), id="problem-timeline")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#problem-body").focus()
        self.reload()

    @work(thread=True, exclusive=True, group="problem-load", exit_on_error=False, description="load the problem")
    def reload(self) -> None:
        from eim_tui.services.problems import ProblemCases

        try:
            details = ProblemCases(self.app.services).details(self.number, viewer=self.app.user)
        except Exception as exc:
            self.post_message(ProblemShown(None, explain(exc)))
            return
        self.post_message(ProblemShown(details))

    def on_problem_shown(self, message: ProblemShown) -> None:
        if message.details is None:
            self.query_one("#problem-title", Static).update(Content(f"could not show it: {message.error}"))
            return
        self.details = message.details
        p, pal = message.details.problem, palette(self)
        self.query_one("#problem-title", Static).update(Content.assemble(
            (p.key, "bold"), " · ", (p.state.label, state_style(p, pal)), f" · v{p.version} · ", p.title))
        rows = [("owner group", p.owner_group), ("about", _about(p)),
                ("category", "/".join(x for x in (p.category, p.subcategory) if x)), ("root cause", p.root_cause),
                ("workaround", p.workaround), ("description", p.description)]
        self.query_one("#problem-fields", Static).update(Content("\n").join(
            [Content.assemble((f"{label:<12}", pal["label"]), value or "-") for label, value in rows]))
        incidents = message.details.incidents
        lines = [Content.styled(f"Linked incidents ({len(incidents)})", pal["heading"])]
        lines += [Content.assemble("  ", (i.key, "bold"), f"  Sev{i.priority}  ", (f"{i.state:<11}", pal["label"]), " ", i.title)
                  for i in incidents] or [Content.styled("  none yet: l links one", pal["label"])]
        self.query_one("#problem-incidents", Static).update(Content("\n").join(lines))
        events = [Content.styled("Timeline", pal["heading"])]
        events += [Content.assemble((f"{e.at.astimezone():%m-%d %H:%M} ", pal["label"]), (f"{e.actor:<8} ", "bold"), e.summary)
                   for e in message.details.events]
        self.query_one("#problem-timeline", Static).update(Content("\n").join(events))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out what the problem's state does not allow."""
        if self.details is None or action not in ("link", "known_error", "resolve", "close"):
            return True
        state = self.details.problem.state
        allowed = {
            "link": state is not ProblemState.CLOSED,
            "known_error": state in (ProblemState.OPEN, ProblemState.KNOWN_ERROR),
            "resolve": state in (ProblemState.OPEN, ProblemState.KNOWN_ERROR),
            "close": state is ProblemState.RESOLVED,
        }
        return True if allowed[action] else None

    def action_back(self) -> None:
        self.dismiss(None)

    def _problem(self) -> Problem | None:
        return None if self.details is None else self.details.problem

    def action_link(self) -> None:
        if (p := self._problem()) is not None:
            self.open_form(LinkIncidentForm(p))

    def action_known_error(self) -> None:
        if (p := self._problem()) is not None:
            self.open_form(KnownErrorForm(p))

    def action_resolve(self) -> None:
        if (p := self._problem()) is not None:
            self.open_form(ResolveProblemForm(p))

    def action_close(self) -> None:
        if (p := self._problem()) is not None:
            self.open_form(CloseProblemForm(p))


# --- a known error on an incident (the detail screen, the new-incident form) ---------------------


@dataclass
class KnownErrorFound(Message):
    """The known error an incident (or a report being typed) matches: its one line, or "" for none."""

    number: int  # the incident's number; 0 for a report not saved yet
    line: str


def known_error_line(svc, incident) -> str:
    """`Known error PRB-000012 — workaround: …` for an open incident or a report that matches one, else ""."""
    from eim_tui.services.problems import ProblemCases

    cases = ProblemCases(svc)
    if hasattr(incident, "is_open"):
        match = cases.known_error_of(incident)
    else:
        found = cases.known_errors_for(incident)
        match = found[0] if found else None
    return match.line() if match is not None else ""


def known_error_content(line: str, p: Palette) -> Content:
    return Content.styled(line, f"bold {p['accent']}") if line else Content("")
