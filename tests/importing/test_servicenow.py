"""`eim import servicenow` on SQLite and PostgreSQL: a slice of the real event log reproduces what a
plain script over the CSV says (tests/importing/oracle.py), the same file twice is a no-op, a
grown export adds only what changed, bad rows are named by line, and the rebuilt timeline says
what happened in the source, chained like every other event."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from eim_tui.domain.errors import ValidationError
from eim_tui.domain.model import EventKind, HoldReason, State
from eim_tui.services.importing import import_history
from eim_tui.services.reports import Reports
from eim_tui.store.tables import (
    ImportedNameRow,
    IncidentImportRow,
    SubcategoryRow,
    TimelineRow,
)
from tests.importing import oracle
from tests.importing.conftest import event, write_log, write_slice


def _count(svc, column) -> int:
    with svc.db.read() as session:
        return session.execute(select(func.count(column))).scalar_one()


def _number_of(svc, ref: str) -> int:
    with svc.db.read() as session:
        return session.execute(select(IncidentImportRow.incident_id)
                               .where(IncidentImportRow.external_ref == ref)).scalar_one()


def test_the_import_reproduces_the_log_per_severity(svc, log_slice: Path) -> None:
    expected = oracle.figures(str(log_slice))
    summary = import_history(svc, log_slice)
    assert (summary.new, summary.changed, summary.unchanged, summary.bad) == (
        sum(e["incidents"] for e in expected.values()), 0, 0, [])
    report = Reports(svc.db, svc.clock).report(by="severity")
    got = {g["key"]: {"incidents": g["opened"], "resolved": g["resolved"],
                      "median_hours_to_resolve": g["mttr_hours"]["median"]} for g in report["groups"]}
    assert got.keys() == expected.keys()
    for severity, figures in expected.items():
        assert got[severity]["incidents"] == figures["incidents"]
        assert got[severity]["resolved"] == figures["resolved"]
        assert got[severity]["median_hours_to_resolve"] == pytest.approx(figures["median_hours_to_resolve"], abs=1e-3)
    assert svc.verify_chain().intact


def test_the_same_file_twice_changes_nothing(svc, log_slice: Path) -> None:
    import_history(svc, log_slice)
    events, incidents = _count(svc, TimelineRow.seq), _count(svc, IncidentImportRow.incident_id)
    again = import_history(svc, log_slice)
    assert again.line() == f"imported 2,000 rows: 0 new, 0 changed, {incidents:,} unchanged"
    assert (_count(svc, TimelineRow.seq), _count(svc, IncidentImportRow.incident_id)) == (events, incidents)


def test_a_grown_export_adds_only_the_new_rows_events(svc, tmp_path: Path) -> None:
    # The first 1,000 rows end in the middle of INC0000338's rows: the full slice grows it.
    import_history(svc, write_slice(tmp_path / "first.csv", 1000))
    events_before = _count(svc, TimelineRow.seq)
    grown_before = len(svc.details(_number_of(svc, "INC0000338")).timeline)
    summary = import_history(svc, write_slice(tmp_path / "more.csv", 2000))
    assert summary.changed >= 1 and summary.new >= 1
    assert summary.new + summary.changed + summary.unchanged == _count(svc, IncidentImportRow.incident_id)
    assert _count(svc, TimelineRow.seq) > events_before
    assert len(svc.details(_number_of(svc, "INC0000338")).timeline) > grown_before
    assert svc.verify_chain().intact
    # Each grown incident's timeline is what a single import of the whole slice gives it.
    from eim_tui.bootstrap import open_services

    whole = open_services(f"sqlite:///{tmp_path}/whole.db", svc.clock)
    try:
        import_history(whole, tmp_path / "more.csv")
        for ref in ("INC0000045", "INC0000338"):
            grown = [(e.at, e.actor, e.summary) for e in svc.details(_number_of(svc, ref)).timeline]
            fresh = [(e.at, e.actor, e.summary) for e in whole.details(_number_of(whole, ref)).timeline]
            assert grown == fresh
    finally:
        whole.db.dispose()


def test_an_incident_is_rebuilt_from_its_rows(svc, tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.csv", [
        event("INC0000001", "New", 0, "1/3/2016 09:05", sys_updated_by="Updated by 1", opened_by="Opened by 7"),
        event("INC0000001", "Active", 1, "1/3/2016 10:00", assigned_to="Resolver 3"),
        event("INC0000001", "Awaiting User Info", 2, "1/3/2016 12:00", assigned_to="Resolver 3"),
        event("INC0000001", "Awaiting Vendor", 3, "2/3/2016 12:00", assigned_to="Resolver 3"),
        event("INC0000001", "Active", 4, "3/3/2016 12:00", assigned_to="Resolver 4", assignment_group="Group 2",
              priority="2 - High"),
        event("INC0000001", "Resolved", 5, "3/3/2016 15:00", sys_updated_by="Updated by 9", assigned_to="Resolver 4",
              assignment_group="Group 2", priority="2 - High", closed_code="code 5", resolved_at="3/3/2016 15:00"),
        event("INC0000001", "Closed", 6, "8/3/2016 15:00", assigned_to="Resolver 4", assignment_group="Group 2",
              priority="2 - High", closed_code="code 5", resolved_at="3/3/2016 15:00", closed_at="8/3/2016 15:00",
              made_sla="false", reassignment_count="1", problem_id="Problem ID 2", rfc="CHG0000007",
              location="Location 143", cmdb_ci="WSC0001"),
    ])
    assert import_history(svc, log).new == 1
    details = svc.details(_number_of(svc, "INC0000001"))
    inc = details.incident
    assert (inc.state, inc.priority, inc.impact, inc.urgency) == (State.CLOSED, 2, 2, 2)  # Sev2 as recorded
    assert (inc.assignment_group, inc.assignee, inc.reporter_name, inc.source.value) == (
        "Group 2", "Resolver 4", "Caller 1", "phone")
    assert (inc.resolution_code, inc.problem_ref, inc.change_ref, inc.configuration_item) == (
        "code 5", "Problem ID 2", "CHG0000007", "WSC0001")
    assert inc.reported_at.isoformat() == "2016-03-01T09:00:00+00:00"
    assert inc.acknowledged_at.isoformat() == "2016-03-01T10:00:00+00:00"
    assert inc.resolved_at.isoformat() == "2016-03-03T15:00:00+00:00"
    assert inc.closed_at.isoformat() == "2016-03-08T15:00:00+00:00"
    lines = [(e.at.strftime("%d %H:%M"), e.actor, e.kind, e.summary) for e in details.timeline]
    assert lines[0][:3] == ("01 09:00", "Opened by 7", EventKind.CREATED)
    summaries = [line[3] for line in lines]
    assert "state new → in progress" in summaries
    assert "state in progress → on hold (awaiting user)" in summaries
    assert "state on hold → on hold (awaiting vendor)" in summaries
    assert "assigned Group 1/Resolver 3 → Group 2/Resolver 4" in summaries
    assert "severity 3 → 2" in summaries
    assert "state in progress → resolved (code 5)" in summaries
    assert ("08 15:00", "Updated by 1", EventKind.STATE_CHANGED, "state resolved → closed") in lines
    assert all(e.data.get("imported") == "servicenow" and e.data.get("external_ref") == "INC0000001"
               for e in details.timeline)
    with svc.db.read() as session:
        row = session.get(IncidentImportRow, inc.number)
        assert (row.made_sla, row.reassignment_count, row.location, row.source_rows) == (False, 1, "Location 143", 7)
        assert row.on_hold_seconds == 2 * 24 * 3600  # awaiting user, then vendor, 1 Mar 12:00 → 3 Mar 12:00
        names = set(session.execute(select(ImportedNameRow.kind, ImportedNameRow.name)))
        assert {("group", "Group 2"), ("user", "Resolver 4"), ("ci", "WSC0001"), ("location", "Location 143"),
                ("category", "Category 1")} <= names
        assert session.get(SubcategoryRow, ("Category 1", "Subcategory 1")) is not None
    # Holds awaiting the user or a vendor paused the SLA clocks: the resolution is due two days later.
    assert inc.sla_paused_seconds == 2 * 24 * 3600
    assert inc.hold_reason is None and HoldReason.AWAITING_USER.pauses_sla


def test_bad_rows_are_named_by_line_and_the_rest_imported(svc, tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.csv", [
        event("INC0000001", "New", 0, "1/3/2016 09:05"),
        event("INC0000001", "-100", 1, "1/3/2016 09:06"),
        event("", "Active", 0, "1/3/2016 09:07"),
        event("INC0000002", "New", 0, "31/2/2016 09:05"),
        event("INC0000003", "New", 0, "1/3/2016 09:05", opened_at="yesterday"),
        event("INC0000004", "Resolved", 0, "1/3/2016 09:05", resolved_at="1/3/2016 09:05"),
    ])
    summary = import_history(svc, log, dry_run=False)
    assert [(b.line, b.reason) for b in summary.bad] == [
        (3, "INC0000001: unknown state '-100'"),
        (4, "no ticket number"),
        (5, "INC0000002: unreadable sys_updated_at '31/2/2016 09:05' (expected like %d/%m/%Y %H:%M)"),
        (6, "INC0000003: unreadable opened_at 'yesterday' (expected like %d/%m/%Y %H:%M)"),
    ]
    assert (summary.new, summary.rows) == (2, 2)
    assert summary.line() == "imported 2 rows: 2 new, 0 changed, 0 unchanged; 4 bad rows"


def test_a_dry_run_writes_nothing(svc, log_slice: Path) -> None:
    events = _count(svc, TimelineRow.seq)
    summary = import_history(svc, log_slice, dry_run=True)
    assert summary.new == 296 and summary.line().startswith("would import 2,000 rows: 296 new")
    assert _count(svc, IncidentImportRow.incident_id) == 0 and _count(svc, TimelineRow.seq) == events


def test_a_file_that_is_not_the_event_log_is_refused(svc, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("id,title,status\n1,VPN down,open\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"is not a ServiceNow incident event log: it has no column number"):
        import_history(svc, other)
    with pytest.raises(ValidationError, match="no such file"):
        import_history(svc, tmp_path / "missing.csv")
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(ValidationError, match="cannot read"):
        import_history(svc, broken)
    assert _count(svc, IncidentImportRow.incident_id) == 0
