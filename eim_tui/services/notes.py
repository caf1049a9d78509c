"""Changing diagnosis notes after they were written: edit (text, hypothesis status, test result)
and mark a note as the root cause. One transaction each, written to the timeline with it.

An edit keeps the old words: the `note_edited` event carries the text before and after, so the
timeline still shows what a responder first wrote. `Services.edit_note` and
`Services.mark_root_cause` call these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from eim_tui.domain import events
from eim_tui.domain.errors import ConflictError, NotFoundError, ValidationError
from eim_tui.domain.model import DiagnosisNote, EventKind, HypothesisStatus, NoteKind, format_key
from eim_tui.store import repository, timeline
from eim_tui.store.tables import DiagnosisNoteRow

if TYPE_CHECKING:
    from eim_tui.services.incidents import Services


def _locked_note(session: Session, note_id: int) -> DiagnosisNoteRow:
    row = session.execute(
        select(DiagnosisNoteRow).where(DiagnosisNoteRow.id == note_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"no diagnosis note {note_id}; it may have been removed — reload the notes")
    return row


def _label(row: DiagnosisNoteRow) -> str:
    return f"{NoteKind(row.kind).label} #{row.position}"


def edit_note(
    svc: Services, note_id: int, actor: str, text: str | None, status: HypothesisStatus | str | None = None,
    result: str | None = None, expected_version: int | None = None,
) -> DiagnosisNote:
    """Change a note's text (None keeps it), a hypothesis's status, or a test's result."""
    from eim_tui.services.incidents import _enum

    now = svc.clock.now()
    with svc.db.write() as session:
        row = _locked_note(session, note_id)
        incident = repository.get_incident(session, row.incident_id, for_update=True)
        if expected_version is not None and row.version != expected_version:
            raise ConflictError(f"{format_key(row.incident_id)} {_label(row)}", expected_version, row.version)
        kind = NoteKind(row.kind)
        old: dict[str, Any] = {"text": row.text, "status": row.status, "result": row.result}
        new = dict(old)
        if text is not None:
            if not text.strip():
                raise ValidationError("the note is empty; type the new text or leave it as it was")
            new["text"] = text.strip()
        if status is not None:
            if kind is not NoteKind.HYPOTHESIS:
                raise ValidationError(f"only a hypothesis has a status; {_label(row)} is a {kind.label}")
            new["status"] = _enum(HypothesisStatus, status, "hypothesis status").value
        if result is not None:
            new["result"] = result.strip()
        if new == old:
            return repository.note_from_row(row)
        session.execute(
            update(DiagnosisNoteRow)
            .where(DiagnosisNoteRow.id == note_id, DiagnosisNoteRow.version == row.version)
            .values(text=new["text"], status=new["status"], result=new["result"], updated_at=now,
                    version=row.version + 1)
            .execution_options(synchronize_session=False)
        )
        drafts: list[events.EventDraft] = [
            (EventKind.NOTE_EDITED, _edit_summary(_label(row), old, new),
             {"note_id": note_id, "kind": kind.value, "position": row.position, "old": old, "new": new})
        ]
        # The incident's root cause follows an edit of the note it was recorded from.
        if kind is NoteKind.ROOT_CAUSE and new["text"] != old["text"] and incident.root_cause == old["text"]:
            after = incident.replace(root_cause=new["text"])
            repository.save_incident(session, incident, after, svc.ref.policies, now)
            drafts += events.change_events(incident, after)
        timeline.append(session, [timeline.NewEvent(row.incident_id, k, s, d) for k, s, d in drafts], now, actor)
        session.flush()
        session.refresh(row)
        return repository.note_from_row(row)


def _edit_summary(label: str, old: dict[str, Any], new: dict[str, Any]) -> str:
    parts = []
    if new["text"] != old["text"]:
        parts.append(f"“{events.show(old['text'])}” → “{events.show(new['text'])}”")
    if new["status"] != old["status"]:
        parts.append(f"status {old['status'] or '—'} → {new['status']}")
    if new["result"] != old["result"]:
        parts.append(f"result “{events.show(old['result'])}” → “{events.show(new['result'])}”")
    return f"{label} edited: " + "; ".join(parts)


def mark_root_cause(svc: Services, note_id: int, actor: str) -> DiagnosisNote:
    """Record a note (a finding, the last why, a confirmed hypothesis…) as the incident's root cause.

    The note itself stays what it was, so the five-whys chain is not broken: a root-cause note
    with its text is added after it, and the incident's root cause is set — as `c` would do.
    """
    now = svc.clock.now()
    with svc.db.write() as session:
        source = _locked_note(session, note_id)
        incident = repository.get_incident(session, source.incident_id, for_update=True)
        if NoteKind(source.kind) is NoteKind.ROOT_CAUSE:
            if incident.root_cause == source.text:
                return repository.note_from_row(source)
            note_row = source
            drafts: list[events.EventDraft] = []
        else:
            note_row = DiagnosisNoteRow(
                incident_id=source.incident_id, position=repository.next_note_position(session, source.incident_id),
                kind=NoteKind.ROOT_CAUSE.value, text=source.text, status=None, result="", author=actor,
                created_at=now, version=1,
            )
            session.add(note_row)
            session.flush()
            drafts = [(EventKind.NOTE_ADDED,
                       f"root cause #{note_row.position} (from {_label(source)}): {events.show(source.text)}",
                       {"note_id": note_row.id, "kind": NoteKind.ROOT_CAUSE.value, "text": source.text,
                        "from_note": source.id})]
        after = incident.replace(root_cause=source.text)
        repository.save_incident(session, incident, after, svc.ref.policies, now)
        drafts += events.change_events(incident, after)
        timeline.append(session, [timeline.NewEvent(source.incident_id, k, s, d) for k, s, d in drafts], now, actor)
        return repository.note_from_row(note_row)
