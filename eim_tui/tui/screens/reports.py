"""The reports screen: the report table for a period and a grouping, one chart at a time (MTTR per
month, opened vs resolved and backlog per week, SLA compliance per severity), the "where
incidents wait" table, and export of what is shown as Markdown, CSV or JSON.

Every figure comes from services/reports.py in a worker; the charts are drawn with
textual-plotext, each series with its own marker and a legend, so they read without colour
(NO_COLOR) as well.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import ScrollableContainer
from textual.content import Content
from textual.message import Message
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Static
from textual_plotext.plot import Plot

from eim_tui.output import report_tables
from eim_tui.services.reports import GROUPINGS, Reports
from eim_tui.tui.widgets.chart import Chart
from eim_tui.tui.widgets.key_footer import KeyFooter
from eim_tui.tui.workers import ReportsWorkers, explain

# Periods offered by `p`: a name and how many days back from today (None: everything).
PERIODS: list[tuple[str, int | None]] = [("all", None), ("last 365 days", 365), ("last 90 days", 90),
                                         ("last 30 days", 30)]
CHARTS = ("MTTR per month", "opened vs resolved per week", "SLA compliance per severity")
CHART_GROUPINGS = ("month", "week", "severity")  # the report grouping each chart is drawn from


@dataclass
class ReportsLoaded(Message):
    figures: dict[str, Any] | None  # the report, the month, week and severity reports, the process report
    error: str = ""
    complete: bool = True  # False: the table and the chart on show only, the rest still being computed


@dataclass
class ReportExported(Message):
    text: str
    ok: bool


class ReportsScreen(ReportsWorkers, Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="reports.back", tooltip="Back to the queue"),
        Binding("b", "next_grouping", "Group by", id="reports.by",
                tooltip="Group the table by the next of: " + ", ".join(GROUPINGS)),
        Binding("p", "next_period", "Period", id="reports.period", tooltip="Next period: all, last 365/90/30 days"),
        Binding("c", "next_chart", "Chart", id="reports.chart", tooltip="Next chart: " + ", ".join(CHARTS)),
        Binding("w", "toggle_process", "Where wait", id="reports.process",
                tooltip="Switch between the figures and where incidents wait (time per state)"),
        Binding("m", "export('md')", "Export .md", id="reports.export_md", tooltip="Write what is shown as Markdown"),
        Binding("v", "export('csv')", "Export .csv", id="reports.export_csv", tooltip="Write what is shown as CSV"),
        Binding("j", "export('json')", "Export .json", id="reports.export_json", tooltip="Write what is shown as JSON"),
    ]

    by: var[str] = var("severity")
    period_index: var[int] = var(0)
    chart_index: var[int] = var(0)
    process: var[bool] = var(False)

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, Any] | None = None
        self.complete = False
        self._drawn = threading.Event()  # set once a load's first figures are on screen

    def compose(self) -> ComposeResult:
        yield Static(Content("eim · reports · loading…"), id="reports-title")
        with ScrollableContainer(id="reports-table-box"):
            yield Static(id="reports-table")
        chart = Chart(id="reports-chart")
        chart.say("MTTR per month: computing…" if self.chart_index == 0 else "computing…")
        yield chart
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#reports-table-box").focus()
        self.load()

    def _period(self) -> tuple[date | None, date | None]:
        days = PERIODS[self.period_index][1]
        if days is None:
            return None, None
        today = self.app.services.clock.now().date()
        return today - timedelta(days=days - 1), today

    @work(thread=True, exclusive=True, group="reports-load", exit_on_error=False, description="compute the reports")
    def load(self, start: date | None = None, end: date | None = None, by: str = "severity") -> None:
        """The figures, from one read of the store: the table and the chart on show first (posted
        as soon as they are ready, so the first chart does not wait for the rest), then the other
        charts' groupings and where incidents wait."""
        svc = self.app.services
        reports = Reports(svc.db, svc.clock)
        shown = CHART_GROUPINGS[self.chart_index]
        order = list(dict.fromkeys([by, shown, *CHART_GROUPINGS]))
        figures: dict[str, Any] = {}
        try:
            if shown == "month":  # the first chart from the resolution times alone, before any full read
                figures["mttr_month"] = reports.mttr_by_month(start, end)
                self._drawn.clear()
                self.post_message(ReportsLoaded(dict(figures), complete=False))
                # Reading every row competes with that frame for the interpreter: let it paint.
                self._drawn.wait(timeout=1.0)
            for grouping, data in reports.reports(start, end, order):
                figures[grouping] = data
                if grouping == by:
                    figures["report"] = data
                if grouping in (by, shown):
                    self.post_message(ReportsLoaded(dict(figures), complete=False))
            figures["process"] = reports.process_report(start, end)
        except Exception as exc:  # the title says why there is nothing to show
            self.post_message(ReportsLoaded(None, explain(exc)))
            return
        self.post_message(ReportsLoaded(figures))

    def _reload(self) -> None:
        start, end = self._period()
        self.query_one("#reports-title", Static).update(Content(self._title("loading…")))
        self.load(start, end, self.by)

    def on_reports_loaded(self, message: ReportsLoaded) -> None:
        if message.figures is None:
            self.query_one("#reports-title", Static).update(Content(f"eim · reports · {message.error}"))
            return
        self.figures = message.figures
        self.complete = message.complete
        self._draw()
        self.call_after_refresh(self._drawn.set)

    # --- actions ------------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_next_grouping(self) -> None:
        self.by = GROUPINGS[(GROUPINGS.index(self.by) + 1) % len(GROUPINGS)]

    def action_group_by(self, grouping: str) -> None:
        self.by = grouping

    def action_next_period(self) -> None:
        self.period_index = (self.period_index + 1) % len(PERIODS)

    def action_next_chart(self) -> None:
        self.chart_index = (self.chart_index + 1) % len(CHARTS)

    def action_toggle_process(self) -> None:
        self.process = not self.process

    def watch_by(self) -> None:
        if self.is_mounted:
            self._reload()

    def watch_period_index(self) -> None:
        if self.is_mounted:
            self._reload()

    def watch_chart_index(self) -> None:
        if self.figures is not None:
            self._draw()

    def watch_process(self) -> None:
        if self.figures is not None:
            self._draw()

    def action_export(self, fmt: str) -> None:
        shown = "process" if self.process else "report"
        if self.figures is None or shown not in self.figures:
            self.notify("The figures are still being computed; export when they are shown.", severity="warning")
            return
        data = self.figures[shown]
        self._export(fmt, data, self.process, Path(self.app.config.export_dir))

    @work(thread=True, group="reports-export", exit_on_error=False, description="export the report")
    def _export(self, fmt: str, data: dict[str, Any], process: bool, folder: Path) -> None:
        name = "eim-where-incidents-wait" if process else f"eim-report-by-{data['by']}"
        path = folder / f"{name}.{fmt}"
        if fmt == "json":
            text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        else:
            text = (report_tables.process_table if process else report_tables.report_table)(data, fmt)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.post_message(ReportExported(f"could not write {path}: {exc.strerror or exc}", False))
            return
        self.post_message(ReportExported(f"wrote {path}", True))

    def on_report_exported(self, message: ReportExported) -> None:
        self.notify(message.text, title="Exported" if message.ok else "Not exported",
                    severity="information" if message.ok else "error", markup=False, timeout=8)

    def palette_commands(self) -> Iterable[SystemCommand]:
        for grouping in GROUPINGS:
            yield SystemCommand(f"Reports: group by {grouping}", f"Group the report table by {grouping}",
                                partial(self.action_group_by, grouping))

    # --- rendering ----------------------------------------------------------------------------------

    def _title(self, status: str = "") -> str:
        what = "where incidents wait" if self.process else f"by {self.by} · chart: {CHARTS[self.chart_index]}"
        parts = ["eim · reports", f"period: {PERIODS[self.period_index][0]}", what]
        return " · ".join(parts + ([status] if status else []))

    def _draw(self) -> None:
        figures = self.figures
        assert figures is not None
        report = figures.get("report")
        pending = "" if self.complete else " · computing the rest…"
        span = f"{report['from'] or '—'} … {report['to']}" if report else ""
        self.query_one("#reports-title", Static).update(Content(self._title(f"{span}{pending}".lstrip(" ·"))))
        if self.process and "process" not in figures:
            table = "\nwhere incidents wait: computing…"
        elif self.process:
            table = report_tables.process_table(figures["process"], "text")
        elif report is None:
            table = f"\nthe figures by {self.by}: computing…"
        else:
            table = report_tables.report_table(report, "text")
        _, *rest = table.splitlines()  # its own title line: the screen title says the same
        self.query_one("#reports-table", Static).update(Content("\n".join(rest)))
        self.set_class(self.process, "-process")  # the table takes the chart's room
        chart = self.query_one("#reports-chart", Chart)
        chart.display = not self.process
        if not self.process and (CHART_GROUPINGS[self.chart_index] in figures
                                 or (self.chart_index == 0 and "mttr_month" in figures)):
            draw_chart(chart, CHARTS[self.chart_index], figures)
        elif not self.process:  # its figures are still being computed: no old chart under a new title
            chart.say(f"{CHARTS[self.chart_index]}: computing…")


