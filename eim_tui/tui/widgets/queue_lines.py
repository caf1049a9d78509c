"""Drawing the lines of the queue table: its styles, and the part of each line that a tick keeps.

`QueueLines` turns the table's component classes into Rich styles (only when the theme, focus or
CSS changed: Textual forgets its component styles on every repaint) and draws header, blank,
placeholder and incident lines. Between two frames only the timed cells (SLA, age) of a line can
change, so the rest is kept until the row, the styles or the width change: a countdown tick
computes two cells per visible line.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from eim_tui.domain.model import QueueRow
from eim_tui.tui.render.queue_columns import (
    STYLE_NAMES,
    Cells,
    Layout,
    header_segments,
    line_segments,
    placeholder_cells,
    row_cells,
    split_layout,
    timed_cells,
)

ComponentStyle = Callable[..., Style]
"""`Widget.get_component_rich_style`."""


class QueueLines:
    def __init__(self) -> None:
        self._styles: dict[str, Style] | None = None
        self._sources: tuple[object, ...] = ()
        self._generation = 0
        # (number, marked, under the cursor) → (row, style generation, layout, segments before the timed cells)
        self._kept: dict[tuple[int, bool, bool], tuple[QueueRow, int, Layout, list[Segment]]] = {}
        self._timed_shown: dict[int, Cells] = {}  # number → the timed cells its line shows

    # -- styles ----------------------------------------------------------------------------------

    def check_styles(self, sources: tuple[object, ...], base: Style, get: ComponentStyle) -> None:
        """Derive the styles again if `sources` (what they depend on) changed since last time."""
        if self._styles is not None and sources == self._sources:
            return
        # Cell styles lay a colour over the line's background (marked, cursor), so they keep
        # the full style's colour (translucent ones like $text-muted come out blended) and
        # the partial style's attributes, but no background.
        styles = {
            name: Style.from_color(get(f"queue-table--{name}").color)
            + get(f"queue-table--{name}", partial=True).without_color
            for name in STYLE_NAMES
        }
        styles["cursor"] = get("queue-table--cursor")
        styles["marked"] = get("queue-table--marked")
        styles["base"] = base
        self._styles, self._sources = styles, sources
        self._generation += 1  # kept lines drawn with the old styles are stale

    @property
    def ready(self) -> bool:
        return self._styles is not None

    def forget_styles(self) -> None:
        self._sources = ()

    def style(self, name: str) -> Style:
        assert self._styles is not None, "check_styles first"
        return self._styles[name]

    # -- lines -----------------------------------------------------------------------------------

    def header(self, layout: Layout) -> Strip:
        style = self.style("base") + self.style("header")
        return Strip(header_segments(layout, style)).adjust_cell_length(layout.width, style)

    def blank(self, layout: Layout) -> Strip:
        return Strip.blank(layout.width, self.style("base"))

    def line(self, layout: Layout, number: int, row: QueueRow | None, now: datetime, *, marked: bool,
             cursor: bool, keep: int) -> Strip:
        """Incident `number`'s line (a placeholder until its row is loaded); `keep` bounds how many
        lines are kept between frames (a few screens' worth)."""
        line_style = self.style("base")
        if marked:
            line_style += self.style("marked")
        cursor_style = self.style("cursor") if cursor else None
        if cursor_style:
            line_style += cursor_style
        if row is None:
            segments = line_segments(layout, placeholder_cells(number), marked, line_style, cursor_style, self.style)
            return Strip(segments).adjust_cell_length(layout.width, line_style)
        static, timed = split_layout(layout)
        sla = layout.get("sla")
        sla_width = sla.width if sla else 14
        key = (number, marked, cursor)
        kept = self._kept.get(key)
        if kept is None or kept[0] is not row or kept[1] != self._generation or kept[2] is not layout:
            owner = layout.get("owner")
            cells = row_cells(row, now, sla_width, owner.width if owner else None)
            if len(self._kept) > keep:
                self._kept.clear()
                self._timed_shown.clear()
            kept = self._kept[key] = (row, self._generation, layout,
                                      line_segments(static, cells, marked, line_style, cursor_style, self.style))
        shown = self._timed_shown[number] = timed_cells(row, now, sla_width)
        suffix = line_segments(timed, shown, marked, line_style, cursor_style, self.style)
        return Strip(kept[3] + suffix).adjust_cell_length(layout.width, line_style)

    def timed_changed(self, layout: Layout, row: QueueRow, now: datetime) -> bool:
        """Whether `row`'s line would show other SLA or age text at `now` than it does."""
        sla = layout.get("sla")
        return self._timed_shown.get(row.number) != timed_cells(row, now, sla.width if sla else 14)
