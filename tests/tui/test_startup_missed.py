"""The first start after a day of missed SLA instants (issue 14): the real app with its scheduler on
a store whose last 24 hours of warnings, breaches and escalations were never recorded. Every one is
recorded once, every escalation is applied, the person at the terminal hears of each of theirs once,
and the sweep runs in the scheduler's threads, never on the UI loop. How long it takes, and how the
UI answers meanwhile, is measured by tests/bench/bench_startup.py, not here.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from bench.bench_sla import fill
from services.test_sla_sweep import DEADLINE, chain_intact, doubled, missing, recorded
from sqlalchemy import select

from eim_tui.bootstrap import open_services
from eim_tui.domain.clock import FixedClock
from eim_tui.domain.model import EventKind
from eim_tui.notify.policy import relevant_alerts
from eim_tui.services.sla import BATCH, SlaService
from eim_tui.store.tables import IncidentRow, TimelineRow
from eim_tui.tui.app import EimApp


async def test_a_start_after_a_day_missed_records_and_announces_each_moment_once(tmp_path, fixed_now, app_factory,
                                                                                 monkeypatch) -> None:
    clock = FixedClock(fixed_now)
    svc = open_services(f"sqlite:///{tmp_path / 'eim.db'}", clock)
    fill(svc, 4_000)
    before = svc.change_marker()
    assert missing(svc, fixed_now) > 3 * BATCH  # several batches' worth missed while eim was closed

    sweeping_threads: set[bool] = set()  # whether each batch ran on the main thread
    process = SlaService.process

    def watched(self, *args, **kwargs):
        sweeping_threads.add(threading.current_thread() is threading.main_thread())
        return process(self, *args, **kwargs)

    monkeypatch.setattr(SlaService, "process", watched)
    announced: list[str] = []
    receive = EimApp.on_sla_alerts

    def heard(self, message) -> None:
        announced.extend(alert.key for alert in message.alerts)
        receive(self, message)

    monkeypatch.setattr(EimApp, "on_sla_alerts", heard)
    app = app_factory(svc, sla_scheduler=True, poll_interval=0.05)
    try:
        async with app.run_test() as pilot:
            deadline = time.monotonic() + DEADLINE
            # Escalations that raise a severity bring moments of their own: the watch job runs again.
            while missing(svc, fixed_now) or not app.sla_scheduler.planned:
                assert time.monotonic() < deadline, "the missed moments were never all recorded"
                await pilot.pause(0.05)
            settled = svc.change_marker()
            while app.sla_scheduler._alert_marker < settled:  # the last run's alerts collected
                assert time.monotonic() < deadline, "the alerts of the sweep were never collected"
                await pilot.pause(0.05)
            await pilot.pause(0.2)  # and their message handled
            audience = app.sla_scheduler.audience
            await pilot.press("q")
        assert sweeping_threads == {False}  # never on the UI loop

        events = recorded(svc)
        assert len(events) > 3 * BATCH and doubled(svc) == [] and chain_intact(svc)
        # Each of this user's moments announced once, and no other.
        theirs = relevant_alerts(SlaService(svc).alert_events_since(before, "alice", upto=settled), audience)
        assert theirs, "alice should hear of some of them"
        assert Counter(announced) == Counter(alert.key for alert in theirs)
        assert max(Counter(announced).values()) == 1
        # Every escalation recorded was applied to its incident.
        escalated = {n for n, kind, _ in events if kind == EventKind.ESCALATION.value}
        assert escalated
        with svc.db.read() as session:
            flagged = set(session.execute(select(IncidentRow.id).where(IncidentRow.escalated.is_(True))).scalars())
            by_scheduler = set(session.execute(select(TimelineRow.incident_id).where(
                TimelineRow.actor == "scheduler", TimelineRow.kind == EventKind.ESCALATION.value)).scalars())
        assert escalated <= flagged and escalated == by_scheduler
    finally:
        svc.db.dispose()
