"""The SLA scheduler against a real store, on a fake clock: the exact instants of warnings, breaches
and escalations; pauses; business hours; other processes' changes; and single recording when two
schedulers race on one database — on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from eim_tui.bootstrap import open_services
from eim_tui.domain.clock import FixedClock
from eim_tui.domain.model import EventKind
from eim_tui.domain.sla import SlaPolicy
from eim_tui.domain.work_calendar import business_calendar
from eim_tui.reference.data import load_reference
from eim_tui.notify.scheduler import SlaScheduler
from eim_tui.store import timeline
from eim_tui.store.tables import TimelineRow

from .conftest import report
from store.threads import run_together

S, MIN, H = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)
SLA_KINDS = (EventKind.SLA_WARNING, EventKind.SLA_BREACH, EventKind.ESCALATION)


def sla_events(svc, number: int) -> list[tuple[str, str]]:
    """(kind, clock or rule) of the incident's SLA events, in timeline order."""
    return [
        (e.kind.value, e.data.get("rule") or e.data.get("clock"))
        for e in svc.details(number).timeline
        if e.kind in SLA_KINDS
    ]


def step(scheduler: SlaScheduler, clock: FixedClock, at: datetime) -> list[str]:
    clock.set(at)
    result = scheduler.run_due(at)
    return [f"{r.moment.kind.value}:{r.moment.rule or r.moment.clock}" for r in result.recorded]


def test_sev1_moments_fire_at_their_exact_instants(svc, clock, fixed_now) -> None:
    t0 = fixed_now
    inc = svc.log_incident(report("Core database down", impact=1, urgency=1, assignment_group="dba"), "alice")
    scheduler = SlaScheduler(svc, "esther")  # the dba shift lead
    assert step(scheduler, clock, t0) == []
    assert scheduler.next_at == t0 + 5 * MIN  # the first moment: Sev1 not acknowledged in 5 minutes

    assert step(scheduler, clock, t0 + 5 * MIN - S) == []
    assert step(scheduler, clock, t0 + 5 * MIN) == ["escalation:sev1-not-acknowledged"]
    assert svc.get(inc.number).escalated
    assert step(scheduler, clock, t0 + 10 * MIN) == ["escalation:high-unassigned"]
    # response 15m, warning at 75 %: 11m15s
    assert scheduler.next_at == t0 + 11 * MIN + 15 * S
    assert step(scheduler, clock, t0 + 11 * MIN + 14 * S) == []
    assert step(scheduler, clock, t0 + 11 * MIN + 15 * S) == ["warning:response"]
    assert step(scheduler, clock, t0 + 15 * MIN - S) == []
    assert step(scheduler, clock, t0 + 15 * MIN) == ["breach:response", "escalation:response-breached"]
    # resolution 4h: warning at 3h, breach at 4h
    assert scheduler.next_at == t0 + 3 * H
    assert step(scheduler, clock, t0 + 4 * H) == ["warning:resolution", "breach:resolution",
                                                  "escalation:resolution-breached"]
    assert scheduler.next_at is None
    assert step(scheduler, clock, t0 + 10 * H) == []  # nothing twice

    assert sla_events(svc, inc.number) == [
        ("escalation", "sev1-not-acknowledged"), ("escalation", "high-unassigned"), ("sla_warning", "response"),
        ("sla_breach", "response"), ("escalation", "response-breached"), ("sla_warning", "resolution"),
        ("sla_breach", "resolution"), ("escalation", "resolution-breached"),
    ]


def test_the_alerts_go_to_the_people_the_rules_name(svc, clock, fixed_now) -> None:
    svc.log_incident(report("Core database down", impact=1, urgency=1, assignment_group="dba"), "alice")
    lead, member, other = (SlaScheduler(svc, name) for name in ("esther", "priya", "tomas"))
    for s in (lead, member, other):
        s.run_due(fixed_now)
    clock.set(fixed_now + 5 * MIN)
    titles = {name: [a.title for a in s.run_due(clock.now()).alerts]
              for name, s in (("esther", lead), ("priya", member), ("tomas", other))}
    # Escalated to the dba shift lead only; the others hear of it at the SLA moments of their group.
    assert titles == {"esther": ["INC-000001 Sev1 escalated"], "priya": [], "tomas": []}
    clock.set(fixed_now + 11 * MIN + 15 * S)
    titles = {name: [a.title for a in s.run_due(clock.now()).alerts]
              for name, s in (("esther", lead), ("priya", member), ("tomas", other))}
    # Unassigned at 10 minutes: the whole dba group hears; tomas, a shift lead elsewhere
    # (app-support), hears of the warning as of every Sev1's.
    both = ["INC-000001 Sev1 escalated", "INC-000001 Sev1 response SLA warning"]
    assert titles == {"esther": both, "priya": both, "tomas": ["INC-000001 Sev1 response SLA warning"]}


