"""Working an incident together from its detail screen: the roles form (`w`), the tasks dialog
(`k`) with its add-a-task form, and the stakeholder update form (`u`). Each form knows the ONE use
case it calls (`call`), like the lifecycle forms, so the detail screen runs it in a worker and
gives the typed text back on refusal. `collab` (roles, tasks, subscribers) is set by the screen
before the form opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from eim_tui.domain.collab import (
    Collaboration,
    IncidentRole,
    Task,
    TaskKind,
    TaskStatus,
    parse_due,
    update_text,
)
from eim_tui.domain.errors import DomainError, ValidationError
from eim_tui.domain.events import show
from eim_tui.domain.model import Incident
from eim_tui.tui.dialogs.form import Field
from eim_tui.tui.dialogs.incident_forms import IncidentForm
from eim_tui.tui.widgets.key_footer import KeyFooter
from eim_tui.tui.workers import ReportsWorkers, explain


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.replace(";", ",").split(",") if n.strip()]


def update_cadence(app) -> dict[int, timedelta]:
    """`[updates] cadence` from the app's configuration (bad entries were refused by `eim service --check`)."""
    from eim_tui.notify.settings import read_settings

    config = getattr(app, "config", None)
    return read_settings(config)[0].cadence if config is not None else {}


class RolesForm(IncidentForm):
    FORM_TITLE = "Roles"
    DONE = "roles saved"
    collab: Collaboration = Collaboration()

    def form_fields(self) -> list[Field]:
        people = [u.name for u in self.ref.users]
        c = self.collab
        return [
            Field("commander", "Incident commander", value=c.commander, suggestions=people,
                  help="runs the response; reminded when a stakeholder update is due"),
            Field("scribe", "Scribe", value=c.holder(IncidentRole.SCRIBE), suggestions=people),
            Field("comms", "Communications lead", value=c.holder(IncidentRole.COMMS), suggestions=people),
            Field("experts", "Subject experts (comma-separated)", value=", ".join(c.experts), suggestions=people,
                  help="known users only; empty fields free the role"),
        ]

    def call(self, svc, actor, version, values):
        from eim_tui.services.collab import CollabCases

        holders = {role: _names(values[field]) for role, field in (
            (IncidentRole.COMMANDER, "commander"), (IncidentRole.SCRIBE, "scribe"), (IncidentRole.COMMS, "comms"),
            (IncidentRole.EXPERT, "experts")) if _names(values[field])}
        return CollabCases(svc).set_roles(self.incident.number, actor, holders, clear=list(IncidentRole))


class TaskForm(IncidentForm):
    FORM_TITLE = "New task"
    DONE = "task added"

    def form_fields(self) -> list[Field]:
        return [
            Field("what", "What is to be done", required=True),
            Field("who", "Who", value="", suggestions=[u.name for u in self.ref.users], placeholder="a user name"),
            Field("due", "Due", placeholder="2h, 14:05 or 2026-12-06T10:00 (local); empty: no due time"),
            Field("action", "Post-incident action (from the review; needs an owner)", kind="check", value=False),
        ]

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        errors = super().validate(values)
        if values["due"].strip():
            try:
                parse_due(values["due"], self.app.clock.now())
            except ValidationError as exc:
                errors["due"] = str(exc)
        if values["action"] and not values["who"].strip():
            errors["who"] = "a post-incident action needs an owner"
        return errors

    def call(self, svc, actor, version, values):
        from eim_tui.services.collab import CollabCases

        due = parse_due(values["due"], svc.clock.now()) if values["due"].strip() else None
        kind = TaskKind.ACTION if values["action"] else TaskKind.TASK
        return CollabCases(svc).add_task(self.incident.number, actor, values["what"], values["who"], due, kind)


class UpdateForm(IncidentForm):
    FORM_TITLE = "Stakeholder update"
    DONE = "update recorded; eim service sends it"
    collab: Collaboration = Collaboration()

    def form_fields(self) -> list[Field]:
        every = update_cadence(self.app).get(self.incident.priority)
        count = len(self.collab.subscribers)
        return [
            Field("happening", "What is happening", kind="area", required=True,
                  help=f"sent to {count} subscriber{'s' if count != 1 else ''} (eim subscribe KEY …)"),
            Field("impact", "Impact: who is affected and how", kind="area"),
            Field("next", "What we do next", kind="area"),
            Field("next_update", "Next update in / at", value=_every(every) if every else "",
                  placeholder="30m, 14:05 or empty", help="the cadence for this severity" if every else ""),
        ]

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        errors = super().validate(values)
        if values["next_update"].strip():
            try:
                parse_due(values["next_update"], self.app.clock.now())
            except ValidationError as exc:
                errors["next_update"] = str(exc)
        return errors

    def call(self, svc, actor, version, values):
        from eim_tui.services.collab import CollabCases

        next_at = parse_due(values["next_update"], svc.clock.now()) if values["next_update"].strip() else None
        text = update_text(values["happening"], values["impact"], values["next"], show(next_at) if next_at else "")
        return CollabCases(svc).post_update(self.incident.number, actor, text, next_at)


