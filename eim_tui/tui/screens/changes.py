"""Changes in the TUI: the changes screen (from the queue's `C` and the palette), the detail screen's
"recent changes" panel, and the form that links an incident to the change that caused it.

The screen lists change records with their state, risk and window, newest window first; `f` cycles
which states it shows, `enter` shows the highlighted change's timeline and incidents below the list.
Every store read runs in a worker that ends in a message (workers.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
from textual.widgets import DataTable, Static

from eim_tui.domain.changes import Change, ChangeLink, ChangeState, parse_change_key
from eim_tui.domain.model import Incident, format_key
from eim_tui.tui.dialogs.form import Field
from eim_tui.tui.dialogs.incident_forms import IncidentForm
from eim_tui.tui.render.theme_styles import PALETTE_CLASSES, Palette, palette
from eim_tui.tui.widgets.key_footer import KeyFooter
from eim_tui.tui.workers import ReportsWorkers, explain

# `f` cycles these: a name and the states shown (empty: every state).
STATE_FILTERS: list[tuple[str, tuple[ChangeState, ...]]] = [
    ("all", ()),
    ("in progress", (ChangeState.IN_PROGRESS,)),
    ("planned", (ChangeState.PLANNED,)),
    ("ended", (ChangeState.COMPLETED, ChangeState.FAILED, ChangeState.CANCELLED)),
]
LIMIT = 500  # the newest windows; `eim change list --limit` reaches further back


def _window(change: Change) -> str:
    start, end = change.planned_start.astimezone(), change.planned_end.astimezone()
    same_day = start.date() == end.date()
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}" if same_day else f"{start:%Y-%m-%d %H:%M}–{end:%m-%d %H:%M}"


def _targets(change: Change) -> str:
    return ", ".join([*change.services, *change.cis])


def _state_style(change: Change, p: Palette) -> str:
    return {ChangeState.IN_PROGRESS: p["accent"], ChangeState.FAILED: p["bad"],
            ChangeState.COMPLETED: p["good"]}.get(change.state, p["label"])


# --- the detail screen's panel ------------------------------------------------------------------


def recent_changes_panel(recent: Sequence[Change], links: Sequence[ChangeLink], p: Palette) -> Content:
    """What changed on the incident's service or CI in the last 24 hours, and the changes it is tied to."""
    heading = "Recent changes (24 h, this service / CI)"
    lines = [Content.styled(heading, p["heading"]) if recent else
             Content.assemble((heading, p["heading"]), (": none", p["label"]))]
    for change in recent:
        lines.append(Content.assemble(
            "  ", (change.key, "bold"), " ", (f"{change.state.label:<11}", _state_style(change, p)), " ",
            (_window(change), p["label"]), "  ", change.title, (f"  [{_targets(change)}]", p["label"]),
        ))
    for link in links:
        what = "caused by" if link.relation.value == "caused_by" else "opened during"
        lines.append(Content.assemble(
            (f"{what:<13} ", p["accent"]), (link.change.key, "bold"), f" ({link.change.state.label}) {link.change.title}",
        ))
    return Content("\n").join(lines)


def links_panel(links: dict[str, str], p: Palette) -> Content:
    """The monitoring links the incident's alerts carried (dashboard, panel, silence, runbook)."""
    if not links:
        return Content("")
    return Content("\n").join([Content.assemble((f"{name:<10}", p["label"]), url) for name, url in links.items()])


@dataclass
class IncidentChangesLoaded(Message):
    """For the detail screen: recent changes, the changes it is tied to, its alerts' links."""

    number: int
    recent: list[Change]
    links: list[ChangeLink]
    alert_links: dict[str, str]


def load_incident_changes(svc, incident: Incident) -> IncidentChangesLoaded:
    """Read in a worker (the detail screen's): a few indexed queries, well under 20 ms."""
    from eim_tui.services.changes import ChangeCases

    cases = ChangeCases(svc)
    return IncidentChangesLoaded(incident.number, cases.recent_on(incident.service, incident.configuration_item),
                                 cases.links_of(incident.number), cases.alert_links(incident.number))


class CausedByForm(IncidentForm):
    """`b` on the detail screen: the change record that caused this incident."""

    FORM_TITLE = "Caused by change"
    DONE = "linked to the change that caused it"
    recent_changes: Sequence[Change] = ()

    def form_fields(self) -> list[Field]:
        recent = list(self.recent_changes)
        shown = "; ".join(f"{c.key} {c.title}" for c in recent[:3])
        return [Field("change", "Change record", value=recent[0].key if recent else "", required=True,
                      placeholder="CHG-000123", suggestions=[c.key for c in recent],
                      help=f"recent on this service/CI: {shown}" if shown else "no change on this service/CI in 24 h")]

    def compose(self) -> ComposeResult:
        # The detail screen hands over its recent changes after construction: build the fields again.
        self._fields = {f.name: f for f in self.form_fields()}
        yield from super().compose()

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        errors = super().validate(values)
        if "change" not in errors:
            try:
                parse_change_key(values["change"])
            except ValueError as exc:
                errors["change"] = str(exc)
        return errors

    def call(self, svc, actor, version, values):
        from eim_tui.services.changes import ChangeCases

        return ChangeCases(svc).link_caused_by(actor, self.incident.number, parse_change_key(values["change"]), version)


# --- the changes screen ---------------------------------------------------------------------------


