"""The hash-chained timeline: intact after real use, tampering found and named, safe under concurrency."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, text, update

from eim_tui.bootstrap import open_services
from eim_tui.domain import EventKind
from eim_tui.store import timeline
from eim_tui.store.tables import TimelineRow

from .conftest import report
from .threads import run_together


def _verify(svc) -> timeline.ChainReport:
    with svc.db.read() as session:
        return timeline.verify(session)


def _busy_history(svc, clock, incidents: int = 4) -> int:
    """A few incidents with a life each; returns how many events were written."""
    for n in range(incidents):
        svc.log_incident(report(title=f"Disk full on db0{n}"), "alice")
    for n in range(1, incidents + 1):
        clock.advance(timedelta(minutes=3))
        svc.acknowledge(n, "bob")
        svc.add_note(n, "bob", "observation", f"volume {n} at 100%")
        svc.put_on_hold(n, "bob", "vendor")
        clock.advance(timedelta(minutes=20))
        svc.resume(n, "bob")
    with svc.db.read() as session:
        return session.execute(select(func.count()).select_from(TimelineRow)).scalar_one()


def test_the_chain_is_intact_after_many_changes(svc, clock) -> None:
    count = _busy_history(svc, clock)
    assert count == 4 + 4 * 6
    result = _verify(svc)
    assert result.intact and result.events == count and result.broken_at is None
    assert result.describe() == f"timeline intact: {count} events, every link verified"
    with svc.db.read() as session:
        seqs = list(session.execute(select(TimelineRow.seq).order_by(TimelineRow.seq)).scalars())
    assert seqs == list(range(1, count + 1))


def test_verify_reads_in_batches_and_still_finds_the_broken_link(svc, clock) -> None:
    count = _busy_history(svc, clock)
    with svc.db.read() as session:
        assert timeline.verify(session, batch=5) == timeline.ChainReport(True, count)
    _raw(svc, "UPDATE timeline_event SET actor = 'mallory' WHERE seq = 11")  # first of the third batch
    with svc.db.read() as session:
        assert timeline.verify(session, batch=5).broken_at == 11


def test_an_empty_store_verifies(svc) -> None:
    assert _verify(svc) == timeline.ChainReport(True, 0)


def _raw(svc, statement: str, **params) -> None:
    with svc.db.write() as session:
        session.execute(text(statement), params)


def test_an_altered_summary_is_found_at_its_seq(svc, clock) -> None:
    _busy_history(svc, clock)
    _raw(svc, "UPDATE timeline_event SET summary = 'nothing happened' WHERE seq = 9")
    result = _verify(svc)
    assert not result.intact and result.broken_at == 9 and result.events == 8
    assert "seq 9" in result.reason and "altered" in result.reason
    assert result.describe().startswith("timeline BROKEN at event 9:")


def test_an_altered_actor_or_time_is_found(svc, clock) -> None:
    _busy_history(svc, clock)
    with svc.db.write() as session:
        session.execute(update(TimelineRow).where(TimelineRow.seq == 5).values(actor="mallory"))
    assert _verify(svc).broken_at == 5
    with svc.db.write() as session:
        session.execute(update(TimelineRow).where(TimelineRow.seq == 5).values(actor="bob"))
        at = session.execute(select(TimelineRow.at).where(TimelineRow.seq == 3)).scalar_one()
        session.execute(update(TimelineRow).where(TimelineRow.seq == 3).values(at=at - timedelta(hours=1)))
    assert _verify(svc).broken_at == 3


def test_a_rehashed_row_breaks_the_link_to_the_next(svc, clock) -> None:
    """A forger who recomputes the altered row's own hash still breaks the next row's link."""
    _busy_history(svc, clock)
    with svc.db.write() as session:
        row = session.get(TimelineRow, 7)
        row.summary = "nothing happened"
        row.hash = timeline.event_hash(row.seq, row.incident_id, row.at, row.actor, row.kind, row.summary,
                                       row.data, row.prev_hash)
    result = _verify(svc)
    assert result.broken_at == 8 and "does not link" in result.reason


def test_a_deleted_middle_row_is_found(svc, clock) -> None:
    _busy_history(svc, clock)
    _raw(svc, "DELETE FROM timeline_event WHERE seq = 12")
    result = _verify(svc)
    assert not result.intact and result.broken_at == 12 and "event 12 is missing" in result.reason


def test_a_deleted_last_row_is_found(svc, clock) -> None:
    count = _busy_history(svc, clock)
    _raw(svc, "DELETE FROM timeline_event WHERE seq = :seq", seq=count)
    result = _verify(svc)
    assert not result.intact and result.broken_at == count
    assert "deleted at the end" in result.reason


def test_two_appends_in_one_transaction_chain_on(svc, log, clock) -> None:
    log()
    with svc.db.write() as session:
        timeline.append(session, [timeline.NewEvent(1, EventKind.ESCALATION, "paged the shift lead", {})], clock.now(), "scheduler")
        timeline.append(session, [timeline.NewEvent(1, EventKind.NOTIFICATION_SENT, "bell", {})], clock.now(), "scheduler")
    result = _verify(svc)
    assert result.intact and result.events == 3


def test_concurrent_writers_keep_one_chain(svc, db_url, clock) -> None:
    for n in range(6):
        svc.log_incident(report(title=f"Printer {n} jammed"), "alice")
    workers = [open_services(db_url, clock) for _ in range(3)]
    try:
        def busy(services, numbers: list[int]):
            def run() -> int:
                for number in numbers:
                    services.acknowledge(number, f"user{number}")
                    services.add_note(number, f"user{number}", "finding", "paper tray misaligned")
                    services.set_major(number, f"user{number}", True)
                    services.log_incident(report(title=f"follow-up of {number}"), f"user{number}")
                return len(numbers)

            return run

        jobs = [busy(workers[i % 3], [i + 1]) for i in range(6)]
        assert run_together(jobs) == [1] * 6
    finally:
        for w in workers:
            w.db.dispose()
    result = _verify(svc)
    # 6 created + per incident: ack (state, assigned), note, major, and one new incident's "created".
    assert result.intact and result.events == 6 + 6 * 5
    with svc.db.read() as session:
        seqs = list(session.execute(select(TimelineRow.seq).order_by(TimelineRow.seq)).scalars())
        prevs = list(session.execute(select(TimelineRow.prev_hash)).scalars())
    assert seqs == list(range(1, 37))
    assert len(set(prevs)) == len(prevs)  # no fork: no two events hang off the same link


def test_the_very_first_writers_racing_on_a_new_store(svc) -> None:
    """The chain head does not exist until the first event; racing first writers must not collide."""
    results = run_together([lambda i=i: svc.log_incident(report(title=f"first {i}"), "alice") for i in range(4)])
    assert not [r for r in results if isinstance(r, Exception)], results
    result = _verify(svc)
    assert result.intact and result.events == 4


def _warning(number: int) -> timeline.NewEvent:
    return timeline.NewEvent(number, EventKind.SLA_WARNING, "response SLA at 75 %", {"clock": "response"},
                             once_key=f"sla_warning:{number}:response:2026-11-26T09:11:15Z")


def test_append_once_records_an_event_only_once(svc, log, clock) -> None:
    log()
    with svc.db.write() as session:
        first = timeline.append_once(session, _warning(1), clock.now(), "scheduler")
    with svc.db.write() as session:
        again = timeline.append_once(session, _warning(1), clock.now(), "scheduler")
        # the transaction goes on after a refused duplicate
        timeline.append(session, [timeline.NewEvent(1, EventKind.NOTIFICATION_SENT, "bell", {})], clock.now(), "scheduler")
    assert first is not None and first.seq == 2 and again is None
    kinds = [e.kind for e in svc.details(1).timeline]
    assert kinds == [EventKind.CREATED, EventKind.SLA_WARNING, EventKind.NOTIFICATION_SENT]
    assert _verify(svc).intact


def test_racing_append_once_writes_one_event(svc, db_url, log, clock) -> None:
    log()
    workers = [open_services(db_url, clock) for _ in range(4)]
    try:
        def scheduler(services):
            def run():
                with services.db.write() as session:
                    return timeline.append_once(session, _warning(1), clock.now(), "scheduler")

            return run

        results = run_together([scheduler(w) for w in workers])
    finally:
        for w in workers:
            w.db.dispose()
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len([r for r in results if r is not None]) == 1
    with svc.db.read() as session:
        assert session.execute(
            select(func.count()).select_from(TimelineRow).where(TimelineRow.kind == "sla_warning")
        ).scalar_one() == 1
    assert _verify(svc).intact


def test_the_race_past_the_existence_check_is_settled_by_the_unique_key(svc, log, clock, monkeypatch) -> None:
    """Both schedulers passed the check before either wrote: the unique index refuses the second."""
    log()
    with svc.db.write() as session:
        assert timeline.append_once(session, _warning(1), clock.now(), "scheduler") is not None
    real_execute = type(session).execute

    def blind_execute(self, statement, *args, **kwargs):
        if "once_key" in str(statement) and str(statement).lstrip().upper().startswith("SELECT"):
            statement = select(TimelineRow.seq).where(text("1 = 0"))  # the other has not committed yet
        return real_execute(self, statement, *args, **kwargs)

    monkeypatch.setattr(type(session), "execute", blind_execute)
    with svc.db.write() as session:
        assert timeline.append_once(session, _warning(1), clock.now(), "scheduler") is None
    monkeypatch.undo()
    result = _verify(svc)
    assert result.intact and result.events == 2


def test_events_are_never_deleted_by_the_store(svc, log) -> None:
    """Guard for the chain's premise: nothing in the use cases deletes or rewrites events."""
    log()
    svc.acknowledge(1, "bob")
    with svc.db.read() as session:
        hashes = list(session.execute(select(TimelineRow.hash).order_by(TimelineRow.seq)).scalars())
    svc.cancel(1, "lead", "duplicate")  # cancelling needs a shift lead
    with svc.db.read() as session:
        after = list(session.execute(select(TimelineRow.hash).order_by(TimelineRow.seq)).scalars())
    assert after[: len(hashes)] == hashes and len(after) == len(hashes) + 1
