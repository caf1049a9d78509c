"""The wall board's aggregate queries, on SQLite and PostgreSQL, held against the domain's own
verdicts computed incident by incident (`sla.current_clock`, the lifecycle's timestamps)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from eim_tui.services.demo import generate
from eim_tui.domain import sla
from eim_tui.domain.board import FRESH, BoardScope, local_day_start, summarize_flow
from eim_tui.domain.filters import parse
from eim_tui.domain.model import Incident, SlaState
from eim_tui.store.board import BoardLimits, load_board
from eim_tui.store.tables import IncidentRow

from .conftest import report


def every_incident(svc) -> list[Incident]:
    with svc.db.read() as session:
        numbers = list(session.execute(select(IncidentRow.id).order_by(IncidentRow.id)).scalars())
    return [svc.get(n) for n in numbers]


def breached(svc, incident: Incident, now) -> bool:
    return sla.current_clock(incident, svc.ref.policy(incident.priority), now).breached


@pytest.fixture
def busy(svc, clock):
    """A demo store, plus incidents acknowledged, resolved, paused after breaching and made major today."""
    generate(svc, incidents=90, seed=11)
    late = svc.log_incident(report("Late then held", impact=1, urgency=1, assignment_group="dba"), "alice")
    svc.acknowledge(late.number, "alice")
    clock.advance(timedelta(hours=4, minutes=10))  # Sev1 resolution target is 4 h: breached
    svc.put_on_hold(late.number, "alice", "awaiting_vendor")  # paused after it ran out: still breached
    quick = svc.log_incident(report("Quick one", impact=2, urgency=1, assignment_group="platform"), "alice")
    clock.advance(timedelta(minutes=4))
    svc.acknowledge(quick.number, "bob")
    clock.advance(timedelta(minutes=30))
    svc.resolve(quick.number, "bob", code=next(iter(svc.ref.resolution_codes)), notes="restarted")
    held = svc.log_incident(report("Held in time", impact=3, urgency=3, assignment_group="dba"), "alice")
    svc.acknowledge(held.number, "alice")
    svc.put_on_hold(held.number, "alice", "awaiting_user")  # paused well before its due instant
    clock.advance(timedelta(seconds=5))
    return svc


def test_counts_per_severity_match_the_domain(busy, clock) -> None:
    now = clock.now()
    board = busy.board(BoardScope())
    incidents = [i for i in every_incident(busy) if i.is_open]
    for level in range(1, 6):
        mine = [i for i in incidents if i.priority == level]
        load = board.severity(level)
        assert load.open == len(mine), level
        assert load.unacknowledged == sum(1 for i in mine if i.acknowledged_at is None), level
        assert load.breached == sum(1 for i in mine if breached(busy, i, now)), level
    assert board.total.open == len(incidents)
    assert board.total.breached > 0 and board.total.unacknowledged > 0  # the demo has both
    held_late = next(i for i in incidents if i.title == "Late then held")
    assert held_late.paused_since is not None and breached(busy, held_late, now)


def test_group_load_matches_the_domain(busy, clock) -> None:
    now = clock.now()
    board = busy.board(BoardScope())
    incidents = [i for i in every_incident(busy) if i.is_open]
    expected = Counter(i.assignment_group for i in incidents)
    late = Counter(i.assignment_group for i in incidents if breached(busy, i, now))
    assert {g.group: (g.open, g.breached) for g in board.groups} == {g: (n, late[g]) for g, n in expected.items()}
    assert [g.open for g in board.groups] == sorted((g.open for g in board.groups), reverse=True)


def test_lists_closest_to_breach_majors_and_newest(busy, clock) -> None:
    now = clock.now()
    board = busy.board(BoardScope())
    incidents = every_incident(busy)
    running = sorted(
        ((sla.sort_due(i), i.number) for i in incidents if i.is_open and sla.sort_due(i) and sla.sort_due(i) > now - FRESH)
    )
    assert [r.number for r in board.closest] == [n for _, n in running][: len(board.closest)]
    assert all(r.due_at is not None and r.paused_since is None for r in board.closest)
    majors = sorted((i.priority, i.number) for i in incidents if i.is_open and i.major)
    assert majors and [r.number for r in board.majors] == [n for _, n in majors]
    assert [r.number for r in board.newest] == sorted((i.number for i in incidents), reverse=True)[:40]
    assert board.sev1_open == {i.number for i in incidents if i.is_open and i.priority == 1}


def test_the_breached_list_holds_every_breached_incident_the_counters_count(busy, clock) -> None:
    """Running clocks past due and clocks paused after running out, most severe and longest overdue
    first; a breach long past FRESH stays listed (it used to drop off the board after 30 s)."""
    now = clock.now()
    board = busy.board(BoardScope())
    late = [i for i in every_incident(busy) if i.is_open and breached(busy, i, now)]
    assert len(late) == board.total.breached <= BoardLimits().breached  # the list can hold them all here
    expected = sorted(late, key=lambda i: (i.priority, sla.current_clock(i, busy.ref.policy(i.priority), now).due_at, i.number))
    assert [r.number for r in board.breached] == [i.number for i in expected]
    assert any(i.paused_since is not None for i in late)  # "Late then held" is in it
    assert any(now - r.due_at > FRESH * 10 for r in board.breached if r.paused_since is None)
    # Past the limit, the list holds the first ones in the same order; the counter still counts all.
    few = load(busy, BoardLimits(breached=3))
    assert [r.number for r in few.breached] == [i.number for i in expected][:3]
    assert few.total.breached == len(late)


def test_the_warning_list_holds_the_clocks_about_to_run_out_closest_first(busy, clock) -> None:
    now = clock.now()
    board = busy.board(BoardScope())
    warned = [i for i in every_incident(busy) if i.is_open and i.paused_since is None
              and sla.current_clock(i, busy.ref.policy(i.priority), now).state is SlaState.WARNING]
    assert warned and board.warning_total == len(warned)
    expected = sorted(warned, key=lambda i: (sla.sort_due(i), i.number))
    assert [r.number for r in board.warning] == [i.number for i in expected]
    assert all(r.sla_state(now) is SlaState.WARNING for r in board.warning)
    few = load(busy, BoardLimits(warning=2))
    assert [r.number for r in few.warning] == [i.number for i in expected][:2] and few.warning_total == len(warned)


def test_group_load_per_severity_and_unassigned(busy, clock) -> None:
    board = busy.board(BoardScope())
    incidents = [i for i in every_incident(busy) if i.is_open]
    for g in board.groups:
        mine = [i for i in incidents if i.assignment_group == g.group]
        assert g.by_severity == tuple(sum(1 for i in mine if i.priority == level) for level in range(1, 6)), g.group
        assert g.unassigned == sum(1 for i in mine if not i.assignee), g.group
        assert sum(g.by_severity) == g.open
    assert sum(g.unassigned for g in board.groups) > 0


def load(svc, limits: BoardLimits):
    now = svc.clock.now()
    with svc.db.read() as session:
        return load_board(session, BoardScope(), now, local_day_start(now), svc.ref.policies, limits)


def test_today_figures_match_the_domain(busy, clock) -> None:
    now = clock.now()
    start = local_day_start(now)
    board = busy.board(BoardScope())
    incidents = every_incident(busy)
    acked = [(i.priority, (i.acknowledged_at - i.reported_at).total_seconds())
             for i in incidents if i.acknowledged_at and start <= i.acknowledged_at <= now]
    resolved = [(i.priority, (i.resolved_at - i.reported_at).total_seconds() - i.sla_paused_seconds)
                for i in incidents if i.resolved_at and start <= i.resolved_at <= now]
    assert acked and resolved
    want_ack = summarize_flow(acked, {k: p.response.total_seconds() for k, p in busy.ref.policies.items()})
    want_res = summarize_flow(resolved, {k: p.resolution.total_seconds() for k, p in busy.ref.policies.items()})
    for got, want in ((board.acknowledged, want_ack), (board.resolved, want_res)):
        assert got.overall.count == want.overall.count
        assert got.overall.within_target == want.overall.within_target
        assert got.overall.median == pytest.approx(want.overall.median, abs=0.01)
        assert got.overall.mean == pytest.approx(want.overall.mean, abs=0.01)
        for level in range(1, 6):
            assert got.by_severity[level].count == want.by_severity[level].count


def test_scopes(busy, clock) -> None:
    incidents = [i for i in every_incident(busy) if i.is_open]
    dba = busy.board(BoardScope(group="dba"))
    assert dba.total.open == sum(1 for i in incidents if i.assignment_group == "dba") > 0
    assert {g.group for g in dba.groups} == {"dba"}
    assert all(r.assignment_group == "dba" for r in dba.closest + dba.newest + dba.breached + dba.warning)
    assert len(dba.breached) == dba.total.breached
    major = busy.board(BoardScope(major_only=True))
    assert major.total.open == sum(1 for i in incidents if i.major) > 0
    assert all(r.major for r in major.closest + major.newest + major.majors)
    urgent = busy.board(BoardScope(filter=parse("sev<=2")))
    assert urgent.severity(3).open == urgent.severity(4).open == urgent.severity(5).open == 0
    assert urgent.severity(1).open == sum(1 for i in incidents if i.priority == 1)
    both = busy.board(BoardScope(filter=parse("sev<=2"), group="dba"))
    assert both.total.open == sum(1 for i in incidents if i.priority <= 2 and i.assignment_group == "dba")


def test_confidential_incidents_are_placeholders_and_filters_cannot_find_them(svc, clock) -> None:
    secret = svc.log_incident(
        report("Ransomware note on fs-02", impact=1, urgency=1, category="security", subcategory="malware",
               assignment_group="security-ops"), "quentin")
    svc.log_incident(report("Printer jam", impact=3, urgency=3), "alice")
    outsider = svc.board(BoardScope(), viewer="alice")
    row = next(r for r in outsider.newest if r.number == secret.number)
    assert (row.title, row.assignment_group, row.assignee, row.priority) == ("confidential", "", "", 1)
    listed = outsider.closest + outsider.newest + outsider.majors + outsider.breached + outsider.warning
    assert "Ransomware" not in repr(listed)
    assert outsider.severity(1).open == 1  # counted, as a placeholder
    assert svc.board(BoardScope(filter=parse("ransomware")), viewer="alice").total.open == 0
    member = svc.board(BoardScope(filter=parse("ransomware")), viewer="quentin")
    assert member.total.open == 1
    assert next(r for r in member.newest if r.number == secret.number).title == "Ransomware note on fs-02"


def test_today_within_target_uses_a_services_own_policy(svc, clock) -> None:
    """Two Sev2 acknowledged ten minutes after their report: within the severity's response target,
    but one is on a service whose own Sev2 target is five minutes — it is counted as missed."""
    import dataclasses
    from datetime import timedelta

    from eim_tui.domain.intake import NewIncident

    start = clock.now()
    numbers = []
    for service in ("payments", "email"):
        numbers.append(svc.log_incident(NewIncident(title=f"{service} slow", impact=2, urgency=2, service=service),
                                        "monitor").number)
    clock.set(start + timedelta(minutes=10))
    for number in numbers:
        svc.acknowledge(number, "alice")
    severity = svc.get(numbers[0]).priority
    policy = svc.ref.policies[severity]
    assert policy.response > timedelta(minutes=10)
    strict = {("payments", severity): dataclasses.replace(policy, response=timedelta(minutes=5))}
    now = clock.now()
    with svc.db.read() as session:
        plain = load_board(session, BoardScope(), now, local_day_start(now), svc.ref.policies)
        own = load_board(session, BoardScope(), now, local_day_start(now), svc.ref.policies, service_policies=strict)
    assert plain.acknowledged.by_severity[severity].within_target == 2
    assert own.acknowledged.by_severity[severity].within_target == 1
    assert own.acknowledged.overall.within_target == plain.acknowledged.overall.within_target - 1
