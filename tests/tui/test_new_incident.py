"""The new-incident form, driven from the keyboard: fields, live priority, routing proposal,
inline validation, the duplicate check, and the draft that survives the app being torn down."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, TextArea

from eim_tui.bootstrap import open_services
from eim_tui.domain.drafts import NEW_INCIDENT
from eim_tui.domain.intake import NewIncident
from eim_tui.domain.model import EventKind, Source, State
from eim_tui.services.drafts import Drafts
from eim_tui.tui.dialogs.confirm import ConfirmScreen
from eim_tui.tui.dialogs.duplicates import DuplicatesScreen
from eim_tui.tui.dialogs.new_incident import NewIncidentScreen


@pytest.fixture
def svc(tmp_path, clock):
    services = open_services(f"sqlite:///{tmp_path}/eim.db", clock)
    yield services
    services.db.dispose()


@pytest.fixture(autouse=True)
def quick_drafts(monkeypatch) -> None:
    monkeypatch.setattr(NewIncidentScreen, "DRAFT_DELAY", 0.05)
    monkeypatch.setattr(NewIncidentScreen, "PROPOSAL_DELAY", 0.05)


async def wait_until(pilot: Pilot, predicate: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """Poll the app (not a timed assertion: the deadline only stops a hung test)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await pilot.pause(0.02)


async def open_form(pilot: Pilot) -> NewIncidentScreen:
    await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "QueueScreen", "the queue")
    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, NewIncidentScreen), "the form")
    form = pilot.app.screen
    await wait_until(pilot, lambda: form.draft.enabled, "the draft check")
    return form


async def choose(pilot: Pilot, steps_down: int) -> None:
    """Pick an option of the focused Select (from blank: 1 down = the first option)."""
    await pilot.press("enter", *(["down"] * steps_down), "enter")


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def focused_id(pilot: Pilot) -> str | None:
    return pilot.app.focused.id if pilot.app.focused else None


def asking(app) -> bool:
    """A ConfirmScreen is up with its question drawn (pushed, it composes a moment later)."""
    return isinstance(app.screen, ConfirmScreen) and bool(app.screen.query("#confirm-question"))


async def test_fill_every_field_with_the_keyboard_and_save(svc, clock, app_factory, type_text) -> None:
    app = app_factory(svc)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        form = await open_form(pilot)
        assert focused_id(pilot) == "field-title"
        await type_text(pilot, "Printer on floor 3 jams")
        await pilot.press("tab")
        assert focused_id(pilot) == "field-description"
        await type_text(pilot, "Paper jam light on")
        await pilot.press("tab")
        await choose(pilot, 2)  # impact 2
        await pilot.press("tab")
        await choose(pilot, 3)  # urgency 3
        await pilot.press("tab")
        assert focused_id(pilot) == "field-service"
        await type_text(pilot, "emai")
        await pilot.press("right", "tab")  # → takes the completion
        assert form.value_of("service") == "email"
        await type_text(pilot, "exch")
        await pilot.press("right", "tab")
        assert form.value_of("ci") == "exch-01.mail.internal"
        await type_text(pilot, "10m ago")
        await pilot.press("tab")
        await pilot.press("enter", "down", "down", "enter", "tab")  # source: from user report to email
        await choose(pilot, 4)  # severity guess Sev4
        await pilot.press("tab")
        await choose(pilot, 1)  # category hardware
        await pilot.press("tab")
        await choose(pilot, 5)  # subcategory printer
        await pilot.press("tab")
        await choose(pilot, 7)  # group end-user-computing
        for text in ("Dana Reyes", "dana@example.com", "Finance"):  # reporter, contact, department
            await pilot.press("tab")
            await type_text(pilot, text)
        assert focused_id(pilot) == "field-department"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DetailScreen", "the detail screen")
        assert app.screen.number == 1
        assert any("INC-000001 logged" in n.message for n in app._notifications)
    incident = svc.get(1)
    assert (incident.title, incident.description) == ("Printer on floor 3 jams", "Paper jam light on")
    assert (incident.impact, incident.urgency, incident.priority) == (2, 3, 4)
    assert (incident.service, incident.configuration_item) == ("email", "exch-01.mail.internal")
    assert incident.source is Source.EMAIL
    assert incident.detected_at == clock.now() - __import__("datetime").timedelta(minutes=10)
    assert (incident.initial_severity, incident.category, incident.subcategory) == (4, "hardware", "printer")
    assert incident.assignment_group == "end-user-computing"
    assert (incident.reporter_name, incident.reporter_contact, incident.reporter_department) == (
        "Dana Reyes", "dana@example.com", "Finance")
    assert incident.created_by == "alice" and incident.state is State.NEW
    assert Drafts(svc.db).load("alice", NEW_INCIDENT) is None


