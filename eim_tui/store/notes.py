"""The `diagnosis_note` table: reading an incident's notes, adding one, locking one, and the guarded
update of one. Only `DiagnosisNote`s leave this module.

Notes are numbered per incident (`position`) in the order they were written; an update is guarded
by the note's `version`, like an incident's.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from eim_tui.domain.errors import NotFoundError
from eim_tui.domain.model import DiagnosisNote, HypothesisStatus, NoteKind
from eim_tui.store.tables import DiagnosisNoteRow


def note_from_row(row: DiagnosisNoteRow) -> DiagnosisNote:
    return DiagnosisNote(
        id=row.id,
        incident_number=row.incident_id,
        position=row.position,
        kind=NoteKind(row.kind),
        text=row.text,
        author=row.author,
        created_at=row.created_at,
        status=HypothesisStatus(row.status) if row.status else None,
        result=row.result,
        updated_at=row.updated_at,
        version=row.version,
    )


def notes_for(session: Session, number: int) -> list[DiagnosisNote]:
    """An incident's notes in the order they were written."""
    rows = session.execute(
        select(DiagnosisNoteRow).where(DiagnosisNoteRow.incident_id == number).order_by(DiagnosisNoteRow.position)
    ).scalars()
    return [note_from_row(r) for r in rows]


def next_position(session: Session, number: int) -> int:
    current = session.execute(
        select(func.max(DiagnosisNoteRow.position)).where(DiagnosisNoteRow.incident_id == number)
    ).scalar()
    return (current or 0) + 1


def insert_note(
    session: Session, number: int, kind: NoteKind, text: str, status: HypothesisStatus | None, result: str,
    author: str, at: datetime,
) -> DiagnosisNote:
    """Add a note after the incident's last one (its id is known on return: the row is flushed)."""
    row = DiagnosisNoteRow(
        incident_id=number, position=next_position(session, number), kind=kind.value, text=text,
        status=status.value if status else None, result=result, author=author, created_at=at, version=1,
    )
    session.add(row)
    session.flush()
    return note_from_row(row)


def lock_note(session: Session, note_id: int) -> DiagnosisNote:
    """The note, its row locked for this transaction; NotFoundError when it is gone."""
    row = session.execute(
        select(DiagnosisNoteRow).where(DiagnosisNoteRow.id == note_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"no diagnosis note {note_id}; it may have been removed — reload the notes")
    return note_from_row(row)


def update_note(
    session: Session, note: DiagnosisNote, text: str, status: str | None, result: str, at: datetime
) -> DiagnosisNote:
    """Write a note's text, status and result over the version `note` was read at; the note as stored."""
    session.execute(
        update(DiagnosisNoteRow)
        .where(DiagnosisNoteRow.id == note.id, DiagnosisNoteRow.version == note.version)
        .values(text=text, status=status, result=result, updated_at=at, version=note.version + 1)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    row = session.execute(
        select(DiagnosisNoteRow).where(DiagnosisNoteRow.id == note.id).execution_options(populate_existing=True)
    ).scalar_one()
    return note_from_row(row)
