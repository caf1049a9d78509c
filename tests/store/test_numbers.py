"""Incident numbers are gapless per store: writers racing to log incidents, some of them rolling
back after their number was handed out, leave 1..N with no gap and no number twice — on PostgreSQL
(whose serial sequence never gives a number back) as on SQLite."""

from __future__ import annotations

from sqlalchemy import func, insert, select

from eim_tui.bootstrap import open_services
from eim_tui.domain.intake import NewIncident
from eim_tui.store import bulk_load, repository, timeline
from eim_tui.store.tables import IncidentNumberRow, IncidentRow

from .threads import run_together

WRITERS = 6
EACH = 8


class GaveUp(Exception):
    """Raised inside a writing transaction, after the incident and its events were written."""


def _stored_numbers(svc) -> list[int]:
    with svc.db.read() as session:
        return list(session.execute(select(IncidentRow.id).order_by(IncidentRow.id)).scalars())


def test_racing_writers_with_rollbacks_leave_no_gap_and_no_duplicate(db_url: str, svc, clock) -> None:
    # One Services (so one connection pool) per writer, as separate processes would have.
    services = [svc] + [open_services(db_url, clock) for _ in range(WRITERS - 1)]

    def give_up(session, incident) -> None:
        raise GaveUp(f"{incident.key} given up on purpose")

    def writer(index: int):
        def run() -> list[int | str]:
            got: list[int | str] = []
            for n in range(EACH):
                rolls_back = (index + n) % 3 == 0  # a third of all inserts, spread over every writer
                report = NewIncident(title=f"writer {index} incident {n}", impact=2, urgency=3)
                try:
                    logged = services[index].log_incident(report, "alice", also=give_up if rolls_back else None)
                except GaveUp:
                    got.append("rolled back")
                else:
                    assert not rolls_back
                    got.append(logged.number)
            return got

        return run

    try:
        results = run_together([writer(i) for i in range(WRITERS)], timeout=120)
    finally:
        for other in services[1:]:
            other.db.dispose()
    for result in results:
        assert not isinstance(result, Exception), repr(result)
    handed = [n for result in results for n in result if n != "rolled back"]
    rolled_back = sum(result.count("rolled back") for result in results)
    assert rolled_back == sum((i + n) % 3 == 0 for i in range(WRITERS) for n in range(EACH)) > 0
    assert sorted(handed) == list(range(1, len(handed) + 1)), "a number skipped or given twice"
    assert _stored_numbers(svc) == sorted(handed)
    with svc.db.read() as session:
        assert timeline.verify(session).intact
    # the next one follows straight on
    assert svc.log_incident(NewIncident(title="after the race", impact=3, urgency=3), "alice").number == len(handed) + 1


def test_a_rolled_back_number_is_given_to_the_next_incident(svc) -> None:
    def give_up(session, incident) -> None:
        assert incident.number == 1
        raise GaveUp("on purpose")

    try:
        svc.log_incident(NewIncident(title="never kept", impact=3, urgency=3), "alice", also=give_up)
    except GaveUp:
        pass
    else:
        raise AssertionError("the transaction should have been rolled back")
    assert svc.log_incident(NewIncident(title="kept", impact=3, urgency=3), "alice").number == 1
    assert _stored_numbers(svc) == [1]


def test_numbering_follows_rows_written_without_the_counter(svc) -> None:
    """A tool that inserts incident rows itself (the benchmarks do) cannot make the counter hand out
    a number already taken: allocation never goes below the highest stored number."""
    first = svc.log_incident(NewIncident(title="first", impact=3, urgency=3), "alice")
    values = repository.incident_values(first.replace(number=7, title="written directly"), svc.ref.policies)
    with svc.db.write() as session:
        session.execute(insert(IncidentRow).values(id=7, **values))
    assert svc.log_incident(NewIncident(title="next", impact=3, urgency=3), "alice").number == 8


def test_bulk_loads_take_their_numbers_from_the_same_counter(svc, clock) -> None:
    """`eim demo` writes many incidents at once: they are numbered after the last, and the next
    incident logged one by one follows them."""
    svc.log_incident(NewIncident(title="before the load", impact=3, urgency=3), "alice")
    base = svc.get(1)
    histories = [
        bulk_load.History(
            incident=base.replace(number=0, title=f"loaded {n}"),
            events=[(clock.now(), "alice", (timeline.EventKind.CREATED, f"loaded {n}", {"title": f"loaded {n}"}))],
        )
        for n in range(3)
    ]
    with svc.db.write() as session:
        bulk_load.insert_histories(session, histories, svc.ref.policies)
    assert _stored_numbers(svc) == [1, 2, 3, 4]
    assert svc.log_incident(NewIncident(title="after the load", impact=3, urgency=3), "alice").number == 5
    with svc.db.read() as session:
        assert session.execute(select(func.max(IncidentNumberRow.last_number))).scalar_one() == 5
        assert timeline.verify(session).intact
