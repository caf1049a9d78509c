"""The whole life of incidents through the detail screen, keyboard only, asserting the store and
the timeline: open from the queue → acknowledge → hold / resume → resolve → close; reopen;
cancel; duplicate link; a major incident with its post-incident review; and a conflict."""

from __future__ import annotations

from lifecycle_helpers import (
    Toasts,
    choose,
    clear_field,
    form,
    log,
    press,
    settle,
    tab_to,
)

from eim_tui.bootstrap import open_services
from eim_tui.domain.model import EventKind, HoldReason, State
from eim_tui.tui.dialogs.closure_forms import CloseForm, ResolveForm
from eim_tui.tui.dialogs.incident_forms import AssignForm, HoldForm
from eim_tui.tui.screens.detail import DetailScreen


def summaries(svc, number: int) -> list[str]:
    return [e.summary for e in svc.details(number).timeline]


async def open_detail(pilot, number: int) -> DetailScreen:
    """From the queue: switch views (v) until the incident is listed, move the cursor to it, enter."""
    await settle(pilot)
    table = pilot.app.screen.query_one("QueueTable")
    for _ in range(10):
        if number in table.numbers:
            break
        await press(pilot, "v")
    for _ in range(len(table.numbers)):
        if table.cursor_number == number:
            break
        await pilot.press("down")
    assert table.cursor_number == number
    await press(pilot, "enter")
    screen = pilot.app.screen
    assert isinstance(screen, DetailScreen) and screen.details is not None
    return screen


def footer_actions(screen: DetailScreen) -> set[str]:
    return {b.binding.action for b in screen.active_bindings.values() if b.enabled and b.binding.show}


async def test_full_life_ack_hold_resume_resolve_close(store, clock, app_factory, type_text):
    incident = log(store, assignment_group="platform")
    app, toasts = app_factory(store, "alice"), Toasts()
    async with app.run_test(size=(80, 24), message_hook=toasts) as pilot:
        screen = await open_detail(pilot, incident.number)
        assert {"acknowledge", "assign", "prioritize", "link"} <= footer_actions(screen)
        assert not {"resolve", "close", "reopen", "resume"} & footer_actions(screen)

        await press(pilot, "a")
        i = store.get(incident.number)
        assert (i.state, i.assignee, i.acknowledged_at) == (State.IN_PROGRESS, "alice", clock.now())
        assert "acknowledge" not in footer_actions(screen) and "resolve" in footer_actions(screen)

        await press(pilot, "h")
        assert isinstance(form(pilot), HoldForm)
        await choose(pilot, "awaiting vendor")
        await tab_to(pilot, "note")
        await type_text(pilot, "Vendor ticket 4711 opened")
        await press(pilot, "ctrl+s")
        i = store.get(incident.number)
        assert (i.state, i.hold_reason, i.hold_note) == (State.ON_HOLD, HoldReason.AWAITING_VENDOR, "Vendor ticket 4711 opened")
        assert i.paused_since == clock.now()
        assert "resume" in footer_actions(screen) and "hold" not in footer_actions(screen)

        clock.advance(600)
        await press(pilot, "h")  # the same key resumes
        i = store.get(incident.number)
        assert i.state is State.IN_PROGRESS and i.paused_since is None

        await press(pilot, "r")
        assert isinstance(form(pilot), ResolveForm)
        await choose(pilot, "Fixed")
        await tab_to(pilot, "notes")
        await type_text(pilot, "Restarted the pool")
        await tab_to(pilot, "tested")
        await type_text(pilot, "Test payment OK")
        await tab_to(pilot, "communication")
        await type_text(pilot, "Status page updated")
        await press(pilot, "ctrl+s")
        i = store.get(incident.number)
        assert (i.state, i.resolution_code, i.resolution_notes, i.resolution_tested, i.resolution_communication) == (
            State.RESOLVED, "fixed", "Restarted the pool", "Test payment OK", "Status page updated")
        assert {"close", "reopen"} <= footer_actions(screen)

        await press(pilot, "x")
        assert isinstance(form(pilot), CloseForm)
        await press(pilot, "ctrl+s")  # verification not ticked: refused inline, nothing saved
        assert "verified" in str(pilot.app.screen.query_one("#error-verified").content)
        assert store.get(incident.number).state is State.RESOLVED
        await tab_to(pilot, "verified")
        await pilot.press("space")
        await tab_to(pilot, "rating")
        await choose(pilot, "4 good")
        await tab_to(pilot, "comment")
        await type_text(pilot, "Quick fix, thanks")
        await press(pilot, "ctrl+s")
        i = store.get(incident.number)
        assert (i.state, i.closure_verified_by, i.feedback_rating, i.feedback_comment) == (
            State.CLOSED, "alice", 4, "Quick fix, thanks")
        assert footer_actions(screen) & {"acknowledge", "hold", "resolve", "close", "reopen", "cancel"} == set()
        assert any("closed" in t for t in toasts)

    text = summaries(store, incident.number)
    for expected in ("state new → in progress", "state in progress → on hold (awaiting vendor: Vendor ticket 4711 opened)",
                     "state on hold → in progress", "state in progress → resolved (fixed)", "state resolved → closed"):
        assert expected in text
    assert any(s.startswith("assigned platform/— → platform/alice") for s in text)


