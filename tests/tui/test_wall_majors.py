"""The wall's major-incident banner names each one's commander and when stakeholders hear next —
and says OVERDUE once that time has passed; a confidential major names nobody to those who may
not see it."""

from __future__ import annotations

from datetime import timedelta

from eim_tui.domain.collab import IncidentRole
from eim_tui.domain.intake import NewIncident
from eim_tui.services.collab import CollabCases
from eim_tui.tui.widgets.wall_banners import MajorBanner
from tests.tui.test_wall import poll, settle, text_of, wall  # noqa: F401 - the fixture is used by name


def major(svc, title: str, **fields) -> int:
    number = svc.log_incident(NewIncident(title=title, impact=1, urgency=1, assignment_group="network-ops",
                                          **fields), "monitor").number
    svc.set_major(number, "quentin" if fields.get("confidential") else "admin", True)
    return number


async def test_the_banner_names_the_commander_and_the_next_update(store, clock, wall) -> None:
    number = major(store, "Core switch down in dc1")
    collab = CollabCases(store)
    collab.set_roles(number, "admin", {IncidentRole.COMMANDER: ["bob"]})
    collab.post_update(number, "bob", "Core switch replaced; traffic back on dc1", clock.now() + timedelta(minutes=20))
    app = wall(store)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        text = text_of(app.screen.query_one(MajorBanner))
        assert "cmdr bob" in text and "next update" in text and "(in 20m)" in text, text

        clock.set(clock.now() + timedelta(minutes=25))
        await poll(pilot)
        text = text_of(app.screen.query_one(MajorBanner))
        assert "update OVERDUE 5m" in text, text


async def test_a_confidential_major_names_nobody_to_those_who_may_not_see_it(store, clock, wall) -> None:
    number = major(store, "Data exfiltration suspected", confidential=True)
    CollabCases(store).set_roles(number, "quentin", {IncidentRole.COMMANDER: ["sven"]})
    app = wall(store, user="alice")  # a responder, not in the security group
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        text = text_of(app.screen.query_one(MajorBanner))
        assert "INC-000001" in text and "sven" not in text and "cmdr" not in text and "exfiltration" not in text, text
