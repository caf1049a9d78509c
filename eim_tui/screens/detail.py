"""One incident: every field, grouped, with its SLA clocks, diagnosis notes and timeline.

Loaded in a worker; refreshed when anyone changes the incident (the change marker), and the clocks
tick every second from the app's clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group as RichGroup
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from eim_tui.domain import sla
from eim_tui.domain.durations import format_countdown, format_duration
from eim_tui.domain.events import show
from eim_tui.domain.model import SlaState, format_key
from eim_tui.services import IncidentDetails


@dataclass
class DetailsLoaded(Message):
    details: IncidentDetails | None
    error: str = ""


class DetailScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="detail.back", tooltip="Back to the queue"),
        Binding("t", "focus_timeline", "Timeline", id="detail.timeline", tooltip="Jump to the timeline"),
    ]

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number
        self.details: IncidentDetails | None = None
        self._marker = -1

    def compose(self) -> ComposeResult:
        yield Static(Text(f"{format_key(self.number)} · loading…"), id="detail-title")
        with VerticalScroll(id="detail-body"):
            yield Static(id="detail-summary")
            yield Static(id="detail-sla")
            yield Static(id="detail-fields")
            yield Static(id="detail-notes")
            yield Static(id="detail-timeline")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#detail-body").focus()
        self.load()
        self.set_interval(self.app.tick_interval, self._tick)
        self.set_interval(self.app.poll_interval, self._poll)

    @work(thread=True, exclusive=True, group="detail-load", exit_on_error=False)
    def load(self) -> None:
        svc = self.app.services
        try:
            self._marker = svc.change_marker()
            details = svc.details(self.number)
        except Exception as exc:
            self.post_message(DetailsLoaded(None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
            return
        self.post_message(DetailsLoaded(details))

    def on_details_loaded(self, message: DetailsLoaded) -> None:
        if message.details is None:
            self.query_one("#detail-title", Static).update(Text(f"{format_key(self.number)} · {message.error}"))
            return
        self.details = message.details
        self._render()

    @work(thread=True, exclusive=True, group="detail-poll", exit_on_error=False)
    def _check(self, since: int) -> None:
        try:
            _, changed = self.app.services.changes_since(since)
        except Exception:
            return
        if self.number in changed:
            self.app.call_from_thread(self.load)

    def _poll(self) -> None:
        if self._marker >= 0:
            self._check(self._marker)

    def _tick(self) -> None:
        if self.details is not None:
            self.query_one("#detail-sla", Static).update(self._sla_panel())

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_focus_timeline(self) -> None:
        self.query_one("#detail-timeline").scroll_visible(top=True)

    # --- rendering -----------------------------------------------------------------------------

    def _render(self) -> None:
        d = self.details
        assert d is not None
        i = d.incident
        title = Text.assemble(
            (f"{i.key} ", "bold"), (f"Sev{i.priority} ", f"bold {_sev_style(i.priority)}"),
            (f"{i.state.label}", "bold"), (" MAJOR" if i.major else "", "bold reverse"), " · ", i.title,
        )
        self.query_one("#detail-title", Static).update(title)
        self.query_one("#detail-summary", Static).update(self._summary())
        self.query_one("#detail-sla", Static).update(self._sla_panel())
        self.query_one("#detail-fields", Static).update(self._fields())
        self.query_one("#detail-notes", Static).update(self._notes())
        self.query_one("#detail-timeline", Static).update(self._timeline())

    def _summary(self) -> Text:
        i = self.details.incident  # type: ignore[union-attr]
        text = Text()
        text.append("Summary\n", "bold underline")
        text.append(i.description or "(no description)")
        return text

    def _sla_panel(self) -> Table:
        d = self.details
        assert d is not None
        now = self.app.clock.now()
        policy = self.app.services.ref.policy(d.incident.priority)
        table = Table(title="SLA", title_justify="left", title_style="bold underline", show_edge=False, expand=True)
        for column in ("clock", "state", "due", "left"):
            table.add_column(column)
        for reading in (sla.response_clock(d.incident, policy, now), sla.resolution_clock(d.incident, policy, now)):
            if reading.stopped_at is not None:
                left = f"stopped {show(reading.stopped_at.astimezone())}"
            elif reading.remaining <= 0:
                left = f"BREACHED {format_duration(-reading.remaining)}"
            else:
                left = format_countdown(reading.remaining)
            style = {SlaState.BREACHED: "bold red", SlaState.WARNING: "bold yellow", SlaState.OK: "green"}.get(
                reading.state, "dim"
            )
            table.add_row(reading.name, Text(reading.state.value.upper(), style),
                          reading.due_at.astimezone().strftime("%Y-%m-%d %H:%M"), Text(left, style))
        return table

    def _fields(self) -> RichGroup:
        i = self.details.incident  # type: ignore[union-attr]
        groups = {
            "People": [("group", i.assignment_group), ("assignee", i.assignee), ("reporter", i.reporter_name),
                       ("contact", i.reporter_contact), ("department", i.reporter_department),
                       ("logged by", i.created_by)],
            "Classification": [("service", i.service), ("configuration item", i.configuration_item),
                               ("category", f"{show(i.category)} / {show(i.subcategory)}"),
                               ("impact × urgency", f"{i.impact} × {i.urgency} → Sev{i.priority}"),
                               ("override", i.priority_override_reason), ("initial guess", i.initial_severity),
                               ("source", i.source.label), ("confidential", i.confidential)],
            "Times": [("detected", _local(i.detected_at)), ("reported", _local(i.reported_at)),
                      ("acknowledged", _local(i.acknowledged_at)), ("resolved", _local(i.resolved_at)),
                      ("closed", _local(i.closed_at))],
            "Links": [("duplicate of", format_key(i.parent_number) if i.parent_number else ""),
                      ("problem", i.problem_ref), ("change", i.change_ref)],
        }
        if i.hold_reason:
            groups["Hold"] = [("reason", i.hold_reason.label), ("note", i.hold_note)]
        if i.resolution_code or i.root_cause:
            groups["Resolution"] = [("root cause", i.root_cause), ("code", i.resolution_code),
                                    ("what was done", i.resolution_notes), ("tested", i.resolution_tested),
                                    ("told users", i.resolution_communication)]
        if i.closed_at and i.state.value == "closed":
            groups["Closure"] = [("verified by", i.closure_verified_by), ("rating", i.feedback_rating),
                                 ("comment", i.feedback_comment), ("lessons", i.lessons_learned)]
        parts = []
        for name, rows in groups.items():
            table = Table(title=name, title_justify="left", title_style="bold underline", show_header=False,
                          show_edge=False, box=None, expand=True)
            table.add_column("field", style="dim", no_wrap=True, width=20)
            table.add_column("value", overflow="fold")
            for field, value in rows:
                table.add_row(field, Text(show(value) if not isinstance(value, str) else (value or "—")))
            parts.append(table)
            parts.append(Text(""))
        return RichGroup(*parts)

    def _notes(self) -> Text:
        d = self.details
        assert d is not None
        text = Text()
        text.append(f"Diagnosis ({len(d.notes)})\n", "bold underline")
        if not d.notes:
            text.append("(no notes yet)\n", "dim")
        for n in d.notes:
            status = f" [{n.status.value}]" if n.status else ""
            text.append(f"{n.position:>2}. {n.kind.label}{status} ", "bold")
            text.append(n.text)
            text.append(f"  — {n.author}, {n.created_at.astimezone():%H:%M}\n", "dim")
        return text

    def _timeline(self) -> Text:
        d = self.details
        assert d is not None
        text = Text()
        text.append(f"Timeline ({len(d.timeline)})\n", "bold underline")
        for e in d.timeline:
            text.append(f"{e.at.astimezone():%Y-%m-%d %H:%M:%S} ", "dim")
            text.append(f"{e.actor:<12} ", "bold")
            text.append(f"{e.summary}\n")
        return text


def _local(value) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if value else ""


def _sev_style(priority: int) -> str:
    return {1: "red", 2: "yellow", 3: "default", 4: "blue", 5: "dim"}[priority]
