"""One incident: every field, grouped, with its ticking SLA clocks — and every lifecycle action.

Loaded in a worker; reloaded when anyone changes the incident (the change marker). Each action key
opens a small form (screens/incident_forms.py, closure_forms.py) or acts at once, runs ONE use case
in a worker with the version on screen, toasts the outcome and reloads. A refusal — the state
machine says no, or someone changed the incident meanwhile — reopens the form with the typed text.
The footer shows only the actions the state machine allows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from eim_tui.domain.errors import ConflictError, DomainError
from eim_tui.domain.lifecycle import Step, can
from eim_tui.domain.model import FINAL_STATES, Incident, format_key
from eim_tui.services.incidents import IncidentDetails
from eim_tui.tui.dialogs.closure_forms import CloseForm, ResolveForm
from eim_tui.tui.dialogs.collab_forms import RolesForm, TasksScreen, UpdateForm, update_cadence
from eim_tui.tui.dialogs.incident_forms import (
    AssignForm,
    CancelForm,
    CategoryForm,
    HoldForm,
    IncidentForm,
    LinkForm,
    PriorityForm,
    ReopenForm,
)
from eim_tui.tui.render import detail_view as view
from eim_tui.tui.render.collab_view import collab_panel
from eim_tui.tui.render.theme_styles import PALETTE_CLASSES, palette
from eim_tui.tui.widgets.key_footer import KeyFooter
from eim_tui.tui.workers import ChangesFound, WatchesChanges, explain

# One use case: (services, actor, version shown) → the incident after the change.
Call = Callable[[Any, str, int], Incident]
# A form to give back after a refusal, with what was typed in it.
Retry = tuple[type[IncidentForm], dict[str, Any]]


@dataclass
class DetailsLoaded(Message):
    details: IncidentDetails | None
    marker: int  # the store's change marker read before the details (-1: not read)
    error: str = ""


@dataclass
class SimilarLoaded(Message):
    number: int
    found: list
    error: str = ""


@dataclass
class ActionDone(Message):
    text: str


@dataclass
class ActionRefused(Message):
    """A use case said no. `retry` is (form class, typed values) to reopen the form with."""

    error: str
    conflict: bool = False
    retry: Retry | None = field(default=None)


def _bind(key: str, action: str, text: str, tip: str, show: bool = True) -> Binding:
    return Binding(key, action, text, id=f"detail.{action}", tooltip=tip, show=show)


class DetailScreen(WatchesChanges, Screen[None]):
    COMPONENT_CLASSES = PALETTE_CLASSES
    BINDINGS = [
        _bind("escape", "back", "Back", "Back to the queue"),
        _bind("a", "acknowledge", "Ack+take", "Acknowledge (first response) and take the incident"),
        _bind("r", "resolve", "Resolve", "Resolve: code, what was done, how tested, what users were told"),
        _bind("h", "hold", "Hold", "Put on hold with a reason (awaiting user/vendor/change pauses the SLA)"),
        _bind("h", "resume", "Resume", "Resume work: the SLA clocks run again"),
        _bind("d", "notes", "Notes", "Diagnosis notes"),
        _bind("g", "assign", "Assign", "Assign to a group and/or a person"),
        _bind("p", "prioritize", "Priority", "Change impact / urgency; the priority is recomputed"),
        _bind("t", "timeline", "Timeline", "Every event, filterable; hash-chain status; exports"),
        _bind("u", "update", "Update", "Send a stakeholder update to the incident's subscribers"),
        _bind("k", "tasks", "Tasks", "Tasks during the incident and post-incident actions"),
        _bind("w", "roles", "Roles", "Commander, scribe, communications lead, subject experts"),
        _bind("c", "categorize", "Category", "Change category and subcategory"),
        _bind("m", "major", "Major", "Mark or unmark as a major incident"),
        _bind("l", "link", "Link", "Link a parent (duplicate of), a problem or a change"),
        _bind("b", "caused_by", "Caused by", "Link the change record that caused this incident", show=False),
        _bind("s", "similar", "Similar", "Resolved incidents like this one, and how each was resolved",
              show=False),
        _bind("i", "ci_incidents", "CI incidents", "The catalogue at this incident's CI: its other open incidents",
              show=False),
        _bind("x", "close", "Close", "Close: verification, feedback, lessons (and the review if major)"),
        _bind("o", "reopen", "Reopen", "Reopen a resolved incident with a reason"),
        _bind("z", "cancel", "Cancel inc.", "Cancel the incident with a reason"),
    ]

    # action → the lifecycle step it is, for check_action
    STEPS = {"acknowledge": Step.ACKNOWLEDGE, "hold": Step.HOLD, "resume": Step.RESUME,
             "resolve": Step.RESOLVE, "close": Step.CLOSE, "reopen": Step.REOPEN, "cancel": Step.CANCEL}

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number
        self.details: IncidentDetails | None = None
        self.recent_changes: list = []  # changes on its service/CI in the last 24 h (screens/changes.py)
        self._retry: tuple[type[IncidentForm], dict[str, Any], str] | None = None
        self._cadence: dict | None = None  # [updates] cadence, read once

    def compose(self) -> ComposeResult:
        yield Static(Content(f"{format_key(self.number)} · loading…"), id="detail-title")
        with VerticalScroll(id="detail-body"):
            yield Static(id="detail-summary")
            yield Static(id="detail-similar")  # shown by `s`
            yield Static(id="detail-sla")
            known_error = Static(id="detail-known-error")
            known_error.display = False  # shown only when the incident matches one (screens/problems.py)
            yield known_error
            yield Static(id="detail-changes")
            yield Static(id="detail-collab")
            yield Static(id="detail-fields")
            yield Static(id="detail-notes")
            yield Static(id="detail-timeline")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#detail-similar").display = False
        self.query_one("#detail-body").focus()
        self.load()
        self.set_interval(self.app.tick_interval, self._tick)
        self.start_watching()

    @property
    def incident(self) -> Incident | None:
        return self.details.incident if self.details else None

    # --- loading and live updates -------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="detail-load", exit_on_error=False, description="load the incident")
    def load(self) -> None:
        svc = self.app.services
        marker = -1
        try:
            marker = svc.change_marker()
            details = svc.details(self.number, viewer=self.app.user)  # confidential: security group only
        except Exception as exc:  # the title says why there is nothing to show
            self.post_message(DetailsLoaded(None, marker, explain(exc)))
            return
        self.post_message(DetailsLoaded(details, marker))

    def on_details_loaded(self, message: DetailsLoaded) -> None:
        if message.details is not None and 0 <= message.marker < self.shown_marker:
            return  # read before a newer load that is already shown: drawing it would show an older state for good
        self.shown_marker = max(self.shown_marker, message.marker)
        if message.details is None:
            self.query_one("#detail-title", Static).update(Content(f"{format_key(self.number)} · {message.error}"))
            return
        self.details = message.details
        self._draw()
        self.refresh_bindings()
        self.load_changes(message.details.incident)
        self.load_known_error(message.details.incident)
        if self._retry is not None:
            form, values, error = self._retry
            self._retry = None
            self._ask(form, prefill=values, message=error)

    @work(thread=True, exclusive=True, group="detail-changes", exit_on_error=False, description="load recent changes")
    def load_changes(self, incident: Incident) -> None:
        from eim_tui.tui.screens.changes import load_incident_changes

        self.post_message(load_incident_changes(self.app.services, incident))

    @work(thread=True, exclusive=True, group="detail-known-error", exit_on_error=False, description="match known errors")
    def load_known_error(self, incident: Incident) -> None:
        from eim_tui.tui.screens.problems import KnownErrorFound, known_error_line

        self.post_message(KnownErrorFound(incident.number, known_error_line(self.app.services, incident)))

    def on_known_error_found(self, message) -> None:
        from eim_tui.tui.screens.problems import known_error_content

        if message.number == self.number:
            shown = self.query_one("#detail-known-error", Static)
            shown.update(known_error_content(message.line, palette(self)))
            shown.display = bool(message.line)

    def on_incident_changes_loaded(self, message) -> None:
        from eim_tui.tui.screens.changes import links_panel, recent_changes_panel

        if message.number != self.number:
            return
        self.recent_changes = message.recent
        p = palette(self)
        panel = recent_changes_panel(message.recent, message.links, p)
        if message.alert_links:
            panel = Content("\n").join([panel, links_panel(message.alert_links, p)])
        self.query_one("#detail-changes", Static).update(panel)

    def on_changes_found(self, message: ChangesFound) -> None:
        if self.number in message.changed:
            self.load()

    def on_screen_resume(self) -> None:
        # Back from the notes or timeline screen, which may have changed the incident (a root cause
        # note bumps its version): reload now, or the next action would be refused as stale.
        if self.details is not None:
            self.load()

    def _tick(self) -> None:
        if self.details is not None:
            self.query_one("#detail-sla", Static).update(self._sla())
            self.query_one("#detail-collab", Static).update(self._collab())

    # --- what the state machine allows --------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("back", "notes", "timeline", "similar"):
            return True
        i = self.incident
        if i is None:
            return False  # nothing to act on until the incident is loaded
        if action in self.STEPS:
            allowed = can(self.STEPS[action], i.state)
        elif action in ("assign", "prioritize"):
            allowed = i.is_open
        elif action in ("categorize", "major", "link", "caused_by"):
            allowed = i.state not in FINAL_STATES
        elif action in ("update", "tasks", "roles"):  # working together: the role decides (greyed)
            return None if self.app.permissions.forbids("assign" if action == "roles" else "note", i) else True
        else:
            return True
        if not allowed:
            return False  # the state machine forbids it: not shown at all
        if self.app.permissions.forbids("link" if action == "caused_by" else action, i):
            return None  # the role forbids it: greyed, and the service layer would refuse it anyway
        return True

    # --- actions ------------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_acknowledge(self) -> None:
        self._now("acknowledged and taken", lambda svc, actor, v: svc.acknowledge(self.number, actor, v))

    def action_resume(self) -> None:
        self._now("resumed", lambda svc, actor, v: svc.resume(self.number, actor, v))

    def action_major(self) -> None:
        major = not (self.incident and self.incident.major)
        self._now("marked major" if major else "no longer major",
                  lambda svc, actor, v: svc.set_major(self.number, actor, major, v))

    def action_assign(self) -> None:
        self._ask(AssignForm)

    def action_prioritize(self) -> None:
        self._ask(PriorityForm)

    def action_categorize(self) -> None:
        self._ask(CategoryForm)

    def action_hold(self) -> None:
        self._ask(HoldForm)

    def action_link(self) -> None:
        self._ask(LinkForm)

    def action_caused_by(self) -> None:
        from eim_tui.tui.screens.changes import CausedByForm

        self._ask(CausedByForm)

    def action_ci_incidents(self) -> None:
        from eim_tui.tui.screens.catalogue import CatalogueScreen

        i = self.incident
        if i is None:
            return
        if not (i.configuration_item or i.service):
            self.notify("This incident names no service or CI; categorize it first.")
            return
        self.app.push_screen(CatalogueScreen(ci=i.configuration_item, service=i.service))

    def action_resolve(self) -> None:
        self._ask(ResolveForm)

    def action_close(self) -> None:
        self._ask(CloseForm)

    def action_reopen(self) -> None:
        self._ask(ReopenForm)

    def action_cancel(self) -> None:
        self._ask(CancelForm)

    def action_update(self) -> None:
        self._ask(UpdateForm)

    def action_roles(self) -> None:
        self._ask(RolesForm)

    def action_tasks(self) -> None:
        if self.incident is not None:
            self.app.push_screen(TasksScreen(self.incident), lambda changed: self.load() if changed else None)

    def action_notes(self) -> None:
        try:
            from eim_tui.tui.screens.notes import NotesScreen
        except ImportError:
            self.notify("The diagnosis notes screen is not in this build; use `eim note KEY --kind … --text …`.",
                        title="Not available")
            return
        self.app.push_screen(NotesScreen(self.number))

    def action_similar(self) -> None:
        """Show (or hide again) the resolved incidents most like this one."""
        panel = self.query_one("#detail-similar", Static)
        if panel.display:
            panel.display = False
            return
        panel.update(Content("Similar resolved incidents: searching…"))
        panel.display = True
        self.load_similar()

    @work(thread=True, exclusive=True, group="detail-similar", exit_on_error=False, description="find similar")
    def load_similar(self) -> None:
        try:
            found = self.app.services.similar_resolved(self.number, viewer=self.app.user)
        except Exception as exc:  # noqa: BLE001 - whatever failed, the panel says why
            self.post_message(SimilarLoaded(self.number, [], explain(exc)))
            return
        self.post_message(SimilarLoaded(self.number, found))

    def on_similar_loaded(self, message: SimilarLoaded) -> None:
        from eim_tui.tui.render.similar_view import similar_panel

        panel = self.query_one("#detail-similar", Static)
        if message.number != self.number or not panel.display:
            return
        panel.update(similar_panel(message.found, palette(self), message.error))
        self.query_one("#detail-body", VerticalScroll).scroll_to_widget(panel, top=True)

    def action_timeline(self) -> None:
        from eim_tui.tui.screens.timeline import TimelineScreen

        self.app.push_screen(TimelineScreen(self.number))

    # --- running one use case -----------------------------------------------------------------------

    def _now(self, done: str, call: Call) -> None:
        """An action without a form: run it against the version on screen."""
        if self.incident is not None:
            self._run(done, call, self.incident.version, None)

    def _ask(self, form_class: type[IncidentForm], prefill: dict[str, Any] | None = None, message: str = "") -> None:
        """Open a form; on save, run its use case against the version shown when it opened."""
        incident = self.incident
        if incident is None:
            return
        form = form_class(incident, self.app.services.ref, self.app.user, prefill, message)
        if hasattr(form, "recent_changes"):
            form.recent_changes = self.recent_changes  # the caused-by form offers them
        if hasattr(form, "collab") and self.details is not None:
            form.collab = self.details.collab  # roles and update forms start from what is shown

        def saved(values: dict[str, Any] | None) -> None:
            if values is not None:
                call: Call = lambda svc, actor, v: form.call(svc, actor, v, values)  # noqa: E731
                self._run(form.DONE, call, incident.version, (form_class, values))

        self.app.push_screen(form, saved)

    @work(thread=True, group="detail-act", exit_on_error=False, description="change the incident")
    def _run(self, done: str, call: Call, version: int, retry: Retry | None) -> None:
        try:
            incident = call(self.app.services, self.app.user, version)
        except DomainError as exc:
            self.post_message(ActionRefused(str(exc), isinstance(exc, ConflictError), retry))
            return
        except Exception as exc:  # the store failed: say so, keep the typed text
            self.post_message(ActionRefused(f"could not save: {explain(exc)}", False, retry))
            return
        if not isinstance(incident, Incident):  # roles, tasks, updates: the incident itself is unchanged
            self.post_message(ActionDone(f"{format_key(self.number)} {done}"))
            return
        unchanged = incident.version == version  # the use case found nothing to change
        self.post_message(ActionDone(f"{incident.key}: nothing changed" if unchanged else f"{incident.key} {done}"))

    def on_action_done(self, message: ActionDone) -> None:
        self.notify(message.text, title="Saved", markup=False)
        self.load()

    def on_action_refused(self, message: ActionRefused) -> None:
        title = "Changed underneath — not saved" if message.conflict else "Refused"
        self.notify(message.error, title=title, severity="error", timeout=8, markup=False)
        if message.retry is not None:
            form, values = message.retry
            # Given back after the reload, so ctrl+s tries again against what is stored now.
            self._retry = (form, values, f"Not saved: {message.error}. Your text is kept; ctrl+s tries again.")
        self.load()

    # --- rendering ----------------------------------------------------------------------------------

    def _sla(self) -> Content:
        i = self.details.incident  # type: ignore[union-attr]
        return view.sla_panel(i, self.app.services.ref.policy(i.priority, i.service), self.app.clock.now(), palette(self))

    def _collab(self) -> Content:
        d = self.details
        assert d is not None
        if self._cadence is None:
            self._cadence = update_cadence(self.app)
        return collab_panel(d.incident, d.collab, self._cadence, self.app.clock.now(), palette(self))

    def _draw(self) -> None:
        d = self.details
        assert d is not None
        p = palette(self)
        self.query_one("#detail-title", Static).update(view.title(d.incident, p))
        self.query_one("#detail-summary", Static).update(view.summary(d.incident, p))
        self.query_one("#detail-sla", Static).update(self._sla())
        self.query_one("#detail-collab", Static).update(self._collab())
        self.query_one("#detail-fields", Static).update(view.field_groups(d.incident, p))
        self.query_one("#detail-notes", Static).update(view.notes(d, p))
        self.query_one("#detail-timeline", Static).update(view.recent_events(d, p))

