"""Any text in any field of the TUI's forms either saves — and the store then holds exactly what was
typed, after the documented normalisation — or a message says what is wrong. Never an exception,
never a half-written row.

Hypothesis types into every text field of the new-incident form, the lifecycle forms of the detail
screen (assign, hold, link, resolve, close, reopen, cancel), the diagnosis-notes editor and the
queue's filter bar (`/`), with a fresh app for every example (Pilot, the real store on SQLite).
The normalisation is the forms' own: text is stripped at both ends, a title's runs of whitespace
become one space (`tui/intake_form.check`), and a multi-line field holds what its TextArea holds.

`EIM_FUZZ_EXAMPLES` raises the example counts; `EIM_FUZZ_LOG` gets one JSON line per example.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select, Static, TextArea

from eim_tui.bootstrap import open_services
from eim_tui.domain.model import HoldReason
from eim_tui.tui.dialogs.form import FormScreen
from eim_tui.tui.dialogs.new_incident import NewIncidentScreen
from eim_tui.tui.screens.detail import DetailScreen
from tests.fuzz_strategies import HOSTILE_WORDS, examples
from lifecycle_helpers import Toasts, log, settle

# What a terminal can type into a field: any character but lone surrogates (keys arrive decoded).
_CHARS = st.characters(blacklist_categories=("Cs",))
FORM_TEXT = st.one_of(
    st.text(_CHARS, max_size=60),
    st.sampled_from([w for w in HOSTILE_WORDS if not any(0xDC80 <= ord(c) <= 0xDCFF for c in w)]),
    st.text(st.characters(max_codepoint=0x20) | st.sampled_from("[]/\\\u2028\u200b\u202e"), max_size=12),
    st.builds(lambda c, n: c * n, st.text(_CHARS, min_size=1, max_size=2), st.integers(300, 3000)),
)


def _log(case: str, field_names: list[str], outcome: str | None) -> None:
    """One line per field typed into: `outcome` is saved / refused, or None when the example failed."""
    target = os.environ.get("EIM_FUZZ_LOG")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            for name in field_names:
                out.write(json.dumps({"kind": "form", "case": f"{case}.{name}", "outcome": outcome,
                                      "crash": outcome is None}) + "\n")


async def wait_until(pilot: Pilot, predicate: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    """Poll with a deadline (the deadline only stops a hung test; nothing is timed)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await pilot.pause(0.02)


async def type_into(pilot: Pilot, screen, name: str, text: str) -> None:
    """Empty field `name` and type `text` into it (as one edit, like pasting)."""
    widget = screen.query_one(f"#field-{name}")
    widget.focus()
    await pilot.pause()
    if isinstance(widget, Input):
        widget.value = ""
        widget.insert_text_at_cursor(text)
    else:
        assert isinstance(widget, TextArea)
        widget.load_text("")
        widget.insert(text)
    await pilot.pause()


def shown_messages(screen) -> list[str]:
    """The field errors and the form message a form shows now."""
    return [str(w.render()) for w in screen.query(".form-error.-shown, #form-message.-shown")
            if isinstance(w, Static) and str(w.render()).strip()]


# --- the lifecycle forms of the detail screen --------------------------------------------------------


@dataclass
class Case:
    key: str  # the detail screen's key that opens the form
    steps: list[str]  # the use cases that bring a new incident to the state the form needs
    texts: list[str]  # the text fields hypothesis types into
    choices: dict[str, list[Any]] = field(default_factory=dict)  # select / checkbox → values to pick from
    stored: Callable[[Any, dict[str, Any]], dict[str, tuple[Any, Any]]] | None = None  # field → (stored, expected)


def _s(value: Any) -> str:
    return (value or "").strip() if isinstance(value, str) or value is None else value


