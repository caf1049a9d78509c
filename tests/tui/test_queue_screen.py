"""The queue screen as a user drives it: views, the filter bar, live countdowns, other people's
changes, the keys (acknowledge, sort, open, help, palette), NO_COLOR and a remapped key.

A hand-made queue (queue_fixtures.py) on a SQLite file and a fixed clock; timers run fast
(poll 0.2 s, tick 0.1 s) and waits poll the screen with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta

import pytest
from queue_fixtures import (
    CHECKOUT_MAJOR,
    DISK_FULL,
    DISK_LATENCY_HOLD,
    EXPECTED_VIEWS,
    NOW,
    PAYMENTS_502,
    PRINTER,
    SSO_WARNING,
    VPN_DROPS,
    fill_queue,
)
from rich.console import Console
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import Input, Static

from eim_tui.bootstrap import open_services
from eim_tui.config import load_config
from eim_tui.domain.clock import FixedClock
from eim_tui.domain.filters import Filter
from eim_tui.domain.model import EventKind, State
from eim_tui.domain.queue import View
from eim_tui.tui.app import EimApp
from eim_tui.tui.dialogs.help import HelpScreen
from eim_tui.tui.screens.detail import DetailScreen
from eim_tui.tui.screens.queue import QueueScreen
from eim_tui.tui.widgets.queue_table import QueueTable

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/q.db"


@pytest.fixture
def svc(url, clock):
    services = open_services(url, clock)
    fill_queue(services, clock)
    yield services
    services.db.dispose()


# The queue's own timers run fast; no SLA scheduler (app_factory's default): its warnings would be
# changes of their own, racing the ones under test.
FAST = dict(poll_interval=0.2, tick_interval=0.1)


async def settle(pilot: Pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_until(pilot: Pilot, condition: Callable[[], bool], what: str, deadline: float = 10.0) -> None:
    """Poll the screen until `condition` holds; fail after `deadline` seconds saying `what`."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while not condition():
        if loop.time() > end:
            pytest.fail(f"gave up waiting: {what}")
        await pilot.pause(0.05)


def table_of(pilot: Pilot) -> QueueTable:
    return pilot.app.screen.query_one(QueueTable)


def title(pilot: Pilot) -> str:
    return str(pilot.app.screen.query_one("#queue-title", Static).content)


def status(pilot: Pilot) -> str:
    return str(pilot.app.screen.query_one("#queue-status", Static).content)


def line_of(table: QueueTable, number: int) -> str:
    """The text the table draws for incident `number` (it must be on screen)."""
    index = table.numbers.index(number)
    y = index - table.scroll_offset.y + 1  # line 0 is the header
    assert 1 <= y < table.scrollable_content_region.height, f"INC-{number:06d} is not on screen"
    return table.render_line(y).text


async def apply_filter(pilot: Pilot, text: str, key: str = "slash") -> None:
    await pilot.press(key)
    box = pilot.app.screen.query_one("#queue-filter", Input)
    assert box.display and box.has_focus
    box.value = text
    await pilot.press("enter")
    await settle(pilot)


# --- views --------------------------------------------------------------------------------------

