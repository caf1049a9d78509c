"""The wall board's banners: major incidents in progress (with their commander and when
stakeholders hear next), and alerts (a new Sev1, a fresh breach) that flash for thirty seconds.
Both hide themselves when they have nothing to say."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.style import Style
from rich.text import Text

from eim_tui.domain.durations import format_duration as short_duration
from eim_tui.domain.model import QueueRow
from eim_tui.services.collab import MajorSummary
from eim_tui.tui.render.queue_columns import owner_text
from eim_tui.tui.widgets.wall_lists import WallWidget, countdown

MAX_LINES = 3


@dataclass(frozen=True, slots=True)
class BoardAlert:
    kind: str  # "sev1" (a Sev1 that was not there before) or "breach" (a clock just ran out)
    row: QueueRow
    until: datetime

    @property
    def label(self) -> str:
        return "NEW SEV1" if self.kind == "sev1" else "BREACHED"


def _tail(line: Text, rows_left: int, style: Style) -> None:
    if rows_left > 0:
        line.append(f"  … and {rows_left} more", style)


class MajorBanner(WallWidget):
    """One line per major incident: key, severity, title, who holds it, its clock."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: tuple[QueueRow, ...] = ()
        self.summaries: Mapping[int, MajorSummary] = {}

    def show(self, rows: Sequence[QueueRow], now: datetime,
             summaries: Mapping[int, MajorSummary] | None = None) -> None:
        self.rows = tuple(rows)
        self.summaries = summaries or {}
        self.set_class(bool(self.rows), "-active")
        self.tick(now)

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, min(MAX_LINES, len(self.rows)))

    def render(self) -> Text:
        if not self.rows or self.now is None:
            return Text("")
        lines = []
        shown = self.rows[:MAX_LINES]
        for i, row in enumerate(shown):
            left, style = countdown(row, self.now)
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(" ★ MAJOR ", Style(bold=True, reverse=True))
            line.append(f" {row.key}  Sev{row.priority}  ", Style(bold=True))
            line.append(left, Style(bold=True) + (self.style_of(style) if style == "breached" else Style()))
            line.append("  ")
            line.append(row.title)
            line.append(f"  · {owner_text(row)}")
            if (summary := self.summaries.get(row.number)) is not None:
                self._lead_and_update(line, summary)
            if i == len(shown) - 1:
                _tail(line, len(self.rows) - len(shown), Style(bold=True))
            lines.append(line)
        return Text("\n", no_wrap=True).join(lines)


    def _lead_and_update(self, line: Text, summary: MajorSummary) -> None:
        """`· cmdr bob · next update 14:30 (in 12m)`, or `update OVERDUE 5m` in the breach style."""
        line.append(f"  · cmdr {summary.commander or '—'}")
        due = summary.next_update_at
        if due is None or self.now is None:
            return
        left = (due - self.now).total_seconds()
        if left < 0:
            line.append("  · update OVERDUE ", self.style_of("breached"))
            line.append(short_duration(-left), self.style_of("breached"))
        else:
            line.append(f"  · next update {due.astimezone().strftime('%H:%M')} (in {short_duration(left)})")


class AlertBanner(WallWidget):
    """What just happened, in reverse video blinking once a second, until each alert's time is up."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.alerts: list[BoardAlert] = []

    def add(self, alert: BoardAlert, now: datetime) -> None:
        self.alerts = [a for a in self.alerts if (a.kind, a.row.number) != (alert.kind, alert.row.number)]
        self.alerts.insert(0, alert)
        self.tick(now)

    def tick(self, now: datetime) -> None:
        before = len(self.alerts)
        self.alerts = [a for a in self.alerts if a.until > now]
        self.set_class(bool(self.alerts), "-active")
        self.set_class(bool(self.alerts) and now.second % 2 == 0, "-lit")
        if len(self.alerts) != before:
            self.refresh(layout=True)
        super().tick(now)

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, min(MAX_LINES, len(self.alerts)))

    def render(self) -> Text:
        if not self.alerts or self.now is None:
            return Text("")
        lines = []
        shown = self.alerts[:MAX_LINES]
        for i, alert in enumerate(shown):
            row = alert.row
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(f" {'▲' if alert.kind == 'sev1' else '✖'} {alert.label} ", Style(bold=True))
            line.append(f" {row.key}  Sev{row.priority}  ", Style(bold=True))
            line.append(row.title)
            if alert.kind == "breach":
                line.append(f"  · {'response' if row.clock == 'response' else 'resolution'} target missed")
            line.append(f"  · {owner_text(row)}")
            if i == len(shown) - 1:
                _tail(line, len(self.alerts) - len(shown), Style(bold=True))
            lines.append(line)
        return Text("\n", no_wrap=True).join(lines)
