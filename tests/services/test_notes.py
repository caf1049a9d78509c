"""Editing diagnosis notes and marking a root cause: the note changes, the timeline keeps the old text."""

from __future__ import annotations

import pytest

from eim_tui.domain import ConflictError, EventKind, HypothesisStatus, NoteKind, ValidationError


def _kinds(svc, number: int) -> list[str]:
    return [e.kind.value for e in svc.details(number).timeline]


def test_edit_keeps_the_old_text_in_the_timeline(svc, log) -> None:
    incident = log()
    note = svc.add_note(incident.number, "alice", "observation", "502s since 08:40")
    edited = svc.edit_note(note.id, "bob", "502s since 08:35 on both API nodes", expected_version=1)
    assert (edited.text, edited.version, edited.author) == ("502s since 08:35 on both API nodes", 2, "alice")
    assert svc.details(incident.number).notes[0].text == "502s since 08:35 on both API nodes"
    event = svc.details(incident.number).timeline[-1]
    assert (event.kind, event.actor) == (EventKind.NOTE_EDITED, "bob")
    assert event.data["old"]["text"] == "502s since 08:40"
    assert event.data["new"]["text"] == "502s since 08:35 on both API nodes"
    assert "502s since 08:40" in event.summary and "observation #1 edited" in event.summary


def test_edit_with_a_stale_version_is_refused_and_changes_nothing(svc, log) -> None:
    incident = log()
    note = svc.add_note(incident.number, "alice", "finding", "pool size is 20")
    svc.edit_note(note.id, "bob", "pool size is 20 per node")
    before = _kinds(svc, incident.number)
    with pytest.raises(ConflictError, match="finding #1"):
        svc.edit_note(note.id, "alice", "pool size is 10", expected_version=1)
    assert svc.details(incident.number).notes[0].text == "pool size is 20 per node"
    assert _kinds(svc, incident.number) == before


def test_hypothesis_status_and_test_result(svc, log) -> None:
    incident = log()
    hypothesis = svc.add_note(incident.number, "alice", "hypothesis", "connection pool exhausted")
    assert hypothesis.status is HypothesisStatus.OPEN
    confirmed = svc.edit_note(hypothesis.id, "alice", None, status="confirmed")
    assert (confirmed.text, confirmed.status) == ("connection pool exhausted", HypothesisStatus.CONFIRMED)
    assert "status open → confirmed" in svc.details(incident.number).timeline[-1].summary
    test = svc.add_note(incident.number, "alice", "test", "replayed 200 rps on staging")
    done = svc.edit_note(test.id, "alice", None, result="pool saturated after 40 s")
    assert done.result == "pool saturated after 40 s"
    with pytest.raises(ValidationError, match="only a hypothesis"):
        svc.edit_note(test.id, "alice", None, status="rejected")
    with pytest.raises(ValidationError, match="empty"):
        svc.edit_note(test.id, "alice", "   ")


def test_an_edit_that_changes_nothing_writes_nothing(svc, log) -> None:
    incident = log()
    note = svc.add_note(incident.number, "alice", "observation", "same")
    before = _kinds(svc, incident.number)
    assert svc.edit_note(note.id, "alice", "same ").version == 1
    assert _kinds(svc, incident.number) == before


def test_editing_the_recorded_root_cause_updates_the_incident(svc, log) -> None:
    incident = log()
    note = svc.add_note(incident.number, "alice", "root_cause", "pool too small")
    assert svc.get(incident.number).root_cause == "pool too small"
    svc.edit_note(note.id, "alice", "pool too small for the Black Friday load")
    assert svc.get(incident.number).root_cause == "pool too small for the Black Friday load"
    assert _kinds(svc, incident.number)[-2:] == ["note_edited", "field_changed"]


def test_marking_a_why_as_root_cause_records_it_and_keeps_the_chain(svc, log) -> None:
    incident = log()
    svc.add_note(incident.number, "alice", "why", "the API timed out because the pool was empty")
    why = svc.add_note(incident.number, "alice", "why", "the pool was sized for last year's load")
    root = svc.mark_root_cause(why.id, "bob")
    assert (root.kind, root.text, root.position) == (NoteKind.ROOT_CAUSE, why.text, 3)
    details = svc.details(incident.number)
    assert details.incident.root_cause == "the pool was sized for last year's load"
    assert [n.kind for n in details.notes] == [NoteKind.WHY, NoteKind.WHY, NoteKind.ROOT_CAUSE]
    added = details.timeline[-2]
    assert added.kind is EventKind.NOTE_ADDED and "from why #2" in added.summary
    assert details.timeline[-1].data["field"] == "root_cause"
    assert svc.mark_root_cause(root.id, "bob").id == root.id  # already recorded: nothing new
    assert len(svc.details(incident.number).notes) == 3
