"""The wall board's pure figures: today's flow against target, the local day, countdown text,
fresh breaches and when the board must look again."""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eim_tui.domain.board import (
    FRESH,
    MAX_STALENESS,
    BoardScope,
    BoardSnapshot,
    FlowSummary,
    GroupLoad,
    SeverityLoad,
    breach_order,
    complete_severities,
    is_fresh_breach,
    local_day_start,
    summarize_flow,
    wall_countdown,
)
from eim_tui.domain.filters import parse
from eim_tui.domain.model import QueueRow, State

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
TARGETS = {1: 900.0, 2: 1800.0, 3: 14400.0, 4: 86400.0, 5: 259200.0}


def row(number: int, due_in: float | None, paused: bool = False) -> QueueRow:
    due = NOW + timedelta(seconds=due_in) if due_in is not None else None
    return QueueRow(
        number=number, priority=2, state=State.NEW, title="t", service="", assignment_group="", assignee="",
        reported_at=NOW - timedelta(hours=1), clock="response" if due else "", due_at=due, warn_at=None,
        paused_since=NOW - timedelta(minutes=1) if paused else None,
    )


def snapshot(closest: tuple[QueueRow, ...] = ()) -> BoardSnapshot:
    empty = FlowSummary(summarize_flow([], TARGETS).overall, {})
    return BoardSnapshot(NOW, 1, complete_severities([]), (), closest, (), (), frozenset(), empty, empty)


def test_flow_figures_per_severity_and_overall() -> None:
    pairs = [(1, 600.0), (1, 1200.0), (1, 300.0), (2, 2000.0), (3, 100.0)]
    summary = summarize_flow(pairs, TARGETS)
    sev1 = summary.by_severity[1]
    assert (sev1.count, sev1.median, sev1.mean, sev1.within_target, sev1.target) == (3, 600.0, 700.0, 2, 900.0)
    assert summary.by_severity[2].within_target == 0  # 2000 s is past the 30 min target
    assert summary.by_severity[4].count == 0 and summary.by_severity[4].median is None
    assert summary.overall.count == 5
    assert summary.overall.median == 600.0
    assert summary.overall.within_target == 3  # each against its own severity's target
    assert summary.overall.share_within == pytest.approx(0.6)
    assert summary.overall.target is None


@given(st.lists(st.tuples(st.integers(1, 5), st.floats(-100, 1e6, allow_nan=False)), max_size=60))
def test_flow_agrees_with_statistics(pairs: list[tuple[int, float]]) -> None:
    summary = summarize_flow(pairs, TARGETS)
    values = [max(0.0, s) for _, s in pairs]  # a clock never runs backwards
    assert summary.overall.count == len(pairs)
    if values:
        assert summary.overall.median == pytest.approx(statistics.median(values))
        assert summary.overall.mean == pytest.approx(statistics.fmean(values))
    assert summary.overall.within_target == sum(1 for p, s in pairs if max(0.0, s) <= TARGETS[p])


def test_wall_countdown_reads_like_a_clock() -> None:
    assert wall_countdown(5) == "0:05"
    assert wall_countdown(754) == "12:34"
    assert wall_countdown(3723) == "1:02:03"
    assert wall_countdown(-65) == "-1:05"
    assert wall_countdown(2 * 86400 + 4 * 3600 + 5) == "2d 04h"
    assert wall_countdown(-90000) == "-1d 01h"


def test_fresh_breach_lasts_thirty_seconds_and_not_while_paused() -> None:
    assert not is_fresh_breach(row(1, 1), NOW)
    assert is_fresh_breach(row(1, 0), NOW)
    assert is_fresh_breach(row(1, -29), NOW)
    assert not is_fresh_breach(row(1, -FRESH.total_seconds()), NOW)
    assert not is_fresh_breach(row(1, -5, paused=True), NOW)
    assert not is_fresh_breach(row(1, None), NOW)