CASES = {
    "assign": Case("g", [], ["assignee"], {"group": [None, "dba", "platform", "service-desk"]},
                   lambda i, v: {"assignee": (i.assignee, _s(v["assignee"]))}),
    "hold": Case("h", ["ack"], ["note"], {"reason": [None, *(r.value for r in HoldReason)]},
                 lambda i, v: {"hold_note": (i.hold_note, _s(v["note"])),
                               "hold_reason": (i.hold_reason.value, v["reason"])}),
    "link": Case("l", [], ["parent", "problem", "change"], {},
                 lambda i, v: {"problem_ref": (i.problem_ref, _s(v["problem"])),
                               "change_ref": (i.change_ref, _s(v["change"]))}),
    "resolve": Case("r", ["ack"], ["notes", "tested", "communication"], {"code": [None, "fixed", "workaround"]},
                    lambda i, v: {"resolution_notes": (i.resolution_notes, _s(v["notes"])),
                                  "resolution_tested": (i.resolution_tested, _s(v["tested"])),
                                  "resolution_communication": (i.resolution_communication,
                                                               _s(v["communication"]))}),
    "close": Case("x", ["ack", "resolve"], ["verified_by", "comment", "lessons"],
                  {"verified": [True, False], "rating": [None, 1, 5]},
                  lambda i, v: {"closure_verified_by": (i.closure_verified_by, _s(v["verified_by"])),
                                "feedback_comment": (i.feedback_comment, _s(v["comment"])),
                                "lessons_learned": (i.lessons_learned, _s(v["lessons"]))}),
    "reopen": Case("o", ["ack", "resolve"], ["reason"], {}, lambda i, v: {"state": (i.state.value, "in_progress")}),
    "cancel": Case("z", [], ["reason"], {}, lambda i, v: {"cancel_reason": (i.cancel_reason, _s(v["reason"]))}),
}

STEPS = {
    "ack": lambda svc, n: svc.acknowledge(n, "lead"),
    "resolve": lambda svc, n: svc.resolve(n, "lead", "fixed", "restarted the service"),
}


async def _fuzz_detail_form(app, svc, case: Case, number: int, texts: dict[str, str], picks: dict[str, Any]) -> str:
    """Open the form on incident `number`, fill it, save; returns 'saved' or 'refused'."""
    before = svc.get(number)
    events_before = len(svc.details(number).timeline)
    toasts = Toasts()
    async with app.run_test(size=(100, 50), message_hook=toasts) as pilot:
        await wait_until(pilot, lambda: type(app.screen).__name__ == "QueueScreen", "the queue")
        app.push_screen(DetailScreen(number))
        await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.details is not None,
                         "the incident")
        await pilot.press(case.key)
        await wait_until(pilot, lambda: isinstance(app.screen, FormScreen), "the form")
        form = app.screen
        for name, value in picks.items():
            widget = form.query_one(f"#field-{name}")
            if isinstance(widget, Select):
                widget.value = Select.NULL if value is None else value
            elif isinstance(widget, Checkbox):
                widget.value = value
        for name, text in texts.items():
            await type_into(pilot, form, name, text)
        values = form.values()
        await pilot.press("ctrl+s")
        await settle(pilot)
        await wait_until(pilot, lambda: any(t.startswith(("Saved:", "Refused:")) for t in toasts)
                         or (app.screen is form and shown_messages(form)), "an answer to ctrl+s")
        after = svc.get(number)
        if any(t.startswith("Saved:") for t in toasts):
            wrong = {k: pair for k, pair in case.stored(after, values).items() if pair[0] != pair[1]}
            assert not wrong, f"saved, but the store holds something else (stored, expected): {wrong}"
            return "saved"
        said = toasts + (shown_messages(form) if app.screen is form else [])
        assert said, "neither saved nor said what is wrong"
        assert after.version == before.version, "refused, yet the incident changed"
        assert len(svc.details(number).timeline) == events_before, "refused, yet the timeline grew"
        return "refused"


@pytest.mark.parametrize("name", sorted(CASES))
def test_any_text_in_a_lifecycle_form_saves_or_says_why(name, store, app_factory) -> None:
    case = CASES[name]
    choices = {k: st.sampled_from(v) for k, v in case.choices.items()}

    @settings(max_examples=examples(4), deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(texts=st.fixed_dictionaries({t: FORM_TEXT for t in case.texts}), picks=st.fixed_dictionaries(choices))
    def run(texts: dict[str, str], picks: dict[str, Any]) -> None:
        number = log(store, actor="lead").number
        for step in case.steps:
            STEPS[step](store, number)
        outcome = None
        try:
            outcome = asyncio.run(_fuzz_detail_form(app_factory(store, user="lead"), store, case, number, texts,
                                                    picks))
        finally:
            _log(name, case.texts, outcome)

    run()


# --- the new-incident form --------------------------------------------------------------------------

NEW_TEXTS = ["title", "description", "service", "ci", "detected", "reporter", "contact", "department"]


async def _fuzz_new_incident(app, svc, texts: dict[str, str], picks: dict[str, Any]) -> str:
    toasts = Toasts()
    async with app.run_test(size=(100, 60), message_hook=toasts) as pilot:
        await wait_until(pilot, lambda: type(app.screen).__name__ == "QueueScreen", "the queue")
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NewIncidentScreen) and app.screen.draft.enabled,
                         "the form and its draft check")
        form = app.screen
        for name, value in picks.items():
            form.query_one(f"#field-{name}", Select).value = Select.NULL if value is None else value
        for name, text in texts.items():
            await type_into(pilot, form, name, text)
        values = form.values()
        await pilot.press("ctrl+s")
        await settle(pilot)
        if type(app.screen).__name__ == "DuplicatesScreen":
            await pilot.press("n")  # log it as a new incident anyway
            await settle(pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen) or shown_messages(form),
                         "the incident logged or a message")
        if isinstance(app.screen, DetailScreen):
            incident = svc.get(app.screen.number)
            expected = {
                "title": " ".join(values["title"].split()), "description": values["description"].strip(),
                "reporter_name": values["reporter"].strip(), "reporter_contact": values["contact"].strip(),
                "reporter_department": values["department"].strip(),
                "configuration_item": values["ci"].strip(),
            }
            stored = {k: getattr(incident, k) for k in expected}
            assert stored == expected
            return "saved"
        assert shown_messages(form), "neither logged nor said what is wrong"
        return "refused"


