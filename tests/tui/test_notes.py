"""The diagnosis notes screen from the keyboard: one key per kind, the five-whys chain, hypothesis
status, edits that keep the old text, the root cause, and the draft of a note restored."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, TextArea

from eim_tui.bootstrap import open_services
from eim_tui.domain.drafts import note_scope
from eim_tui.domain.intake import NewIncident
from eim_tui.domain.model import EventKind, HypothesisStatus, NoteKind
from eim_tui.services.drafts import Drafts
from eim_tui.tui.dialogs.confirm import ConfirmScreen
from eim_tui.tui.dialogs.hypothesis_status import HypothesisStatusScreen
from eim_tui.tui.screens.notes import NotesScreen
from eim_tui.tui.widgets.note_list import NoteList


@pytest.fixture
def svc(tmp_path, clock):
    services = open_services(f"sqlite:///{tmp_path}/eim.db", clock)
    yield services
    services.db.dispose()


@pytest.fixture
def incident(svc):
    return svc.log_incident(NewIncident("Payments API returns 502", 1, 2, service="payments"), "bob")


@pytest.fixture(autouse=True)
def quick_drafts(monkeypatch) -> None:
    monkeypatch.setattr(NotesScreen, "DRAFT_DELAY", 0.05)


async def wait_until(pilot: Pilot, predicate: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """Poll the app (not a timed assertion: the deadline only stops a hung test)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await pilot.pause(0.02)


async def open_notes(pilot: Pilot, number: int) -> NotesScreen:
    await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "QueueScreen", "the queue")
    pilot.app.push_screen(NotesScreen(number))
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, NotesScreen) and pilot.app.screen.details,
                     "the notes")
    return pilot.app.screen


def notes_of(svc, number: int):
    return svc.details(number).notes


def asking(app) -> bool:
    """A ConfirmScreen is up with its question drawn (pushed, it composes a moment later)."""
    return isinstance(app.screen, ConfirmScreen) and bool(app.screen.query("#confirm-question"))


async def write(pilot: Pilot, type_text, screen: NotesScreen, svc, key: str, text: str, result: str = "") -> None:
    count = len(notes_of(svc, screen.number))
    await pilot.press(key)
    assert pilot.app.focused is screen.query_one("#note-text")
    await type_text(pilot, text)
    if result:
        await pilot.press("tab")
        await type_text(pilot, result)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: len(notes_of(svc, screen.number)) == count + 1
                     and screen.editing is None and len(screen.details.notes) == count + 1, f"the {key} note")


async def test_each_kind_by_its_key(svc, incident, clock, app_factory, type_text) -> None:
    async with app_factory(svc).run_test(size=(80, 24)) as pilot:
        screen = await open_notes(pilot, incident.number)
        await write(pilot, type_text, screen, svc, "o", "502s since 08:40 on both API nodes")
        await write(pilot, type_text, screen, svc, "y", "DB connection pool exhausted")
        await write(pilot, type_text, screen, svc, "e", "replayed 200 rps on staging",
                    result="pool saturated after 40 s")
        await write(pilot, type_text, screen, svc, "f", "pool size is 20 per node")
        await write(pilot, type_text, screen, svc, "w", "the API timed out because the pool was empty")
        await write(pilot, type_text, screen, svc, "c", "pool sized for last year's load")
        await write(pilot, type_text, screen, svc, "i", "raise the pool to 80 — alice, today")
        shown = str(screen.query_one(NoteList).get_option_at_index(2).prompt)
        assert "Test / replication" in shown and "what happened: pool saturated after 40 s" in shown
    notes = notes_of(svc, incident.number)
    assert [n.kind for n in notes] == [NoteKind.OBSERVATION, NoteKind.HYPOTHESIS, NoteKind.TEST, NoteKind.FINDING,
                                       NoteKind.WHY, NoteKind.ROOT_CAUSE, NoteKind.ACTION]
    assert [n.position for n in notes] == [1, 2, 3, 4, 5, 6, 7]
    assert notes[2].result == "pool saturated after 40 s"
    assert notes[1].status is HypothesisStatus.OPEN
    assert {n.author for n in notes} == {"alice"} and {n.created_at for n in notes} == {clock.now()}
    assert svc.get(incident.number).root_cause == "pool sized for last year's load"


