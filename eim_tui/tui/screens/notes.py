"""Diagnosis notes of one incident (`d` on its detail screen): the ordered notes, one key per kind
to write the next one, edits that keep the old text in the timeline, and a draft of the note being
typed, saved as it is typed, offered back after a crash. A role that may not write notes (a viewer)
finds the writing keys greyed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import OptionList, Static, TextArea

from eim_tui.domain.drafts import Draft, note_scope
from eim_tui.domain.errors import ConflictError, DomainError
from eim_tui.domain.model import DiagnosisNote, HypothesisStatus, NoteKind, format_key
from eim_tui.services.drafts import DraftKeeper
from eim_tui.services.incidents import IncidentDetails
from eim_tui.tui.dialogs.confirm import ConfirmScreen
from eim_tui.tui.draft_writer import DraftFound, DraftNotSaved, DraftWriter
from eim_tui.tui.widgets.key_footer import KeyFooter
from eim_tui.tui.widgets.note_editor import NoteEditor
from eim_tui.tui.widgets.note_list import KIND_TITLES, NoteList, heading, prompt_for
from eim_tui.tui.workers import ChangesFound, WatchesChanges, explain

# key, kind, footer word — DESIGN.md's keys for the diagnosis notes screen.
KIND_KEYS = [
    ("o", NoteKind.OBSERVATION, "Observe"), ("y", NoteKind.HYPOTHESIS, "Hypothesis"), ("e", NoteKind.TEST, "Test"),
    ("f", NoteKind.FINDING, "Finding"), ("w", NoteKind.WHY, "Why"), ("c", NoteKind.ROOT_CAUSE, "Root cause"),
    ("i", NoteKind.ACTION, "Action"),
]


@dataclass
class NotesLoaded(Message):
    details: IncidentDetails | None
    marker: int  # the store's change marker read before the notes (-1: not read)
    error: str = ""


@dataclass
class NoteSaved(Message):
    note: DiagnosisNote
    what: str


@dataclass
class NoteRefused(Message):
    error: str
    conflict: bool = False
    reload: bool = False  # the notes on screen may be stale: read them again


@dataclass
class Editing:
    """The note in the editor: a new one of `kind`, or `note` (at the version read) being edited."""

    kind: NoteKind
    note: DiagnosisNote | None = None


class NotesScreen(WatchesChanges, Screen[None]):
    DRAFT_DELAY = 0.5
    # Actions that write a note: greyed for a role that may not (`check_action`).
    WRITES = frozenset({"new_note", "edit", "hypothesis_status", "mark_root_cause", "save"})
    BINDINGS = [
        *(Binding(key, f"new_note('{kind.value}')", word, id=f"notes.{kind.value}",
                  tooltip=f"Write a new {KIND_TITLES[kind].lower()}") for key, kind, word in KIND_KEYS),
        Binding("enter", "edit", "Edit", id="notes.edit",
                tooltip="Edit the highlighted note (the timeline keeps the old text)"),
        Binding("s", "hypothesis_status", "Status", id="notes.status",
                tooltip="Confirm or reject the highlighted hypothesis"),
        Binding("m", "mark_root_cause", "Mark root cause", id="notes.mark_root_cause",
                tooltip="Record the highlighted note as the incident's root cause"),
        Binding("ctrl+s", "save", "Save", id="notes.save", tooltip="Save the note being typed", priority=True),
        Binding("escape", "cancel_note", "Cancel", id="notes.cancel",
                tooltip="Close the editor (asks before dropping typed text)"),
        Binding("escape", "back", "Back", id="notes.back", tooltip="Back to the incident"),
    ]

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number
        self.details: IncidentDetails | None = None
        self.editing: Editing | None = None
        keeper = DraftKeeper(self.app.services.drafts, self.app.user, note_scope(number))
        self.draft = DraftWriter(self, keeper, self._draft_content, self.DRAFT_DELAY)
        self._first_load = True
        self._show_note: int | None = None  # highlight this note once the notes are reloaded
        self._adopt_version = False  # after a refused edit: the next load gives the version to save over
        self._busy = False

    def compose(self) -> ComposeResult:
        yield Static(Text(f"{format_key(self.number)} · diagnosis notes · loading…"), id="notes-title")
        yield NoteList(id="notes-list")
        yield NoteEditor(id="note-editor")
        yield Static(id="notes-status")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(NoteList).focus()
        self.load()
        self.start_watching()

    # --- loading ---------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="notes-load", exit_on_error=False, description="load the notes")
    def load(self) -> None:
        svc = self.app.services
        marker = -1
        try:
            marker = svc.change_marker()
            details = svc.details(self.number, viewer=self.app.user)
        except Exception as exc:  # the title says why there are no notes
            self.post_message(NotesLoaded(None, marker, explain(exc)))
            return
        self.post_message(NotesLoaded(details, marker))

    def on_notes_loaded(self, message: NotesLoaded) -> None:
        self.shown_marker = max(self.shown_marker, message.marker)
        if message.details is None:
            self._title(Text(f"{format_key(self.number)} · {message.error}"))
            return
        self.details = message.details
        incident = message.details.incident
        title = Text.assemble((f"{incident.key} ", "bold"), "diagnosis notes · ", incident.title)
        if incident.root_cause:
            title.append("\nroot cause: ", "bold")
            title.append(incident.root_cause)
        self._title(title)
        notes = self.query_one(NoteList)
        notes.show(message.details.notes, incident)
        if self._show_note is not None:
            notes.highlight_note(self._show_note)
            self._show_note = None
        editing = self.editing
        if self._adopt_version and editing is not None and editing.note is not None:
            self._adopt_version = False
            fresh = next((n for n in message.details.notes if n.id == editing.note.id), None)
            self.editing = Editing(editing.kind, fresh or editing.note)
        self._refresh_editor_prompt()
        self.refresh_bindings()
        if self._first_load:
            self._first_load = False
            self.draft.load()

    def on_changes_found(self, message: ChangesFound) -> None:
        if self.number in message.changed:
            self.load()

    # --- the draft of the note being typed -------------------------------------------------------

    def on_draft_not_saved(self, message: DraftNotSaved) -> None:
        self._status(message.error, True)

    def on_draft_found(self, message: DraftFound) -> None:
        self._offer_draft(message.draft)

    def _offer_draft(self, draft: Draft | None) -> None:
        if draft is None or not (draft.content.get("text") or draft.content.get("result")):
            return
        content = draft.content
        kind = _kind(content.get("kind"))
        note = self._note(content.get("note_id"))
        if note is not None and content.get("version"):
            # Saved over the version the edit began from: if someone changed it since, ctrl+s says so.
            note = dataclasses.replace(note, version=content["version"])
        what = f"your edit of {heading(note, self._notes()).lower()} #{note.position}" if note else \
            f"the {KIND_TITLES[kind].lower()} you were typing"
        when = draft.saved_at.astimezone().strftime("%H:%M")

        def answered(restore: bool | None) -> None:
            if restore and self.editing is None:
                self._open_editor(kind, note, content.get("text", ""), content.get("result", ""))
            elif not restore:
                self.draft.discard()

        self.app.push_screen(ConfirmScreen(f"Restore {what} (draft from {when})?", yes="Restore it",
                                           no="Discard it", body=str(content.get("text", ""))[:200]), answered)

    @on(TextArea.Changed)
    def _typed(self, _: TextArea.Changed) -> None:
        if self.editing is not None:
            self.draft.typed()

    def _draft_content(self) -> dict | None:
        if self.editing is None:
            return None
        text, result = self.query_one(NoteEditor).typed
        note = self.editing.note
        return {"kind": self.editing.kind.value, "note_id": note.id if note else None,
                "version": note.version if note else None, "text": text, "result": result}

    # --- the editor ------------------------------------------------------------------------------

    def action_new_note(self, kind: str) -> None:
        self._open_editor(NoteKind(kind))

    def action_edit(self) -> None:
        note = self._highlighted()
        if note is not None:
            self._open_editor(note.kind, note, note.text, note.result)

    @on(OptionList.OptionSelected, "#notes-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.check_action("edit", ()):
            self.action_edit()

    def _open_editor(self, kind: NoteKind, note: DiagnosisNote | None = None, text: str = "",
                     result: str = "") -> None:
        self.editing = Editing(kind, note)
        self.query_one(NoteEditor).open(self._prompt(), text, result, with_result=kind is NoteKind.TEST)
        self._status("")
        self.refresh_bindings()

    def _prompt(self) -> Text:
        assert self.editing is not None
        incident = self.details.incident if self.details else None
        return prompt_for(self.editing.kind, self._notes(), incident, self.editing.note)

    def _refresh_editor_prompt(self) -> None:
        if self.editing is not None:
            self.query_one(NoteEditor).ask(self._prompt())

    def _close_editor(self) -> None:
        self.editing = None
        self.query_one(NoteEditor).close()
        self.query_one(NoteList).focus()
        self.refresh_bindings()

    def action_save(self) -> None:
        # ctrl+s is a priority binding: it overtakes keys typed just before it that still wait in
        # the editor's queue. Saving from that same queue reads the text after them.
        (self.focused or self).call_later(self._save_typed)

    def _save_typed(self) -> None:
        if self.editing is None or self._busy:
            return
        text, result = self.query_one(NoteEditor).typed
        if not text.strip():
            self._status("The note is empty: type it first (escape closes the editor).", True)
            return
        self._busy = True
        editing = self.editing
        self._store_note(editing, text, result if editing.kind is NoteKind.TEST else None, self.draft.retire())

    @work(thread=True, exit_on_error=False, group="notes-save", description="save the note")
    def _store_note(self, editing: Editing, text: str, result: str | None, generation: int) -> None:
        svc, user = self.app.services, self.app.user
        try:
            if editing.note is None:
                note = svc.add_note(self.number, user, editing.kind, text, result=result or "")
                what = "added"
            else:
                note = svc.edit_note(editing.note.id, user, text, result=result,
                                     expected_version=editing.note.version)
                what = "edited"
        except ConflictError as exc:
            self.post_message(NoteRefused(str(exc), conflict=True))
            return
        except DomainError as exc:
            self.post_message(NoteRefused(str(exc)))
            return
        except Exception as exc:  # the store failed: say so where the note is, and keep the typed text
            self.post_message(NoteRefused(f"could not save: {explain(exc)}"))
            return
        self.draft.delete_now(generation)
        self.post_message(NoteSaved(note, what))

    def on_note_saved(self, message: NoteSaved) -> None:
        self._busy = False
        self._close_editor()
        self._status(f"{heading(message.note, self._notes() + [message.note]).lower()} {message.what}")
        self._show_note = message.note.id
        self.load()

    def on_note_refused(self, message: NoteRefused) -> None:
        self._busy = False
        if message.conflict and self.editing is not None and self.editing.note is not None:
            # Keep the typed text; the next ctrl+s saves over the newer version, knowingly.
            self._status(f"{message.error} — your text is kept; ctrl+s saves it over theirs", True)
            self._adopt_version = True
            self.load()
        else:
            self._status(message.error, True)
            if message.reload:
                self.load()
        self.draft.save_now()  # what was typed is kept as a draft again

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_cancel_note(self) -> None:
        if self.editing is None:
            return
        text, result = self.query_one(NoteEditor).typed
        original = (self.editing.note.text, self.editing.note.result) if self.editing.note else ("", "")
        if (text.strip(), result.strip()) == (original[0].strip(), original[1].strip()):
            self.draft.discard()
            self._close_editor()
            return

        def answered(drop: bool | None) -> None:
            if drop:
                self.draft.discard()
                self._close_editor()

        self.app.push_screen(ConfirmScreen("Drop the note you are typing?", yes="Drop it", no="Keep editing",
                                           body="Its draft is deleted too."), answered)

    # --- status and root cause -------------------------------------------------------------------

    def action_hypothesis_status(self) -> None:
        note = self._highlighted()
        if note is None or note.kind is not NoteKind.HYPOTHESIS:
            return
        from eim_tui.tui.dialogs.hypothesis_status import HypothesisStatusScreen

        def chosen(status: HypothesisStatus | None) -> None:
            if status is not None and status != note.status:
                self._change_status(note, status)

        self.app.push_screen(HypothesisStatusScreen(note.text, note.status), chosen)

    @work(thread=True, exit_on_error=False, group="notes-save", description="change a hypothesis")
    def _change_status(self, note: DiagnosisNote, status: HypothesisStatus) -> None:
        try:
            saved = self.app.services.edit_note(note.id, self.app.user, None, status=status,
                                                expected_version=note.version)
        except DomainError as exc:  # e.g. changed meanwhile: say so, and show what is stored now
            self.post_message(NoteRefused(str(exc), reload=True))
            return
        self.post_message(NoteSaved(saved, f"now {status.value}"))

    def action_mark_root_cause(self) -> None:
        note = self._highlighted()
        if note is not None:
            self._mark(note)

    @work(thread=True, exit_on_error=False, group="notes-save", description="mark the root cause")
    def _mark(self, note: DiagnosisNote) -> None:
        try:
            saved = self.app.services.mark_root_cause(note.id, self.app.user)
        except DomainError as exc:
            self.post_message(NoteRefused(str(exc)))
            return
        self.post_message(NoteSaved(saved, "recorded as the incident's root cause"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = self._allowed_now(action)
        if allowed and action in self.WRITES and self.app.permissions.forbids("note"):
            return None  # the role forbids it: greyed, and the service layer would refuse it anyway
        return allowed

    def _allowed_now(self, action: str) -> bool:
        """What the screen's state allows: something loaded, the editor open or not, the note highlighted."""
        loaded = self.details is not None
        editing = self.editing is not None
        if action == "new_note":
            return loaded and not editing
        if action in ("save", "cancel_note"):
            return editing
        if action == "back":
            return not editing
        if action in ("edit", "hypothesis_status", "mark_root_cause"):
            note = None if editing else self._highlighted()
            if note is None:
                return False
            if action == "hypothesis_status":
                return note.kind is NoteKind.HYPOTHESIS
            if action == "mark_root_cause":
                recorded = self.details is not None and self.details.incident.root_cause == note.text
                return not (note.kind is NoteKind.ROOT_CAUSE and recorded)
        return True

    @on(OptionList.OptionHighlighted, "#notes-list")
    def _highlighted_changed(self, _: OptionList.OptionHighlighted) -> None:
        self.refresh_bindings()

    # --- helpers ---------------------------------------------------------------------------------

    def _notes(self) -> list[DiagnosisNote]:
        return list(self.details.notes) if self.details else []

    def _note(self, note_id: object) -> DiagnosisNote | None:
        return next((n for n in self._notes() if n.id == note_id), None)

    def _highlighted(self) -> DiagnosisNote | None:
        return self._note(self.query_one(NoteList).highlighted_note_id)

    def _title(self, text: Text) -> None:
        self.query_one("#notes-title", Static).update(text)

    def _status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#notes-status", Static)
        status.update(Text(text))
        status.set_class(error, "error")
        status.display = bool(text)


def _kind(value: object) -> NoteKind:
    try:
        return NoteKind(str(value))
    except ValueError:
        return NoteKind.OBSERVATION

