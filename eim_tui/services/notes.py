"""Diagnosis notes: adding one, editing one (text, hypothesis status, test result), and marking one
as the incident's root cause. One transaction each, written to the timeline with it.

An edit keeps the old words: the `note_edited` event carries the text before and after, so the
timeline still shows what a responder first wrote. `NoteCases` is a part of `Services`
(`svc.add_note(…)`); the rows are read and written by `store/notes.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eim_tui.domain import events
from eim_tui.domain.access import Action
from eim_tui.domain.errors import ConflictError, ValidationError
from eim_tui.domain.model import (
    DiagnosisNote,
    EventKind,
    HypothesisStatus,
    NoteKind,
    format_key,
    parse_enum,
)
from eim_tui.store import notes as store
from eim_tui.store import repository, timeline

if TYPE_CHECKING:
    from eim_tui.domain.clock import Clock
    from eim_tui.reference.data import ReferenceData
    from eim_tui.services.access import AccessControl
    from eim_tui.store.engine import Database


def _label(note: DiagnosisNote) -> str:
    return f"{note.kind.label} #{note.position}"


class NoteCases:
    """The note use cases of `Services` (which provides the store, reference data, clock and access)."""

    db: Database
    ref: ReferenceData
    clock: Clock
    access: AccessControl

    def add_note(
        self, number: int, actor: str, kind: NoteKind | str, text: str,
        status: HypothesisStatus | str | None = None, result: str = "",
    ) -> DiagnosisNote:
        self.access.authorize(actor, [Action.NOTE])
        kind = parse_enum(NoteKind, kind, "note kind")
        if not text.strip():
            raise ValidationError("the note is empty; type what you observed, suspect or found")
        state = parse_enum(HypothesisStatus, status, "hypothesis status") if status else None
        if kind is NoteKind.HYPOTHESIS and state is None:
            state = HypothesisStatus.OPEN
        now = self.clock.now()
        with self.db.write() as session:
            incident = repository.get_incident(session, number, for_update=True)
            note = store.insert_note(session, number, kind, text.strip(), state, result.strip(), actor, now)
            drafts: list[events.EventDraft] = [
                (EventKind.NOTE_ADDED, f"{kind.label} #{note.position}: {events.show(text.strip())}",
                 {"note_id": note.id, "kind": kind.value, "text": text.strip()})
            ]
            if kind is NoteKind.ROOT_CAUSE:
                after = incident.replace(root_cause=text.strip())
                repository.save_incident(session, incident, after, self.ref.policies_for(after.service), now)
                drafts += events.change_events(incident, after)
            timeline.append(session, [timeline.NewEvent(number, k, s, d) for k, s, d in drafts], now, actor)
            return note

    def edit_note(
        self, note_id: int, actor: str, text: str | None, status: HypothesisStatus | str | None = None,
        result: str | None = None, expected_version: int | None = None,
    ) -> DiagnosisNote:
        """Change a note's text (None keeps it), a hypothesis's status, or a test's result; the
        timeline keeps the old text."""
        self.access.authorize(actor, [Action.NOTE])
        now = self.clock.now()
        with self.db.write() as session:
            note = store.lock_note(session, note_id)
            incident = repository.get_incident(session, note.incident_number, for_update=True)
            if expected_version is not None and note.version != expected_version:
                raise ConflictError(f"{format_key(note.incident_number)} {_label(note)}", expected_version, note.version)
            kind = note.kind
            old: dict[str, Any] = {"text": note.text, "status": note.status.value if note.status else None,
                                   "result": note.result}
            new = dict(old)
            if text is not None:
                if not text.strip():
                    raise ValidationError("the note is empty; type the new text or leave it as it was")
                new["text"] = text.strip()
            if status is not None:
                if kind is not NoteKind.HYPOTHESIS:
                    raise ValidationError(f"only a hypothesis has a status; {_label(note)} is a {kind.label}")
                new["status"] = parse_enum(HypothesisStatus, status, "hypothesis status").value
            if result is not None:
                new["result"] = result.strip()
            if new == old:
                return note
            edited = store.update_note(session, note, new["text"], new["status"], new["result"], now)
            drafts: list[events.EventDraft] = [
                (EventKind.NOTE_EDITED, _edit_summary(_label(note), old, new),
                 {"note_id": note_id, "kind": kind.value, "position": note.position, "old": old, "new": new})
            ]
            # The incident's root cause follows an edit of the note it was recorded from.
            if kind is NoteKind.ROOT_CAUSE and new["text"] != old["text"] and incident.root_cause == old["text"]:
                after = incident.replace(root_cause=new["text"])
                repository.save_incident(session, incident, after, self.ref.policies_for(after.service), now)
                drafts += events.change_events(incident, after)
            timeline.append(
                session, [timeline.NewEvent(note.incident_number, k, s, d) for k, s, d in drafts], now, actor
            )
            return edited

    def mark_root_cause(self, note_id: int, actor: str) -> DiagnosisNote:
        """Record a note (a finding, the last why, a confirmed hypothesis…) as the incident's root cause.

        The note itself stays what it was, so the five-whys chain is not broken: a root-cause note
        with its text is added after it, and the incident's root cause is set — as `c` would do.
        """
        self.access.authorize(actor, [Action.NOTE])
        now = self.clock.now()
        with self.db.write() as session:
            source = store.lock_note(session, note_id)
            number = source.incident_number
            incident = repository.get_incident(session, number, for_update=True)
            if source.kind is NoteKind.ROOT_CAUSE:
                if incident.root_cause == source.text:
                    return source
                note = source
                drafts: list[events.EventDraft] = []
            else:
                note = store.insert_note(session, number, NoteKind.ROOT_CAUSE, source.text, None, "", actor, now)
                drafts = [(EventKind.NOTE_ADDED,
                           f"root cause #{note.position} (from {_label(source)}): {events.show(source.text)}",
                           {"note_id": note.id, "kind": NoteKind.ROOT_CAUSE.value, "text": source.text,
                            "from_note": source.id})]
            after = incident.replace(root_cause=source.text)
            repository.save_incident(session, incident, after, self.ref.policies_for(after.service), now)
            drafts += events.change_events(incident, after)
            timeline.append(session, [timeline.NewEvent(number, k, s, d) for k, s, d in drafts], now, actor)
            return note


def _edit_summary(label: str, old: dict[str, Any], new: dict[str, Any]) -> str:
    parts = []
    if new["text"] != old["text"]:
        parts.append(f"“{events.show(old['text'])}” → “{events.show(new['text'])}”")
    if new["status"] != old["status"]:
        parts.append(f"status {old['status'] or '—'} → {new['status']}")
    if new["result"] != old["result"]:
        parts.append(f"result “{events.show(old['result'])}” → “{events.show(new['result'])}”")
    return f"{label} edited: " + "; ".join(parts)