async def test_five_whys_each_answering_the_previous(svc, incident, app_factory, type_text) -> None:
    whys = ["the API timed out", "the DB pool was empty", "connections leaked on errors",
            "the retry path skips close()", "no test covers the retry path"]
    async with app_factory(svc).run_test(size=(80, 24)) as pilot:
        screen = await open_notes(pilot, incident.number)
        await pilot.press("w")
        prompt = str(screen.query_one("#note-prompt", Static).render())
        assert prompt.startswith("Why 1") and "“Payments API returns 502”" in prompt
        await pilot.press("escape")
        for number, text in enumerate(whys, start=1):
            await pilot.press("w")
            prompt = str(screen.query_one("#note-prompt", Static).render())
            assert prompt.startswith(f"Why {number}")
            if number > 1:
                assert f"“{whys[number - 2]}”" in prompt
            await type_text(pilot, text)
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: screen.editing is None and len(screen.details.notes) == number,
                             f"why {number}")
        await pilot.press("w")
        assert "five whys reached" in str(screen.query_one("#note-prompt", Static).render())
        listed = [str(screen.query_one(NoteList).get_option_at_index(i).prompt) for i in range(5)]
        assert [line.split("·")[0].split(maxsplit=1)[1].strip() for line in listed] == [
            "Why 1", "Why 2", "Why 3", "Why 4", "Why 5"]
    assert [n.text for n in notes_of(svc, incident.number)] == whys


async def test_a_hypothesis_is_confirmed_or_rejected_with_a_key(svc, incident, app_factory) -> None:
    hypothesis = svc.add_note(incident.number, "bob", "hypothesis", "DB connection pool exhausted")
    svc.add_note(incident.number, "bob", "observation", "502s on both nodes")
    app = app_factory(svc)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_notes(pilot, incident.number)
        assert screen.check_action("hypothesis_status", ()) is False  # the observation is highlighted
        await pilot.press("up")
        assert screen.check_action("hypothesis_status", ()) is True
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, HypothesisStatusScreen), "the status question")
        await pilot.press("c")
        await wait_until(pilot, lambda: screen.details.notes[0].status is HypothesisStatus.CONFIRMED, "confirmed")
        assert "[confirmed]" in str(screen.query_one(NoteList).get_option_at_index(0).prompt)
        await pilot.press("s", "r")
        await wait_until(pilot, lambda: screen.details.notes[0].status is HypothesisStatus.REJECTED, "rejected")
    edits = [e for e in svc.details(incident.number).timeline if e.kind is EventKind.NOTE_EDITED]
    assert [e.summary for e in edits] == ["hypothesis #1 edited: status open → confirmed",
                                          "hypothesis #1 edited: status confirmed → rejected"]
    assert all(e.actor == "alice" and e.data["note_id"] == hypothesis.id for e in edits)


async def test_editing_a_note_keeps_the_old_text_in_the_timeline(svc, incident, app_factory, type_text) -> None:
    note = svc.add_note(incident.number, "bob", "observation", "502s since 08:40")
    async with app_factory(svc).run_test(size=(80, 24)) as pilot:
        screen = await open_notes(pilot, incident.number)
        await pilot.press("enter")
        area = screen.query_one("#note-text", TextArea)
        assert pilot.app.focused is area and area.text == "502s since 08:40"
        assert "Editing observation #1" in str(screen.query_one("#note-prompt", Static).render())
        await type_text(pilot, " on both API nodes")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.editing is None and screen.details.notes[0].version == 2, "the edit")
        assert "(edited 09:00)" in str(screen.query_one(NoteList).get_option_at_index(0).prompt)
    stored = notes_of(svc, incident.number)
    assert [(n.id, n.text, n.author) for n in stored] == [(note.id, "502s since 08:40 on both API nodes", "bob")]
    edited = svc.details(incident.number).timeline[-1]
    assert (edited.kind, edited.actor) == (EventKind.NOTE_EDITED, "alice")
    assert edited.data["old"]["text"] == "502s since 08:40"
    assert edited.data["new"]["text"] == "502s since 08:40 on both API nodes"


async def test_a_stale_edit_is_refused_and_the_typed_text_kept(svc, incident, app_factory, type_text) -> None:
    note = svc.add_note(incident.number, "bob", "finding", "pool size is 20")
    async with app_factory(svc).run_test(size=(80, 24)) as pilot:
        screen = await open_notes(pilot, incident.number)
        await pilot.press("enter", "end")
        await type_text(pilot, " per node")
        svc.edit_note(note.id, "bob", "pool size is 20 (checked)")  # someone else, meanwhile
        await pilot.press("ctrl+s")
        status = screen.query_one("#notes-status", Static)
        await wait_until(pilot, lambda: "was changed" in str(status.render()), "the refusal")
        assert screen.editing is not None
        assert screen.query_one("#note-text", TextArea).text == "pool size is 20 per node"
        await wait_until(pilot, lambda: screen.editing.note.version == 2, "the newer version")
        await pilot.press("ctrl+s")  # knowingly over theirs
        await wait_until(pilot, lambda: screen.editing is None, "the save")
    assert notes_of(svc, incident.number)[0].text == "pool size is 20 per node"


