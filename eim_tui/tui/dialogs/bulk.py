"""Storm triage screens: pick what to do with the marked incidents, fill in what it needs, preview
what will change per incident, confirm, and read the result list.

    start_bulk(queue_screen, numbers, rows, on_finished)   # menu → form → preview → results

The preview loads the marked incidents afresh and uses their versions; each incident is then its
own transaction (eim_tui/bulk.py), so one refusal is reported and the others go on.
Styles: styles/bulk.tcss.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from eim_tui.domain.model import QueueRow, format_key, parse_key
from eim_tui.services.bulk import (
    BulkKind,
    BulkOutcome,
    BulkRequest,
    PlanItem,
    apply_one,
    plan,
)
from eim_tui.tui.dialogs.form import Field, FormScreen
from eim_tui.tui.render.theme_styles import PALETTE_CLASSES, palette
from eim_tui.tui.widgets.key_footer import KeyFooter
from eim_tui.tui.workers import ReportsWorkers, explain

MENU = [
    (BulkKind.ACKNOWLEDGE, "a", "acknowledge and take each"),
    (BulkKind.ASSIGN, "g", "assign each to a group and/or a person"),
    (BulkKind.RESOLVE, "r", "resolve each with one code and note"),
    (BulkKind.MERGE, "m", "merge as duplicates of one parent"),
]


class BulkMenu(ModalScreen[BulkKind | None]):
    """What to do with the marked incidents."""

    BINDINGS = [
        Binding("a", "pick('acknowledge')", "Acknowledge", id="bulk.acknowledge", tooltip="Acknowledge and take each"),
        Binding("g", "pick('assign')", "Assign", id="bulk.assign", tooltip="Assign each to a group / person"),
        Binding("r", "pick('resolve')", "Resolve", id="bulk.resolve", tooltip="Resolve each with one code and note"),
        Binding("m", "pick('merge')", "Merge", id="bulk.merge", tooltip="Make each a duplicate of one parent"),
        Binding("escape", "pick('')", "Cancel", id="bulk.cancel", tooltip="Do nothing"),
    ]

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count

    def compose(self) -> ComposeResult:
        with Vertical(id="bulk-box") as box:
            box.border_title = f"{self.count} marked incidents"
            yield OptionList(*[Option(f"{key}  {text}", id=kind.value) for kind, key, text in MENU], id="bulk-list")
            yield KeyFooter()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.action_pick(event.option.id or "")

    def action_pick(self, kind: str) -> None:
        self.dismiss(BulkKind(kind) if kind else None)


class BulkAssignForm(FormScreen):
    FORM_TITLE = "Assign the marked incidents"

    def __init__(self, groups: Sequence[str], users: Sequence[str]) -> None:
        self.groups, self.users = groups, users
        super().__init__()

    def form_fields(self) -> list[Field]:
        return [Field("group", "Assignment group", kind="select", options=[(g, g) for g in self.groups],
                      placeholder="(keep each one's group)"),
                Field("assignee", "Assignee", placeholder="(keep each one's assignee)", suggestions=self.users)]

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        errors = super().validate(values)
        if values["group"] is None and not values["assignee"].strip():
            errors["assignee"] = "choose a group and/or type an assignee"
        return errors


class BulkResolveForm(FormScreen):
    FORM_TITLE = "Resolve the marked incidents"

    def __init__(self, codes: Mapping[str, str]) -> None:
        self.codes = codes
        super().__init__()

    def form_fields(self) -> list[Field]:
        return [Field("code", "Resolution code", kind="select", required=True,
                      options=[(label, code) for code, label in self.codes.items()]),
                Field("notes", "What was done", kind="area", required=True)]


class BulkMergeForm(FormScreen):
    FORM_TITLE = "Merge the marked incidents as duplicates"

    def __init__(self, choices: Sequence[tuple[str, int]]) -> None:
        self.choices = choices
        super().__init__()

    def form_fields(self) -> list[Field]:
        return [Field("parent", "Parent (the one that stays)", kind="select", options=self.choices,
                      value=self.choices[0][1] if self.choices else None),
                Field("other", "…or another incident as parent", placeholder="INC-000123",
                      help="the others are linked to the parent and resolved as duplicates")]

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        errors = super().validate(values)
        if values["other"].strip():
            try:
                parse_key(values["other"])
            except ValueError as exc:
                errors["other"] = str(exc)
        elif values["parent"] is None:
            errors["parent"] = "choose the parent"
        return errors


@dataclass
class PlanReady(Message):
    items: list[PlanItem]
    error: str = ""


@dataclass
class OneDone(Message):
    outcome: BulkOutcome


@dataclass
class AllDone(Message):
    pass


class BulkPreview(ReportsWorkers, ModalScreen[list[BulkOutcome] | None]):
    """Lists what will change per incident; `y` applies, then the same box lists the outcomes."""

    COMPONENT_CLASSES = PALETTE_CLASSES
    BINDINGS = [
        Binding("y", "apply", "Apply", id="bulk.apply", tooltip="Apply to every listed incident, one by one"),
        Binding("escape", "leave", "Back", id="bulk.back", tooltip="Leave without changing anything"),
        Binding("enter,escape", "close", "Close", id="bulk.close", tooltip="Close the result list"),
    ]

    def __init__(self, request: BulkRequest, numbers: Sequence[int]) -> None:
        super().__init__()
        self.request = request
        self.numbers = list(numbers)
        self.items: list[PlanItem] = []
        self.outcomes: list[BulkOutcome] = []
        self.phase = "loading"  # loading → preview → running → done

    def compose(self) -> ComposeResult:
        with Vertical(id="bulk-box") as box:
            box.border_title = f"{self.request.kind.label.capitalize()} · preview"
            yield Static(Content("loading the marked incidents…"), id="bulk-status")
            with VerticalScroll(id="bulk-list"):
                yield Static(id="bulk-lines")
            yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#bulk-list").focus()  # so up/down/page keys scroll a long list
        self._load(self.request, list(self.numbers))

    @work(thread=True, exit_on_error=False, group="bulk-load", description="load the marked incidents")
    def _load(self, request: BulkRequest, numbers: list[int]) -> None:
        svc = self.app.services
        try:
            if request.parent is not None:
                svc.get(request.parent)  # the parent must exist before anything is merged into it
            rows = svc.rows(numbers, viewer=self.app.user)
        except Exception as exc:  # the box says nothing was done, and why
            self.post_message(PlanReady([], explain(exc)))
            return
        by_number = {r.number: r for r in rows}
        ordered = [by_number[n] for n in numbers if n in by_number]
        self.post_message(PlanReady(plan(request, ordered, self.app.user, list(svc.ref.resolution_codes))))

    def on_plan_ready(self, message: PlanReady) -> None:
        self.items = message.items
        if message.error:
            self.phase = "done"
            self._status(Content.styled(f"nothing done: {message.error}", palette(self)["bad"]))
            return
        self.phase = "preview"
        p = palette(self)
        warned = sum(1 for i in self.items if i.warning)
        self._status(Content.assemble(
            (f"{len(self.items) - warned} of {len(self.items)} incidents will change, one transaction each", "bold"),
            (f"; {warned} will likely be refused", p["bad"]) if warned else "", " — y: apply · escape: back"))
        lines = [Content.assemble((f"{item.key} ", "bold"),
                                  (f"REFUSED? {item.warning}", p["bad"]) if item.warning else item.change,
                                  "\n", (f"    {item.title}", p["label"]))
                 for item in self.items]
        self._lines(lines)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "apply":
            return self.phase == "preview" and bool(self.items)
        if action == "leave":
            return self.phase in ("loading", "preview")
        if action == "close":
            return self.phase == "done"
        return True

    def action_apply(self) -> None:
        self.phase = "running"
        self.refresh_bindings()
        self._status(Content(f"applying to {len(self.items)} incidents…"))
        self._apply(self.request, list(self.items))

    @work(thread=True, exit_on_error=False, group="bulk-apply", description="apply the bulk action")
    def _apply(self, request: BulkRequest, items: list[PlanItem]) -> None:
        try:
            for item in items:  # each its own transaction: a refusal is an outcome, the others go on
                self.post_message(OneDone(apply_one(self.app.services, request, item, self.app.user)))
        finally:
            self.post_message(AllDone())  # the box lists what was done even if the rest could not run

    def on_one_done(self, message: OneDone) -> None:
        self.outcomes.append(message.outcome)
        self._show_outcomes()

    def on_all_done(self, _: AllDone) -> None:
        self.phase = "done"
        self.query_one("#bulk-box").border_title = f"{self.request.kind.label.capitalize()} · result"
        done = sum(1 for o in self.outcomes if o.ok)
        p = palette(self)
        self._status(Content.assemble((f"{done} done", p["good"]), ", ",
                                      (f"{len(self.outcomes) - done} refused", p["bad"] if done < len(self.outcomes)
                                       else ""), " — enter or escape: close"))
        self._show_outcomes()
        self.refresh_bindings()

    def _show_outcomes(self) -> None:
        p = palette(self)
        self._lines([Content.assemble(("DONE    " if o.ok else "REFUSED ", p["good"] if o.ok else p["bad"]),
                                      (f"{o.key} ", "bold"), o.text) for o in self.outcomes])

    def action_leave(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(self.outcomes or None)

    def _status(self, content: Content) -> None:
        self.query_one("#bulk-status", Static).update(content)

    def _lines(self, lines: list[Content]) -> None:
        self.query_one("#bulk-lines", Static).update(Content("\n").join(lines))


def start_bulk(screen: Screen, numbers: Sequence[int], rows: Mapping[int, QueueRow | None],
               on_finished: Callable[[list[BulkOutcome]], None], kind: str = "") -> None:
    """menu (unless `kind` is given) → the kind's form → preview → results → `on_finished`."""
    app = screen.app
    ref = app.services.ref

    def preview(request: BulkRequest) -> None:
        app.push_screen(BulkPreview(request, numbers), lambda outcomes: outcomes and on_finished(outcomes))

    def with_values(kind: BulkKind, values: dict[str, Any] | None) -> None:
        if values is None:
            return
        if kind is BulkKind.ASSIGN:
            preview(BulkRequest(kind, group=values["group"], assignee=values["assignee"].strip() or None))
        elif kind is BulkKind.RESOLVE:
            preview(BulkRequest(kind, code=values["code"], notes=values["notes"]))
        else:
            other = values["other"].strip()
            preview(BulkRequest(kind, parent=parse_key(other) if other else values["parent"]))

    def picked(kind: BulkKind | None) -> None:
        if kind is None:
            return
        if kind is BulkKind.ACKNOWLEDGE:
            preview(BulkRequest(kind))
            return
        if kind is BulkKind.ASSIGN:
            form: FormScreen = BulkAssignForm([g.name for g in ref.groups], [u.name for u in ref.users])
        elif kind is BulkKind.RESOLVE:
            form = BulkResolveForm(ref.resolution_codes)
        else:
            choices = [(f"{format_key(n)} {(rows.get(n).title if rows.get(n) else '')}"[:70], n) for n in numbers]
            form = BulkMergeForm(choices)
        app.push_screen(form, lambda values: with_values(kind, values))

    if kind:
        picked(BulkKind(kind))
    else:
        app.push_screen(BulkMenu(len(numbers)), picked)
