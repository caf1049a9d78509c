"""The detail screen's keys for working together, at 80x24, keyboard only: `w` sets the roles,
`k` opens the tasks (`n` adds one, `space` marks it done), `u` records a stakeholder update — each
asserted in the store and the timeline, and on the screen's "Working together" panel."""

from __future__ import annotations

from lifecycle_helpers import Toasts, form, log, press, settle, tab_to
from test_key_footer import shown

from eim_tui.domain.collab import IncidentRole
from eim_tui.domain.model import EventKind
from eim_tui.services.collab import CollabCases
from eim_tui.tui.dialogs.collab_forms import (
    RolesForm,
    TaskForm,
    TasksScreen,
    UpdateForm,
)
from eim_tui.tui.screens.detail import DetailScreen


def panel(screen: DetailScreen) -> str:
    return str(screen.query_one("#detail-collab").render())


async def test_roles_tasks_and_update_from_the_detail_screen(store, app_factory, type_text) -> None:
    incident = log(store, assignment_group="platform", impact=1, urgency=1)
    app, toasts = app_factory(store, "alice"), Toasts()
    async with app.run_test(size=(80, 24), message_hook=toasts) as pilot:
        await settle(pilot)
        await press(pilot, "enter")
        screen = pilot.app.screen
        assert isinstance(screen, DetailScreen) and screen.number == incident.number
        keys = shown(screen)
        assert keys[-3:] == ["esc Back", "? Help", "q Quit"] and keys[0] == "a Ack+take", keys
        assert "no roles, tasks or subscribers yet" in panel(screen)

        # w: the roles form, with completion of known users.
        await press(pilot, "w")
        assert isinstance(form(pilot), RolesForm)
        await tab_to(pilot, "commander")
        await type_text(pilot, "bob")
        await tab_to(pilot, "experts")
        await type_text(pilot, "dmitri, esther")
        await press(pilot, "ctrl+s")
        assert pilot.app.screen is screen
        collab = CollabCases(store).collaboration(incident.number)
        assert collab.role_map() == {"commander": "bob", "scribe": "", "comms": "", "experts": ["dmitri", "esther"]}
        assert "bob" in panel(screen) and "dmitri, esther" in panel(screen)

        # An unknown user: refused, the form comes back with the typed text, nothing written.
        await press(pilot, "w")
        await tab_to(pilot, "scribe")
        await type_text(pilot, "zed")
        await press(pilot, "ctrl+s")
        await settle(pilot)
        assert any("unknown user 'zed'" in t for t in toasts), toasts
        assert isinstance(form(pilot), RolesForm)
        await press(pilot, "escape")
        if pilot.app.screen is not screen:  # asks before dropping typed text
            await press(pilot, "y")
        assert CollabCases(store).collaboration(incident.number).holder(IncidentRole.SCRIBE) == ""

        # k: the tasks dialog; n adds a task, space marks it done.
        await press(pilot, "k")
        assert isinstance(pilot.app.screen, TasksScreen)
        await press(pilot, "n")
        assert isinstance(form(pilot), TaskForm)
        await type_text(pilot, "fail over to db02")
        await tab_to(pilot, "who")
        await type_text(pilot, "bob")
        await press(pilot, "ctrl+s")
        assert isinstance(pilot.app.screen, TasksScreen)
        assert [t.what for t in CollabCases(store).tasks(incident.number)] == ["fail over to db02"]
        await press(pilot, "space")
        assert CollabCases(store).tasks(incident.number)[0].done_by == "alice"
        await press(pilot, "escape")
        assert pilot.app.screen is screen
        assert "0 open of 1" in panel(screen)

        # u: the stakeholder update from the template.
        await press(pilot, "u")
        assert isinstance(form(pilot), UpdateForm)
        await type_text(pilot, "payments failing over to db02")
        await tab_to(pilot, "impact")
        await type_text(pilot, "card payments fail for 20% of users")
        await press(pilot, "ctrl+s")
        assert pilot.app.screen is screen
        last = [e for e in store.details(incident.number).timeline if e.kind is EventKind.STAKEHOLDER_UPDATE][-1]
        assert last.actor == "alice"
        assert last.data["text"].splitlines()[:2] == ["What is happening: payments failing over to db02",
                                                      "Impact: card payments fail for 20% of users"]
        assert "by alice" in panel(screen)


async def test_next_update_due_counts_down_and_says_overdue(store, app_factory, clock) -> None:
    from datetime import timedelta

    from eim_tui.config import Config

    incident = log(store, impact=1, urgency=1)
    CollabCases(store).subscribe(incident.number, "alice", "user", "bob")
    config = Config(raw={"updates": {"cadence": {"1": "30m"}}})
    async with app_factory(store, "alice", config=config).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "enter")
        screen = pilot.app.screen
        assert "next update due" in panel(screen) and "(in 30m00s)" in panel(screen), panel(screen)
        clock.set(clock.now() + timedelta(minutes=41))
        screen._tick()
        await pilot.pause()
        assert "(OVERDUE 11m00s)" in panel(screen), panel(screen)