def test_any_text_in_the_new_incident_form_logs_it_or_says_why(tmp_path, clock, app_factory) -> None:
    made = iter(range(10**6))

    @settings(max_examples=examples(6), deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(texts=st.fixed_dictionaries({t: FORM_TEXT for t in NEW_TEXTS},
                                       optional={}),
           picks=st.fixed_dictionaries({"impact": st.sampled_from([None, 1, 2, 3]),
                                        "urgency": st.sampled_from([None, 1, 3])}))
    def run(texts: dict[str, str], picks: dict[str, Any]) -> None:
        svc = open_services(f"sqlite:///{tmp_path}/new{next(made)}.db", clock)  # no drafts, no look-alikes
        outcome = None
        try:
            outcome = asyncio.run(_fuzz_new_incident(app_factory(svc), svc, texts, picks))
        finally:
            svc.db.dispose()
            _log("new_incident", NEW_TEXTS, outcome)

    run()


# --- the notes editor and the queue filter ------------------------------------------------------------


async def _fuzz_note(app, svc, number: int, text: str) -> str:
    from eim_tui.tui.screens.notes import NotesScreen

    async with app.run_test(size=(100, 40)) as pilot:
        await wait_until(pilot, lambda: type(app.screen).__name__ == "QueueScreen", "the queue")
        app.push_screen(NotesScreen(number))
        await wait_until(pilot, lambda: isinstance(app.screen, NotesScreen) and app.screen.details is not None,
                         "the notes")
        screen = app.screen
        await pilot.press("o")  # a new observation
        editor = screen.query_one("#note-text", TextArea)
        await wait_until(pilot, lambda: app.focused is editor, "the editor")
        editor.insert(text)
        typed = editor.text
        count = len(svc.details(number).notes)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await wait_until(pilot, lambda: screen.editing is None or str(screen.query_one("#notes-status").render()),
                         "the note saved or a message")
        notes = svc.details(number).notes
        if screen.editing is None:
            assert len(notes) == count + 1 and notes[-1].text == typed.strip()
            return "saved"
        assert len(notes) == count, "refused, yet a note was written"
        return "refused"


def test_any_text_in_the_notes_editor_saves_or_says_why(store, app_factory) -> None:
    number = log(store, actor="lead").number

    @settings(max_examples=examples(5), deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(text=FORM_TEXT)
    def run(text: str) -> None:
        outcome = None
        try:
            outcome = asyncio.run(_fuzz_note(app_factory(store, user="lead"), store, number, text))
        finally:
            _log("notes", ["text"], outcome)

    run()


async def _fuzz_filter(app, text: str) -> str:
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: type(app.screen).__name__ == "QueueScreen", "the queue")
        screen = app.screen
        await pilot.press("slash")
        box = screen.query_one("#queue-filter", Input)
        await wait_until(pilot, lambda: app.focused is box, "the filter bar")
        box.insert_text_at_cursor(text)
        await pilot.press("enter")
        await settle(pilot)
        status = str(screen.query_one("#queue-status").render())
        if box.display:  # not applied: the status line says why
            assert status.startswith("filter not applied: "), status
            return "refused"
        assert screen.filter.text.strip() == box.value.strip()
        return "saved"


def test_any_text_in_the_queue_filter_applies_or_says_why(store, app_factory) -> None:
    log(store, actor="lead")

    @settings(max_examples=examples(6), deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(text=FORM_TEXT | st.sampled_from(["sev<=2", "state:[/]", "state:nope", "sev<1", '"[b]', "group:[x"]))
    def run(text: str) -> None:
        outcome = None
        try:
            outcome = asyncio.run(_fuzz_filter(app_factory(store, user="lead"), text))
        finally:
            _log("queue_filter", ["filter"], outcome)

    run()
