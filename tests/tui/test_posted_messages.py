"""What the app said, checked first: key keyboard flows run with `run_test(message_hook=seen.append)`,
and each test asserts on the messages the screens posted (their own Message classes) before it
looks at the store or the screen. Then the one error path: a worker that raises is one toast, from
the app's `Worker.StateChanged` handler, in one line, without the driver's text — and a poll that
keeps failing is told once, not every poll. And the notes screen asks the user's permissions.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlalchemy.exc import OperationalError
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.worker import Worker, WorkerState

from eim_tui.bootstrap import open_services
from eim_tui.domain.intake import NewIncident
from eim_tui.domain.model import NoteKind, State
from eim_tui.tui.dialogs.bulk import AllDone, BulkPreview, OneDone, PlanReady
from eim_tui.tui.screens.detail import ActionDone, DetailScreen, DetailsLoaded
from eim_tui.tui.screens.notes import NoteSaved, NotesLoaded, NotesScreen
from eim_tui.tui.screens.queue import QueueLoaded, QueueScreen
from eim_tui.tui.widgets.queue_table import QueueTable
from eim_tui.tui.workers import STORE_UNREACHABLE, ChangesFound

DEADLINE = 10.0  # seconds; only stops a hung test


@pytest.fixture
def store(tmp_path, clock):
    svc = open_services(f"sqlite:///{tmp_path}/x.db", clock)
    yield svc
    svc.db.dispose()


def log(svc, title: str, **fields) -> int:
    fields.setdefault("impact", 2)
    fields.setdefault("urgency", 2)
    return svc.log_incident(NewIncident(title=title, **fields), "monitor").number


def of(seen: list[Message], kind: type[Message]) -> list:
    """The messages of `kind`, each once (a bubbling message is handed to the hook at each node)."""
    found = {id(m): m for m in seen if isinstance(m, kind)}
    return list(found.values())


def failed_workers(seen: list[Message], description: str) -> list[Worker]:
    """Workers that ended in ERROR, each once (its screen hands its StateChanged on to the app)."""
    found = {id(m.worker): m.worker for m in of(seen, Worker.StateChanged)
             if m.state is WorkerState.ERROR and m.worker.description == description}
    return list(found.values())


def toasts(seen: list[Message]) -> list[str]:
    """Every toast, as "title: message" (`app.notify` posts one `Notify` each)."""
    return [f"{m.notification.title}: {m.notification.message}" for m in of(seen, Notify)]


def error_toasts(seen: list[Message]) -> list[str]:
    return [f"{m.notification.title}: {m.notification.message}" for m in of(seen, Notify)
            if m.notification.severity == "error"]


def after(seen: list[Message], first: Message, kind: type[Message]) -> list:
    """Messages of `kind` first handled after `first` was."""
    earlier = {id(m) for m in seen[: seen.index(first) + 1]}
    return [m for m in of(seen, kind) if id(m) not in earlier]


async def settle(pilot: Pilot) -> None:
    for _ in range(2):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def until(pilot: Pilot, predicate: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"within {DEADLINE:.0f}s: {what}")
        await pilot.pause(0.02)


async def open_screen(pilot: Pilot, screen, loaded: Callable[[], object]) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, QueueScreen), "the queue")
    pilot.app.push_screen(screen)
    await until(pilot, lambda: pilot.app.screen is screen and loaded(), f"{type(screen).__name__} loaded")


# --- the flows, by what they posted ------------------------------------------------------------


async def test_acknowledge_on_the_detail_screen(store, app_factory) -> None:
    number = log(store, "Payments API returns 502")
    seen: list[Message] = []
    async with app_factory(store, "alice").run_test(size=(100, 30), message_hook=seen.append) as pilot:
        screen = DetailScreen(number)
        await open_screen(pilot, screen, lambda: screen.details is not None)
        await pilot.press("a")
        await until(pilot, lambda: of(seen, ActionDone), "ActionDone")
        await settle(pilot)

        done = of(seen, ActionDone)
        assert [m.text for m in done] == ["INC-000001 acknowledged and taken"]
        reloaded = after(seen, done[0], DetailsLoaded)
        assert reloaded and reloaded[-1].details.incident.state is State.IN_PROGRESS
        assert reloaded[-1].marker >= 0  # the marker travels in the message, set on the UI thread
        assert "Saved: INC-000001 acknowledged and taken" in toasts(seen)
        assert not error_toasts(seen)
        assert screen.incident.assignee == "alice"
    assert store.get(number).state is State.IN_PROGRESS


async def test_add_a_note_on_the_notes_screen(store, app_factory) -> None:
    number = log(store, "Payments API returns 502")
    seen: list[Message] = []
    async with app_factory(store, "alice").run_test(size=(100, 30), message_hook=seen.append) as pilot:
        screen = NotesScreen(number)
        await open_screen(pilot, screen, lambda: screen.details is not None)
        await pilot.press("o", *"502s began at 14:05")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: of(seen, NoteSaved), "NoteSaved")
        await settle(pilot)

        saved = of(seen, NoteSaved)
        assert [(m.note.kind, m.note.text, m.what) for m in saved] == [
            (NoteKind.OBSERVATION, "502s began at 14:05", "added")]
        reloaded = after(seen, saved[0], NotesLoaded)
        assert reloaded and [n.text for n in reloaded[-1].details.notes] == ["502s began at 14:05"]
        assert not error_toasts(seen)
        assert screen.editing is None
    assert [n.text for n in store.details(number).notes] == ["502s began at 14:05"]


async def test_filter_the_queue(store, app_factory) -> None:
    disk = log(store, "Disk full on db01", service="payments")
    log(store, "Printer jam on floor 3", impact=3, urgency=3)
    seen: list[Message] = []
    async with app_factory(store, "alice").run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await until(pilot, lambda: any(m.complete for m in of(seen, QueueLoaded)), "the first load")
        await settle(pilot)
        assert sorted(of(seen, QueueLoaded)[-1].numbers) == [1, 2]
        first = of(seen, QueueLoaded)[-1]
        await pilot.press("slash", *"disk", "enter")
        await until(pilot, lambda: after(seen, first, QueueLoaded), "the filtered load")
        await settle(pilot)

        # The head page first (a page of the filtered order), then the whole list with its count.
        filtered = after(seen, first, QueueLoaded)
        assert [(m.numbers, m.complete) for m in filtered] == [([disk], False), ([disk], True)]
        assert filtered[-1].groups is not None
        assert not error_toasts(seen)
        assert pilot.app.screen.query_one(QueueTable).numbers == [disk]


async def test_bulk_acknowledge_from_the_queue(store, app_factory) -> None:
    numbers = [log(store, f"Disk full on db-{n}", assignment_group="dba") for n in (1, 2)]
    seen: list[Message] = []
    async with app_factory(store, "alice").run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await until(pilot, lambda: any(m.complete for m in of(seen, QueueLoaded)), "the first load")
        await settle(pilot)
        await pilot.press("space", "down", "space", "down")
        await pilot.press("b", "a")
        await until(pilot, lambda: of(seen, PlanReady), "the preview")
        assert [(i.number, i.warning) for i in of(seen, PlanReady)[0].items] == [(n, "") for n in numbers]
        assert isinstance(pilot.app.screen, BulkPreview)
        await pilot.press("y")
        await until(pilot, lambda: of(seen, AllDone), "AllDone")

        one_by_one = of(seen, OneDone)
        assert [(m.outcome.number, m.outcome.ok) for m in one_by_one] == [(n, True) for n in numbers]
        assert not after(seen, of(seen, AllDone)[0], OneDone)  # every outcome before the end
        await pilot.press("enter")  # close the result list
        await settle(pilot)
        assert "Bulk action: 2 done, 0 refused" in toasts(seen)
        assert not error_toasts(seen)
    assert {store.get(n).state for n in numbers} == {State.IN_PROGRESS}


# --- the one error path ------------------------------------------------------------------------


def unreachable(*_args, **_kwargs):
    raise OperationalError("SELECT max(id) FROM changes", {}, ConnectionRefusedError("10.0.0.7:5432 refused"))


def index_broken(*_args, **_kwargs):
    raise RuntimeError("the index is damaged")


def pool_exhausted(*_args, **_kwargs):
    raise RuntimeError("the pool is exhausted\n  Traceback (most recent call last): …")


async def test_a_failing_worker_is_one_toast_from_the_app(store, app_factory, monkeypatch) -> None:
    number = log(store, "Payments API returns 502")
    seen: list[Message] = []
    async with app_factory(store, "alice").run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await until(pilot, lambda: any(m.complete for m in of(seen, QueueLoaded)), "the first load")
        await settle(pilot)
        monkeypatch.setattr(store, "acknowledge", pool_exhausted)
        await pilot.press("a")
        await until(pilot, lambda: error_toasts(seen), "the error toast")
        await settle(pilot)

        assert len(failed_workers(seen, "acknowledge")) == 1
        assert error_toasts(seen) == ["Could not acknowledge: the pool is exhausted"]
    assert store.get(number).state is State.NEW


async def test_a_failing_poll_is_told_once_until_it_works_again(store, app_factory, monkeypatch) -> None:
    number = log(store, "Payments API returns 502")
    seen: list[Message] = []

    def failed_polls() -> int:
        return len(failed_workers(seen, "watch for changes"))

    app = app_factory(store, "alice", poll_interval=0.05)
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        screen = DetailScreen(number)
        await open_screen(pilot, screen, lambda: screen.details is not None)
        working = store.changes_since
        # Not an unreachable store (that raises the outage banner instead: tests/tui/test_outage_banner.py)
        # but a failure the store answers with, every poll.
        monkeypatch.setattr(store, "changes_since", index_broken)
        await until(pilot, lambda: failed_polls() >= 4, "four failed polls")

        assert error_toasts(seen) == ["Could not watch for changes: the index is damaged"]

        monkeypatch.setattr(store, "changes_since", working)  # the store is back: the polls work again
        store.acknowledge(number, "bob")
        queue = next(s for s in app.screen_stack if isinstance(s, QueueScreen))
        await until(pilot, lambda: len(of(seen, ChangesFound)) >= 2 and screen.incident.assignee == "bob"
                    and queue.shown_marker >= screen.shown_marker,
                    "the change found by both screens' polls (the detail's and the queue's under it)")
        await settle(pilot)  # and their successes handed to the app
        monkeypatch.setattr(store, "changes_since", index_broken)  # and fails anew: told anew, once
        told = failed_polls()
        await until(pilot, lambda: failed_polls() >= told + 3, "three more failed polls")
        assert len(error_toasts(seen)) == 2


# --- the notes screen asks the permissions -----------------------------------------------------

WRITES = {"new_note", "hypothesis_status", "mark_root_cause"}  # in the footer (enter edits: the list's key)


def greyed(screen) -> set[str]:
    return {b.binding.action.split("(")[0] for b in screen.active_bindings.values() if not b.enabled}


def enabled(screen) -> set[str]:
    return {b.binding.action.split("(")[0] for b in screen.active_bindings.values() if b.enabled}


def palette_titles(app, screen) -> list[str]:
    return [command.title for command in app.get_system_commands(screen)]


@pytest.mark.parametrize(("user", "may_write"), [("yara", False), ("alice", True)])
async def test_a_viewer_finds_the_note_keys_greyed(store, app_factory, user, may_write) -> None:
    number = log(store, "Payments API returns 502")
    store.add_note(number, "alice", NoteKind.HYPOTHESIS, "the pool is too small")
    seen: list[Message] = []
    async with app_factory(store, user).run_test(size=(120, 30), message_hook=seen.append) as pilot:
        screen = NotesScreen(number)
        await open_screen(pilot, screen, lambda: screen.details is not None and screen.details.notes)
        await settle(pilot)
        assert of(seen, NotesLoaded)[-1].details.notes

        if may_write:
            assert WRITES <= enabled(screen)
        else:
            assert WRITES <= greyed(screen)
            assert "back" in enabled(screen)
        assert screen.check_action("edit", ()) is (True if may_write else None)
        offered = palette_titles(pilot.app, screen)
        assert any(t.startswith("Observe") for t in offered) is may_write
        assert any(t.startswith("Hypothesis") for t in offered) is may_write

        await pilot.press("o")
        await settle(pilot)
        assert (screen.editing is not None) is may_write


# --- the one formatter -------------------------------------------------------------------------


def test_explain_says_it_in_one_line_without_the_drivers_text() -> None:
    from sqlalchemy.exc import IntegrityError

    from eim_tui.domain.errors import ValidationError
    from eim_tui.tui.workers import explain

    assert explain(ValidationError("impact must be 1, 2 or 3\nsecond line")) == "impact must be 1, 2 or 3"
    assert explain(OSError("database is locked")) == "database is locked"
    assert explain(KeyboardInterrupt()) == "KeyboardInterrupt"
    assert explain(RuntimeError("x" * 500)).endswith("…") and len(explain(RuntimeError("x" * 500))) == 200
    try:
        unreachable()
    except OperationalError as exc:
        assert explain(exc) == STORE_UNREACHABLE
    refused = IntegrityError("INSERT INTO incidents VALUES (?)", (1,), Exception("UNIQUE constraint failed"))
    assert explain(refused) == "the store refused it (IntegrityError)"
