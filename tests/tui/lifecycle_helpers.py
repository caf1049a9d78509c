"""Helpers for the lifecycle Pilot tests: the toasts an app shows, an incident logged, and
keyboard-only ways to fill forms (choosing in a Select by pressing keys, emptying a field).

The app itself comes from the `app_factory` fixture, typing from `type_text` (tests/conftest.py).
"""

from __future__ import annotations

from typing import Any

from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import Select
from textual.worker import WorkerCancelled

from eim_tui.domain.intake import NewIncident
from eim_tui.tui.dialogs.form import FormScreen


class Toasts(list[str]):
    """Every toast an app showed, as "title: message": pass it to `run_test(message_hook=…)`, which
    hands it each message the app handles — `app.notify` posts one `Notify` per toast."""

    def __call__(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.append(f"{message.notification.title}: {message.notification.message}")


def log(svc, title: str = "Payments API returns 502", actor: str = "monitor", **fields: Any):
    fields.setdefault("impact", 2)
    fields.setdefault("urgency", 2)
    return svc.log_incident(NewIncident(title=title, **fields), actor)


async def workers_done(app) -> None:
    """Wait for every worker of `app`. One cancelled meanwhile is not a failure: a newer load of an
    exclusive group (the queue read again after a change) replaces the one in flight."""
    for worker in list(app.workers):
        try:
            await worker.wait()
        except WorkerCancelled:
            pass


async def settle(pilot: Pilot) -> None:
    """Let workers finish and their messages land."""
    await pilot.pause()
    await workers_done(pilot.app)
    await pilot.pause()
    await workers_done(pilot.app)
    await pilot.pause()


async def press(pilot: Pilot, *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


async def choose(pilot: Pilot, label: str) -> None:
    """With a Select focused: open it with enter, move with down/up to the option whose label
    starts with `label`, and pick it with enter — keys only."""
    select = pilot.app.focused
    assert isinstance(select, Select), f"focus is on {select!r}, not a Select"
    await pilot.press("enter")
    await pilot.pause()
    overlay = select.query_one("SelectOverlay")
    prompts = [str(overlay.get_option_at_index(i).prompt) for i in range(overlay.option_count)]
    target = next(i for i, p in enumerate(prompts) if p.startswith(label))
    current = overlay.highlighted if overlay.highlighted is not None else 0
    step = "down" if target >= current else "up"
    await pilot.press(*([step] * abs(target - current)))
    await pilot.press("enter")
    await pilot.pause()


async def clear_field(pilot: Pilot) -> None:
    """Empty the focused Input: go to its end and delete backwards."""
    widget = pilot.app.focused
    await pilot.press("end", *(["backspace"] * len(getattr(widget, "value", ""))))


def form(pilot: Pilot) -> FormScreen:
    screen = pilot.app.screen
    assert isinstance(screen, FormScreen), f"expected a form, the screen is {type(screen).__name__}"
    return screen


def focused_field(pilot: Pilot) -> str:
    widget = pilot.app.focused
    assert widget is not None and widget.id and widget.id.startswith("field-"), widget
    return widget.id.removeprefix("field-")


async def tab_to(pilot: Pilot, name: str, limit: int = 20) -> None:
    """Press tab until the field `name` has focus."""
    for _ in range(limit):
        if pilot.app.focused is not None and pilot.app.focused.id == f"field-{name}":
            return
        await pilot.press("tab")
        await pilot.pause()
    raise AssertionError(f"tab never reached field {name!r}")