async def test_marking_a_note_as_root_cause_records_it_on_the_incident(svc, incident, app_factory) -> None:
    svc.add_note(incident.number, "bob", "why", "the pool was empty")
    svc.add_note(incident.number, "bob", "why", "the pool was sized for last year's load")
    async with app_factory(svc).run_test(size=(80, 24)) as pilot:
        screen = await open_notes(pilot, incident.number)
        await pilot.press("m")
        await wait_until(pilot, lambda: len(screen.details.notes) == 3, "the root cause note")
        assert screen.details.incident.root_cause == "the pool was sized for last year's load"
        shown = str(screen.query_one(NoteList).get_option_at_index(2).prompt)
        assert "Root cause ★ recorded on the incident" in shown
        assert "root cause: the pool was sized" in str(screen.query_one("#notes-title", Static).render())
        assert screen.check_action("mark_root_cause", ()) is False  # already recorded
    assert svc.get(incident.number).root_cause == "the pool was sized for last year's load"


async def test_the_draft_of_a_note_is_offered_back_after_the_app_is_gone(svc, incident, app_factory, type_text) -> None:
    drafts = Drafts(svc.db)
    scope = note_scope(incident.number)
    async with app_factory(svc).run_test(size=(80, 24)) as pilot:
        await open_notes(pilot, incident.number)
        await pilot.press("e")
        await type_text(pilot, "restarted pool on api-01")
        await pilot.press("tab")
        await type_text(pilot, "502s stopped for 3 mi")
        await wait_until(pilot, lambda: (d := drafts.load("alice", scope)) is not None
                         and d.content["result"] == "502s stopped for 3 mi", "the draft")
    assert drafts.load("alice", scope).content == {
        "kind": "test", "note_id": None, "version": None, "text": "restarted pool on api-01",
        "result": "502s stopped for 3 mi"}
    assert notes_of(svc, incident.number) == []
    app = app_factory(svc)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: type(app.screen).__name__ == "QueueScreen", "the queue")
        app.push_screen(NotesScreen(incident.number))
        await wait_until(pilot, lambda: asking(app), "the restore question")
        question = str(app.screen.query_one("#confirm-question", Static).render())
        assert question == "Restore the test / replication you were typing (draft from 09:00)?"
        await pilot.press("y")
        screen = app.screen
        assert isinstance(screen, NotesScreen) and screen.editing.kind is NoteKind.TEST
        assert screen.query_one("#note-text", TextArea).text == "restarted pool on api-01"
        assert screen.query_one("#note-result", TextArea).text == "502s stopped for 3 mi"
        await pilot.press("tab", "end")
        await type_text(pilot, "n")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.editing is None and screen.details.notes, "the note")
    assert [(n.text, n.result) for n in notes_of(svc, incident.number)] == [
        ("restarted pool on api-01", "502s stopped for 3 min")]
    assert drafts.load("alice", scope) is None


async def test_escape_asks_before_dropping_a_typed_note(svc, incident, app_factory, type_text) -> None:
    drafts = Drafts(svc.db)
    app = app_factory(svc)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_notes(pilot, incident.number)
        await pilot.press("o")
        await type_text(pilot, "half a thou")
        await wait_until(pilot, lambda: drafts.load("alice", note_scope(incident.number)), "the draft")
        assert screen.check_action("new_note", ("finding",)) is False  # one note at a time
        await pilot.press("escape")
        await wait_until(pilot, lambda: asking(app), "the question")
        await pilot.press("n")
        assert screen.editing is not None
        await pilot.press("escape", "y")
        await wait_until(pilot, lambda: screen.editing is None, "the editor closed")
        await wait_until(pilot, lambda: drafts.load("alice", note_scope(incident.number)) is None, "no draft")
        await pilot.press("escape")  # and back
        await wait_until(pilot, lambda: type(app.screen).__name__ == "QueueScreen", "the queue")
    assert notes_of(svc, incident.number) == []


async def test_an_edit_draft_comes_back_as_an_edit_of_the_version_it_began_from(svc, incident, app_factory) -> None:
    note = svc.add_note(incident.number, "bob", "finding", "pool size is 20")
    Drafts(svc.db).save("alice", note_scope(incident.number), {
        "kind": "finding", "note_id": note.id, "version": 1, "text": "pool size is 20 per node", "result": ""})
    svc.edit_note(note.id, "bob", "pool size is 20 (checked)")  # changed after the draft was typed
    app = app_factory(svc)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: type(app.screen).__name__ == "QueueScreen", "the queue")
        app.push_screen(NotesScreen(incident.number))
        await wait_until(pilot, lambda: asking(app), "the restore question")
        assert "Restore your edit of finding #1" in str(app.screen.query_one("#confirm-question", Static).render())
        await pilot.press("y")
        screen = app.screen
        assert screen.editing.note.id == note.id
        assert screen.query_one("#note-text", TextArea).text == "pool size is 20 per node"
        await pilot.press("ctrl+s")  # refused: bob's change is not silently overwritten
        status = screen.query_one("#notes-status", Static)
        await wait_until(pilot, lambda: "was changed" in str(status.render()), "the refusal")
    assert notes_of(svc, incident.number)[0].text == "pool size is 20 (checked)"