def test_next_look_is_the_next_clock_to_run_out_or_a_fresh_breach_going_stale() -> None:
    assert snapshot().next_look_at() == NOW + MAX_STALENESS
    assert snapshot((row(1, 20), row(2, 40))).next_look_at() == NOW + timedelta(seconds=20)
    assert snapshot((row(1, -10), row(2, 40))).next_look_at() == NOW + timedelta(seconds=20)  # -10 s + 30 s
    assert snapshot((row(1, 5, paused=True),)).next_look_at() == NOW + MAX_STALENESS


def test_next_look_includes_a_clock_turning_to_warning() -> None:
    """An OK clock must join the about-to-breach list when its warning instant passes."""
    turning = replace(row(1, 3600), warn_at=NOW + timedelta(seconds=12))
    assert snapshot((turning,)).next_look_at() == NOW + timedelta(seconds=12)
    already = replace(row(1, 3600), warn_at=NOW - timedelta(seconds=1))
    assert snapshot((already,)).next_look_at() == NOW + MAX_STALENESS


def test_breach_order_is_severity_then_longest_overdue() -> None:
    rows = [replace(row(1, -60), priority=2), replace(row(2, -600), priority=2), replace(row(3, -5), priority=1),
            replace(row(4, -600, paused=True), priority=1)]
    assert [r.number for r in sorted(rows, key=breach_order)] == [4, 3, 2, 1]


def test_redacted_covers_the_breached_and_warning_lists() -> None:
    board = replace(snapshot((row(1, 10),)), breached=(row(2, -10),), warning=(row(3, 10),))
    hidden = board.redacted(lambda rows: [replace(r, title="confidential") for r in rows])
    assert {r.title for r in hidden.closest + hidden.breached + hidden.warning} == {"confidential"}


def test_group_load_per_severity() -> None:
    load = GroupLoad("dba", 3, 1, (1, 0, 2, 0, 0), unassigned=1)
    assert [load.open_at(level) for level in range(0, 7)] == [0, 1, 0, 2, 0, 0, 0]
    assert GroupLoad("x", 0, 0).by_severity == (0, 0, 0, 0, 0)


def test_totals_and_missing_severities() -> None:
    loads = complete_severities([SeverityLoad(2, 5, 1, 2), SeverityLoad(4, 1, 0, 1)])
    assert [s.severity for s in loads] == [1, 2, 3, 4, 5]
    assert loads[0] == SeverityLoad(1)
    board = BoardSnapshot(NOW, 1, loads, (), (), (), (), frozenset(), *(2 * [summarize_flow([], TARGETS)]))
    assert board.total == SeverityLoad(0, 6, 1, 3)
    assert board.severity(4).breached == 1


def test_scope_label() -> None:
    assert BoardScope().label == "all incidents"
    assert BoardScope(parse("sev<=2"), "dba", True).label == "group dba · major incidents · filter: sev<=2"


@pytest.fixture
def zone():
    """Run with the process's local time zone set to `name`, and put it back after."""
    before = os.environ.get("TZ")

    def use(name: str) -> None:
        os.environ["TZ"] = name
        time.tzset()

    yield use
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_local_day_starts_at_local_midnight(zone) -> None:
    zone("UTC")
    assert local_day_start(NOW) == datetime(2026, 11, 26, tzinfo=UTC)
    zone("America/New_York")  # 04:00 local on the 26th; midnight there is 05:00 UTC
    assert local_day_start(NOW) == datetime(2026, 11, 26, 5, tzinfo=UTC)
    zone("Asia/Tokyo")  # 18:00 local on the 26th
    assert local_day_start(NOW) == datetime(2026, 11, 25, 15, tzinfo=UTC)
    zone("Europe/Berlin")  # the day the clocks go back: midnight is still +02:00
    assert local_day_start(datetime(2026, 10, 25, 12, tzinfo=UTC)) == datetime(2026, 10, 24, 22, tzinfo=UTC)
    assert local_day_start(NOW).tzinfo is UTC
