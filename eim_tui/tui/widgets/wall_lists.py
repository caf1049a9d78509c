"""The wall board's lists: closest to breach, newest, and the load per assignment group.

Each widget is handed rows (already redacted for the viewer) and the instant to draw them at, and
picks its form from the room it has: a table with a heading line when there is height, a compact
summary or a ticker when there is not. Countdowns are computed when drawn, so a tick only repaints.
Text is assembled as rich `Text` from plain strings — never markup (titles may hold `[`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from eim_tui.domain.board import GroupLoad, is_fresh_breach, wall_countdown
from eim_tui.domain.model import QueueRow, SlaState
from eim_tui.tui.render.queue_columns import UNASSIGNED, age_text, fit, owner_text, state_text

# Style names every wall widget may use; `styles/wall.tcss` gives them colours from the theme.
WALL_STYLES = (
    "heading", "muted", "flash", "major",
    "sev1", "sev2", "sev3", "sev4", "sev5",
    "ok", "warning", "breached", "paused",
)  # fmt: skip


class WallWidget(Widget):
    """Shared by the board's widgets: the style names, and whether a flash is lit this second."""

    COMPONENT_CLASSES = {f"wall--{name}" for name in WALL_STYLES}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.now: datetime | None = None

    def style_of(self, name: str) -> Style:
        return self.get_component_rich_style(f"wall--{name}", partial=True)

    def flash_lit(self) -> bool:
        """Highlights blink once a second: lit on even seconds, bold on odd ones."""
        return self.now is not None and self.now.second % 2 == 0

    def flash_style(self) -> Style:
        return self.style_of("flash") if self.flash_lit() else Style(bold=True)

    def tick(self, now: datetime) -> None:
        self.now = now
        self.refresh()


@dataclass(frozen=True, slots=True)
class Col:
    name: str
    width: int  # 0: takes what the others leave
    right: bool = False
    keep: int = 0  # dropped first when narrow: the lower, the sooner


def arrange(width: int, columns: Sequence[Col], flex_min: int = 12) -> list[Col]:
    """The columns that fit `width` (one space between), the flexible one sized to the rest."""
    chosen = list(columns)
    while True:
        fixed = sum(c.width for c in chosen if c.width) + len(chosen) - 1
        if width - fixed >= flex_min or not any(c.keep < 99 for c in chosen if c.width):
            break
        droppable = [c for c in chosen if c.width and c.keep < 99]
        chosen.remove(min(droppable, key=lambda c: c.keep))
    room = max(1, width - sum(c.width for c in chosen if c.width) - (len(chosen) - 1))
    return [Col(c.name, c.width or room, c.right, c.keep) for c in chosen]


class RowList(WallWidget):
    """A list of incidents: a heading line (the border title), a header, then as many rows as fit."""

    COLUMNS: tuple[Col, ...] = ()
    LABELS: dict[str, str] = {}
    TITLE_MIN = 20
    EMPTY = "nothing here"

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = title
        self.rows: tuple[QueueRow, ...] = ()
        self.flashing: Collection[int] = ()

    def show(self, rows: Sequence[QueueRow], now: datetime, flashing: Collection[int] = ()) -> None:
        self.rows = tuple(rows)
        self.flashing = flashing
        self.tick(now)

    def render(self) -> Text:
        width, height = self.content_size
        if self.now is None or width <= 0:
            return Text("")
        if not self.rows:
            return Text(self.EMPTY, style=self.style_of("muted"), no_wrap=True)
        columns = arrange(width, self.COLUMNS, self.TITLE_MIN)
        lines: list[Text] = []
        with_header = height >= 4
        if with_header:
            header = Text(no_wrap=True, style=self.style_of("heading"))
            for c in columns:
                header.append(fit(self.LABELS.get(c.name, ""), c.width, right=c.right) + " ")
            lines.append(header)
        for row in self.rows[: max(0, height - len(lines))]:
            lines.append(self._line(row, columns))
        return Text("\n", no_wrap=True).join(lines)

    def _line(self, row: QueueRow, columns: list[Col]) -> Text:
        assert self.now is not None
        cells = self.cells(row, self.now)
        highlighted = self.highlighted(row)
        base = self.flash_style() if highlighted else Style()
        lit = highlighted and self.flash_lit()  # the lit bar is one colour: cell colours would vanish in it
        line = Text(no_wrap=True)
        for c in columns:
            text, style = cells.get(c.name, ("", None))
            line.append(fit(text, c.width, right=c.right), base + self.style_of(style) if style and not lit else base)
            line.append(" ", base)
        return line

    def highlighted(self, row: QueueRow) -> bool:
        return row.number in self.flashing

    def cells(self, row: QueueRow, now: datetime) -> dict[str, tuple[str, str | None]]:
        raise NotImplementedError


def _sev(row: QueueRow) -> tuple[str, str]:
    return f"Sev{row.priority}{'★' if row.major else ''}", f"sev{row.priority}"


