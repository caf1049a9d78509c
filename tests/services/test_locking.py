"""Optimistic locking: a write over a version the writer did not read is refused, never lost."""

from __future__ import annotations

import time

import pytest

from eim_tui.bootstrap import open_services
from eim_tui.domain import ConflictError, State
from eim_tui.store import repository

from store.threads import run_together


@pytest.fixture
def other(svc, db_url, clock):
    """A second user's services on the same store (its own engines, as another process would have)."""
    second = open_services(db_url, clock)
    yield second
    second.db.dispose()


def test_the_second_of_two_stale_writers_is_refused(svc, other, log) -> None:
    log()
    mine, theirs = svc.get(1), other.get(1)
    assert mine.version == theirs.version == 1
    first = svc.assign(1, "bob", assignee="bob", expected_version=mine.version)
    assert first.version == 2
    with pytest.raises(ConflictError) as caught:
        other.set_major(1, "carol", True, expected_version=theirs.version)
    message = str(caught.value)
    assert "INC-000001 was changed by bob" in message
    assert "version 1 → 2" in message and "assigned —/— → —/bob" in message
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    stored = svc.get(1)
    assert stored == first and stored.major is False and stored.assignee == "bob"
    assert [e.actor for e in svc.details(1).timeline] == ["alice", "bob"]


def test_the_version_guard_holds_without_the_row_lock(svc, log, clock) -> None:
    """`save_incident` itself refuses a stale `before`, whatever the caller did before."""
    log()
    stale = svc.get(1)
    svc.acknowledge(1, "bob")
    with pytest.raises(ConflictError, match="changed by bob"):
        with svc.db.write() as session:
            repository.save_incident(session, stale, stale.replace(title="overwritten"), svc.ref.policies, clock.now())
    assert svc.get(1).title != "overwritten" and svc.get(1).version == 2


def test_a_stale_write_to_a_deleted_incident_says_not_found(svc, log) -> None:
    from eim_tui.domain import NotFoundError

    with pytest.raises(NotFoundError, match="no incident INC-000042"):
        svc.acknowledge(42, "bob", expected_version=1)


def test_racing_writers_exactly_one_wins(svc, other, log) -> None:
    log()
    version = svc.get(1).version

    def writer(services, actor: str):
        def slow_change(incident, now):
            time.sleep(0.2)  # keep the transaction open so the others really overlap
            return incident.replace(assignee=actor)

        return lambda: services.change(1, actor, slow_change, expected_version=version)

    results = run_together([writer(svc, "bob"), writer(other, "carol"), writer(svc, "dave"), writer(other, "erin")])
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(e, ConflictError) for e in losers), losers
    assert all(f"changed by {winners[0].assignee}" in str(e) for e in losers)
    stored = svc.get(1)
    assert stored.assignee == winners[0].assignee and stored.version == version + 1
    assert stored.state is State.NEW
    assert len(svc.details(1).timeline) == 2