def test_a_hold_awaiting_the_vendor_pauses_every_moment(svc, clock, fixed_now) -> None:
    t0 = fixed_now
    inc = svc.log_incident(report("VPN drops", impact=2, urgency=1, assignment_group="network-ops"), "alice")
    scheduler = SlaScheduler(svc, "dmitri")
    step(scheduler, clock, t0)
    clock.set(t0 + 10 * MIN)
    svc.acknowledge(inc.number, "alice")
    assert step(scheduler, clock, t0 + 10 * MIN) == []
    assert scheduler.next_at == t0 + 6 * H  # Sev2 resolution 8h: warning at 6h
    clock.set(t0 + 1 * H)
    svc.put_on_hold(inc.number, "alice", "vendor")
    assert step(scheduler, clock, t0 + 1 * H) == []
    # A change only ever brings the plan nearer; the old warning instant wakes the scheduler
    # early, to find nothing due (no clock runs) and nothing planned.
    assert scheduler.next_at == t0 + 6 * H
    assert step(scheduler, clock, t0 + 6 * H) == []
    assert scheduler.next_at is None
    assert step(scheduler, clock, t0 + 9 * H) == []  # past the old due: nothing, it is paused
    svc.resume(inc.number, "alice")  # after an 8 h pause: warning at 14h, breach at 16h
    assert step(scheduler, clock, t0 + 9 * H) == []
    assert scheduler.next_at == t0 + 14 * H
    assert step(scheduler, clock, t0 + 14 * H - S) == []
    assert step(scheduler, clock, t0 + 14 * H) == ["warning:resolution"]
    assert step(scheduler, clock, t0 + 16 * H) == ["breach:resolution", "escalation:resolution-breached"]


def test_business_hours_clocks_stop_at_night_weekends_and_holidays(db_url) -> None:
    business = business_calendar("business", "Europe/London", ["mon", "tue", "wed", "thu", "fri"],
                                 "09:00", "17:00", ["2026-11-30"])
    base = load_reference()
    policies = dict(base.policies)
    policies[4] = SlaPolicy(4, 2 * H, 16 * H, 0.75, "Low", business)
    ref = dataclasses.replace(base, policies=policies)
    friday_4pm = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    clock = FixedClock(friday_4pm)
    svc = open_services(db_url, clock, ref=ref)
    try:
        inc = svc.log_incident(report("Printer jams", impact=2, urgency=3, assignment_group="service-desk"), "alice")
        assert inc.priority == 4
        # 2 working hours from Friday 16:00: one on Friday, Monday is a holiday, one on Tuesday.
        tuesday_10 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
        assert inc.response_due_at == tuesday_10
        scheduler = SlaScheduler(svc, "lead")
        step(scheduler, clock, friday_4pm)
        # warning with 30 working minutes left: Tuesday 09:30 (the weekend counts nothing)
        assert scheduler.next_at == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
        assert step(scheduler, clock, datetime(2026, 11, 30, 16, 0, tzinfo=UTC)) == []
        assert step(scheduler, clock, datetime(2026, 12, 1, 9, 30, tzinfo=UTC)) == ["warning:response"]
        assert step(scheduler, clock, tuesday_10) == ["breach:response"]
        # the queue row and the detail read the same states at the same instants
        row = svc.rows([inc.number])[0]
        assert row.warn_at == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
        assert svc.details(inc.number).response.state.value == "breached"
    finally:
        svc.db.dispose()


def test_changes_from_another_process_move_the_plan(svc, db_url, clock, fixed_now) -> None:
    inc = svc.log_incident(report("Checkout slow", impact=2, urgency=2, assignment_group="app-support"), "alice")
    scheduler = SlaScheduler(svc, "tomas")
    step(scheduler, clock, fixed_now)
    assert scheduler.next_at == fixed_now + 3 * H  # Sev3 response 4h: warning at 3h
    other = open_services(db_url, clock)  # another TUI on the same store
    try:
        clock.set(fixed_now + 3 * H + 30 * MIN)  # late: the response warning fell due unseen …
        other.acknowledge(inc.number, "bob")
        # … and the acknowledgement stopped that clock before this scheduler ran: no warning.
        assert step(scheduler, clock, clock.now()) == []
        assert scheduler.next_at == fixed_now + 54 * H  # resolution 3d: warning at 54h
    finally:
        other.db.dispose()