def countdown(row: QueueRow, now: datetime) -> tuple[str, str]:
    """The clock's reading for the board, and its style name."""
    state = row.sla_state(now)
    left = row.seconds_left(now)
    if state is None or left is None:
        return "—", "muted"
    if state is SlaState.PAUSED:
        return "paused", "paused"
    if state is SlaState.BREACHED:
        return wall_countdown(left), "breached"
    return wall_countdown(left), "warning" if state is SlaState.WARNING else "ok"


class BreachList(RowList):
    """The running clocks closest to running out; one that just ran out flashes at the top."""

    COLUMNS = (
        Col("key", 10, keep=99),
        Col("sev", 5, keep=99),
        Col("due", 9, right=True, keep=99),
        Col("clock", 4, keep=2),
        Col("title", 0),
        Col("owner", 18, keep=3),
        Col("state", 8, keep=1),
    )
    LABELS = {"key": "Key", "sev": "Sev", "due": "Left", "clock": "For", "title": "Title", "owner": "Group/assignee",
              "state": "State"}
    EMPTY = "no clock is running"

    def highlighted(self, row: QueueRow) -> bool:
        return row.number in self.flashing or (self.now is not None and is_fresh_breach(row, self.now))

    def cells(self, row: QueueRow, now: datetime) -> dict[str, tuple[str, str | None]]:
        return {
            "key": (row.key, "major" if row.major else None),
            "sev": _sev(row),
            "due": countdown(row, now),
            "clock": ("ack" if row.clock == "response" else "fix", "muted"),
            "title": (row.title, None),
            "owner": (owner_text(row), None),
            "state": (state_text(row), None),
        }


class NewestList(RowList):
    """The incidents logged last. With two or three lines only, a ticker without the header."""

    COLUMNS = (
        Col("key", 10, keep=99),
        Col("sev", 5, keep=99),
        Col("age", 4, right=True, keep=3),
        Col("state", 8, keep=2),
        Col("title", 0),
        Col("owner", 18, keep=1),
    )
    LABELS = {"key": "Key", "sev": "Sev", "age": "Age", "state": "State", "title": "Title", "owner": "Group/assignee"}
    EMPTY = "no incidents"

    def cells(self, row: QueueRow, now: datetime) -> dict[str, tuple[str, str | None]]:
        return {
            "key": (row.key, "major" if row.major else None),
            "sev": _sev(row),
            "age": (age_text(row, now), "muted"),
            "state": (state_text(row), None),
            "title": (row.title, None),
            "owner": (owner_text(row), None),
        }


class GroupLoadPanel(WallWidget):
    """Open and breached incidents per assignment group: a table with bars, or a wrapped summary."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "Load per group"
        self.groups: tuple[GroupLoad, ...] = ()

    def show(self, groups: Sequence[GroupLoad], now: datetime) -> None:
        self.groups = tuple(groups)
        self.tick(now)

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self.groups) + 1 if self.groups else 1

    def render(self) -> Text:
        width, height = self.content_size
        if width <= 0:
            return Text("")
        if not self.groups:
            return Text("no open incidents", style=self.style_of("muted"), no_wrap=True)
        if height <= 3 or width < 30:
            return self._summary(width, height)
        return self._table(width, height)

    def _table(self, width: int, height: int) -> Text:
        name_width = min(24, max(8, max(len(g.group or UNASSIGNED) for g in self.groups)))
        bar_room = width - name_width - 7 - 9 - 3
        lines = [Text(no_wrap=True, style=self.style_of("heading"))]
        lines[0].append(fit("Group", name_width) + " " + fit("Open", 7, right=True) + " " + fit("Breached", 9, right=True))
        most = max(g.open for g in self.groups) or 1
        for g in self.groups[: height - 1]:
            line = Text(no_wrap=True)
            line.append(fit(g.group or UNASSIGNED, name_width) + " ")
            line.append(fit(f"{g.open:,}", 7, right=True) + " ", Style(bold=True))
            line.append(fit(f"{g.breached:,}", 9, right=True), self.style_of("breached") if g.breached else self.style_of("muted"))
            if bar_room >= 6:
                full = max(1, round(bar_room * g.open / most)) if g.open else 0
                late = min(full, round(full * g.breached / g.open)) if g.open else 0
                line.append(" ")
                line.append("█" * late, self.style_of("breached"))
                line.append("█" * (full - late), self.style_of("ok"))
            lines.append(line)
        return Text("\n", no_wrap=True).join(lines)

    def _summary(self, width: int, height: int) -> Text:
        """`network-ops 12 (3 late) · platform 8 · …` wrapped into the lines there are."""
        text = Text(overflow="ellipsis")
        for i, g in enumerate(self.groups):
            if i:
                text.append(" · ", self.style_of("muted"))
            text.append(g.group or UNASSIGNED)
            text.append(f" {g.open:,}", Style(bold=True))
            if g.breached:
                text.append(f" ({g.breached:,} late)", self.style_of("breached"))
        return text
