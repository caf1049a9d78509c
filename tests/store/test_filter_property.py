"""The SQL filter is the twin of `domain.filters.matches`: on ~200 demo incidents, for filters drawn
from their own words, keys, services, groups and people, the store returns exactly the incidents
`matches` accepts, in the queue's order — reading a confidential incident someone may not see as
the placeholder they are shown (`access.redact_incident`), so no filter can find it by its title."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from eim_tui.services.demo import generate
from eim_tui.domain import sla
from eim_tui.domain.access import can_see, redact_incident
from eim_tui.domain.filters import FilterError, matches, parse
from eim_tui.domain.intake import NewIncident
from eim_tui.store import repository
from eim_tui.domain.queue import View
from eim_tui.store.tables import IncidentRow

INCIDENTS = 200


@pytest.fixture
def demo_store(svc, clock, fixed_now):
    generate(svc, incidents=INCIDENTS, seed=11)
    # What the demo lacks: holds that began after the clock was already breached, and titles
    # with LIKE's wildcard characters.
    for n, (title, hold_after) in enumerate([
        ("Disk 100% full on db07", timedelta(hours=9)),
        ("Job etl_nightly failed", timedelta(hours=7)),
        ("Backup_job at 50% for hours", timedelta(hours=12)),
    ]):
        clock.set(fixed_now - timedelta(hours=14 + n))
        number = svc.log_incident(NewIncident(title=title, impact=1, urgency=2, service="data-warehouse"), "lead").number
        svc.acknowledge(number, "bob")
        clock.set(fixed_now - timedelta(hours=14 + n) + hold_after)
        svc.put_on_hold(number, "bob", "vendor")
    clock.set(fixed_now)
    with svc.db.read() as session:
        incidents = [repository.incident_from_row(r) for r in session.execute(select(IncidentRow)).scalars()]
    assert len(incidents) == INCIDENTS + 3
    return svc, incidents


def _breached(svc, incident, now: datetime) -> bool:
    """The current clock's verdict; the store's `breached` speaks of running (or paused) clocks only."""
    return incident.is_open and sla.current_clock(incident, svc.ref.policy(incident.priority), now).breached


def _sort_key(incident):
    """The queue's order: severity, then running clocks by due instant, then paused and stopped ones."""
    due = sla.sort_due(incident)
    return (incident.priority, due is None, due.timestamp() if due else 0.0, incident.number)


def _terms(incidents) -> list[list[str]]:
    """Terms to build filters from, in kinds drawn equally often: title words, field terms and flags,
    keys, phrases and awkward fragments."""
    words = sorted({w for i in incidents for w in i.title.split() if '"' not in w and "'" not in w})[::4]
    keys = [i.key for i in incidents[::37]]
    fields = [
        *(f"service:{s}" for s in sorted({i.service for i in incidents})),
        *(f"group:{g}" for g in sorted({i.assignment_group for i in incidents} - {""})),
        *(f"category:{c}" for c in sorted({i.category for i in incidents} - {""})),
        *(f"assignee:{a}" for a in sorted({i.assignee for i in incidents} - {""})),
        "assignee:me", "assignee:none", "assignee:none,alice", "assignee:%", "assignee:b_b", "group:%",
        "service:pay%", "category:_%",
        *(f"sev{op}{n}" for op in ("<=", ">=", "=", "<", ">") for n in range(1, 6)),
        "state:new", "state:in_progress", "state:on_hold", "state:resolved", "state:closed,cancelled", "state:open",
        "breached", "major", "all", "open",
    ]
    phrases = [f'"{i.title.split()[-1]} {i.service}"' for i in incidents[:20] if '"' not in i.title]
    fragments = ["3", "12", "0000", "inc-0001", "inc-00010", "INC-000042", "inc-", "c-0", "%", "_", "50%", "0%",
                 "etl_", "p_j", "b%_",
                 "p99", "db0", "disk", "confidential", "confid", "nothing-like-this"]
    return [words, fields, [*keys, *phrases, *fragments]]


def test_the_sql_filter_returns_what_matches_accepts(demo_store, clock) -> None:
    svc, incidents = demo_store
    now = clock.now()
    breached = {i.number: _breached(svc, i, now) for i in incidents}
    kinds = _terms(incidents)
    by_number = {i.number: i for i in incidents}
    # Some who see confidential incidents (the security group), some who do not; someone outside it
    # filters what they are shown of a confidential incident: its placeholder.
    users = ["alice", "quentin", "rania", *sorted({i.assignee for i in incidents} - {""})[:3]]
    seen_as = {
        user: {i.number: i if can_see(svc.access.context(user), i) else redact_incident(i) for i in incidents}
        for user in users
    }
    assert any(i.confidential for i in incidents) and not svc.access.context("alice").sees_confidential
    assert svc.access.context("quentin").sees_confidential

    def agree(terms: list[str], user: str) -> None:
        text = " ".join(terms)
        try:
            f = parse(text)
        except FilterError:
            return
        expected = sorted(
            (i for i in incidents if matches(f.with_user(user), seen_as[user][i.number], breached[i.number])),
            key=_sort_key,
        )
        got = svc.queue(View.OPEN, f, user, [])
        assert got == [i.number for i in expected], (text, user, set(got) ^ {i.number for i in expected})
        assert all(by_number[n].is_open for n in got) or f.states is not None or f.include_closed

    # Every term on its own, then combinations of them.
    for term in (t for kind in kinds for t in kind):
        agree([term], "alice")
    for term in kinds[1] + kinds[2]:
        agree([term], "quentin")

    @settings(max_examples=100, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(st.lists(st.one_of(*(st.sampled_from(kind) for kind in kinds)), min_size=2, max_size=4),
           st.sampled_from(users))
    def check(terms: list[str], user: str) -> None:
        agree(terms, user)

    check()
    # Each kind of term found something at least once (the property is not vacuous).
    for text in ("breached", "state:on_hold", "major", "all sev<=2", "3", "assignee:none", "confidential",
                 "state:on_hold breached", "50%", "etl_"):
        assert svc.queue(View.OPEN, parse(text), "alice", []), text
    secret = next(i for i in incidents if i.confidential and i.is_open)
    word = secret.title.split()[0].lower()
    assert secret.number not in svc.queue(View.OPEN, parse(f'"{word}"'), "alice", [])
    assert secret.number in svc.queue(View.OPEN, parse(f'"{word}"'), "quentin", [])
