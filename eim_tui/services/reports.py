"""Reports: how fast incidents were answered and resolved, how the SLAs held, and where incidents wait.

`report` gives, per group and in total: opened, resolved, closed, backlog at the end; MTTA
(reported → acknowledged) and MTTR (reported → resolved) in hours as mean, median and p90; SLA
compliance by eim's policies (response, resolution) and, apart, the source system's own label for
imported incidents; reopen rate, reassignments, time on hold, first-contact resolution, ratings.

Each figure belongs to a date: opened, MTTA and response compliance to when the incident was
reported; resolved, MTTR, resolution compliance, reopens, reassignments, hold time, first-contact
resolution, ratings and the source's label to when it was resolved; closed to when it was closed.
A period counts what fell in it, and `--by month|week` puts each figure in its own date's bucket.
Percentiles interpolate between the two nearest values (PostgreSQL's `percentile_cont`), computed
here from the rows, so both backends give the same figures.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from eim_tui.domain.errors import ValidationError
from eim_tui.store import reports as stored
from eim_tui.store.reports import ReportRow

GROUPINGS = ("severity", "category", "service", "group", "assignee", "month", "week")
_TIME_GROUPS = ("month", "week")
NONE_KEY = "(none)"


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile of sorted `values` by linear interpolation (percentile_cont); None if empty."""
    if not values:
        return None
    position = q * (len(values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _spread(values: list[float]) -> dict[str, float | None]:
    values.sort()
    mean = sum(values) / len(values) if values else None
    return {"mean": _r(mean), "median": _r(percentile(values, 0.5)), "p90": _r(percentile(values, 0.9))}


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _pct(hits: int, count: int) -> float | None:
    return None if count == 0 else round(100.0 * hits / count, 2)


@dataclass(slots=True)
class _Bucket:
    opened: int = 0
    resolved: int = 0
    closed: int = 0
    backlog: int = 0
    mtta: list[float] = field(default_factory=list)
    mttr: list[float] = field(default_factory=list)
    response: list[bool] = field(default_factory=list)
    resolution: list[bool] = field(default_factory=list)
    source: list[bool] = field(default_factory=list)
    reopened: int = 0
    moves: list[int] = field(default_factory=list)
    held: list[float] = field(default_factory=list)
    first_contact: int = 0
    ratings: list[int] = field(default_factory=list)

    def shape(self, key: Any) -> dict[str, Any]:
        done = self.resolved
        return {
            "key": key,
            "opened": self.opened,
            "resolved": self.resolved,
            "closed": self.closed,
            "backlog": self.backlog,
            "mtta_hours": _spread(self.mtta),
            "mttr_hours": _spread(self.mttr),
            "sla": {
                "response_met_pct": _pct(sum(self.response), len(self.response)),
                "resolution_met_pct": _pct(sum(self.resolution), len(self.resolution)),
                "source_met_pct": _pct(sum(self.source), len(self.source)),
            },
            "reopen_pct": _pct(self.reopened, done),
            "reassigned_mean": _r(sum(self.moves) / len(self.moves)) if self.moves else None,
            "reassigned_over_2_pct": _pct(sum(1 for m in self.moves if m > 2), len(self.moves)),
            "on_hold_hours_mean": _r(sum(self.held) / len(self.held) / 3600) if self.held else None,
            "fcr_pct": _pct(self.first_contact, done),
            "rating_mean": _r(sum(self.ratings) / len(self.ratings)) if self.ratings else None,
        }


def _hours(start: float, end: float) -> float:
    return (end - start) / 3600


def parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"{what} {text!r} is not a date; use YYYY-MM-DD, e.g. 2016-03-01") from None


_EPOCH_DAY = date(1970, 1, 1).toordinal()


def _labeller(by: str) -> Callable[[float], str]:
    """The month (`2016-03`) or ISO week (`2016-W09`) of an instant, cached per day."""
    cache: dict[int, str] = {}

    def label(at: float) -> str:
        day = int(at // 86400)
        found = cache.get(day)
        if found is None:
            d = date.fromordinal(_EPOCH_DAY + day)
            if by == "month":
                found = f"{d.year:04d}-{d.month:02d}"
            else:
                year, week, _ = d.isocalendar()
                found = f"{year:04d}-W{week:02d}"
            cache[day] = found
        return found

    return label


def _bucket_end(key: str, by: str) -> float:
    if by == "month":
        year, month = int(key[:4]), int(key[5:7])
        first = date(year + (month == 12), month % 12 + 1, 1)
    else:
        first = date.fromisocalendar(int(key[:4]), int(key[6:]), 1) + timedelta(days=7)
    return datetime.combine(first, time(), UTC).timestamp()


# Where each grouping's key is in a report row (store/reports.py REPORT_FIELDS).
_KEY_COLUMN = {"severity": 1, "category": 2, "service": 3, "group": 4, "assignee": 5}


class Reports:
    """The report use cases on one store: `Reports(svc.db, svc.clock).report(...)`. Read-only."""

    def __init__(self, db: Any, clock: Any) -> None:
        self.db = db
        self.clock = clock

    def _period(self, start: date | None, end: date | None) -> tuple[datetime | None, datetime]:
        if start is not None and end is not None and start > end:
            raise ValidationError(f"--from {start} is after --to {end}; swap them")
        since = datetime.combine(start, time(), UTC) if start else None
        before = datetime.combine(end + timedelta(days=1), time(), UTC) if end else self.clock.now()
        return since, before

    def report(self, start: date | None = None, end: date | None = None, by: str = "severity") -> dict[str, Any]:
        """The report as the stable `--json` shape (see the module docstring and README "Reports")."""
        return next(self.reports(start, end, [by]))[1]

    def reports(self, start: date | None, end: date | None, groupings: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        """The report of one period grouped each way asked, in that order, from one read of the rows:
        each is yielded as soon as it is computed (the reports screen draws its first chart then)."""
        for by in groupings:
            if by not in GROUPINGS:
                raise ValidationError(f"unknown --by {by!r}; use one of {', '.join(GROUPINGS)}")
        since, before = self._period(start, end)
        with self.db.read() as session:
            rows = stored.report_rows(session, before)
        for by in groupings:
            yield by, self._grouped(rows, start, end, since, before, by)

    def _grouped(self, rows: list[ReportRow], start: date | None, end: date | None, since: datetime | None,
                 before: datetime, by: str) -> dict[str, Any]:
        groups: dict[Any, _Bucket] = defaultdict(_Bucket)
        total = _Bucket()
        timed = by in _TIME_GROUPS
        bucket_of = _labeller(by) if timed else None
        low = since.timestamp() if since is not None else float("-inf")
        high = before.timestamp()

        column = _KEY_COLUMN.get(by)
        first_reported = min((r[7] for r in rows), default=None)
        for r in rows:
            (_, _, _, _, _, _, _, reported, acknowledged, resolved, closed, response_due, resolution_due, reopens,
             rating, made_sla, moves, held) = r
            key = None if timed else (r[column] if r[column] not in (None, "") else NONE_KEY)
            if low <= reported < high:
                for b in (groups[key if key is not None else bucket_of(reported)], total):
                    b.opened += 1
                    if acknowledged is not None:
                        b.mtta.append((acknowledged - reported) / 3600)
                        if response_due is not None:
                            b.response.append(acknowledged < response_due)
            if resolved is not None and low <= resolved < high:
                for b in (groups[key if key is not None else bucket_of(resolved)], total):
                    b.resolved += 1
                    b.mttr.append((resolved - reported) / 3600)
                    if resolution_due is not None:
                        b.resolution.append(resolved < resolution_due)
                    if made_sla is not None:
                        b.source.append(bool(made_sla))
                    b.reopened += reopens > 0
                    b.moves.append(moves)
                    b.held.append(held)
                    b.first_contact += moves == 0 and reopens == 0
                    if rating is not None:
                        b.ratings.append(rating)
            if closed is not None and low <= closed < high:
                for b in (groups[key if key is not None else bucket_of(closed)], total):
                    b.closed += 1
        _backlogs(rows, groups, total, by, high)
        keys = sorted(groups, key=lambda k: (isinstance(k, str), k))
        return {
            "from": start.isoformat() if start else (datetime.fromtimestamp(first_reported, UTC).date().isoformat()
                                                      if first_reported is not None else None),
            "to": (end or (before - timedelta(microseconds=1)).date()).isoformat(),
            "by": by,
            "groups": [groups[k].shape(k) for k in keys],
            "total": total.shape("total"),
        }

    def mttr_by_month(self, start: date | None = None, end: date | None = None) -> list[tuple[str, float]]:
        """(month, median MTTR hours) for each month of the period with a resolution: the same
        figures as `report(by="month")` gives, from the resolution times alone (the reports screen
        draws its first chart with them while the whole report is computed)."""
        since, before = self._period(start, end)
        with self.db.read() as session:
            middles = stored.median_resolution_by_month(session, since, before)
        # percentile()'s own interpolation between the two middle values, so the figure is the same.
        return [(key, _r(low + (high - low) * 0.5)) for key, low, high in middles]

    def process_report(self, start: date | None = None, end: date | None = None) -> dict[str, Any]:
        """Where incidents wait: per state, how many passed through it and the median / p90 hours
        spent there each time; and the transitions between states with their counts."""
        since, before = self._period(start, end)
        with self.db.read() as session:
            visits = stored.state_visits(session, since, before)
        states = []
        for name in sorted(visits.incidents, key=lambda s: (-visits.incidents[s], s)):
            values = visits.hours.get(name, [])
            states.append({"state": name, "incidents": visits.incidents[name], "visits": len(values),
                           "median_hours": _r(percentile(values, 0.5)), "p90_hours": _r(percentile(values, 0.9))})
        return {
            "from": start.isoformat() if start else None,
            "to": (end or (before - timedelta(microseconds=1)).date()).isoformat(),
            "states": states,
            "transitions": [{"from": a, "to": b, "count": n} for a, b, n in
                            sorted(visits.moves, key=lambda m: (-m[2], m[0], m[1]))],
        }


def _backlogs(rows: list[ReportRow], groups: dict[Any, _Bucket], total: _Bucket, by: str, before: float) -> None:
    """Open at the end: of the period for each group and the total; of its own bucket for month/week.
    Open at an instant: reported before it, and neither resolved nor closed (or cancelled) before it.
    An end the source put before the report counts as at the report (such an incident was never open)."""
    reported, finished = [], []
    column = _KEY_COLUMN.get(by)
    for r in rows:
        at, resolved, closed = r[7], r[9], r[10]
        end = resolved if closed is None else closed if resolved is None else min(resolved, closed)
        end = None if end is None else max(end, at)
        reported.append(at)
        if end is not None:
            finished.append(end)
        if at < before and (end is None or end >= before):
            total.backlog += 1
            if column is not None:
                groups[r[column] if r[column] not in (None, "") else NONE_KEY].backlog += 1
    if column is not None:
        return
    reported.sort()
    finished.sort()
    for key, bucket in groups.items():
        instant = min(_bucket_end(key, by), before)
        bucket.backlog = bisect.bisect_left(reported, instant) - bisect.bisect_left(finished, instant)
