"""The catalogue in the TUI (Pilot): the catalogue screen from the queue's `K` and the palette, with a
service's CIs and open incidents; `i` on an incident jumps to its CI's other incidents; the
new-incident form completes only active services and CIs."""

from __future__ import annotations

import pytest
from lifecycle_helpers import form, log, press, settle

from eim_tui.tui.dialogs.new_incident import NewIncidentScreen, PrefixSuggester
from eim_tui.tui.screens.catalogue import CatalogueScreen
from eim_tui.tui.screens.detail import DetailScreen


def _rows(screen, selector: str) -> list[list[str]]:
    table = screen.query_one(selector)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


@pytest.fixture
def incidents(store):
    on_db = log(store, "Payments DB slow", service="payments", configuration_item="db01.pay.internal").number
    also_db = log(store, "Payments DB replication lag", service="payments", configuration_item="db01.pay.internal").number
    on_api = log(store, "Payments API 502", service="payments", configuration_item="pay-api-01.pay.internal").number
    mail = log(store, "Mail delayed", service="email").number
    return on_db, also_db, on_api, mail


async def test_the_catalogue_screen_browses_services_cis_and_open_incidents(store, incidents, app_factory) -> None:
    on_db, also_db, on_api, _mail = incidents
    async with app_factory(store).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "K")
        screen = pilot.app.screen
        assert isinstance(screen, CatalogueScreen)
        services = _rows(screen, "#catalogue-services")
        assert [r[0] for r in services] == [s.name for s in store.ref.services]
        payments = next(r for r in services if r[0] == "payments")
        assert payments[1:4] == ["app-support", "5", "3"]  # owner, CIs, open incidents
        names = [r[0] for r in services]
        await press(pilot, *["down"] * names.index("payments"))
        assert [r[0] for r in _rows(screen, "#catalogue-cis")][:2] == ["db01.pay.internal", "db02.pay.internal"]
        assert [r[1] for r in _rows(screen, "#catalogue-cis")][:2] == ["2", "0"]
        keys = [r[0] for r in _rows(screen, "#catalogue-incidents")]
        assert keys == [f"INC-{n:06d}" for n in (on_api, also_db, on_db)]
        await press(pilot, "tab")  # to the CIs: the highlighted CI's incidents
        assert [r[0] for r in _rows(screen, "#catalogue-incidents")] == [f"INC-{n:06d}" for n in (also_db, on_db)]
        await press(pilot, "tab", "enter")  # to the incidents, and open the first
        assert isinstance(pilot.app.screen, DetailScreen) and pilot.app.screen.number == also_db
        await press(pilot, "escape", "escape")
        assert not isinstance(pilot.app.screen, CatalogueScreen)


async def test_the_palette_offers_the_catalogue(store, app_factory) -> None:
    async with app_factory(store).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "Catalogue (K)" in [c.title for c in pilot.app.get_system_commands(pilot.app.screen)]
        await press(pilot, "ctrl+p")
        await pilot.press(*"Catalogue (K)")
        await settle(pilot)
        await press(pilot, "enter")
        assert isinstance(pilot.app.screen, CatalogueScreen)


async def test_i_on_an_incident_jumps_to_its_cis_other_incidents(store, incidents, app_factory) -> None:
    on_db, also_db, _on_api, _mail = incidents
    async with app_factory(store).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pilot.app.push_screen(DetailScreen(on_db))
        await settle(pilot)
        await press(pilot, "i")
        screen = pilot.app.screen
        assert isinstance(screen, CatalogueScreen)
        assert "Open incidents of CI db01.pay.internal (2)" in str(screen.query_one("#catalogue-incidents-title").content)
        assert [r[0] for r in _rows(screen, "#catalogue-incidents")] == [f"INC-{n:06d}" for n in (also_db, on_db)]
        assert screen.focused is screen.query_one("#catalogue-cis")


async def test_the_form_completes_only_active_services_and_cis(store, app_factory) -> None:
    store.catalogue.edit("admin", "service", "payroll", lambda b: {"name": "payroll", "description": "",
                                                                   "owner_group": "app-support", "retired": False})
    store.catalogue.retire("admin", "service", "payroll")
    async with app_factory(store).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "n")
        screen = form(pilot)
        assert isinstance(screen, NewIncidentScreen)
        service = screen.query_one("#field-service")
        assert service.suggester.first("payr") is None  # retired: not offered
        assert service.suggester.first("paym") == "payments"
        ci = screen.query_one("#field-ci")
        assert ci.suggester.first("db01.p") == "db01.pay.internal"
        service.value = "email"  # as typed: the form hears Input.Changed
        await settle(pilot)
        assert ci.suggester.first("db01.p") is None  # only the service's own CIs now
        assert ci.suggester.first("mx-01") == "mx-01.mail.internal"


def test_prefix_completion_is_case_insensitive_and_ordered() -> None:
    suggester = PrefixSuggester(["db02", "DB01-x", "web-1"])
    assert suggester.first("db0") == "DB01-x"
    assert suggester.first("web-1") == "web-1"
    assert suggester.first("z") is None


async def test_the_catalogue_shows_the_changes_of_a_service_and_of_a_ci(store, clock, incidents, app_factory) -> None:
    from datetime import timedelta

    from eim_tui.services.changes import ChangeCases

    cases = ChangeCases(store)
    now = clock.now()
    on_db = cases.create("admin", "Resize the payments DB pool", now - timedelta(hours=1), now + timedelta(hours=1),
                         "medium", cis=["db01.pay.internal"])
    cases.start("admin", on_db.number)
    planned = cases.create("admin", "Upgrade the payments API", now + timedelta(days=2), now + timedelta(days=2, hours=1),
                           "low", services=["payments"])
    elsewhere = cases.create("admin", "Rotate mail certificates", now + timedelta(hours=3), now + timedelta(hours=4),
                             "low", services=["email"])
    async with app_factory(store).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "K")
        screen = pilot.app.screen
        names = [r[0] for r in _rows(screen, "#catalogue-services")]
        await press(pilot, *["down"] * names.index("payments"))
        shown = str(screen.query_one("#catalogue-changes").render())
        assert planned.key in shown and elsewhere.key not in shown, shown
        await press(pilot, "tab")  # the CI db01.pay.internal: what runs on it now
        shown = str(screen.query_one("#catalogue-changes").render())
        assert "Changes of CI db01.pay.internal" in shown and on_db.key in shown and "in_progress" in shown, shown
        assert planned.key not in shown
