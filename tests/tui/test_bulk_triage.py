"""Storm triage in the queue, keyboard only: mark, pick a bulk action, preview, confirm, results.
One transaction per incident: a refusal for one is reported and the others go through."""

from __future__ import annotations

from lifecycle_helpers import Toasts, choose, log, press, settle

from eim_tui.bootstrap import open_services
from eim_tui.domain.model import State
from eim_tui.tui.dialogs.bulk import BulkPreview
from eim_tui.tui.widgets.queue_table import QueueTable


def storm(svc, count: int = 3) -> list[int]:
    return [log(svc, f"Disk full on db-{n}", assignment_group="dba").number for n in range(1, count + 1)]


async def mark_each(pilot, count: int) -> QueueTable:
    """space marks the row under the cursor; down moves on."""
    await settle(pilot)
    table = pilot.app.screen.query_one(QueueTable)
    for _ in range(count):
        await pilot.press("space", "down")
    await pilot.pause()
    return table


def ack_elsewhere(url, clock, number: int, who: str = "bob") -> None:
    other = open_services(url, clock)
    other.acknowledge(number, who)
    other.db.dispose()


def outcome_lines(preview: BulkPreview) -> dict[int, bool]:
    return {o.number: o.ok for o in preview.outcomes}


async def test_bulk_acknowledge_reports_the_one_someone_else_took(store, url, clock, app_factory):
    numbers = storm(store)
    toasts = Toasts()
    async with app_factory(store, "alice").run_test(size=(80, 24), message_hook=toasts) as pilot:
        table = await mark_each(pilot, 3)
        assert table.marked == set(numbers)
        await press(pilot, "b")
        await press(pilot, "a")  # acknowledge
        preview = pilot.app.screen
        assert isinstance(preview, BulkPreview) and [i.number for i in preview.items] == numbers
        assert all("new → in progress; assignee — → alice" in i.change for i in preview.items)

        ack_elsewhere(url, clock, numbers[1])  # bob takes one between the preview and the confirmation
        await press(pilot, "y")
        assert outcome_lines(preview) == {numbers[0]: True, numbers[1]: False, numbers[2]: True}
        refused = next(o for o in preview.outcomes if not o.ok)
        assert "changed by bob" in refused.text
        status = str(preview.query_one("#bulk-status").content)
        assert "2 done" in status and "1 refused" in status
        await press(pilot, "enter")
        assert pilot.app.screen.query_one(QueueTable).marked == set()
        assert any("2 done, 1 refused" in t for t in toasts)
    assert [store.get(n).assignee for n in numbers] == ["alice", "bob", "alice"]
    assert all(store.get(n).state is State.IN_PROGRESS for n in numbers)


async def test_mark_all_then_preview_warns_about_a_wrong_state(store, url, clock, app_factory):
    numbers = storm(store)
    ack_elsewhere(url, clock, numbers[2])  # already in progress before anyone marks
    async with app_factory(store, "alice").run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = pilot.app.screen.query_one(QueueTable)
        await press(pilot, "asterisk")
        assert table.marked == set(numbers)
        await press(pilot, "b")
        await press(pilot, "a")
        preview = pilot.app.screen
        warned = {i.number: i.warning for i in preview.items}
        assert warned[numbers[2]] == "already in progress" and not warned[numbers[0]]
        await press(pilot, "y")
        assert outcome_lines(preview) == {numbers[0]: True, numbers[1]: True, numbers[2]: False}
        assert "cannot acknowledge" in next(o.text for o in preview.outcomes if not o.ok)


async def test_escape_from_the_preview_changes_nothing(store, app_factory):
    numbers = storm(store)
    async with app_factory(store).run_test(size=(80, 24)) as pilot:
        await mark_each(pilot, 3)
        await press(pilot, "b")
        await press(pilot, "a")
        await press(pilot, "escape")
        assert pilot.app.screen.query_one(QueueTable).marked == set(numbers)  # marks kept to try again
    assert all(store.get(n).state is State.NEW for n in numbers)


async def test_bulk_merge_as_duplicates_of_one_parent(store, app_factory):
    numbers = storm(store)
    async with app_factory(store, "alice").run_test(size=(80, 24)) as pilot:
        await mark_each(pilot, 3)
        await press(pilot, "b")
        await press(pilot, "m")
        await choose(pilot, "INC-000002")
        await press(pilot, "ctrl+s")
        preview = pilot.app.screen
        assert [i.number for i in preview.items] == [numbers[0], numbers[2]]
        assert all(i.change.startswith("duplicate of INC-000002; new → resolved (duplicate)") for i in preview.items)
        await press(pilot, "y")
        assert all(o.ok for o in preview.outcomes)
    parent = store.get(numbers[1])
    assert parent.state is State.NEW and parent.parent_number is None
    for n in (numbers[0], numbers[2]):
        i = store.get(n)
        assert (i.state, i.parent_number, i.resolution_code) == (State.RESOLVED, numbers[1], "duplicate")
        summaries = [e.summary for e in store.details(n).timeline]
        assert "state new → resolved (duplicate)" in summaries
        assert "duplicate of — → INC-000002" in summaries


async def test_bulk_assign_and_resolve(store, app_factory, type_text):
    numbers = storm(store, 2)
    for n in numbers:
        store.acknowledge(n, "bob")
    async with app_factory(store, "alice").run_test(size=(80, 24)) as pilot:
        await mark_each(pilot, 2)
        await press(pilot, "b")
        await press(pilot, "g")
        await choose(pilot, "platform")
        await pilot.press("tab")
        await type_text(pilot, "nadia")
        await press(pilot, "ctrl+s")
        await press(pilot, "y")
        await press(pilot, "enter")
        assert [(store.get(n).assignment_group, store.get(n).assignee) for n in numbers] == [("platform", "nadia")] * 2

        await mark_each(pilot, 0)
        await press(pilot, "asterisk")
        await press(pilot, "b")
        await press(pilot, "r")
        await choose(pilot, "Service or host restarted")
        await pilot.press("tab")
        await type_text(pilot, "Rebooted")
        await press(pilot, "ctrl+s")
        await press(pilot, "y")
        assert all(o.ok for o in pilot.app.screen.outcomes)
    assert all(store.get(n).resolution_code == "restarted" for n in numbers)