async def test_the_priority_is_shown_live_as_impact_and_urgency_change(svc, app_factory) -> None:
    async with app_factory(svc).run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot)
        assert "choose impact and urgency" in text_of(form, "#field-priority")
        form.query_one("#field-impact").focus()
        await choose(pilot, 1)
        await pilot.press("tab")
        await choose(pilot, 2)
        await pilot.pause()
        assert text_of(form, "#field-priority") == "→ Sev2 (high) · response 30m · resolution 8h"
        await pilot.press("enter", "up", "enter")  # urgency 2 → 1
        await pilot.pause()
        assert text_of(form, "#field-priority") == "→ Sev1 (critical) · response 15m · resolution 4h"
        await pilot.press("shift+tab", "enter", "down", "down", "enter")  # impact 1 → 3
        await pilot.pause()
        assert text_of(form, "#field-priority") == "→ Sev3 (moderate) · response 4h · resolution 3d"


async def test_a_routing_proposal_is_accepted_with_one_key(svc, app_factory, type_text) -> None:
    async with app_factory(svc).run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot)
        assert form.check_action("accept_proposal", ()) is False
        await type_text(pilot, "VPN drops every 5 minutes")
        await wait_until(pilot, lambda: form.proposal is not None, "a proposal")
        proposal = text_of(form, "#field-proposal")
        assert "Proposed: network › vpn → network-ops" in proposal
        assert "proposed because: mentions the VPN" in proposal
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert (form.value_of("category"), form.value_of("subcategory"), form.value_of("group")) == (
            "network", "vpn", "network-ops")
        assert text_of(form, "#field-proposal").startswith("✓ Using network › vpn → network-ops")
        assert form.check_action("accept_proposal", ()) is False
        assert focused_id(pilot) == "field-title"  # accepting does not move the cursor
        form.query_one("#field-impact").focus()
        await choose(pilot, 3)
        await pilot.press("tab")
        await choose(pilot, 3)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "DetailScreen", "the detail screen")
    incident = svc.get(1)
    assert (incident.category, incident.subcategory, incident.assignment_group) == ("network", "vpn", "network-ops")


async def test_validation_errors_appear_under_their_fields(svc, app_factory, type_text) -> None:
    async with app_factory(svc).run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "A title is required" in text_of(form, "#error-title")
        assert form.query_one("#error-title").has_class("-shown")
        assert "Choose the impact" in text_of(form, "#error-impact")
        assert "Choose the urgency" in text_of(form, "#error-urgency")
        assert focused_id(pilot) == "field-title"  # the first bad field takes the cursor
        await type_text(pilot, "Payroll export fails")
        assert not form.query_one("#error-title").has_class("-shown")  # typing clears it
        form.query_one("#field-service", Input).value = "paymnts"
        form.query_one("#field-detected", Input).value = "yesterday-ish"
        form.query_one("#field-ci", Input).value = "exch-01.mail.internal"
        form.query_one("#field-impact", Select).value = 2
        form.query_one("#field-urgency", Select).value = 2
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Unknown service 'paymnts'" in text_of(form, "#error-service")
        assert "cannot read 'yesterday-ish' as a time" in text_of(form, "#error-detected")
        assert not form.query_one("#error-impact").has_class("-shown")
        assert focused_id(pilot) == "field-service"
        form.query_one("#field-service", Input).value = "payments"
        form.query_one("#field-detected", Input).value = "14:05"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert text_of(form, "#error-ci") == "exch-01.mail.internal belongs to email, not payments"
        assert isinstance(pilot.app.screen, NewIncidentScreen)
    with svc.db.read() as session:
        from sqlalchemy import func, select

        from eim_tui.store.tables import IncidentRow

        assert session.execute(select(func.count()).select_from(IncidentRow)).scalar_one() == 0


async def _fill_duplicate(pilot: Pilot, type_text) -> NewIncidentScreen:
    form = await open_form(pilot)
    await type_text(pilot, "payments API returns 502 errors")
    form.query_one("#field-service", Input).value = "payments"
    form.query_one("#field-impact", Select).value = 1
    form.query_one("#field-urgency", Select).value = 1
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, DuplicatesScreen), "the duplicate check")
    return form