def test_a_raised_severity_is_recorded_once_and_does_not_cascade(svc, clock, fixed_now) -> None:
    inc = svc.log_incident(report("Reports slow", impact=2, urgency=2, assignment_group="dba"), "alice")
    svc.acknowledge(inc.number, "bob")
    scheduler = SlaScheduler(svc, "esther")
    step(scheduler, clock, fixed_now)
    done = step(scheduler, clock, fixed_now + 72 * H)
    assert done == ["warning:resolution", "breach:resolution", "escalation:resolution-breached",
                    "escalation:resolution-breached-raise"]
    after = svc.get(inc.number)
    assert (after.priority, after.escalated) == (2, True)
    assert "resolution-breached-raise" in after.priority_override_reason
    # Sev2's 8h target puts the new due instants 64 hours back, beyond the lookback: history,
    # not news; and no rule escalates again.
    assert step(scheduler, clock, fixed_now + 73 * H) == []
    assert step(scheduler, clock, fixed_now + 100 * H) == []
    assert [k for k, _ in sla_events(svc, inc.number)].count("escalation") == 2


def test_moments_older_than_the_lookback_are_history_not_news(svc, clock, fixed_now) -> None:
    svc.log_incident(report("Old one", impact=1, urgency=1, assignment_group="dba"), "alice")
    clock.set(fixed_now + 48 * H)
    scheduler = SlaScheduler(svc, "esther", lookback=timedelta(hours=24))
    assert scheduler.run_due(clock.now()).recorded == []  # every moment was within its first 4 hours


def test_two_schedulers_on_one_database_record_each_moment_once(svc, db_url, clock, fixed_now) -> None:
    for n in range(12):
        svc.log_incident(report(f"Outage {n}", impact=1, urgency=1, assignment_group="dba"), "alice")
    second = open_services(db_url, clock)  # another process: its own engines and pools
    try:
        schedulers = [SlaScheduler(svc, "esther"), SlaScheduler(second, "priya")]
        for s in schedulers:
            s.run_due(fixed_now)
        heard: list[set[str]] = [set(), set()]
        for at in (fixed_now + 5 * MIN, fixed_now + 15 * MIN, fixed_now + 4 * H):
            clock.set(at)
            results = run_together([lambda s=s: s.run_due(at) for s in schedulers])
            assert not [r for r in results if isinstance(r, Exception)], results
            for seen, result in zip(heard, results):
                seen.update(a.title for a in result.alerts)
        with svc.db.read() as session:
            keys = session.execute(select(TimelineRow.once_key).where(TimelineRow.once_key.is_not(None))).scalars().all()
            report_ = timeline.verify(session)
        assert len(keys) == len(set(keys)) == 12 * 8  # 8 moments per Sev1 incident (see above)
        assert report_.intact, report_.describe()
        # Each user heard of every breach, whichever scheduler wrote it.
        breaches = {f"INC-{n:06d} Sev1 resolution SLA breached" for n in range(1, 13)}
        assert breaches <= heard[0] and breaches <= heard[1]
    finally:
        second.db.dispose()


def test_planning_reads_the_window_not_every_incident(svc, clock, fixed_now) -> None:
    for n in range(30):
        clock.set(fixed_now + n * H)
        svc.log_incident(report(f"Incident {n}", impact=2, urgency=2, assignment_group="dba"), "alice")
    clock.set(fixed_now + 30 * H)
    scheduler = SlaScheduler(svc, "esther", lookback=timedelta(hours=1))
    result = scheduler.run_due(clock.now())
    # Only the incidents with a moment in the last hour were read: the 4h response of the one
    # logged at 26h, the 3h warnings of those at 27h; not all thirty.
    assert result.examined == 2
    with svc.db.read() as session:
        count = session.execute(select(func.count()).select_from(TimelineRow)
                                .where(TimelineRow.kind == EventKind.SLA_WARNING.value)).scalar_one()
    assert count == 1


def test_a_batch_that_loses_a_race_is_redone_one_moment_at_a_time(svc, clock, fixed_now, monkeypatch) -> None:
    from eim_tui.services.sla import SlaService
    from eim_tui.store import sla_queries

    inc = svc.log_incident(report("Core database down", impact=1, urgency=1, assignment_group="dba"), "alice")
    service = SlaService(svc)
    first = service.moments_of(svc.get(inc.number))[0]  # the 5-minute escalation
    clock.set(fixed_now + 15 * MIN)
    assert service.escalate(first) is not None  # "another scheduler" got there first …
    # … after this one looked: it believes nothing is recorded, and its batch meets the unique index.
    monkeypatch.setattr(sla_queries, "recorded_keys", lambda session, keys: set())
    done = service.process([inc.number], clock.now(), fixed_now - H)
    assert [r.moment.rule or r.moment.clock for r in done.recorded] == [
        "high-unassigned", "response", "response", "response-breached"]
    kinds = sla_events(svc, inc.number)
    assert kinds.count(("escalation", "sev1-not-acknowledged")) == 1 and len(kinds) == 5
