"""`state_visit` is the timeline's stays in each state, kept in step with it by every writer.

The oracle here reads the timeline alone (every creation and state change, in chain order) and
pairs each incident's consecutive steps, as the process report did before the table existed. The
table must hold exactly those stays after a bulk load (the demo), an import, live changes (holds
with and without a reason, resume, resolve, reopen, close) and the back-fill of an older store.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, select

from eim_tui.domain.intake import NewIncident
from eim_tui.domain.model import HoldReason
from eim_tui.services import demo
from eim_tui.services.importing import import_history
from eim_tui.services.reports import Reports
from eim_tui.store import visits
from eim_tui.store.tables import StateVisitRow, TimelineRow
from tests.importing.conftest import event, write_log


def _label(kind: str, data: dict) -> str | None:
    """Written apart from store/visits.py on purpose: the rule as the report has always read it."""
    if kind == "created":
        state, reason, note = data.get("state") or "new", data.get("hold_reason"), data.get("hold_note") or ""
    elif kind == "state_changed":
        folded = data.get("with") or {}
        state = data["new"]
        reason = (folded.get("hold_reason") or {}).get("new")
        note = (folded.get("hold_note") or {}).get("new") or ""
    else:
        return None
    text = state.replace("_", " ")
    if state != "on_hold":
        return text
    if reason and reason != "other":
        return f"{text}: {reason.replace('_', ' ')}"
    return f"{text}: {note}" if note else f"{text}: other"


def oracle(svc) -> list[tuple]:
    with svc.db.read() as session:
        events = session.execute(
            select(TimelineRow.incident_id, TimelineRow.seq, TimelineRow.at, TimelineRow.kind, TimelineRow.data)
            .order_by(TimelineRow.seq)).all()
    last: dict[int, list] = {}
    stays: list[list] = []
    for number, seq, at, kind, data in events:
        label = _label(kind, data)
        if label is None:
            continue
        if number in last:
            previous = last[number]
            previous[4:] = [at, round((at - previous[3]).total_seconds() / 3600, 6), label]
        last[number] = [number, seq, label, at, None, None, None]
        stays.append(last[number])
    return sorted(tuple(s) for s in stays)


def stored(svc) -> list[tuple]:
    v = StateVisitRow
    with svc.db.read() as session:
        rows = session.execute(select(v.incident_id, v.seq, v.state, v.entered_at, v.left_at, v.hours, v.next_state)).all()
    return sorted((n, s, st, e, left, None if h is None else round(h, 6), nxt) for n, s, st, e, left, h, nxt in rows)


def _history(svc, tmp_path: Path) -> None:
    demo.generate(svc, incidents=40, seed=3)
    write = write_log(tmp_path / "log.csv", [
        event("INC1", "New", 0, "1/3/2016 09:00", opened_at="1/3/2016 09:00"),
        event("INC1", "Active", 1, "1/3/2016 10:00", opened_at="1/3/2016 09:00"),
        event("INC1", "Awaiting Vendor", 2, "1/3/2016 11:00", opened_at="1/3/2016 09:00"),
        event("INC1", "Resolved", 3, "2/3/2016 13:00", opened_at="1/3/2016 09:00", resolved_at="2/3/2016 13:00"),
    ])
    import_history(svc, write)
    number = svc.log_incident(NewIncident("Mail queue stuck", 2, 2), "alice").number
    svc.clock.advance(timedelta(minutes=20))
    svc.acknowledge(number, "alice")
    svc.clock.advance(timedelta(hours=1))
    svc.put_on_hold(number, "alice", HoldReason.AWAITING_USER)
    svc.clock.advance(timedelta(hours=3))
    svc.resume(number, "alice")
    svc.clock.advance(timedelta(hours=1))
    svc.put_on_hold(number, "alice", HoldReason.OTHER, note="waiting for the window")
    svc.clock.advance(timedelta(hours=2))
    svc.resume(number, "alice")
    svc.resolve(number, "alice", code=min(svc.ref.resolution_codes), notes="flushed")
    svc.clock.advance(timedelta(hours=1))
    svc.reopen(number, "alice", reason="came back")
    svc.clock.advance(timedelta(minutes=30))
    svc.resolve(number, "alice", code=min(svc.ref.resolution_codes), notes="flushed again")
    svc.close(number, "alice")


def test_every_writer_keeps_the_stays_of_the_timeline(svc, tmp_path: Path) -> None:
    _history(svc, tmp_path)
    expected = oracle(svc)
    assert len(expected) > 100
    labels = {s[2] for s in expected}
    assert {"on hold: awaiting user", "on hold: waiting for the window", "on hold: awaiting vendor"} <= labels
    assert stored(svc) == expected


def test_the_backfill_builds_the_same_stays(svc, tmp_path: Path) -> None:
    _history(svc, tmp_path)
    expected = oracle(svc)
    with svc.db.write() as session:
        session.execute(delete(StateVisitRow))
        assert visits.backfill(session.connection()) == len(expected)
    assert stored(svc) == expected


def test_the_process_report_reads_the_stays(svc, tmp_path: Path) -> None:
    _history(svc, tmp_path)
    data = Reports(svc.db, svc.clock).process_report()
    states = {s["state"]: s for s in data["states"]}
    hold = states["on hold: awaiting user"]
    assert hold["visits"] >= 1 and 3.0 in _hours_of(svc, "on hold: awaiting user")
    assert states["on hold: waiting for the window"] == {
        "state": "on hold: waiting for the window", "incidents": 1, "visits": 1, "median_hours": 2.0, "p90_hours": 2.0}
    expected = oracle(svc)
    moves: dict[tuple[str, str], int] = {}
    for stay in expected:
        if stay[6] is not None:
            moves[(stay[2], stay[6])] = moves.get((stay[2], stay[6]), 0) + 1
    assert {(t["from"], t["to"]): t["count"] for t in data["transitions"]} == moves
    assert {s["state"]: s["incidents"] for s in data["states"]} == {
        label: len({s[0] for s in expected if s[2] == label}) for label in {s[2] for s in expected}}


def _hours_of(svc, label: str) -> list[float]:
    return [round(s[5], 6) for s in oracle(svc) if s[2] == label and s[5] is not None]


def test_a_period_takes_the_stays_of_the_incidents_reported_in_it(svc, tmp_path: Path) -> None:
    from datetime import date

    _history(svc, tmp_path)
    data = Reports(svc.db, svc.clock).process_report(date(2016, 3, 1), date(2016, 3, 31))  # the imported one alone
    assert {s["state"]: (s["incidents"], s["visits"]) for s in data["states"]} == {
        "new": (1, 1), "in progress": (1, 1), "on hold: awaiting vendor": (1, 1), "resolved": (1, 0)}
    assert {(t["from"], t["to"]): t["count"] for t in data["transitions"]} == {
        ("new", "in progress"): 1, ("in progress", "on hold: awaiting vendor"): 1, ("on hold: awaiting vendor", "resolved"): 1}
    hold = next(s for s in data["states"] if s["state"] == "on hold: awaiting vendor")
    assert hold["median_hours"] == 26.0