async def test_reopen_with_reason_restarts_the_work(store, app_factory, type_text):
    incident = log(store)
    store.acknowledge(incident.number, "alice")
    store.resolve(incident.number, "alice", "workaround", "Cleared the cache")
    app = app_factory(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_detail(pilot, incident.number)
        await press(pilot, "o")
        await type_text(pilot, "Errors are back after an hour")
        await press(pilot, "ctrl+s")
    i = store.get(incident.number)
    assert i.state is State.IN_PROGRESS and i.resolved_at is None and i.resolution_code == ""
    assert "state resolved → in progress — Errors are back after an hour" in summaries(store, incident.number)


async def test_cancel_needs_a_lead_and_a_reason(store, app_factory, type_text):
    incident = log(store)
    async with app_factory(store, "alice").run_test(size=(80, 24)) as pilot:
        screen = await open_detail(pilot, incident.number)
        assert screen.check_action("cancel", ()) is None  # a responder sees it greyed out
        await press(pilot, "z")
        assert pilot.app.screen is screen
    async with app_factory(store, "dmitri").run_test(size=(80, 24)) as pilot:
        await open_detail(pilot, incident.number)
        await press(pilot, "z")
        await press(pilot, "ctrl+s")  # no reason: refused inline
        assert "required" in str(pilot.app.screen.query_one("#error-reason").content)
        await type_text(pilot, "Raised in error by a test probe")
        await press(pilot, "ctrl+s")
    i = store.get(incident.number)
    assert (i.state, i.cancel_reason) == (State.CANCELLED, "Raised in error by a test probe")
    assert "state new → cancelled (Raised in error by a test probe)" in summaries(store, incident.number)


async def test_duplicate_link_to_a_parent(store, app_factory, type_text):
    parent = log(store, "Checkout down for everyone")
    child = log(store, "Cannot pay on the web shop")
    async with app_factory(store).run_test(size=(80, 24)) as pilot:
        await open_detail(pilot, child.number)
        await press(pilot, "l")
        await type_text(pilot, "inc-1x")
        await press(pilot, "ctrl+s")
        assert "incident key" in str(pilot.app.screen.query_one("#error-parent").content)
        await pilot.press("backspace")
        await tab_to(pilot, "problem")
        await type_text(pilot, "PRB-0042")
        await press(pilot, "ctrl+s")
    i = store.get(child.number)
    assert (i.parent_number, i.problem_ref) == (parent.number, "PRB-0042")
    events = store.details(child.number).timeline
    assert any(e.kind is EventKind.LINKED and e.summary == "duplicate of — → INC-000001" for e in events)


async def test_major_incident_closes_only_with_its_review(store, app_factory, type_text):
    incident = log(store, "Core switch failure", impact=1, urgency=1)
    store.acknowledge(incident.number, "chen")
    store.resolve(incident.number, "chen", "hardware_replaced", "Swapped the supervisor card")
    async with app_factory(store, "chen").run_test(size=(80, 40)) as pilot:
        screen = await open_detail(pilot, incident.number)
        await press(pilot, "m")
        assert store.get(incident.number).major and screen.incident.major
        await press(pilot, "x")
        await pilot.press("space")  # verification done
        await press(pilot, "ctrl+s")
        errors = {n: str(pilot.app.screen.query_one(f"#error-{n}").content)
                  for n in ("review_summary", "review_went_well", "review_went_badly", "review_actions")}
        assert all("required" in e for e in errors.values()), errors
        assert store.get(incident.number).state is State.RESOLVED
        await tab_to(pilot, "review_summary")
        await type_text(pilot, "Supervisor card died; campus offline 40 min")
        await tab_to(pilot, "review_highlights")
        await type_text(pilot, "09:02 alerts; 09:40 card swapped")
        await tab_to(pilot, "review_went_well")
        await type_text(pilot, "Spare on site")
        await tab_to(pilot, "review_went_badly")
        await type_text(pilot, "No redundancy")
        await tab_to(pilot, "review_actions")
        await type_text(pilot, "Add a second supervisor")  # no owner yet
        await press(pilot, "ctrl+s")
        assert "@owner" in str(pilot.app.screen.query_one("#error-review_actions").content)
        await type_text(pilot, " @dmitri")
        await press(pilot, "ctrl+s")
    i = store.get(incident.number)
    assert i.state is State.CLOSED
    assert i.post_incident_review == {
        "summary": "Supervisor card died; campus offline 40 min", "highlights": "09:02 alerts; 09:40 card swapped",
        "went_well": "Spare on site", "went_badly": "No redundancy",
        "actions": [{"action": "Add a second supervisor", "owner": "dmitri"}],
    }
    text = summaries(store, incident.number)
    assert "major no → yes" in text and "state resolved → closed" in text


async def test_conflict_refuses_keeps_typed_text_and_saves_after_reload(store, url, clock, app_factory, type_text):
    incident = log(store, assignment_group="platform")
    store.acknowledge(incident.number, "alice")
    app, toasts = app_factory(store, "alice"), Toasts()
    async with app.run_test(size=(80, 24), message_hook=toasts) as pilot:
        screen = await open_detail(pilot, incident.number)
        await press(pilot, "g")
        assert isinstance(form(pilot), AssignForm)
        await tab_to(pilot, "assignee")
        await clear_field(pilot)
        await type_text(pilot, "bob")

        other = open_services(url, clock)  # another user, another connection
        other.put_on_hold(incident.number, "nadia", "awaiting_user", "asked for a HAR file")
        other.db.dispose()

        await press(pilot, "ctrl+s")
        refused = form(pilot)  # the form is back, with what was typed and why it was refused
        assert isinstance(refused, AssignForm)
        assert refused.value_of("assignee") == "bob"
        message = str(refused.query_one("#form-message").content)
        assert "changed by nadia" in message and "on hold" in message
        assert any(t.startswith("Changed underneath") and "changed by nadia" in t for t in toasts)
        assert store.get(incident.number).assignee == "alice"
        assert screen.incident.state is State.ON_HOLD  # the screen reloaded

        await press(pilot, "ctrl+s")  # against the reloaded version it goes through
    i = store.get(incident.number)
    assert (i.assignee, i.state) == ("bob", State.ON_HOLD)


async def test_detail_reloads_when_someone_else_changes_it(store, url, clock, app_factory):
    incident = log(store)
    async with app_factory(store).run_test(size=(80, 24)) as pilot:
        screen = await open_detail(pilot, incident.number)
        other = open_services(url, clock)
        other.acknowledge(incident.number, "bob")
        other.db.dispose()
        screen._poll()  # what the poll timer does every poll_interval
        await settle(pilot)
        assert screen.incident.state is State.IN_PROGRESS and screen.incident.assignee == "bob"
        assert "acknowledge" not in footer_actions(screen)


async def test_escape_with_typed_text_asks_before_dropping_it(store, app_factory, type_text):
    incident = log(store)
    store.acknowledge(incident.number, "alice")
    async with app_factory(store).run_test(size=(80, 24)) as pilot:
        screen = await open_detail(pilot, incident.number)
        await press(pilot, "r")
        await tab_to(pilot, "notes")
        await type_text(pilot, "half a sentence")
        await press(pilot, "escape")
        assert type(pilot.app.screen).__name__ == "ConfirmScreen"
        await press(pilot, "n")  # keep editing
        assert form(pilot).value_of("notes") == "half a sentence"
        await press(pilot, "escape")
        await press(pilot, "y")
        assert pilot.app.screen is screen
    assert store.get(incident.number).state is State.IN_PROGRESS


async def test_palette_offers_what_the_state_allows_and_d_opens_the_notes(store, app_factory):
    incident = log(store)
    store.acknowledge(incident.number, "alice")
    app = app_factory(store, "alice")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_detail(pilot, incident.number)
        titles = [command.title for command in app.get_system_commands(screen)]
        assert {"Resolve (r)", "Hold (h)", "Assign (g)", "Timeline (t)"} <= set(titles)
        assert not {"Close (x)", "Reopen (o)", "Resume (h)", "Ack+take (a)"} & set(titles)
        await press(pilot, "d")
        assert type(pilot.app.screen).__name__ == "NotesScreen"
        assert pilot.app.screen.number == incident.number
