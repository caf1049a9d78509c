"""The wall's breached and about-to-breach lists hold exactly the incidents the store says are
breached / in warning, on SQLite and PostgreSQL, at 80x24, 120x40 and 250x70: what fits is shown
in order, and "+N more" accounts for the rest, so the lists add up to the counters."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from textual.pilot import Pilot

from eim_tui.domain import sla
from eim_tui.domain.board import BoardScope
from eim_tui.domain.model import Incident, SlaState
from eim_tui.services.demo import generate
from eim_tui.store.tables import IncidentRow
from eim_tui.tui.screens.wall import WallScreen
from eim_tui.tui.widgets.wall_lists import BreachedList, GroupLoadPanel, WarningList

KEY = re.compile(r"INC-\d{6}")


def open_incidents(svc) -> list[Incident]:
    with svc.db.read() as session:
        numbers = list(session.execute(select(IncidentRow.id).where(IncidentRow.is_open.is_(True))).scalars())
    return [svc.get(n) for n in numbers]


def reading(svc, incident: Incident, now) -> sla.ClockReading:
    return sla.current_clock(incident, svc.ref.policy(incident.priority), now)


async def settle(pilot: Pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def listed(widget) -> tuple[list[str], int]:
    """The keys a list draws, in order, and the N of its "+N more" line (0 without one)."""
    text = widget.render().plain
    more = re.search(r"\+([\d,]+) more", text)
    return KEY.findall(text), int(more.group(1).replace(",", "")) if more else 0


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (250, 70)], ids=["80x24", "120x40", "250x70"])
async def test_the_lists_hold_exactly_the_breached_and_warning_incidents(svc, clock, app_factory, size) -> None:
    generate(svc, incidents=80, seed=3)
    clock.advance(timedelta(minutes=40))  # some response clocks run out meanwhile: breaches older than 30 s
    now = clock.now()
    incidents = open_incidents(svc)
    late = sorted(
        (i for i in incidents if reading(svc, i, now).breached),
        key=lambda i: (i.priority, reading(svc, i, now).due_at, i.number),
    )
    warned = sorted(
        (i for i in incidents if i.paused_since is None and reading(svc, i, now).state is SlaState.WARNING),
        key=lambda i: (sla.sort_due(i), i.number),
    )
    assert len(late) > 8 and len(warned) > 3  # enough that the small sizes must truncate

    app = app_factory(svc, "quentin", wall=BoardScope())  # a security-group member: real titles
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WallScreen)
        board = screen.snapshot
        assert board.total.breached == len(late) and board.warning_total == len(warned)
        for widget, expected in ((screen.query_one(BreachedList), late), (screen.query_one(WarningList), warned)):
            keys = [i.key for i in expected]
            assert [r.key for r in widget.rows] == keys, widget.id  # every one, in order
            shown, more = listed(widget)
            assert shown == keys[: len(shown)] and len(shown) + more == len(keys), (widget.id, shown, more)
            assert shown, widget.id
            assert f"· {len(keys)}" in widget.border_title
            if size == (250, 70):
                assert more == 0, widget.id  # the big wall has room for all of them
        groups = screen.query_one(GroupLoadPanel)
        assert {g.group: g.unassigned for g in groups.groups} == {
            group: sum(1 for i in incidents if i.assignment_group == group and not i.assignee)
            for group in {i.assignment_group for i in incidents}
        }
