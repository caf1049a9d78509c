"""Problems in the TUI (Pilot): the problems screen from the queue's `P` and the palette, a problem's
view with its incidents and the keys that link, record the known error, resolve and close; the known
error line on a matching incident's detail screen and in the new-incident form before saving."""

from __future__ import annotations

import pytest
from lifecycle_helpers import form, log, press, settle, tab_to

from eim_tui.domain.problems import ProblemState
from eim_tui.services.problems import ProblemCases
from eim_tui.tui.dialogs.new_incident import NewIncidentScreen
from eim_tui.tui.screens.detail import DetailScreen
from eim_tui.tui.screens.problems import ProblemScreen, ProblemsScreen

WORKAROUND = "scale the checkout pods to 6"


@pytest.fixture
def problems(store):
    cases = ProblemCases(store)
    cases.create("chen", "Checkout slow, p99 above 2s", service="checkout-web", category="software")
    cases.create("chen", "Disks fill on the db hosts", service="payments")
    cases.mark_known_error("chen", 1, WORKAROUND, root_cause="thread pool too small")
    return cases


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector).content)


def _rows(table) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_the_problems_screen_lists_and_opens_a_problem_that_a_lead_resolves_and_closes(
        store, problems, app_factory) -> None:
    incident = log(store, "checkout slow again", service="checkout-web", category="software")
    async with app_factory(store, user="chen").run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "P")
        screen = pilot.app.screen
        assert isinstance(screen, ProblemsScreen)
        table = screen.query_one("#problems-table")
        assert [r[:3] for r in _rows(table)] == [["PRB-000002", "open", "0"], ["PRB-000001", "known error", "0"]]
        assert "Problems · unresolved (2)" in _text(screen, "#problems-title")
        await press(pilot, "f")  # known errors only
        assert [r[0] for r in _rows(table)] == ["PRB-000001"]
        await press(pilot, "enter")
        view = pilot.app.screen
        assert isinstance(view, ProblemScreen)
        assert f"workaround  {WORKAROUND}" in _text(view, "#problem-fields")
        assert "none yet" in _text(view, "#problem-incidents")
        await press(pilot, "l")
        await pilot.press(*incident.key)
        await press(pilot, "ctrl+s")
        assert store.get(incident.number).problem_ref == "PRB-000001"
        assert f"{incident.key}  Sev3  new" in _text(view, "#problem-incidents")
        assert f"linked {incident.key}" in _text(view, "#problem-timeline")
        assert view.check_action("close", ()) is None  # not resolved yet: greyed out
        await press(pilot, "r")
        assert form(pilot).value_of("root_cause") == "thread pool too small"
        await press(pilot, "ctrl+s")
        assert problems.get(1).state is ProblemState.RESOLVED
        await press(pilot, "x", "ctrl+s")
        assert problems.get(1).state is ProblemState.CLOSED
        assert "PRB-000001 · closed" in _text(view, "#problem-title")
        await press(pilot, "escape")
        assert pilot.app.screen is screen


async def test_a_responder_is_refused_a_new_problem_and_keeps_the_typed_text(store, problems, app_factory) -> None:
    async with app_factory(store, user="alice").run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "P", "n")
        await pilot.press(*"VPN drops")
        await press(pilot, "ctrl+s")
        again = form(pilot)
        assert again.value_of("title") == "VPN drops"
        assert "needs the shift lead or admin role; alice is a responder" in _text(again, "#form-message")
    assert len(problems.list()) == 2


async def test_the_palette_opens_the_problems_screen(store, problems, app_factory) -> None:
    async with app_factory(store).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "Problems (P)" in [c.title for c in pilot.app.get_system_commands(pilot.app.screen)]
        await press(pilot, "ctrl+p")
        await pilot.press(*"Problems (P)")
        await settle(pilot)
        await press(pilot, "enter")
        assert isinstance(pilot.app.screen, ProblemsScreen)