async def test_the_duplicate_check_offers_a_similar_open_incident_and_links_to_it(svc, app_factory, type_text) -> None:
    first = svc.log_incident(NewIncident("Payments API returns 502", 1, 2, service="payments"), "bob")
    svc.log_incident(NewIncident("Printer jams", 3, 3, service="payments"), "bob")
    app = app_factory(svc)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await _fill_duplicate(pilot, type_text)
        question = app.screen
        offered = [s.number for s in question.similar]
        assert offered == [first.number]
        assert "INC-000001" in str(question.query_one("#duplicates-list").get_option_at_index(0).prompt)
        await pilot.press("enter")  # link as a duplicate of the highlighted one
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DetailScreen", "the detail screen")
        assert app.screen.number == 3
        assert any("as a duplicate of INC-000001" in n.message for n in app._notifications)
    child = svc.details(3)
    assert child.incident.parent_number == first.number
    linked = [e for e in child.timeline if e.kind is EventKind.LINKED]
    assert len(linked) == 1 and linked[0].summary == "logged as a duplicate of INC-000001"
    assert linked[0].data == {"field": "parent_number", "old": None, "new": 1}


async def test_the_duplicate_check_can_be_overruled_or_backed_out_of(svc, app_factory, type_text) -> None:
    svc.log_incident(NewIncident("Payments API returns 502", 1, 2, service="payments"), "bob")
    app = app_factory(svc)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await _fill_duplicate(pilot, type_text)
        await pilot.press("escape")  # back to the form, nothing saved
        await wait_until(pilot, lambda: app.screen is form, "the form again")
        assert form.value_of("title") == "payments API returns 502 errors"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, DuplicatesScreen), "the duplicate check again")
        await pilot.press("n")  # save as new anyway
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DetailScreen", "the detail screen")
    assert svc.get(2).parent_number is None
    assert [e.kind for e in svc.details(2).timeline] == [EventKind.CREATED]


async def test_a_draft_survives_the_app_being_torn_down_mid_typing(svc, app_factory, type_text) -> None:
    drafts = Drafts(svc.db)
    async with app_factory(svc).run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot)
        await type_text(pilot, "Wi-Fi in building B keeps drop")
        await pilot.press("tab")
        await type_text(pilot, "Since the AP firmware upd")
        form.query_one("#field-impact", Select).value = 2
        await wait_until(pilot, lambda: (d := drafts.load("alice", NEW_INCIDENT)) is not None
                         and d.content.get("description") == "Since the AP firmware upd"
                         and d.content.get("impact") == 2, "the draft")
    # The app is gone without saving; a new one offers the draft back.
    app = app_factory(svc)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await wait_until(pilot, lambda: asking(app), "the restore question")
        assert "Restore the draft from 09:00?" in str(app.screen.query_one("#confirm-question", Static).render())
        await pilot.press("y")
        form = app.screen
        assert isinstance(form, NewIncidentScreen)
        await pilot.pause()
        assert form.value_of("title") == "Wi-Fi in building B keeps drop"
        assert form.query_one("#field-description", TextArea).text == "Since the AP firmware upd"
        assert form.value_of("impact") == 2
        await pilot.press("end")
        await type_text(pilot, "ping")
        form.query_one("#field-urgency", Select).value = 2
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DetailScreen", "the detail screen")
    assert svc.get(1).title == "Wi-Fi in building B keeps dropping"
    assert drafts.load("alice", NEW_INCIDENT) is None


async def test_escape_asks_before_dropping_typed_text_and_drops_the_draft(svc, app_factory, type_text) -> None:
    drafts = Drafts(svc.db)
    app = app_factory(svc)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_form(pilot)
        await type_text(pilot, "Badge reader at door 4 dead")
        await wait_until(pilot, lambda: drafts.load("alice", NEW_INCIDENT) is not None, "the draft")
        await pilot.press("escape")
        await wait_until(pilot, lambda: asking(app), "the question")
        await pilot.press("n")  # keep editing
        assert isinstance(app.screen, NewIncidentScreen)
        await pilot.press("escape", "y")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "QueueScreen", "the queue")
        await wait_until(pilot, lambda: drafts.load("alice", NEW_INCIDENT) is None, "the draft deleted")
