"""`eim report` figures against hand-computed ones, on SQLite and PostgreSQL alike: three imported
Sev3 incidents and one open Sev2 (a small hand-written event log), plus one incident handled in
eim itself (acknowledged, moved to another group, resolved, closed with a rating).

The three Sev3 incidents, reported in March 2016 (SLA Sev3: response 4 h, resolution 3 d):
  A  1 Mar 09:00, acknowledged after 1 h, resolved after 4 h, closed 3 Mar; source label met
  B  2 Mar 09:00, acknowledged after 0.5 h, resolved after 2 h; reassigned 3 times; label missed
  C  3 Mar 08:00, acknowledged after 4 h (at the response due instant: missed), awaiting the user
     for 24 h, resolved after 34 h; reopened once by the source's count
so MTTA 1, 0.5, 4 h: mean 1.8333, median 1, p90 1 + 0.8 × 3 = 3.4; MTTR 4, 2, 34 h: mean 13.3333,
median 4, p90 4 + 0.8 × 30 = 28.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from eim_tui.domain.errors import ValidationError
from eim_tui.domain.intake import NewIncident
from eim_tui.services.importing import import_history
from eim_tui.services.reports import Reports, percentile
from tests.importing.conftest import event, write_log

GROUP_KEYS = {"key", "opened", "resolved", "closed", "backlog", "mtta_hours", "mttr_hours", "sla", "reopen_pct",
              "reassigned_mean", "reassigned_over_2_pct", "on_hold_hours_mean", "fcr_pct", "rating_mean"}


def _log(tmp_path: Path) -> Path:
    a = {"opened_at": "1/3/2016 09:00"}
    b = {"opened_at": "2/3/2016 09:00", "made_sla": "false"}
    c = {"opened_at": "3/3/2016 08:00"}
    d = {"opened_at": "10/4/2016 10:00", "priority": "2 - High", "impact": "1 - High"}
    return write_log(tmp_path / "log.csv", [
        event("INC1", "New", 0, "1/3/2016 09:00", **a),
        event("INC1", "Active", 1, "1/3/2016 10:00", **a),
        event("INC1", "Resolved", 2, "1/3/2016 13:00", resolved_at="1/3/2016 13:00", **a),
        event("INC1", "Closed", 3, "3/3/2016 13:00", resolved_at="1/3/2016 13:00", closed_at="3/3/2016 13:00", **a),
        event("INC2", "New", 0, "2/3/2016 09:00", **b),
        event("INC2", "Active", 1, "2/3/2016 09:30", **b),
        event("INC2", "Resolved", 2, "2/3/2016 11:00", resolved_at="2/3/2016 11:00", reassignment_count="3", **b),
        event("INC3", "New", 0, "3/3/2016 08:00", **c),
        event("INC3", "Active", 1, "3/3/2016 12:00", **c),
        event("INC3", "Awaiting User Info", 2, "3/3/2016 13:00", **c),
        event("INC3", "Active", 3, "4/3/2016 13:00", **c),
        event("INC3", "Resolved", 4, "4/3/2016 18:00", resolved_at="4/3/2016 18:00", reopen_count="1", **c),
        event("INC4", "New", 0, "10/4/2016 10:00", **d),
    ])


@pytest.fixture
def reports(svc, tmp_path: Path) -> Reports:
    import_history(svc, _log(tmp_path))
    # One incident handled in eim: Sev5, moved from one group to another, resolved after 2 h, rated 4.
    groups = [g.name for g in svc.ref.groups]
    number = svc.log_incident(NewIncident("Printer jam", 3, 3, assignment_group=groups[0]), "alice").number
    svc.clock.advance(timedelta(minutes=30))
    svc.acknowledge(number, "alice")
    svc.assign(number, "alice", group=groups[1])
    svc.clock.advance(timedelta(minutes=90))
    svc.resolve(number, "alice", code=min(svc.ref.resolution_codes), notes="cleared the jam")
    svc.close(number, "alice", rating=4)
    svc.clock.advance(timedelta(minutes=1))
    return Reports(svc.db, svc.clock)


def test_figures_per_severity_are_the_hand_computed_ones(reports: Reports) -> None:
    data = reports.report(by="severity")
    assert set(data) == {"from", "to", "by", "groups", "total"} and data["by"] == "severity"
    assert data["from"] == "2016-03-01"
    groups = {g["key"]: g for g in data["groups"]}
    assert sorted(groups) == [2, 3, 5] and all(set(g) == GROUP_KEYS for g in data["groups"])
    sev3 = groups[3]
    assert (sev3["opened"], sev3["resolved"], sev3["closed"], sev3["backlog"]) == (3, 3, 1, 0)
    assert sev3["mtta_hours"] == {"mean": pytest.approx(1.8333, abs=1e-4), "median": 1.0, "p90": 3.4}
    assert sev3["mttr_hours"] == {"mean": pytest.approx(13.3333, abs=1e-4), "median": 4.0, "p90": 28.0}
    assert sev3["sla"] == {"response_met_pct": 66.67, "resolution_met_pct": 100.0, "source_met_pct": 66.67}
    assert (sev3["reopen_pct"], sev3["reassigned_mean"], sev3["reassigned_over_2_pct"]) == (33.33, 1.0, 33.33)
    assert (sev3["on_hold_hours_mean"], sev3["fcr_pct"], sev3["rating_mean"]) == (8.0, 33.33, None)
    sev2 = groups[2]
    assert (sev2["opened"], sev2["resolved"], sev2["backlog"], sev2["mtta_hours"]["median"]) == (1, 0, 1, None)
    native = groups[5]
    assert (native["opened"], native["resolved"], native["closed"]) == (1, 1, 1)
    assert (native["mtta_hours"]["median"], native["mttr_hours"]["median"]) == (0.5, 2.0)
    assert (native["reassigned_mean"], native["fcr_pct"], native["rating_mean"]) == (1.0, 0.0, 4.0)
    assert native["sla"] == {"response_met_pct": 100.0, "resolution_met_pct": 100.0, "source_met_pct": None}
    total = data["total"]
    assert total["key"] == "total"
    assert (total["opened"], total["resolved"], total["closed"], total["backlog"]) == (5, 4, 2, 1)
    assert total["mttr_hours"]["median"] == 3.0  # 2, 2, 4, 34


def test_a_period_counts_what_fell_in_it(reports: Reports) -> None:
    data = reports.report(date(2016, 3, 2), date(2016, 3, 2), by="severity")
    assert (data["from"], data["to"]) == ("2016-03-02", "2016-03-02")
    (sev3,) = data["groups"]
    # Only B was reported and resolved on 2 March; A had been resolved the day before; C came later.
    assert (sev3["key"], sev3["opened"], sev3["resolved"], sev3["closed"], sev3["backlog"]) == (3, 1, 1, 0, 0)
    assert sev3["mttr_hours"]["median"] == 2.0


def test_by_month_each_figure_in_its_own_month(reports: Reports) -> None:
    data = reports.report(date(2016, 1, 1), date(2016, 12, 31), by="month")
    months = {g["key"]: g for g in data["groups"]}
    assert sorted(months) == ["2016-03", "2016-04"]
    assert (months["2016-03"]["opened"], months["2016-03"]["resolved"], months["2016-03"]["backlog"]) == (3, 3, 0)
    assert (months["2016-04"]["opened"], months["2016-04"]["resolved"], months["2016-04"]["backlog"]) == (1, 0, 1)
    weeks = [g["key"] for g in reports.report(date(2016, 1, 1), date(2016, 12, 31), by="week")["groups"]]
    assert weeks == ["2016-W09", "2016-W14"]


def test_by_group_and_bad_arguments(reports: Reports) -> None:
    keys = [g["key"] for g in reports.report(by="group")["groups"]]
    assert "Group 1" in keys
    with pytest.raises(ValidationError, match="unknown --by 'team'; use one of severity, category"):
        reports.report(by="team")
    with pytest.raises(ValidationError, match="--from 2016-03-05 is after --to 2016-03-01; swap them"):
        reports.report(date(2016, 3, 5), date(2016, 3, 1))


def test_where_incidents_wait(reports: Reports) -> None:
    data = reports.process_report()
    states = {s["state"]: s for s in data["states"]}
    hold = states["on hold: awaiting user"]
    assert (hold["incidents"], hold["visits"], hold["median_hours"]) == (1, 1, 24.0)
    # Left New after 1, 0.5 and 4 h (the open INC4 has not left it; the eim incident left after 0.5 h).
    assert states["new"]["incidents"] == 5 and states["new"]["visits"] == 4
    assert states["new"]["median_hours"] == pytest.approx(0.75)
    moves = {(t["from"], t["to"]): t["count"] for t in data["transitions"]}
    assert moves[("new", "in progress")] == 4
    assert moves[("in progress", "on hold: awaiting user")] == 1
    assert moves[("on hold: awaiting user", "in progress")] == 1
    assert moves[("resolved", "closed")] == 2


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([0.0, 10.0], 0.9) == 9.0


def test_several_groupings_from_one_read_are_each_the_report_alone(reports: Reports) -> None:
    """The reports screen asks for its table's and charts' groupings at once (one read of the rows)."""
    together = list(reports.reports(date(2016, 1, 1), None, ["month", "severity", "week"]))
    assert [by for by, _ in together] == ["month", "severity", "week"]
    for by, data in together:
        assert data == reports.report(date(2016, 1, 1), None, by)
    with pytest.raises(ValidationError, match="unknown --by 'team'"):
        list(reports.reports(None, None, ["month", "team"]))


def test_mttr_by_month_alone_is_the_month_reports_median(reports: Reports) -> None:
    """The reports screen's first chart comes from the resolution times alone; it must say what the
    whole report says, for every period."""
    for start, end in ((None, None), (date(2016, 3, 2), date(2016, 3, 31)), (date(2016, 4, 1), None)):
        month = reports.report(start, end, by="month")
        assert reports.mttr_by_month(start, end) == [(g["key"], g["mttr_hours"]["median"]) for g in month["groups"]
                                                      if g["resolved"]], (start, end)
    assert reports.mttr_by_month(None, None)[0] == ("2016-03", 4.0)  # 4, 2, 34 h


def test_mttr_by_month_matches_the_month_report_on_many_months(svc) -> None:
    """Months with even and odd counts, ties and periods cut inside a month: the database's two
    middle values give exactly the whole report's median."""
    from eim_tui.services import demo

    demo.generate(svc, incidents=600, seed=11)
    reports = Reports(svc.db, svc.clock)
    today = svc.clock.now().date()
    periods = [(None, None), (today - timedelta(days=40), today), (today - timedelta(days=75), today - timedelta(days=20))]
    counts = set()
    for start, end in periods:
        month = reports.report(start, end, by="month")
        expected = [(g["key"], g["mttr_hours"]["median"]) for g in month["groups"] if g["resolved"]]
        counts |= {g["resolved"] % 2 for g in month["groups"] if g["resolved"]}
        assert reports.mttr_by_month(start, end) == expected, (start, end)
    assert counts == {0, 1}  # both kinds of month were checked