def draw_chart(widget: Chart, name: str, figures: dict[str, Any]) -> None:
    """One chart; every series has a marker and a legend label, so colour is never the only clue.

    Drawn again only when what it shows changes (the first chart is drawn from the resolution
    times before the whole report, whose month figures then are the same)."""
    if name == CHARTS[0]:
        if "month" in figures:
            months = [(g["key"], g["mttr_hours"]["median"]) for g in figures["month"]["groups"]]
        else:  # the resolution times alone, before the whole report (Reports.mttr_by_month)
            months = figures["mttr_month"]
        rows = tuple((key, median) for key, median in months if median is not None)

        def paint(plt: Plot) -> None:
            plt.bar([key for key, _ in rows], [median for _, median in rows], label="median MTTR (h)", marker="sd")
            plt.title("MTTR per month (median hours)")

        widget.draw((name, rows), paint)
    elif name == CHARTS[1]:
        weeks = tuple((g["key"], g["opened"], g["resolved"], g["backlog"]) for g in figures["week"]["groups"])
        # As many week labels as fit side by side (11 cells each with a gap): labels that collide
        # are placed by plotext in no fixed way, so none may.
        room = max(1, (widget.size.width - 10) // 11)

        def paint(plt: Plot) -> None:
            xs = list(range(1, len(weeks) + 1))
            plt.plot(xs, [w[1] for w in weeks], label="opened", marker="o")
            plt.plot(xs, [w[2] for w in weeks], label="resolved", marker="x")
            plt.plot(xs, [w[3] for w in weeks], label="backlog", marker="*")
            if weeks:
                step = max(1, -(-len(weeks) // room), len(weeks) // 6)
                plt.xticks(xs[::step], [w[0] for w in weeks][::step])
            plt.title("Opened vs resolved per week, backlog at each week's end")

        widget.draw((name, weeks, room), paint)
    else:
        rows = tuple((f"Sev{g['key']}", g["sla"]["response_met_pct"] or 0, g["sla"]["resolution_met_pct"] or 0)
                     for g in figures["severity"]["groups"])

        def paint(plt: Plot) -> None:
            plt.multiple_bar([r[0] for r in rows], [[r[1] for r in rows], [r[2] for r in rows]],
                             labels=["response met %", "resolution met %"], marker="sd")
            plt.ylim(0, 100)
            plt.title("SLA compliance per severity (eim's policies)")

        widget.draw((name, rows), paint)
