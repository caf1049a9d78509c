"""Snapshots of the detail screen, the timeline screen, each lifecycle form and the bulk-triage
screens, at 80x24 and 120x40.

A fixed clock (2026-11-26 09:00 UTC), a store seeded through the use cases, TZ=UTC and cursors
that do not blink make each picture the same on every machine. Each was accepted after looking
at it (converted with rsvg-convert).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from eim_tui.bootstrap import open_services
from eim_tui.domain.clock import FixedClock
from eim_tui.domain.intake import NewIncident
from eim_tui.tui.app import EimApp
from eim_tui.tui.screens.detail import DetailScreen

FIXED_NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
REVIEW = {
    "summary": "A failed supervisor card took the campus core offline for 40 minutes.",
    "highlights": "07:02 first alerts; 07:15 major declared; 07:40 card swapped; 08:10 verified.",
    "went_well": "The spare card was on site; the status page went out in 10 minutes.",
    "went_badly": "No redundant supervisor; the vendor hotline took 25 minutes to answer.",
    "actions": [{"action": "Install a second supervisor card", "owner": "dmitri"},
                {"action": "Add the vendor escalation number to the runbook", "owner": "farid"}],
}


def _seed(svc, clock: FixedClock) -> None:
    """#1 a closed major incident with its review · #2 on hold · #3 in progress · #4 resolved ·
    #5 resolved major (no review yet) · #6–#8 a storm of new ones."""
    clock.set(FIXED_NOW - timedelta(hours=2))
    log = svc.log_incident
    one = log(NewIncident("Core switch failure: campus A offline [prod]", 1, 1, service="core-network",
                          configuration_item="core-sw-01", category="network", subcategory="lan",
                          assignment_group="network-ops", reporter_name="Grace Hopper", reporter_contact="x1234",
                          reporter_department="Service desk",
                          description="Every floor of building A lost the network at 07:00. Phones are down too."),
              "monitoring")
    clock.advance(timedelta(minutes=4))
    svc.acknowledge(one.number, "dmitri")
    svc.set_major(one.number, "dmitri", True)
    svc.add_note(one.number, "dmitri", "observation", "Supervisor card LED red; standby did not take over")
    clock.advance(timedelta(minutes=40))
    svc.link(one.number, "dmitri", problem_ref="PRB-0042", change_ref="CHG-1234")
    svc.resolve(one.number, "dmitri", "hardware_replaced", "Swapped the supervisor card",
                "Ping sweep of all floors", "Status page and an e-mail to all staff")
    clock.advance(timedelta(minutes=30))
    svc.close(one.number, "chen", "grace", 4, "Fast once the card arrived", "Keep a spare on site", REVIEW)

    clock.set(FIXED_NOW - timedelta(minutes=50))
    two = log(NewIncident("VPN drops every 10 minutes for remote staff", 2, 2, service="vpn",
                          assignment_group="network-ops", reporter_name="Ada Lovelace"), "grace")
    clock.advance(timedelta(minutes=5))
    svc.acknowledge(two.number, "alice")
    svc.put_on_hold(two.number, "alice", "vendor", "Vendor case 99812 open")
    three = log(NewIncident("Payroll export job fails at 02:00", 2, 3, service="erp",
                            assignment_group="app-support"), "uma")
    svc.acknowledge(three.number, "uma")
    four = log(NewIncident("Printer on floor 3 jams", 3, 3, assignment_group="end-user-computing"), "kofi")
    svc.acknowledge(four.number, "kofi")
    svc.resolve(four.number, "kofi", "hardware_replaced", "Replaced the pickup roller")
    five = log(NewIncident("Checkout p99 latency over 2 s", 1, 2, service="checkout-web",
                           assignment_group="app-support"), "monitoring")
    svc.acknowledge(five.number, "nadia")
    svc.set_major(five.number, "nadia", True)
    svc.resolve(five.number, "nadia", "rolled_back", "Rolled back release 2026.11.3")
    for n in range(1, 4):
        clock.advance(timedelta(minutes=1))
        log(NewIncident(f"Disk full on db-0{n}", 2, 2, service="payments", assignment_group="dba"), "monitoring")
    clock.set(FIXED_NOW)


@pytest.fixture
def make(tmp_path, app_factory):
    made = []

    def _make(user: str = "chen") -> EimApp:
        clock = FixedClock(FIXED_NOW)
        svc = open_services(f"sqlite:///{tmp_path}/eim.db", clock)
        if svc.change_marker() == 0:
            _seed(svc, clock)
        made.append(svc)
        return app_factory(svc, user)

    yield _make
    for svc in made:
        svc.db.dispose()


async def settle(pilot: Pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    for widget in pilot.app.screen.query("Input, TextArea").results():
        if isinstance(widget, (Input, TextArea)):
            widget.cursor_blink = False
    await pilot.pause()


async def detail(pilot: Pilot, number: int, *keys: str) -> None:
    await settle(pilot)
    pilot.app.push_screen(DetailScreen(number))
    await settle(pilot)
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


def snap(snap_compare, app: EimApp, size, number: int, *keys: str, after=None) -> bool:
    async def run_before(pilot: Pilot) -> None:
        await detail(pilot, number, *keys)
        if after is not None:
            await after(pilot)
            await settle(pilot)

    return snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_detail_of_a_closed_major_incident(snap_compare, make, size) -> None:
    assert snap(snap_compare, make(), size, 1)


@SIZES
def test_detail_of_an_incident_on_hold(snap_compare, make, size) -> None:
    assert snap(snap_compare, make(), size, 2)


@SIZES
def test_timeline(snap_compare, make, size) -> None:
    assert snap(snap_compare, make(), size, 1, "t")


# One snapshot per form, opened by its key from the detail screen.
FORMS = [
    ("assign", 2, "g"), ("category", 2, "c"), ("link", 2, "l"), ("hold", 3, "h"), ("resolve", 3, "r"),
    ("cancel", 3, "z"), ("close", 4, "x"), ("reopen", 4, "o"), ("close_major_review", 5, "x"),
]


@SIZES
@pytest.mark.parametrize("name,number,key", FORMS, ids=[f[0] for f in FORMS])
def test_form(snap_compare, make, size, name, number, key) -> None:
    assert snap(snap_compare, make(), size, number, key)


@SIZES
def test_priority_form_with_an_override_missing_its_reason(snap_compare, make, size) -> None:
    async def override(pilot: Pilot) -> None:
        await pilot.press("tab", "tab")  # impact → urgency → override (the computed line takes no focus)
        await pilot.press("enter", "down", "enter")  # Sev1
        await pilot.press("ctrl+s")

    assert snap(snap_compare, make(), size, 2, "p", after=override)


@SIZES
def test_form_given_back_after_a_conflict(snap_compare, make, size, type_text) -> None:
    app = make()

    async def conflict(pilot: Pilot) -> None:
        await pilot.press("tab", "end", *(["backspace"] * 10))
        await type_text(pilot, "farid")
        app.services.assign(2, "dmitri", assignee="lucia")  # someone else, meanwhile
        await pilot.press("ctrl+s")

    assert snap(snap_compare, app, size, 2, "g", after=conflict)


@SIZES
def test_bulk_preview_of_an_acknowledge(snap_compare, make, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("asterisk", "b")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)

    assert snap_compare(make(), terminal_size=size, run_before=run_before)


@SIZES
def test_bulk_menu(snap_compare, make, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("space", "down", "space", "b")
        await settle(pilot)

    assert snap_compare(make(), terminal_size=size, run_before=run_before)
