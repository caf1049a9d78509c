"""Checking one incident's links in the hash chain without walking the whole store."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from eim_tui.store import timeline
from eim_tui.store.tables import TimelineRow

from .conftest import report


def _check(svc, number: int) -> timeline.ChainReport:
    with svc.db.read() as session:
        return timeline.verify_incident(session, number)


def _interleaved(svc) -> None:
    """Two incidents whose events alternate in the global chain."""
    svc.log_incident(report(title="Disk full on db01"), "alice")
    svc.log_incident(report(title="VPN drops"), "alice")
    for n in (1, 2):
        svc.acknowledge(n, "bob")
    for n in (1, 2):
        svc.put_on_hold(n, "bob", "vendor", f"ticket {n}")


def _seqs(svc, number: int) -> list[int]:
    with svc.db.read() as session:
        return list(session.execute(
            select(TimelineRow.seq).where(TimelineRow.incident_id == number).order_by(TimelineRow.seq)).scalars())


def test_an_untouched_incident_verifies_with_every_event_counted(svc) -> None:
    _interleaved(svc)
    result = _check(svc, 1)
    assert result.intact and result.events == len(_seqs(svc, 1)) > 3
    assert _check(svc, 2).intact


def test_an_altered_event_of_the_incident_is_named(svc) -> None:
    _interleaved(svc)
    target = _seqs(svc, 2)[1]
    with svc.db.write() as session:
        session.execute(update(TimelineRow).where(TimelineRow.seq == target).values(summary="nothing happened"))
    result = _check(svc, 2)
    assert not result.intact and result.broken_at == target and "altered" in result.reason
    assert _check(svc, 1).intact  # the other incident's own links still hold


def test_a_deleted_event_before_it_in_the_global_chain_is_found(svc) -> None:
    _interleaved(svc)
    mine = _seqs(svc, 1)
    before = mine[-1] - 1
    assert before not in mine  # the event just before belongs to the other incident
    with svc.db.write() as session:
        session.execute(delete(TimelineRow).where(TimelineRow.seq == before))
    result = _check(svc, 1)
    assert not result.intact and "missing" in result.reason
