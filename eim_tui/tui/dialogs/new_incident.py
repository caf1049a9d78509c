"""The new-incident form (`n` from the queue): every logging field, the live priority, a routing
proposal accepted with one key, a duplicate check on save, and a draft kept while typing.

Built on `widgets.form.FormScreen` (labelled fields, inline errors, `ctrl+s`, careful `escape`).
What the form computes lives in `eim_tui.tui.intake_form`; the store is only touched in workers.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.suggester import Suggester
from textual.timer import Timer
from textual.widgets import Input, Select, TextArea

from eim_tui.tui import intake_form as intake
from eim_tui.domain.drafts import NEW_INCIDENT, Draft
from eim_tui.domain.errors import DomainError
from eim_tui.domain.intake import NewIncident
from eim_tui.domain.model import EventKind, Incident, Source, format_key
from eim_tui.services.drafts import DraftKeeper
from eim_tui.reference.data import RoutingRule
from eim_tui.services.similar import SimilarIncident
from eim_tui.tui.dialogs.confirm import ConfirmScreen
from eim_tui.tui.draft_writer import DraftFound, DraftNotSaved, DraftWriter
from eim_tui.tui.dialogs.form import Field, FormScreen
from eim_tui.tui.workers import explain

ACCEPT_KEY = "ctrl+r"
# Typing any of these may change what the routing rules propose.
_PROPOSAL_INPUTS = {"title", "description", "service"}


class PrefixSuggester(Suggester):
    """Completion from a sorted list by bisection: one key costs O(log n), so the catalogue's
    50,000 CIs complete as fast as 50 (Textual's SuggestFromList scans the whole list per key)."""

    def __init__(self, names: Iterable[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        pairs = sorted((name.casefold(), name) for name in names)
        self._keys = [key for key, _ in pairs]
        self._names = [name for _, name in pairs]

    def first(self, value: str) -> str | None:
        """The first name (in case-folded order) starting with `value`, case-folded already."""
        index = bisect_left(self._keys, value)
        if index < len(self._keys) and self._keys[index].startswith(value):
            return self._names[index]
        return None

    async def get_suggestion(self, value: str) -> str | None:
        return self.first(value) if value else None


@dataclass
class DuplicatesChecked(Message):
    report: NewIncident
    similar: list[SimilarIncident]


@dataclass
class IncidentLogged(Message):
    incident: Incident


@dataclass
class LogFailed(Message):
    error: str


class NewIncidentScreen(FormScreen):
    FORM_TITLE = "New incident"
    DRAFT_DELAY = 0.5  # seconds of quiet typing before the draft is written
    PROPOSAL_DELAY = 0.3
    BINDINGS = [
        Binding(ACCEPT_KEY, "accept_proposal", "Accept proposal", id="new_incident.accept_proposal",
                tooltip="Use the proposed category, subcategory and assignment group", priority=True),
    ]

    def __init__(self) -> None:
        self.ref = self.app.services.ref
        super().__init__()
        keeper = DraftKeeper(self.app.services.drafts, self.app.user, NEW_INCIDENT)
        self.draft = DraftWriter(self, keeper, self._draft_content, self.DRAFT_DELAY)
        self.draft.enabled = False  # no draft is written until an earlier one was offered back
        self.proposal: RoutingRule | None = None
        self._proposal_timer: Timer | None = None
        self._saving = False
        self._every_item: PrefixSuggester | None = None
        self._known_error_timer: Timer | None = None
        self._has_known_errors = False  # until the form has asked the store (`_any_known_errors`)

    def form_fields(self) -> list[Field]:
        ref = self.ref
        return [
            Field("title", "Title", required=True, placeholder="in a line: what is wrong, where"),
            Field("proposal", "Categorization", kind="info", value=intake.describe_proposal(None, False, "")),
            # Shown only when what is typed matches a known error (screens/problems.py).
            Field("known_error", "Known error", kind="info", value=""),
            Field("description", "Description and symptoms", kind="area"),
            Field("impact", "Impact", kind="select", options=intake.IMPACTS, required=True),
            Field("urgency", "Urgency", kind="select", options=intake.URGENCIES, required=True),
            Field("priority", "Priority", kind="info", value=intake.priority_preview(ref, None, None)),
            # Completion (active services and CIs only) is set up in on_mount: PrefixSuggester.
            Field("service", "Service", placeholder="type; → takes the completion"),
            Field("ci", "Configuration item", placeholder="type; → takes the completion"),
            Field("detected", "Detected at", placeholder="now",
                  help="empty means now; or 10m ago, 14:05, 2026-11-26T14:05Z"),
            Field("source", "Source", kind="select", options=intake.SOURCES, value=Source.USER_REPORT.value),
            Field("severity", "Initial severity guess", kind="select", options=intake.severity_options(ref)),
            Field("category", "Category", kind="select", options=intake.category_options(ref)),
            Field("subcategory", "Subcategory", kind="select", options=[], placeholder="choose a category first"),
            Field("group", "Assignment group", kind="select", options=intake.group_options(ref)),
            Field("reporter", "Reporter name"),
            Field("contact", "Reporter contact", placeholder="e-mail or phone"),
            Field("department", "Reporter department"),
        ]

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#field-service", Input).suggester = PrefixSuggester(intake.service_names(self.ref))
        self._every_item = PrefixSuggester(intake.item_names(self.ref, ""))  # built once: 50,000 CIs sort in ~50 ms
        self.query_one("#field-ci", Input).suggester = self._every_item
        self.draft.load()
        self.query_one("#row-known_error").display = False
        self._any_known_errors()

    # --- live help -------------------------------------------------------------------------------

    def field_changed(self, name: str, value: Any) -> None:
        if name in ("impact", "urgency"):
            self.set_info("priority", intake.priority_preview(self.ref, self.value_of("impact"),
                                                              self.value_of("urgency")))
        elif name == "category":
            current = self.value_of("subcategory")
            self.set_options("subcategory", intake.subcategory_options(self.ref, value), current)
        elif name == "ci" and value and not self.value_of("service"):
            if owner := intake.service_of_item(self.ref, value):
                self.query_one("#field-service", Input).value = owner
        if name == "service":
            known = self.ref.service((value or "").strip())
            self.query_one("#field-ci", Input).suggester = (
                PrefixSuggester(known.configuration_items) if known is not None else self._every_item)
        if name in _PROPOSAL_INPUTS:
            if self._proposal_timer is not None:
                self._proposal_timer.stop()
            self._proposal_timer = self.set_timer(self.PROPOSAL_DELAY, self._update_proposal)
        elif name in ("category", "subcategory", "group"):
            self._show_proposal()
        if name in ("title", "service", "ci", "category"):
            if self._known_error_timer is not None:
                self._known_error_timer.stop()
            self._known_error_timer = self.set_timer(self.PROPOSAL_DELAY, self._match_known_errors)
        self.draft.typed()

    def _update_proposal(self) -> None:
        self.proposal = intake.propose(self.ref, self.value_of("title") or "", self.value_of("description") or "",
                                       self.value_of("service") or "")
        self._show_proposal()
        self.refresh_bindings()

    @work(thread=True, exclusive=True, exit_on_error=False, group="new-incident-known-error",
          description="look for known errors")
    def _any_known_errors(self) -> None:
        """Whether the store has a known error at all, asked once when the form opens: without one,
        typing starts no lookup (a form opened while there are none offers no known error)."""
        from eim_tui.domain.problems import ProblemState
        from eim_tui.services.problems import ProblemCases

        found = bool(ProblemCases(self.app.services).list((ProblemState.KNOWN_ERROR,), limit=1))
        self.app.call_from_thread(self._known_errors_exist, found)

    def _known_errors_exist(self, found: bool) -> None:
        self._has_known_errors = found
        if found and (self.value_of("title") or "").strip():
            self._match_known_errors()

    def _match_known_errors(self) -> None:
        if not self._has_known_errors:
            return
        category = self.value_of("category") or (self.proposal.category if self.proposal is not None else "")
        report = NewIncident(title=self.value_of("title") or "", impact=3, urgency=3,
                             service=(self.value_of("service") or "").strip(),
                             configuration_item=(self.value_of("ci") or "").strip(), category=category or "")
        self._known_errors(report)

    @work(thread=True, exclusive=True, exit_on_error=False, group="new-incident-known-error",
          description="match known errors")
    def _known_errors(self, report: NewIncident) -> None:
        from eim_tui.tui.screens.problems import KnownErrorFound, known_error_line

        self.post_message(KnownErrorFound(0, known_error_line(self.app.services, report)))

    def on_known_error_found(self, message) -> None:
        self.set_info("known_error", message.line)
        self.query_one("#row-known_error").display = bool(message.line)

    def _proposal_accepted(self) -> bool:
        rule = self.proposal
        return rule is not None and (self.value_of("category"), self.value_of("subcategory"),
                                     self.value_of("group")) == (rule.category, rule.subcategory, rule.group)

    def _show_proposal(self) -> None:
        text = intake.describe_proposal(self.proposal, self._proposal_accepted(), self._accept_key())
        self.set_info("proposal", text)
        self.query_one("#field-proposal").set_class(self.proposal is not None, "-proposed")

    def _accept_key(self) -> str:
        """The key that accepts, as the footer shows it (the user may have remapped it)."""
        for active in self.active_bindings.values():
            if active.binding.action == "accept_proposal":
                return self.app.get_key_display(active.binding)
        return ACCEPT_KEY

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "accept_proposal":
            return self.proposal is not None and not self._proposal_accepted()
        return True

    def action_accept_proposal(self) -> None:
        rule = self.proposal
        if rule is None:
            return
        self.query_one("#field-category", Select).value = rule.category
        self.set_options("subcategory", intake.subcategory_options(self.ref, rule.category), rule.subcategory)
        self.query_one("#field-group", Select).value = rule.group
        self._show_proposal()
        self.refresh_bindings()

    # --- the draft -------------------------------------------------------------------------------

    def on_draft_not_saved(self, message: DraftNotSaved) -> None:
        self.show_message(message.error)

    def on_draft_found(self, message: DraftFound) -> None:
        self._offer_draft(message.draft)

    def _offer_draft(self, draft: Draft | None) -> None:
        if draft is None or not any(draft.content.values()):
            self.draft.enabled = True
            return
        when = draft.saved_at.astimezone().strftime("%H:%M")
        title = draft.content.get("title") or "(no title yet)"

        def answered(restore: bool | None) -> None:
            if restore:
                self._fill(draft.content)
            else:
                self.draft.discard()
            self.draft.enabled = True

        self.app.push_screen(
            ConfirmScreen(f"Restore the draft from {when}?", yes="Restore it", no="Discard it", body=title),
            answered,
        )

    def _fill(self, content: dict[str, Any]) -> None:
        # The category goes first: the subcategory's options follow it.
        order = ["category"] + [n for n in content if n != "category"]
        for name in order:
            if name not in self._fields or self._fields[name].kind == "info" or name not in content:
                continue
            value = content[name]
            widget = self.query_one(f"#field-{name}")
            if isinstance(widget, TextArea):
                widget.load_text(str(value or ""))
            elif isinstance(widget, Select):
                if name == "subcategory":
                    self.set_options("subcategory", intake.subcategory_options(self.ref, content.get("category")),
                                     value)
                elif value is None:
                    widget.clear()
                elif any(value == v for _, v in self._fields[name].options):
                    widget.value = value
            elif isinstance(widget, Input):
                widget.value = str(value or "")

    def _draft_content(self) -> dict[str, Any] | None:
        """The typed values, or None while nothing but the defaults is there."""
        values = self.values()
        typed = any(v is not None and str(v).strip() for k, v in values.items() if k != "source")
        return values if typed else None

    def _stop_drafting(self) -> int:
        self.draft.enabled = False
        return self.draft.retire()

    def action_cancel(self) -> None:
        if not self.dirty:
            self.draft.discard()
            self.dismiss(None)
            return

        def answered(drop: bool | None) -> None:
            if drop:
                self.draft.enabled = False
                self.draft.discard()
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen("Drop the text you typed?", yes="Drop it", no="Keep editing",
                                           body="The draft is deleted too."), answered)

    # --- saving ----------------------------------------------------------------------------------

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        _, errors = intake.check(values, self.ref, self.app.clock.now())
        return errors

    def save(self, values: dict[str, Any]) -> None:
        if self._saving:
            return
        report, errors = intake.check(values, self.ref, self.app.clock.now())
        if report is None:
            self.show_errors(errors)
            return
        self._saving = True
        self.show_message("checking for duplicates…")
        self._check_duplicates(report)

    @work(thread=True, exit_on_error=False, group="new-incident-save", description="check for duplicates")
    def _check_duplicates(self, report: NewIncident) -> None:
        try:
            similar = self.app.services.similar_open(report.service, report.configuration_item, report.title, 5,
                                                     viewer=self.app.user)
        except Exception:
            # The check helps; it must not stop an incident being logged. The app says it failed.
            self.post_message(DuplicatesChecked(report, []))
            raise
        self.post_message(DuplicatesChecked(report, similar))

    def on_duplicates_checked(self, message: DuplicatesChecked) -> None:
        if not message.similar:
            self._log(message.report)
            return
        from eim_tui.tui.dialogs.duplicates import DuplicatesScreen

        def chosen(choice: int | str | None) -> None:
            if choice is None:
                self._saving = False
                self.show_message("")
            elif choice == "new":
                self._log(message.report)
            else:
                self._log(dataclasses.replace(message.report, parent_number=int(choice)))

        self.app.push_screen(DuplicatesScreen(message.report.title, message.similar), chosen)

    def _log(self, report: NewIncident) -> None:
        self.show_message("saving…")
        self._log_incident(report, self._stop_drafting())

    @work(thread=True, exit_on_error=False, group="new-incident-save", description="log the incident")
    def _log_incident(self, report: NewIncident, generation: int) -> None:
        extra = []
        if report.parent_number is not None:
            parent = format_key(report.parent_number)
            extra.append((EventKind.LINKED, f"logged as a duplicate of {parent}",
                          {"field": "parent_number", "old": None, "new": report.parent_number}))
        try:
            incident = self.app.services.log_incident(report, self.app.user, extra)
        except DomainError as exc:
            self.post_message(LogFailed(str(exc)))
            return
        except Exception as exc:  # the store failed: the form says so and keeps the typed text
            self.post_message(LogFailed(f"could not save: {explain(exc)}"))
            return
        self.draft.delete_now(generation)
        self.post_message(IncidentLogged(incident))

    def on_log_failed(self, message: LogFailed) -> None:
        self._saving = False
        self.draft.enabled = True
        self.show_message(message.error)
        self.draft.save_now()  # the typed text is kept, as a draft too

    def on_incident_logged(self, message: IncidentLogged) -> None:
        from eim_tui.tui.screens.detail import DetailScreen

        incident = message.incident
        app = self.app
        self.dismiss(None)
        suffix = f" as a duplicate of {format_key(incident.parent_number)}" if incident.parent_number else ""
        app.notify(f"{incident.key} logged{suffix}: Sev{incident.priority} · {incident.title}",
                   title="Logged", markup=False)
        app.push_screen(DetailScreen(incident.number))