async def test_v_steps_through_every_view_showing_its_incidents(svc, app_factory):
    app = app_factory(svc, **FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = table_of(pilot)
        assert table.numbers == EXPECTED_VIEWS["open"]
        assert "All open (7)" in title(pilot)
        seen = ["open"]
        for _ in range(len(View)):
            await pilot.press("v")
            await settle(pilot)
            view = app.screen.view
            seen.append(view.value)
            assert table.numbers == EXPECTED_VIEWS[view.value], view
            # The store's own answer for alice agrees with what is drawn.
            assert table.numbers == svc.queue(view, Filter(), "alice", svc.user_groups("alice"))
            assert f"{view.label} ({len(EXPECTED_VIEWS[view.value])})" in title(pilot)
        assert seen == [v.value for v in View] + ["open"]  # and round to the first again


async def test_rows_show_key_severity_state_owner_and_sla_in_words(svc, app_factory):
    app = app_factory(svc, **FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = table_of(pilot)
        breached = line_of(table, PAYMENTS_502)
        assert breached.split()[:3] == ["INC-000001", "S1", "new"]
        assert "BREACHED 5m" in breached and "app-support/—" in breached
        assert "S1★" in line_of(table, CHECKOUT_MAJOR)  # major
        assert "⚠ 5m00s" in line_of(table, SSO_WARNING)
        assert "paused" in line_of(table, DISK_LATENCY_HOLD)
        assert "dba/alice" in line_of(table, DISK_FULL)


# --- the filter bar -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("sev<=2", [PAYMENTS_502, CHECKOUT_MAJOR, SSO_WARNING, DISK_FULL]),
        ("state:new", [PAYMENTS_502, SSO_WARNING, VPN_DROPS, PRINTER]),
        ("service:payments", [PAYMENTS_502]),
        ("assignee:me", [DISK_FULL]),
        ("breached", [PAYMENTS_502]),
        ("disk", [DISK_FULL, DISK_LATENCY_HOLD]),
        ("disk sev<=2", [DISK_FULL]),
    ],
)
async def test_filter_bar_filters_the_queue(svc, expression, expected, app_factory):
    app = app_factory(svc, **FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await apply_filter(pilot, expression)
        assert table_of(pilot).numbers == expected
        assert f"filter: {expression}" in title(pilot)
        assert not app.screen.query_one("#queue-filter", Input).display  # the bar closes
        assert table_of(pilot).has_focus


async def test_invalid_filter_says_what_is_wrong_and_keeps_the_previous_results(svc, app_factory):
    app = app_factory(svc, **FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await apply_filter(pilot, "sev<=2")
        before = list(table_of(pilot).numbers)
        await apply_filter(pilot, "sev<=9 disk")
        assert "severity must be a number 1–5" in status(pilot)
        assert table_of(pilot).numbers == before
        assert "filter: sev<=2" in title(pilot) and app.screen.filter.text == "sev<=2"
        box = app.screen.query_one("#queue-filter", Input)
        assert box.display and box.value == "sev<=9 disk"  # still there to correct
        await apply_filter(pilot, "colour:red", key="enter")  # the bar is still focused
        assert "unknown field 'colour'" in status(pilot)
        assert table_of(pilot).numbers == before


async def test_escape_closes_the_bar_then_drops_the_filter(svc, app_factory):
    app = app_factory(svc, **FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await apply_filter(pilot, "service:payments")
        assert table_of(pilot).numbers == [PAYMENTS_502]
        await pilot.press("escape")
        await settle(pilot)
        assert table_of(pilot).numbers == EXPECTED_VIEWS["open"]
        assert "filter:" not in title(pilot)


# --- time and other people ----------------------------------------------------------------------

async def test_countdown_ticks_with_the_clock_and_turns_breached(svc, clock, app_factory):
    app = app_factory(svc, **FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = table_of(pilot)
        assert "⚠ 5m00s" in line_of(table, SSO_WARNING)
        clock.advance(timedelta(seconds=10))
        await wait_until(pilot, lambda: "⚠ 4m50s" in line_of(table, SSO_WARNING), "the countdown to read 4m50s")
        clock.advance(timedelta(minutes=4, seconds=50))  # exactly the due instant
        await wait_until(pilot, lambda: "BREACHED" in line_of(table, SSO_WARNING), "the row to read BREACHED")
        clock.advance(timedelta(minutes=12))
        await wait_until(pilot, lambda: "BREACHED 12m" in line_of(table, SSO_WARNING), "BREACHED 12m")


async def test_a_change_from_another_process_appears_and_the_cursor_stays(svc, url, app_factory):
    app = app_factory(svc, **FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = table_of(pilot)
        await pilot.press("down", "down", "down")
        assert table.cursor_number == DISK_FULL and table.cursor_index == 3
        # A real `eim new` in another process, while the app runs (its clock is the real one).
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "eim_tui", "--db", url, "--user", "grace", "new",
            "--title", "Core switch down in building B", "--impact", "1", "--urgency", "1",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
        assert out.decode().strip() == "INC-000009"
        await wait_until(pilot, lambda: 9 in table.numbers, "INC-000009 to appear in the queue")
        assert table.numbers.index(9) < table.numbers.index(DISK_FULL)  # a Sev1 goes above a Sev2
        assert table.cursor_number == DISK_FULL and table.cursor_index == 4
        assert "All open (8)" in title(pilot)


# --- keys ---------------------------------------------------------------------------------------

async def test_a_acknowledges_and_takes_the_incident_under_the_cursor(svc, app_factory):
    app = app_factory(svc, **FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert table_of(pilot).cursor_number == PAYMENTS_502
        await pilot.press("a")
        await settle(pilot)
        incident = svc.get(PAYMENTS_502)
        assert incident.state is State.IN_PROGRESS
        assert incident.acknowledged_at == NOW and incident.assignee == "alice"
        by_alice = [e for e in svc.details(PAYMENTS_502).timeline if e.actor == "alice"]
        assert {e.kind for e in by_alice} == {EventKind.STATE_CHANGED, EventKind.ASSIGNED}
        assert all(e.at == NOW for e in by_alice)
        await wait_until(pilot, lambda: "in prog" in line_of(table_of(pilot), PAYMENTS_502), "the row to update")
        assert "app-su…/alice" in line_of(table_of(pilot), PAYMENTS_502)  # at 80 columns the group is cut


async def test_s_cycles_the_sort_order(svc, app_factory):
    app = app_factory(svc, **FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        open_numbers = EXPECTED_VIEWS["open"]
        await pilot.press("s")
        await settle(pilot)
        assert "sort: Newest first" in title(pilot)
        assert table_of(pilot).numbers == sorted(open_numbers, reverse=True)
        await pilot.press("s")
        await settle(pilot)
        assert "sort: Oldest first" in title(pilot)
        assert table_of(pilot).numbers == sorted(open_numbers)
        await pilot.press("s", "s")
        await settle(pilot)
        assert "sort: SLA within severity" in title(pilot)
        assert table_of(pilot).numbers == open_numbers


async def test_enter_opens_the_incident_under_the_cursor(svc, app_factory):
    app = app_factory(svc, **FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.number == CHECKOUT_MAJOR
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen) and table_of(pilot).cursor_number == CHECKOUT_MAJOR


def _declared_bindings() -> list[Binding]:
    """Every binding with a description the queue declares: the table's, the screen's, the app's."""
    declared = [*QueueTable.BINDINGS, *QueueScreen.BINDINGS, *EimApp.BINDINGS]
    return [b for b in Binding.make_bindings(declared) if b.description]


async def test_help_lists_every_binding_of_the_queue(svc, app_factory):
    app = app_factory(svc, **FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down")  # an incident in progress: `a` is not available right now
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=220, file=io.StringIO(), record=True)
        console.print(app.screen.query_one("#help-keys", Static).content)
        lines = console.export_text().splitlines()
        for binding in _declared_bindings():
            key = app.get_key_display(binding)
            does = binding.tooltip or binding.description
            assert any(key in line.split() and does in line for line in lines), (key, does)
        assert any("Acknowledge and take" in line and "(not now)" in line for line in lines)
        assert any(line.split()[:2] == ["↑", "k"] and "Previous incident" in line for line in lines)  # one row
        assert any('[keymap] "queue.filter" = "f"' in line for line in lines)  # how to remap
        assert not any("Scroll Left" in line for line in lines)  # the queue never scrolls sideways
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


async def test_palette_lists_the_queue_actions_and_views(svc, app_factory):
    app = app_factory(svc, **FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for binding in _declared_bindings():
            if binding.action in ("acknowledge", "bulk", "clear_marks", "clear_alerts") or binding.show is False and binding.action == "clear_filter":
                continue  # offered only when they apply (checked below for acknowledge; clear_alerts
                # in tests/tui/test_small_terminal_alerts.py)
            assert any(t.startswith(f"{binding.description} (") for t in titles), binding.description
        assert any(t.startswith("Ack+take (") for t in titles)  # the cursor is on a new incident
        for view in View:
            assert f"View: {view.label}" in titles
        palette = {command.title: command for command in app.get_system_commands(app.screen)}
        palette["View: Major"].callback()
        await settle(pilot)
        assert table_of(pilot).numbers == EXPECTED_VIEWS["major"]


# --- terminals and settings ---------------------------------------------------------------------

async def test_no_color_still_reads_severity_and_sla_by_text(svc, monkeypatch, app_factory):
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_factory(svc, **FAST)
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = table_of(pilot)
        assert "S1" in line_of(table, PAYMENTS_502) and "BREACHED" in line_of(table, PAYMENTS_502)
        assert "⚠" in line_of(table, SSO_WARNING) and "paused" in line_of(table, DISK_LATENCY_HOLD)
        assert "S5" in line_of(table, PRINTER)


async def test_a_remapped_key_opens_the_filter(svc, tmp_path, monkeypatch, app_factory):
    config = tmp_path / "config.toml"
    config.write_text('[keymap]\n"queue.filter" = "f"\n', encoding="utf-8")
    monkeypatch.setenv("EIM_CONFIG", str(config))
    app = app_factory(svc, config=load_config(), **FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        box = app.screen.query_one("#queue-filter", Input)
        await pilot.press("slash")
        assert not box.display  # the old key no longer opens it
        await apply_filter(pilot, "service:payments", key="f")
        assert table_of(pilot).numbers == [PAYMENTS_502]


def test_a_malformed_config_stops_eim_with_one_line(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[keymap]\n"queue.filter" = \n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "eim_tui", "--db", f"sqlite:///{tmp_path}/x.db"],
        env={"EIM_CONFIG": str(config), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and str(config) in result.stderr and "line 2" in result.stderr
