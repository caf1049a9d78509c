"""Roles and confidentiality in the TUI: the queue shows a placeholder for a confidential incident to
anyone outside the security group, no filter word finds it, the detail screen refuses it, and the
keys a role may not use are greyed (and do nothing) in the queue and on the detail screen."""

from __future__ import annotations

import pytest
from lifecycle_helpers import log, press, settle

from eim_tui.bootstrap import open_services
from eim_tui.domain.model import State
from eim_tui.tui.screens.detail import DetailScreen
from eim_tui.tui.widgets.queue_table import QueueTable

SECRET = "Phishing [urgent] to finance"


@pytest.fixture
def store(tmp_path, clock):
    svc = open_services(f"sqlite:///{tmp_path}/x.db", clock)
    yield svc
    svc.db.dispose()


@pytest.fixture
def secret(store) -> int:
    log(store, "Disk full on db01", impact=3, urgency=3)
    return log(store, SECRET, category="security", service="email", assignment_group="security-ops",
               assignee="rania", description="mail from evil.example").number


def screen_text(pilot) -> str:
    return pilot.app.export_screenshot().replace("&#160;", " ")


def greyed(screen) -> set[str]:
    """Actions shown but disabled: what `check_action` answered None for."""
    return {b.binding.action for b in screen.active_bindings.values() if not b.enabled}


def enabled(screen) -> set[str]:
    return {b.binding.action for b in screen.active_bindings.values() if b.enabled}


async def test_the_queue_shows_a_placeholder_outside_the_security_group(store, secret, app_factory) -> None:
    async with app_factory(store, "alice").run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = pilot.app.screen.query_one(QueueTable)
        row = table.row(secret)
        assert row is not None
        assert (row.title, row.service, row.assignment_group, row.assignee) == ("confidential", "", "", "")
        assert (row.priority, row.category) == (3, "security")
        screen = screen_text(pilot)
        assert "confidential" in screen and "Phishing" not in screen and "rania" not in screen


async def test_the_security_group_sees_the_title_in_the_queue(store, secret, app_factory) -> None:
    async with app_factory(store, "rania").run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        row = pilot.app.screen.query_one(QueueTable).row(secret)
        assert row is not None and (row.title, row.assignee) == (SECRET, "rania")
        assert "Phishing" in screen_text(pilot)


async def test_a_filter_word_from_a_confidential_title_finds_nothing(store, secret, app_factory, type_text) -> None:
    async with app_factory(store, "alice").run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = pilot.app.screen.query_one(QueueTable)
        assert secret in table.numbers
        await press(pilot, "slash")
        await type_text(pilot, "phishing")
        await press(pilot, "enter")
        assert table.numbers == []
        await press(pilot, "slash")
        await press(pilot, *(["backspace"] * len("phishing")))
        await type_text(pilot, "INC-000002")
        await press(pilot, "enter")
        assert table.numbers == [secret]


async def test_a_non_member_cannot_open_a_confidential_incident(store, secret, app_factory) -> None:
    async with app_factory(store, "alice").run_test(size=(120, 40)) as pilot:
        pilot.app.push_screen(DetailScreen(secret))
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, DetailScreen) and screen.details is None
        text = screen_text(pilot)
        assert "is confidential" in text and "Phishing" not in text and "evil.example" not in text


async def test_a_viewer_finds_every_change_greyed_and_keys_do_nothing(store, app_factory) -> None:
    number = log(store, "Disk full on db01").number
    async with app_factory(store, "yara").run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = pilot.app.screen
        assert {"acknowledge", "new_incident"} <= greyed(queue)
        assert {"filter", "next_view"} <= enabled(queue)
        await press(pilot, "a")
        assert store.get(number).state is State.NEW
        await press(pilot, "enter")
        detail = pilot.app.screen
        assert isinstance(detail, DetailScreen) and detail.details is not None
        assert {"acknowledge", "assign", "prioritize", "categorize", "major", "link", "cancel"} <= greyed(detail)
        assert {"back", "timeline"} <= enabled(detail)
        await press(pilot, "a")
        await press(pilot, "z")
        assert store.get(number).state is State.NEW and store.get(number).version == 1


async def test_a_responder_may_not_cancel_or_close_a_major_incident_but_a_lead_may(store, app_factory) -> None:
    number = log(store, "Checkout down", major=True).number
    store.acknowledge(number, "system")
    store.resolve(number, "system", next(iter(store.ref.resolution_codes)), "restarted")
    open_one = log(store, "Mail slow").number
    for user, allowed in (("alice", False), ("lead", True)):
        async with app_factory(store, user).run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            pilot.app.push_screen(DetailScreen(number))
            await settle(pilot)
            resolved_major = pilot.app.screen
            assert ("close" in enabled(resolved_major)) is allowed
            assert ("close" in greyed(resolved_major)) is not allowed
            assert "reopen" in enabled(resolved_major)
            pilot.app.pop_screen()
            pilot.app.push_screen(DetailScreen(open_one))
            await settle(pilot)
            fresh = pilot.app.screen
            assert ("cancel" in enabled(fresh)) is allowed and "acknowledge" in enabled(fresh)
            if not allowed:
                await press(pilot, "z")
                assert pilot.app.screen is fresh  # no cancel form opened