def _every(every: timedelta) -> str:
    minutes = int(every.total_seconds() // 60)
    return f"{minutes}m" if minutes else f"{int(every.total_seconds())}s"


# --- the tasks dialog -----------------------------------------------------------------------------


@dataclass
class TasksLoaded(Message):
    tasks: list[Task] | None
    error: str = ""


@dataclass
class TaskChanged(Message):
    text: str
    error: bool = False


class TasksScreen(ReportsWorkers, ModalScreen[bool]):
    """The incident's tasks and post-incident actions: `n` adds one, `space` marks one done.

    Dismissed with True when anything changed, so the detail screen reloads."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="tasks.back", tooltip="Back to the incident"),
        Binding("space", "done", "Done", id="tasks.done", tooltip="Mark the highlighted task done"),
        Binding("n", "add", "New task", id="tasks.add", tooltip="Add a task or a post-incident action"),
    ]
    DEFAULT_CSS = """
    TasksScreen { align: center middle; }
    TasksScreen > Vertical { width: 90%; max-width: 110; height: 80%; border: round $accent; background: $surface; }
    TasksScreen OptionList { height: 1fr; }
    """

    def __init__(self, incident: Incident) -> None:
        super().__init__()
        self.incident = incident
        self.tasks: list[Task] = []
        self.changed = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Content(f"Tasks · {self.incident.key}"), id="tasks-title")
            yield OptionList(id="tasks-list")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.load()

    @work(thread=True, exclusive=True, group="tasks-load", exit_on_error=False, description="load the tasks")
    def load(self) -> None:
        from eim_tui.services.collab import CollabCases

        try:
            self.post_message(TasksLoaded(CollabCases(self.app.services).tasks(self.incident.number, self.app.user)))
        except Exception as exc:  # noqa: BLE001 - said in the title
            self.post_message(TasksLoaded(None, explain(exc)))

    def on_tasks_loaded(self, message: TasksLoaded) -> None:
        if message.tasks is None:
            self.query_one("#tasks-title", Label).update(Content(f"Tasks · {self.incident.key} · {message.error}"))
            return
        self.tasks = message.tasks
        now = self.app.clock.now()
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        for task in self.tasks:
            options.add_option(Option(Content(_task_line(task, now)), id=str(task.number)))
        if not self.tasks:
            options.add_option(Option(Content("No tasks yet: n adds one."), disabled=True))
        else:
            options.highlighted = min(highlighted or 0, len(self.tasks) - 1)

    def action_back(self) -> None:
        self.dismiss(self.changed)

    def action_add(self) -> None:
        def saved(values: dict[str, Any] | None) -> None:
            if values is not None:
                self._save(lambda svc: form.call(svc, self.app.user, 0, values), "added")

        form = TaskForm(self.incident, self.app.services.ref, self.app.user)
        self.app.push_screen(form, saved)

    def action_done(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is None or index >= len(self.tasks):
            return
        task = self.tasks[index]
        if task.status is TaskStatus.DONE:
            self.notify(f"{task.label} is already done", title="Nothing to do")
            return
        from eim_tui.services.collab import CollabCases

        self._save(lambda svc: CollabCases(svc).finish_task(self.incident.number, task.number, self.app.user), "done")

    @work(thread=True, group="tasks-act", exit_on_error=False, description="change a task")
    def _save(self, call, done: str) -> None:
        try:
            task = call(self.app.services)
        except DomainError as exc:
            self.post_message(TaskChanged(str(exc), error=True))
            return
        except Exception as exc:  # noqa: BLE001 - the store failed: said, nothing lost
            self.post_message(TaskChanged(f"could not save: {explain(exc)}", error=True))
            return
        self.post_message(TaskChanged(f"{task.label} {done}"))

    def on_task_changed(self, message: TaskChanged) -> None:
        if message.error:
            self.notify(message.text, title="Refused", severity="error", timeout=8, markup=False)
        else:
            self.changed = True
            self.notify(message.text, title="Saved", markup=False)
        self.load()


def _task_line(task: Task, now) -> str:
    mark = "✓" if task.status is TaskStatus.DONE else "·"
    kind = "action: " if task.kind is TaskKind.ACTION else ""
    due = f" · due {show(task.due_at)}" if task.due_at else ""
    late = " · OVERDUE" if task.overdue(now) else ""
    return f"{mark} #{task.number} {kind}{task.what} — {task.owner or 'nobody'}{due}{late}"
