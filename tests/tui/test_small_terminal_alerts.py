"""At 80x24 an SLA alert summary is one short toast that `ctrl+l` clears, and the footer says so.

Before, a six-line summary covered a quarter of the 80x24 queue for fifteen seconds, with no key
to send it away. The alert centre here is the app's own (toast only, so nothing leaves the test).
"""

from __future__ import annotations

from datetime import timedelta

from lifecycle_helpers import log, settle
from textual.widgets._footer import FooterKey

from eim_tui.config import AlertSettings
from eim_tui.domain.model import EventKind
from eim_tui.notify.policy import Delivery, SlaNotice, compact, summary
from eim_tui.tui.alerts import AlertCenter
from eim_tui.tui.widgets.key_footer import KeyFooter


def notices(clock, count: int) -> list[SlaNotice]:
    now = clock.now()
    return [SlaNotice(f"{n}:resolution:breach", n, EventKind.SLA_BREACH, 1 + n % 3,
                      f"INC-{n:06d} Sev{1 + n % 3} resolution SLA breached", f"Incident {n} — breached",
                      now - timedelta(seconds=n)) for n in range(1, count + 1)]


def footer_words(app) -> list[str]:
    footer = app.screen.query_one(KeyFooter)
    return [key.description for key in footer.query(FooterKey)
            if key.region.width and not key.has_class("-command-palette")]


def test_compact_names_the_worst_incident_and_how_many_more(clock) -> None:
    delivery = summary(notices(clock, 5))
    title, body = compact(delivery, 36)
    assert title == delivery.title
    assert body == "INC-000003 S1 +4 more"
    single = Delivery("INC-000001 Sev1 SLA breached", "Core switch core-sw-01 down in the east data hall — breached",
                      (), True)
    assert compact(single, 36) == (single.title, "Core switch core-sw-01 down in the …")
    assert len(compact(single, 36)[1]) == 36


async def test_a_summary_at_80x24_is_short_and_ctrl_l_clears_it(store, clock, app_factory) -> None:
    log(store)
    app = app_factory(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        assert "Clear alerts" not in footer_words(app)
        app.alert_center = AlertCenter(app, AlertSettings(channels=frozenset({"toast"})))
        app.alert_center.receive(notices(clock, 6))
        await settle(pilot)
        [toast] = list(app._notifications)
        assert toast.message == "INC-000003 S1 +5 more" and "\n" not in toast.message
        assert toast.timeout < 15
        print("ACTIVE", app.app_focus)
        assert footer_words(app)[-3:] == ["Clear alerts", "Help", "Quit"]

        await pilot.press("ctrl+l")
        await settle(pilot)
        assert not list(app._notifications)
        assert "Clear alerts" not in footer_words(app)


async def test_a_large_terminal_keeps_the_full_summary(store, clock, app_factory) -> None:
    log(store)
    app = app_factory(store)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await settle(pilot)
        app.alert_center = AlertCenter(app, AlertSettings(channels=frozenset({"toast"})))
        app.alert_center.receive(notices(clock, 6))
        await settle(pilot)
        [toast] = list(app._notifications)
        assert toast.message.startswith("most severe first: INC-000003 S1, INC-000006 S1")
        assert toast.timeout == 15
