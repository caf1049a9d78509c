"""A hold and a resume never bring back an SLA warning or breach already recorded: the scheduler on
a real store (SQLite and PostgreSQL) and a fake clock, around the clock and on business hours.

The cause was the moment's once-key: it named the clock's due instant, which every pause moves
later, so after a resume the already-passed warning had a new key and was recorded a second time.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from eim_tui.bootstrap import open_services
from eim_tui.domain.clock import FixedClock
from eim_tui.domain.escalation import moments
from eim_tui.domain.sla import SlaPolicy
from eim_tui.domain.work_calendar import business_calendar
from eim_tui.notify.scheduler import SlaScheduler
from eim_tui.reference.data import load_reference
from eim_tui.store import sla_queries
from eim_tui.store.tables import TimelineRow

from .conftest import report
from .test_sla_scheduler import sla_events, step

S, MIN, H = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)


def test_hold_and_resume_in_warning_records_no_second_warning(svc, clock, fixed_now) -> None:
    t0 = fixed_now
    inc = svc.log_incident(report("VPN drops", impact=2, urgency=1, assignment_group="network-ops"), "alice")
    scheduler = SlaScheduler(svc, "dmitri")
    step(scheduler, clock, t0)
    clock.set(t0 + 10 * MIN)
    svc.acknowledge(inc.number, "alice")
    step(scheduler, clock, t0 + 10 * MIN)
    # Sev2 resolution 8h: warning at 6h, recorded; then a 1 h hold inside the warning.
    assert step(scheduler, clock, t0 + 6 * H) == ["warning:resolution"]
    clock.set(t0 + 7 * H)
    svc.put_on_hold(inc.number, "alice", "vendor")
    assert step(scheduler, clock, t0 + 7 * H) == []
    clock.set(t0 + 8 * H)
    svc.resume(inc.number, "alice")  # due now 9h; the warning instant moved to 7h: already past
    assert step(scheduler, clock, t0 + 8 * H) == []
    assert step(scheduler, clock, t0 + 9 * H) == ["breach:resolution", "escalation:resolution-breached"]
    # A second hold after the breach: the breach is not recorded again either.
    clock.set(t0 + 10 * H)
    svc.put_on_hold(inc.number, "alice", "vendor")
    clock.set(t0 + 12 * H)
    svc.resume(inc.number, "alice")
    assert step(scheduler, clock, t0 + 12 * H) == []
    assert step(scheduler, clock, t0 + 30 * H) == []
    assert sla_events(svc, inc.number) == [
        ("sla_warning", "resolution"), ("sla_breach", "resolution"), ("escalation", "resolution-breached")]


def test_a_hold_before_the_warning_still_warns_once_at_the_later_instant(svc, clock, fixed_now) -> None:
    t0 = fixed_now
    inc = svc.log_incident(report("VPN drops", impact=2, urgency=1, assignment_group="network-ops"), "alice")
    scheduler = SlaScheduler(svc, "dmitri")
    clock.set(t0 + 10 * MIN)
    svc.acknowledge(inc.number, "alice")
    step(scheduler, clock, t0 + 10 * MIN)
    clock.set(t0 + 1 * H)
    svc.put_on_hold(inc.number, "alice", "vendor")
    clock.set(t0 + 3 * H)
    svc.resume(inc.number, "alice")  # 2 h paused: warning at 8h, breach at 10h
    assert step(scheduler, clock, t0 + 8 * H - S) == []
    assert step(scheduler, clock, t0 + 8 * H) == ["warning:resolution"]
    assert step(scheduler, clock, t0 + 10 * H) == ["breach:resolution", "escalation:resolution-breached"]
    assert [k for k, _ in sla_events(svc, inc.number)] == ["sla_warning", "sla_breach", "escalation"]


def test_a_new_severity_is_a_new_target_and_warns_again(svc, clock, fixed_now) -> None:
    """Taking the pauses out of the key must not swallow what a retarget brings: new targets, new
    moments."""
    t0 = fixed_now
    inc = svc.log_incident(report("Printer jam", impact=2, urgency=2, assignment_group="service-desk"), "alice")
    scheduler = SlaScheduler(svc, "alice")
    clock.set(t0 + 5 * MIN)
    svc.acknowledge(inc.number, "alice")
    assert svc.get(inc.number).priority == 3  # resolution 3 days: warning at 54 h
    assert step(scheduler, clock, t0 + 54 * H) == ["warning:resolution"]
    clock.set(t0 + 54 * H + MIN)
    svc.put_on_hold(inc.number, "alice", "vendor")
    clock.set(t0 + 54 * H + 31 * MIN)
    svc.resume(inc.number, "alice")
    assert step(scheduler, clock, t0 + 54 * H + 31 * MIN) == []
    svc.prioritize(inc.number, "alice", 2, 3)  # Sev4: 10 days from the report, plus the 30 min pause
    assert scheduler.run_due(t0 + 54 * H + 32 * MIN).recorded == []
    new_warning = t0 + 180 * H + 30 * MIN  # 75 % of 10 days, moved by the pause
    assert step(scheduler, clock, new_warning - S) == []
    assert step(scheduler, clock, new_warning) == ["warning:resolution"]
    assert [k for k, _ in sla_events(svc, inc.number)] == ["sla_warning", "sla_warning"]


def test_business_hours_hold_overnight_keeps_one_warning(db_url) -> None:
    business = business_calendar("business", "Europe/London", ["mon", "tue", "wed", "thu", "fri"],
                                 "09:00", "17:00", [])
    base = load_reference()
    policies = dict(base.policies)
    policies[4] = SlaPolicy(4, 2 * H, 16 * H, 0.75, "Low", business)  # warning after 12 working hours
    ref = dataclasses.replace(base, policies=policies)
    monday_9 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    clock = FixedClock(monday_9)
    svc = open_services(db_url, clock, ref=ref)
    try:
        inc = svc.log_incident(report("Wiki slow", impact=2, urgency=3, assignment_group="service-desk"), "alice")
        assert svc.get(inc.number).priority == 4
        svc.acknowledge(inc.number, "alice")
        scheduler = SlaScheduler(svc, "alice")
        step(scheduler, clock, monday_9)
        # 12 working hours: Monday 8 h + Tuesday 4 h → Tuesday 13:00.
        tuesday_13 = monday_9 + timedelta(days=1, hours=4)
        assert step(scheduler, clock, tuesday_13) == ["warning:resolution"]
        clock.set(tuesday_13 + 3 * H)  # on hold 16:00 Tuesday ... 10:30 Wednesday: 2.5 working hours
        svc.put_on_hold(inc.number, "alice", "vendor")
        clock.set(monday_9 + timedelta(days=2, hours=1, minutes=30))
        svc.resume(inc.number, "alice")
        assert step(scheduler, clock, clock.now()) == []
        # Due Tuesday 17:00, moved by 2.5 working hours: Wednesday 11:30.
        assert step(scheduler, clock, monday_9 + timedelta(days=2, hours=2, minutes=30) - S) == []
        recorded = step(scheduler, clock, monday_9 + timedelta(days=2, hours=2, minutes=30))
        assert recorded[0] == "breach:resolution" and "warning:resolution" not in recorded
        kinds = [k for k, _ in sla_events(svc, inc.number)]
        assert kinds.count("sla_warning") == 1 and kinds.count("sla_breach") == 1
    finally:
        svc.db.dispose()


def test_a_store_with_the_old_keys_is_not_warned_twice(svc, clock, fixed_now) -> None:
    """A warning recorded before the key left the pauses out (its key names the moved due
    instant) is still found recorded: an upgraded store doubles nothing."""
    t0 = fixed_now
    inc = svc.log_incident(report("VPN drops", impact=2, urgency=1, assignment_group="network-ops"), "alice")
    clock.set(t0 + 10 * MIN)
    svc.acknowledge(inc.number, "alice")
    clock.set(t0 + 1 * H)
    svc.put_on_hold(inc.number, "alice", "vendor")
    clock.set(t0 + 2 * H)
    svc.resume(inc.number, "alice")  # warning at 7h, due 9h
    scheduler = SlaScheduler(svc, "dmitri")
    assert step(scheduler, clock, t0 + 7 * H) == ["warning:resolution"]
    incident = svc.get(inc.number)
    (warning,) = [m for m in moments(incident, svc.ref.policy(incident.priority)) if m.kind.value == "warning"
                  and m.clock == "resolution"]
    assert warning.legacy_key is not None and warning.legacy_key != warning.once_key
    with svc.db.write() as session:  # as the old release wrote it
        row = session.query(TimelineRow).filter(TimelineRow.once_key == warning.once_key).one()
        row.once_key = warning.legacy_key
    with svc.db.read() as session:
        assert sla_queries.recorded_keys(session, [warning.once_key]) == set()
    fresh = SlaScheduler(svc, "dmitri")  # a new process: it sweeps the last 24 h
    assert step(fresh, clock, t0 + 8 * H) == []
    assert [k for k, _ in sla_events(svc, inc.number)].count("sla_warning") == 1
