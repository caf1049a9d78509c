"""One incident's timeline: every event in order with who and when, filterable by kind, with the
hash-chain status of its events, and exports (Markdown post-incident report, JSON).

The chain check runs in a worker: by default this incident's links (each event hashes to what it
says and links to the event before it in the global chain); `c` walks the whole store's chain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Static

from eim_tui.domain.model import EventKind, format_key
from eim_tui.services.incidents import IncidentDetails
from eim_tui.tui.render.theme_styles import PALETTE_CLASSES, palette
from eim_tui.tui.widgets.key_footer import KeyFooter
from eim_tui.tui.workers import ReportsWorkers, explain

# Filter choices, cycled by `f`: a name and the event kinds it shows (empty: every kind).
KIND_FILTERS: list[tuple[str, frozenset[EventKind]]] = [
    ("all", frozenset()),
    ("state", frozenset({EventKind.CREATED, EventKind.STATE_CHANGED})),
    ("fields", frozenset({EventKind.FIELD_CHANGED, EventKind.LINKED})),
    ("assignments", frozenset({EventKind.ASSIGNED})),
    ("notes", frozenset({EventKind.NOTE_ADDED, EventKind.NOTE_EDITED})),
    ("SLA", frozenset({EventKind.SLA_WARNING, EventKind.SLA_BREACH, EventKind.ESCALATION})),
    ("alerts", frozenset({EventKind.ALERT_RECEIVED, EventKind.ALERT_RESOLVED, EventKind.NOTIFICATION_SENT})),
    ("together", frozenset({EventKind.ROLES_CHANGED, EventKind.TASK_ADDED, EventKind.TASK_DONE,
                            EventKind.SUBSCRIBERS_CHANGED, EventKind.STAKEHOLDER_UPDATE, EventKind.UPDATE_DUE,
                            EventKind.UPDATE_MISSED, EventKind.ACTION_OVERDUE})),
]

KIND_LABEL = {
    EventKind.CREATED: "created", EventKind.FIELD_CHANGED: "field", EventKind.STATE_CHANGED: "state",
    EventKind.ASSIGNED: "assigned", EventKind.NOTE_ADDED: "note", EventKind.NOTE_EDITED: "note edit",
    EventKind.ALERT_RECEIVED: "alert", EventKind.ALERT_RESOLVED: "alert end", EventKind.SLA_WARNING: "SLA warn",
    EventKind.SLA_BREACH: "SLA breach", EventKind.NOTIFICATION_SENT: "notified", EventKind.ESCALATION: "escalated",
    EventKind.LINKED: "link",
    EventKind.ROLES_CHANGED: "roles", EventKind.TASK_ADDED: "task", EventKind.TASK_DONE: "task done",
    EventKind.SUBSCRIBERS_CHANGED: "subscribe", EventKind.STAKEHOLDER_UPDATE: "update",
    EventKind.UPDATE_DUE: "upd. due", EventKind.UPDATE_MISSED: "upd. miss", EventKind.ACTION_OVERDUE: "overdue",
}


@dataclass
class TimelineLoaded(Message):
    details: IncidentDetails | None
    error: str = ""


@dataclass
class ChainChecked(Message):
    text: str
    intact: bool


@dataclass
class Exported(Message):
    text: str
    ok: bool


class TimelineScreen(ReportsWorkers, Screen[None]):
    COMPONENT_CLASSES = PALETTE_CLASSES
    BINDINGS = [
        Binding("escape", "back", "Back", id="timeline.back", tooltip="Back to the incident"),
        Binding("f", "next_kind", "Kind", id="timeline.kind", tooltip="Show the next kind of event (cycles)"),
        Binding("e", "export('md')", "Export .md", id="timeline.export_md",
                tooltip="Write a Markdown post-incident report (EIM_EXPORT_DIR or the current directory)"),
        Binding("j", "export('json')", "Export .json", id="timeline.export_json",
                tooltip="Write the incident, notes and timeline as JSON"),
        Binding("c", "check_all", "Check chain", id="timeline.check_all",
                tooltip="Verify the whole store's hash chain, not just this incident's links"),
    ]

    kind_index: var[int] = var(0)

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number
        self.details: IncidentDetails | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content(f"{format_key(self.number)} · timeline · loading…"), id="timeline-title")
        yield Static(Content("chain: checking…"), id="timeline-chain")
        with VerticalScroll(id="timeline-body"):
            yield Static(id="timeline-events")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#timeline-body").focus()
        self.load()
        self.check_chain(False)

    @work(thread=True, exclusive=True, group="timeline-load", exit_on_error=False, description="load the timeline")
    def load(self) -> None:
        try:
            details = self.app.services.details(self.number, viewer=self.app.user)
        except Exception as exc:  # the title says why there is nothing to show
            self.post_message(TimelineLoaded(None, explain(exc)))
            return
        self.post_message(TimelineLoaded(details))

    def on_timeline_loaded(self, message: TimelineLoaded) -> None:
        if message.details is None:
            self.query_one("#timeline-title", Static).update(
                Content(f"{format_key(self.number)} · {message.error}"))
            return
        self.details = message.details
        self._draw()

    @work(thread=True, exclusive=True, group="timeline-chain", exit_on_error=False,
          description="check the hash chain")
    def check_chain(self, whole_store: bool) -> None:
        try:
            report = self.app.services.verify_chain(None if whole_store else self.number)
        except Exception as exc:
            self.post_message(ChainChecked(f"chain: could not check ({explain(exc)})", False))
            return
        if report.intact:
            scope = "the whole store's chain" if whole_store else f"{format_key(self.number)}'s events and links"
            text = f"chain INTACT: {report.events} events verified ({scope})"
            if report.hidden:
                text += f"; {report.hidden} confidential by their links only"
        else:
            text = f"chain BROKEN at event {report.broken_at}: {report.reason}"
        self.post_message(ChainChecked(text, report.intact))

    def on_chain_checked(self, message: ChainChecked) -> None:
        style = palette(self)["good" if message.intact else "bad"]
        self.query_one("#timeline-chain", Static).update(Content.styled(message.text, style))

    def on_resize(self) -> None:
        if self.details is not None:
            self._draw()

    # --- actions ------------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_next_kind(self) -> None:
        self.kind_index = (self.kind_index + 1) % len(KIND_FILTERS)

    def action_show_kind(self, index: int) -> None:
        self.kind_index = index

    def watch_kind_index(self) -> None:
        if self.details is not None:
            self._draw()

    def action_check_all(self) -> None:
        self.query_one("#timeline-chain", Static).update(Content("chain: checking the whole store…"))
        self.check_chain(True)

    def action_export(self, fmt: str) -> None:
        self._export(fmt)

    @work(thread=True, group="timeline-export", exit_on_error=False, description="export the incident")
    def _export(self, fmt: str) -> None:
        from eim_tui.output.export import write_export

        svc = self.app.services
        try:
            path = write_export(svc.details(self.number, viewer=self.app.user), fmt, self.app.config.export_dir,
                                generated_at=svc.clock.now())
        except Exception as exc:
            self.post_message(Exported(f"export failed: {explain(exc)}", False))
            return
        self.post_message(Exported(f"wrote {path}", True))

    def on_exported(self, message: Exported) -> None:
        self.notify(message.text, title="Exported" if message.ok else "Not exported",
                    severity="information" if message.ok else "error", markup=False, timeout=8)

    def palette_commands(self) -> Iterable[SystemCommand]:
        for index, (name, _) in enumerate(KIND_FILTERS):
            yield SystemCommand(f"Timeline: show {name}", f"Show {name} events", partial(self.action_show_kind, index))

    # --- rendering ----------------------------------------------------------------------------------

    def _draw(self) -> None:
        d = self.details
        assert d is not None
        name, kinds = KIND_FILTERS[self.kind_index]
        events = [e for e in d.timeline if not kinds or e.kind in kinds]
        zone = d.incident.reported_at.astimezone().strftime("%Z")
        self.query_one("#timeline-title", Static).update(Content.assemble(
            (d.incident.key, "bold"), " · timeline · kind: ", (name, "bold"),
            f" ({len(events)} of {len(d.timeline)}) · times in {zone} · f: next kind",
        ))
        # Narrow terminals get a shorter time, so each event keeps to one line where it can.
        when = "%Y-%m-%d %H:%M:%S" if self.size.width >= 110 else "%m-%d %H:%M"
        p = palette(self)
        lines = [
            Content.assemble(
                (f"{e.at.astimezone():{when}} ", p["label"]), (f"{e.actor:<10} ", "bold"),
                (f"{KIND_LABEL.get(e.kind, e.kind.value):<9} ", p["accent"]), e.summary,
            )
            for e in events
        ]
        if not lines:
            lines = [Content.styled(f"no {name} events", p["label"])]
        self.query_one("#timeline-events", Static).update(Content("\n").join(lines))

