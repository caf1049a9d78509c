"""The wall board's numbers: counters per severity (big digits or a compact table) and today's
time to acknowledge and to resolve against target.

The screen decides which form shows (CSS breakpoints); these widgets only draw the figures given.
"""

from __future__ import annotations

from datetime import datetime

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits, Label

from eim_tui.domain.board import BoardSnapshot, FlowFigure, FlowSummary, SeverityLoad
from eim_tui.domain.durations import format_duration
from eim_tui.domain.model import SEVERITY_NAMES
from eim_tui.domain.priority import SEVERITIES
from eim_tui.tui.widgets.wall_lists import WallWidget

FIGURES = (("open", "open"), ("unacknowledged", "unack"), ("breached", "breached"))


class SeverityPanel(Vertical):
    """One severity: open incidents in big digits, unacknowledged and breached beside or below."""

    def __init__(self, severity: int) -> None:
        super().__init__(id=f"wall-sev{severity}", classes=f"wall-sev sev{severity}")
        self.severity = severity
        self.border_title = f"Sev{severity} · {SEVERITY_NAMES.get(severity, '')}"

    def compose(self) -> ComposeResult:
        with Horizontal(classes="wall-figures"):
            for name, label in FIGURES:
                with Vertical(classes=f"wall-figure -{name}"):
                    yield Digits("0", classes="wall-digits")
                    yield Label(label, classes="wall-figure-label")
        yield Label("", classes="wall-sev-small")

    def show(self, load: SeverityLoad) -> None:
        for name, _ in FIGURES:
            value = getattr(load, name)
            figure = self.query_one(f".wall-figure.-{name}", Vertical)
            figure.query_one(Digits).update(f"{value:,}")
            figure.set_class(value > 0, "-nonzero")
        small = self.query_one(".wall-sev-small", Label)
        small.update(Text.assemble(
            ("unack ", ""), (f"{load.unacknowledged:,}", "bold"), ("  breached ", ""), (f"{load.breached:,}", "bold"),
        ))
        small.set_class(load.breached > 0, "-breached")
        self.set_class(load.breached > 0, "-breached")


class CompactCounters(WallWidget):
    """All counters in four lines: a row per figure, a column per severity and the total."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.snapshot: BoardSnapshot | None = None

    def show(self, snapshot: BoardSnapshot, now: datetime) -> None:
        self.snapshot = snapshot
        self.tick(now)

    def render(self) -> Table | Text:
        if self.snapshot is None:
            return Text("…")
        table = Table(box=None, padding=(0, 1), show_edge=False, expand=False, header_style=self.style_of("heading"))
        table.add_column("", no_wrap=True)
        for level in SEVERITIES:
            table.add_column(Text(f"Sev{level}", style=self.style_of(f"sev{level}")), justify="right", no_wrap=True)
        table.add_column("Total", justify="right", no_wrap=True)
        loads = [self.snapshot.severity(level) for level in SEVERITIES] + [self.snapshot.total]
        for name, label in FIGURES:
            alarm = {"unacknowledged": "warning", "breached": "breached"}.get(name)
            cells = []
            for load in loads:
                value = getattr(load, name)
                cells.append(Text(f"{value:,}", style=self.style_of(alarm) + Style(bold=True) if alarm and value else ""))
            table.add_row(Text(label, style=self.style_of("muted")), *cells)
        return table


class TodayPanel(WallWidget):
    """Today's time to acknowledge and to resolve: two lines, or a table per severity when wide and tall."""

    TABLE_WIDTH = 150

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.acknowledged: FlowSummary | None = None
        self.resolved: FlowSummary | None = None

    def show(self, snapshot: BoardSnapshot, now: datetime) -> None:
        self.acknowledged, self.resolved = snapshot.acknowledged, snapshot.resolved
        self.tick(now)

    def get_content_height(self, container, viewport, width: int) -> int:
        return 7 if width >= self.TABLE_WIDTH else 2

    def render(self) -> Table | Text:
        if self.acknowledged is None or self.resolved is None:
            return Text("…")
        width, height = self.content_size
        if width >= self.TABLE_WIDTH and height >= 7:  # the screen's CSS caps the height where room is short
            return self._table()
        return Text("\n").join([
            self._line("Acknowledged today", self.acknowledged, width),
            self._line("Resolved today", self.resolved, width),
        ])

    def _line(self, label: str, summary: FlowSummary, width: int) -> Text:
        overall = summary.overall
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{label} ", self.style_of("heading"))
        line.append(f"{overall.count:,}", Style(bold=True))
        if not overall.count:
            return line
        line.append("  median ", self.style_of("muted"))
        line.append(_duration(overall.median), Style(bold=True))
        line.append("  mean ", self.style_of("muted"))
        line.append(_duration(overall.mean), Style(bold=True))
        line.append("  ", "")
        line.append_text(self._share(overall))
        line.append(" within target", self.style_of("muted"))
        if width >= 100:
            targets = [f"S{level} {_duration(f.target)}" for level, f in summary.by_severity.items() if f.target]
            line.append("  (" + ", ".join(targets) + ")", self.style_of("muted"))
        return line

    def _share(self, figure: FlowFigure) -> Text:
        share = figure.share_within
        if share is None:
            return Text("—", style=self.style_of("muted"))
        style = "ok" if share >= 0.9 else "warning" if share >= 0.75 else "breached"
        return Text(f"{share:.0%}", style=self.style_of(style) + Style(bold=True))

    def _table(self) -> Table:
        assert self.acknowledged is not None and self.resolved is not None
        table = Table(box=None, padding=(0, 2), show_edge=False, header_style=self.style_of("heading"),
                      title=None, expand=False)
        table.add_column("Today", no_wrap=True)
        for what in ("acknowledged", "resolved"):
            table.add_column(what, justify="right", no_wrap=True)
            table.add_column("median", justify="right", no_wrap=True)
            table.add_column("mean", justify="right", no_wrap=True)
            table.add_column("target", justify="right", no_wrap=True)
            table.add_column("within", justify="right", no_wrap=True)
        lines = [(f"Sev{level}", level) for level in SEVERITIES] + [("All", 0)]
        for label, level in lines:
            cells: list[Text | str] = [Text(label, style=self.style_of(f"sev{level}") if level else Style(bold=True))]
            for summary in (self.acknowledged, self.resolved):
                figure = summary.by_severity.get(level) if level else summary.overall
                figure = figure or FlowFigure()
                cells += [f"{figure.count:,}", _duration(figure.median), _duration(figure.mean),
                          _duration(figure.target), self._share(figure)]
            table.add_row(*cells)
        return table


def _duration(seconds: float | None) -> str:
    return "—" if seconds is None else format_duration(seconds)