async def test_a_matching_incident_shows_the_known_error_on_its_detail_screen(store, problems, app_factory) -> None:
    same = log(store, "checkout slow p99 above 2s", service="checkout-web", category="software")
    other = log(store, "Mail delayed", service="email")
    async with app_factory(store).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        pilot.app.push_screen(DetailScreen(same.number))
        await settle(pilot)
        shown = pilot.app.screen.query_one("#detail-known-error")
        assert str(shown.content) == f"Known error PRB-000001 — workaround: {WORKAROUND}" and shown.display
        pilot.app.pop_screen()
        pilot.app.push_screen(DetailScreen(other.number))
        await settle(pilot)
        assert not pilot.app.screen.query_one("#detail-known-error").display


async def test_the_new_incident_form_shows_the_known_error_before_saving(store, problems, app_factory) -> None:
    async with app_factory(store).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "n")
        screen = pilot.app.screen
        assert isinstance(screen, NewIncidentScreen)
        assert not screen.query_one("#row-known_error").display
        await pilot.press(*"checkout slow p99 over 2s")
        await tab_to(pilot, "service")
        await pilot.press(*"checkout-web")
        await pilot.pause(0.5)
        await settle(pilot)
        assert screen.query_one("#row-known_error").display
        assert str(screen.query_one("#field-known_error").render()).startswith("Known error PRB-000001 — workaround:")


async def test_the_problem_list_shows_what_others_create_change_and_link(store, problems, url, clock,
                                                                         app_factory) -> None:
    from eim_tui.bootstrap import open_services

    incident = log(store, "checkout slow again", service="checkout-web", category="software")
    async with app_factory(store, user="chen").run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "P")
        screen = pilot.app.screen
        table = screen.query_one("#problems-table")
        await press(pilot, "down")  # PRB-000001 highlighted: it stays so across the re-reads
        screen._poll()  # what the poll timer does every poll_interval: nothing changed, nothing read
        await settle(pilot)
        assert [r[:3] for r in _rows(table)] == [["PRB-000002", "open", "0"], ["PRB-000001", "known error", "0"]]
        other = open_services(url, clock)  # another person, another process's store connection
        try:
            ProblemCases(other).create("chen", "VPN drops at night", service="payments")
            screen._poll()
            await settle(pilot)
            assert _rows(table)[0][:3] == ["PRB-000003", "open", "0"]
            assert "unresolved (3)" in _text(screen, "#problems-title")
            assert table.cursor_row == 2 and _rows(table)[2][0] == "PRB-000001"
            ProblemCases(other).resolve("chen", 2, root_cause="a full disk")
            screen._poll()
            await settle(pilot)
            assert [r[0] for r in _rows(table)] == ["PRB-000003", "PRB-000001"]
            other.link(incident.number, "dana", problem_ref="PRB-000001")  # from the incident's side
            screen._poll()
            await settle(pilot)
            assert _rows(table)[1][:3] == ["PRB-000001", "known error", "1"]
        finally:
            other.db.dispose()


async def test_a_live_read_that_fails_is_tried_again_by_the_next_poll(store, problems, app_factory, monkeypatch) -> None:
    async with app_factory(store, user="chen").run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "P")
        screen = pilot.app.screen
        table = screen.query_one("#problems-table")
        real = ProblemCases.list_marked

        def away(self, *args, **kwargs):
            raise RuntimeError("the store is away for this test")

        monkeypatch.setattr(ProblemCases, "list_marked", away)
        problems.create("chen", "VPN drops at night", service="payments")
        screen._poll()
        await settle(pilot)
        assert table.row_count == 2 and "the store is away" in _text(screen, "#problems-title")
        monkeypatch.setattr(ProblemCases, "list_marked", real)
        screen._poll()  # the marker is still the shown list's: the change is seen again
        await settle(pilot)
        assert table.row_count == 3 and "unresolved (3)" in _text(screen, "#problems-title")
