"""The wall board's figures: what the shift lead reads from across the room, as plain data.

The store fills a `BoardSnapshot` with aggregate queries; these dataclasses and the pure functions
beside them (today's time-to-acknowledge and time-to-resolve against target, when the board must
look again, what counts as a fresh breach) never touch a database or a clock.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from eim_tui.domain.filters import Filter
from eim_tui.domain.model import QueueRow
from eim_tui.domain.priority import SEVERITIES

# A clock that ran out less than this long ago is a *fresh* breach: highlighted, announced once.
FRESH = timedelta(seconds=30)
# However quiet the store, the board looks again this often (counts also move with time alone).
MAX_STALENESS = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class BoardScope:
    """What one board shows: `eim wall --group NAME --view major --filter EXPR`."""

    filter: Filter = field(default_factory=Filter)
    group: str = ""
    major_only: bool = False

    @property
    def label(self) -> str:
        parts = []
        if self.group:
            parts.append(f"group {self.group}")
        if self.major_only:
            parts.append("major incidents")
        if not self.filter.is_empty:
            parts.append(f"filter: {self.filter.text}")
        return " · ".join(parts) or "all incidents"


@dataclass(frozen=True, slots=True)
class SeverityLoad:
    severity: int  # 0 for the total line
    open: int = 0
    unacknowledged: int = 0
    breached: int = 0


@dataclass(frozen=True, slots=True)
class GroupLoad:
    group: str  # "" for incidents no group holds yet
    open: int
    breached: int
    by_severity: tuple[int, ...] = (0,) * len(SEVERITIES)  # open ones per severity, Sev1 first
    unassigned: int = 0  # open ones nobody in the group has taken

    def open_at(self, level: int) -> int:
        return self.by_severity[level - 1] if 0 < level <= len(self.by_severity) else 0


@dataclass(frozen=True, slots=True)
class FlowFigure:
    """How long one clock took today: acknowledging (response) or resolving, against its target."""

    count: int = 0
    median: float | None = None  # seconds
    mean: float | None = None
    within_target: int = 0
    target: float | None = None  # seconds; None on the all-severities line (each has its own)

    @property
    def share_within(self) -> float | None:
        return self.within_target / self.count if self.count else None


@dataclass(frozen=True, slots=True)
class FlowSummary:
    overall: FlowFigure
    by_severity: Mapping[int, FlowFigure]


@dataclass(frozen=True, slots=True)
class BoardSnapshot:
    taken_at: datetime
    marker: int  # the store's change marker when the figures were read
    severities: tuple[SeverityLoad, ...]  # Sev1 … Sev5, always five
    groups: tuple[GroupLoad, ...]  # most open first
    closest: tuple[QueueRow, ...]  # running clocks by due instant, fresh breaches first
    majors: tuple[QueueRow, ...]
    newest: tuple[QueueRow, ...]
    sev1_open: frozenset[int]  # to notice a Sev1 that was not there before
    acknowledged: FlowSummary
    resolved: FlowSummary
    # Every breached incident the counters count (the first `BoardLimits.breached` of them, most
    # severe and longest overdue first): a breach stays listed for as long as it lasts.
    breached: tuple[QueueRow, ...] = ()
    # Running clocks in their warning stretch, closest to running out first, and how many there are.
    warning: tuple[QueueRow, ...] = ()
    warning_total: int = 0

    @property
    def total(self) -> SeverityLoad:
        return SeverityLoad(
            0,
            sum(s.open for s in self.severities),
            sum(s.unacknowledged for s in self.severities),
            sum(s.breached for s in self.severities),
        )

    def severity(self, level: int) -> SeverityLoad:
        return next((s for s in self.severities if s.severity == level), SeverityLoad(level))

    def next_look_at(self) -> datetime:
        """When time alone changes what the board should say: a clock turning to warning (it joins
        the about-to-breach list), a clock running out, a fresh breach going stale, or the longest
        the board may go without looking."""
        candidates = [self.taken_at + MAX_STALENESS]
        for row in (*self.closest, *self.warning):
            if row.due_at is None or row.paused_since is not None:
                continue
            candidates.append(row.due_at if row.due_at > self.taken_at else row.due_at + FRESH)
            if row.warn_at is not None and row.warn_at > self.taken_at:
                candidates.append(row.warn_at)
        return min(candidates)

    def redacted(self, shown: Callable[[Iterable[QueueRow]], list[QueueRow]]) -> BoardSnapshot:
        """The same figures with every listed row passed through `shown` (confidential placeholders)."""
        return replace(
            self,
            closest=tuple(shown(self.closest)),
            majors=tuple(shown(self.majors)),
            newest=tuple(shown(self.newest)),
            breached=tuple(shown(self.breached)),
            warning=tuple(shown(self.warning)),
        )


def complete_severities(counts: Iterable[SeverityLoad]) -> tuple[SeverityLoad, ...]:
    """Exactly one line per severity, zero where nothing is open."""
    found = {c.severity: c for c in counts}
    return tuple(found.get(level, SeverityLoad(level)) for level in SEVERITIES)


def summarize_flow(durations: Iterable[tuple[int, float] | tuple[int, float, float | None]],
                   targets: Mapping[int, float]) -> FlowSummary:
    """Median and mean of (severity, seconds) pairs, and how many met their target: the duration's
    own when it carries one as a third item (its service's policy), else its severity's."""
    by_level: dict[int, list[float]] = {level: [] for level in SEVERITIES}
    met: dict[int, int] = {level: 0 for level in SEVERITIES}
    for level, seconds, *own in durations:
        seconds = seconds if seconds > 0 else 0.0
        by_level.setdefault(level, []).append(seconds)
        target = own[0] if own and own[0] is not None else targets.get(level)
        if target is not None and seconds <= target:
            met[level] = met.get(level, 0) + 1
    figures = {level: _figure(by_level.get(level, []), targets.get(level), met.get(level, 0)) for level in SEVERITIES}
    everything = [s for values in by_level.values() for s in values]
    overall = _figure(everything, None, 0)
    overall = replace(overall, within_target=sum(f.within_target for f in figures.values()))
    return FlowSummary(overall, figures)


def _figure(values: list[float], target: float | None, within: int) -> FlowFigure:
    if not values:
        return FlowFigure(target=target)
    return FlowFigure(len(values), statistics.median(values), statistics.fmean(values), within, target)


def local_day_start(now: datetime) -> datetime:
    """Midnight of `now`'s day in the local time zone (the TZ of the process), as an aware instant.

    Built from the naive local date and then localised, so the offset is the one in force at
    midnight — right also on the days the clocks change.
    """
    local = now.astimezone()
    return datetime(local.year, local.month, local.day).astimezone().astimezone(now.tzinfo)


def breach_order(row: QueueRow) -> tuple[int, datetime, int]:
    """How the breached list reads: most severe first, then the longest overdue (a clock paused
    after it ran out counts from its due instant too)."""
    due = row.due_at or datetime.max.replace(tzinfo=row.reported_at.tzinfo)
    return (row.priority, due, row.number)


def is_fresh_breach(row: QueueRow, now: datetime) -> bool:
    return row.paused_since is None and row.due_at is not None and row.due_at <= now < row.due_at + FRESH


def wall_countdown(seconds: float) -> str:
    """Time left as a wall clock reads it, `12:34`, `1:02:03`, `2d 04h`; negative once breached."""
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))
    if s >= 86400:
        return f"{sign}{s // 86400}d {(s % 86400) // 3600:02d}h"
    if s >= 3600:
        return f"{sign}{s // 3600}:{(s % 3600) // 60:02d}:{s % 60:02d}"
    return f"{sign}{s // 60}:{s % 60:02d}"

