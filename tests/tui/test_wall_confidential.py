"""The wall board keeps confidential incidents confidential where `test_wall.py` does not look: the
major banner, the new-Sev1 alert, and a scope's filter words (`eim wall --filter …`)."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from eim_tui.bootstrap import open_services
from eim_tui.domain.board import BoardScope
from eim_tui.domain.filters import parse
from eim_tui.domain.intake import NewIncident
from eim_tui.tui.screens.wall import WallScreen
from eim_tui.tui.widgets.wall_banners import AlertBanner, MajorBanner
from eim_tui.tui.widgets.wall_lists import NewestList

SECRET = "Ransomware note on fs-02"


@pytest.fixture
def store(tmp_path, clock):
    svc = open_services(f"sqlite:///{tmp_path}/wall.db", clock)
    yield svc
    svc.db.dispose()


def log(svc, title: str, **fields):
    return svc.log_incident(NewIncident(title=title, impact=1, urgency=1, **fields), "system")


async def settle(pilot: Pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def text_of(widget) -> str:
    return str(widget.render())


@pytest.mark.parametrize(("user", "member"), [("alice", False), ("admin", False), ("quentin", True)])
async def test_the_major_banner_and_the_new_sev1_alert_show_a_placeholder(store, user, member, app_factory) -> None:
    log(store, "Checkout down", major=True)
    app = app_factory(store, user, wall=BoardScope())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        secret = log(store, SECRET, category="security", assignment_group="security-ops", assignee="sven", major=True)
        screen = app.screen
        assert isinstance(screen, WallScreen)
        screen.poll()
        await settle(pilot)
        banner, alert = text_of(screen.query_one(MajorBanner)), text_of(screen.query_one(AlertBanner))
        for shown in (banner, alert):
            assert secret.key in shown
            assert (SECRET in shown) is member and ("sven" in shown) is member
            assert "Checkout down" in banner
        if not member:
            assert "confidential" in banner and "confidential" in alert


async def test_a_scope_filter_word_does_not_find_a_confidential_title(store, app_factory) -> None:
    secret = log(store, SECRET, category="security")
    for user, found in (("alice", False), ("quentin", True)):
        app = app_factory(store, user, wall=BoardScope(filter=parse("ransomware")))
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert app.screen.snapshot.total.open == (1 if found else 0)
            assert (secret.key in text_of(app.screen.query_one(NewestList))) is found
