"""The floor of `reports_first_chart_ms`: a bare Textual app that, on `R`, pushes a screen with
one `PlotextPlot` drawing a fixed bar chart — the least any reports screen costs from the key to
its first chart, with no figures to compute.

    python -m tests.bench.chart_floor_app
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static
from textual_plotext import PlotextPlot


class ChartScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield PlotextPlot()

    def on_mount(self) -> None:
        plt = self.query_one(PlotextPlot).plt
        plt.bar(["2016-03", "2016-04", "2016-05"], [4.0, 6.5, 3.2], label="median MTTR (h)", marker="sd")
        plt.title("MTTR per month (median hours)")


class ChartFloor(App[None]):
    BINDINGS = [("R", "chart", "Chart")]

    def compose(self) -> ComposeResult:
        yield Static("ready: press R")

    def action_chart(self) -> None:
        self.push_screen(ChartScreen())


if __name__ == "__main__":
    ChartFloor().run()