@dataclass
class ChangesLoaded(Message):
    changes: list[Change] | None
    error: str = ""


@dataclass
class ChangeShown(Message):
    details: Any  # services.changes.ChangeDetails, or None with `error`
    error: str = ""


class ChangesScreen(ReportsWorkers, Screen[None]):
    COMPONENT_CLASSES = PALETTE_CLASSES
    BINDINGS = [
        Binding("escape", "back", "Back", id="changes.back", tooltip="Back to the queue"),
        Binding("f", "next_state", "States", id="changes.states", tooltip="Show the next set of states (cycles)"),
        Binding("enter", "show", "Details", id="changes.show", tooltip="The change's timeline and incidents"),
        Binding("r", "reload", "Reload", id="changes.reload", tooltip="Read the changes again"),
    ]

    state_index: var[int] = var(0)

    def __init__(self) -> None:
        super().__init__()
        self.changes: list[Change] = []

    def compose(self) -> ComposeResult:
        yield Static(Content("Changes · loading…"), id="changes-title")
        table: DataTable[Any] = DataTable(id="changes-table", cursor_type="row", zebra_stripes=True)
        yield table
        with VerticalScroll(id="changes-detail"):
            yield Static(Content("enter: the highlighted change's timeline and incidents"), id="changes-shown")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in (("Change", 10), ("State", 11), ("Risk", 6), ("Window", 22), ("Affects", 24), ("Title", 34)):
            table.add_column(label, width=width)
        table.focus()
        self.load()

    @work(thread=True, exclusive=True, group="changes-load", exit_on_error=False, description="load the changes")
    def load(self, states: tuple[ChangeState, ...] = ()) -> None:
        from eim_tui.services.changes import ChangeCases

        try:
            found = ChangeCases(self.app.services).list(states, limit=LIMIT)
        except Exception as exc:  # the title says why the list is empty
            self.post_message(ChangesLoaded(None, explain(exc)))
            return
        self.post_message(ChangesLoaded(found))

    def on_changes_loaded(self, message: ChangesLoaded) -> None:
        name, _ = STATE_FILTERS[self.state_index]
        title = self.query_one("#changes-title", Static)
        if message.changes is None:
            title.update(Content(f"Changes · {message.error}"))
            return
        self.changes = message.changes
        title.update(Content.assemble(("Changes", "bold"), f" · {name} ({len(self.changes)}) · times local · f: states"))
        p = palette(self)
        table = self.query_one(DataTable)
        table.clear()
        # Text cells, never str: DataTable reads a str cell as Rich markup, so a title holding `[bold]`
        # lost it and one holding a lone `[/]` crashed the screen. Unstyled Text keeps the row colours.
        for change in self.changes:
            table.add_row(change.key, change.state.label, change.risk.value, _window(change), Text(_targets(change)),
                          Text(change.title), key=change.key)
        if not self.changes:
            self.query_one("#changes-shown", Static).update(
                Content.styled("no changes here; record one with eim change new", p["label"]))

    # --- actions ------------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_reload(self) -> None:
        self.load(STATE_FILTERS[self.state_index][1])

    def action_next_state(self) -> None:
        self.state_index = (self.state_index + 1) % len(STATE_FILTERS)

    def action_show_states(self, index: int) -> None:
        self.state_index = index

    def watch_state_index(self) -> None:
        self.load(STATE_FILTERS[self.state_index][1])

    def action_show(self) -> None:
        table = self.query_one(DataTable)
        if self.changes and 0 <= table.cursor_row < len(self.changes):
            self.show_change(self.changes[table.cursor_row].number)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_show()

    @work(thread=True, exclusive=True, group="changes-show", exit_on_error=False, description="load the change")
    def show_change(self, number: int) -> None:
        from eim_tui.services.changes import ChangeCases

        try:
            details = ChangeCases(self.app.services).details(number)
        except Exception as exc:
            self.post_message(ChangeShown(None, explain(exc)))
            return
        self.post_message(ChangeShown(details))

    def _describe(self, details) -> Content:
        p = palette(self)
        c = details.change
        lines = [Content.assemble((c.key, "bold"), f" {c.title} · ", (c.state.label, _state_style(c, p)),
                                  f" · {c.risk.value} risk · owner {c.owner or '-'}")]
        if c.description:
            lines.append(Content(c.description))
        if c.outcome:
            lines.append(Content.assemble(("outcome ", p["label"]), c.outcome))
        incidents = ", ".join(f"{format_key(n)} ({r.value.replace('_', ' ')})" for n, r in details.incidents)
        lines.append(Content.assemble(("incidents ", p["label"]), incidents or "-"))
        lines += [Content.assemble((f"{e.at.astimezone():%m-%d %H:%M} ", p["label"]), (f"{e.actor:<10} ", "bold"),
                                   e.summary) for e in details.events]
        return Content("\n").join(lines)

    def on_change_shown(self, message: ChangeShown) -> None:
        shown = self._describe(message.details) if message.details is not None else Content(
            f"could not show it: {message.error}")
        self.query_one("#changes-shown", Static).update(shown)

    def palette_commands(self) -> Iterable[SystemCommand]:
        for index, (name, _) in enumerate(STATE_FILTERS):
            yield SystemCommand(f"Changes: show {name}", f"Show {name} changes", partial(self.action_show_states, index))

