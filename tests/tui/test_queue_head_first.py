"""A filter (or view, or sort) change paints the queue's head page first and counts the rest after
(QueueScreen.reload(head_first=True)): the first page shown is the first page of the whole result,
the count follows, and a newer filter typed while an older one still loads wins.

400 demo incidents on a SQLite file and the fixed clock; the app at 80x24 (a page of 60 rows).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from eim_tui.domain.filters import parse
from eim_tui.domain.queue import View
from eim_tui.services.demo import generate
from eim_tui.tui.screens.queue import QueueLoaded, QueueScreen
from eim_tui.tui.widgets.queue_table import QueueTable

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
def demo(store):
    generate(store, incidents=400, seed=5)
    return store


async def settle(pilot: Pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_until(pilot: Pilot, condition: Callable[[], bool], what: str, deadline: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while not condition():
        if loop.time() > end:
            pytest.fail(f"gave up waiting: {what}")
        await pilot.pause(0.02)


def title(pilot: Pilot) -> str:
    return str(pilot.app.screen.query_one("#queue-title", Static).content)


async def type_filter(pilot: Pilot, text: str) -> None:
    await pilot.press("slash")
    box = pilot.app.screen.query_one("#queue-filter", Input)
    box.value = text
    await pilot.press("enter")


def full(svc, expression: str) -> list[int]:
    return svc.queue(View.OPEN, parse(expression), "alice", svc.user_groups("alice"))


async def test_the_head_page_is_the_whole_results_first_page_and_the_count_follows(demo, app_factory, monkeypatch):
    seen: list[tuple[bool, list[int], str]] = []  # (complete, numbers, title once handled)
    handled = QueueScreen.on_queue_loaded

    def record(self, message: QueueLoaded) -> None:
        handled(self, message)
        if message.generation == self._generation:
            seen.append((message.complete, list(message.numbers), title_of(self)))

    def title_of(screen) -> str:
        return str(screen.query_one("#queue-title", Static).content)

    monkeypatch.setattr(QueueScreen, "on_queue_loaded", record)
    expected = full(demo, "sev>=2")
    assert len(expected) > 60, "the test needs more matches than a page"
    async with app_factory(demo).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        seen.clear()
        await type_filter(pilot, "sev>=2")
        await settle(pilot)
        table = pilot.app.screen.query_one(QueueTable)
        assert [complete for complete, _, _ in seen] == [False, True], seen
        (_, head, head_title), (_, whole, whole_title) = seen
        assert head == expected[: len(head)] and 0 < len(head) < len(expected)
        assert "(…)" in head_title and "filter: sev>=2" in head_title  # counted only afterwards
        assert whole == expected and f"({len(expected):,})" in whole_title
        assert table.numbers == expected
        assert all(table.row(n) is not None for n in expected[:20])  # the visible rows are loaded


async def test_a_newer_filter_typed_before_an_older_one_finished_wins(demo, app_factory, monkeypatch):
    older_held = threading.Event()
    release = threading.Event()
    asked = demo.queue

    def queue(view, f, user, groups, limit=None, sort=None, **kw):
        if f.text == "sev<=2" and limit is None:  # the older filter's whole list: held back
            older_held.set()
            release.wait(timeout=10)
        return asked(view, f, user, groups, limit=limit, **({"sort": sort} if sort else {}), **kw)

    monkeypatch.setattr(demo, "queue", queue)
    newer = full(demo, "sev>=4")
    async with app_factory(demo).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_filter(pilot, "sev<=2")
        await wait_until(pilot, older_held.is_set, "the older filter's whole list being read")
        await type_filter(pilot, "sev>=4")
        table = pilot.app.screen.query_one(QueueTable)
        await wait_until(pilot, lambda: f"({len(newer):,})" in title(pilot), "the newer filter counted")
        release.set()  # the older load finishes now, after the newer one
        await settle(pilot)
        await pilot.pause(0.2)
        assert "filter: sev>=4" in title(pilot) and f"({len(newer):,})" in title(pilot)
        assert table.numbers == newer


async def test_the_cursor_keeps_its_incident_when_it_lies_past_the_head_page(demo, app_factory):
    async with app_factory(demo).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = pilot.app.screen.query_one(QueueTable)
        await pilot.press("end")
        last = table.cursor_number
        expected = full(demo, "sev>=2")
        assert last in expected and expected.index(last) >= 60, "the test needs it past the first page"
        await type_filter(pilot, "sev>=2")
        await settle(pilot)
        assert table.numbers == expected
        assert table.cursor_number == last
