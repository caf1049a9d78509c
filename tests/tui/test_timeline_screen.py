"""The timeline screen: every event in order with who and when, a kind filter, the hash-chain
status, and exports written where EIM_EXPORT_DIR says — all from the keyboard."""

from __future__ import annotations

import json

import pytest
from lifecycle_helpers import Toasts, log, press, settle
from sqlalchemy import update

from eim_tui.bootstrap import open_services
from eim_tui.config import load_config
from eim_tui.store.tables import TimelineRow
from eim_tui.tui.screens.detail import DetailScreen
from eim_tui.tui.screens.timeline import TimelineScreen


@pytest.fixture
def store(tmp_path, clock):
    svc = open_services(f"sqlite:///{tmp_path}/x.db", clock)
    yield svc
    svc.db.dispose()


def _history(svc) -> int:
    number = log(svc, "VPN drops every 10 minutes", assignment_group="network-ops").number
    svc.acknowledge(number, "alice")
    svc.add_note(number, "alice", "observation", "Drops line up with DHCP renewals")
    svc.assign(number, "alice", assignee="farid")
    svc.put_on_hold(number, "farid", "vendor", "case 99")
    return number


async def open_timeline(pilot, number: int) -> TimelineScreen:
    await settle(pilot)
    pilot.app.push_screen(DetailScreen(number))
    await settle(pilot)
    await press(pilot, "t")
    screen = pilot.app.screen
    assert isinstance(screen, TimelineScreen)
    await settle(pilot)
    return screen


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector).content)


async def test_every_event_in_order_with_a_kind_filter_and_chain_status(store, clock, app_factory):
    number = _history(store)
    async with app_factory(store).run_test(size=(120, 40)) as pilot:
        screen = await open_timeline(pilot, number)
        lines = _text(screen, "#timeline-events").splitlines()
        assert len(lines) == len(store.details(number).timeline) == 6
        assert "monitor" in lines[0] and "logged INC-000001" in lines[0]
        assert "state new → in progress" in lines[1] and "alice" in lines[1]
        assert "observation #1: Drops line up with DHCP renewals" in lines[3]
        assert "assigned network-ops/alice → network-ops/farid" in lines[4]
        assert "on hold (awaiting vendor: case 99)" in lines[5] and "farid" in lines[5]
        assert f"{clock.now().astimezone():%Y-%m-%d %H:%M:%S}" in lines[0]  # the FixedClock, in local time
        assert "chain INTACT: 6 events verified" in _text(screen, "#timeline-chain")

        await press(pilot, "f")  # state
        state_lines = _text(screen, "#timeline-events").splitlines()
        assert len(state_lines) == 3 and all("state" in line or "logged" in line for line in state_lines)
        assert "kind: state (3 of 6)" in _text(screen, "#timeline-title")
        await press(pilot, "f", "f")  # fields, then assignments
        assigned = _text(screen, "#timeline-events").splitlines()
        assert assigned == [lines[2], lines[4]] and all("assigned network-ops/" in line for line in assigned)
        await press(pilot, "f")  # notes
        assert _text(screen, "#timeline-events").splitlines() == [
            line for line in lines if "Drops line up" in line]

        await press(pilot, "c")  # the whole store's chain
        assert "the whole store's chain" in _text(screen, "#timeline-chain")


async def test_a_tampered_event_shows_the_chain_broken(store, app_factory):
    number = _history(store)
    with store.db.write() as session:
        session.execute(update(TimelineRow).where(TimelineRow.seq == 3).values(actor="mallory"))
    async with app_factory(store).run_test(size=(80, 24)) as pilot:
        screen = await open_timeline(pilot, number)
        status = _text(screen, "#timeline-chain")
        assert "chain BROKEN at event 3" in status and "altered" in status


async def test_exports_land_in_eim_export_dir_and_the_toast_says_where(store, tmp_path, monkeypatch, app_factory):
    number = _history(store)
    target = tmp_path / "exports"
    monkeypatch.setenv("EIM_EXPORT_DIR", str(target))
    toasts = Toasts()
    async with app_factory(store, config=load_config()).run_test(size=(80, 24), message_hook=toasts) as pilot:
        await open_timeline(pilot, number)
        await press(pilot, "e")
        await press(pilot, "j")
    report = (target / "INC-000001-report.md").read_text(encoding="utf-8")
    assert report.startswith("# Post-incident report: INC-000001 — VPN drops every 10 minutes")
    assert "| farid | state in progress → on hold (awaiting vendor: case 99) |" in report
    data = json.loads((target / "INC-000001.json").read_text(encoding="utf-8"))
    assert data["key"] == "INC-000001" and len(data["timeline"]) == 6 and data["hold_reason"] == "awaiting_vendor"
    assert any(str(target / "INC-000001-report.md") in t for t in toasts)
    assert any(str(target / "INC-000001.json") in t for t in toasts)
