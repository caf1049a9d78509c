"""The wall board's lists: breached, about to breach, newest, and the load per assignment group.

Each widget is handed rows (already redacted for the viewer) and the instant to draw them at, and
picks its form from the room it has: a table with a heading line when there is height, a compact
summary or a ticker when there is not. A list with more incidents than lines ends in "+N more", N
counted from the list's total (the store's count, not only the rows fetched), so what the board
lists always adds up to what its counters say. Countdowns are computed when drawn, so a tick only
repaints.
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
from eim_tui.domain.priority import SEVERITIES
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
        self.title = title
        self.border_title = title
        self.rows: tuple[QueueRow, ...] = ()
        self.total = 0
        self.flashing: Collection[int] = ()

    def show(
        self, rows: Sequence[QueueRow], now: datetime, flashing: Collection[int] = (), total: int | None = None
    ) -> None:
        """`total`: how many the list holds in the store, when more than the rows handed over."""
        self.rows = tuple(rows)
        self.total = max(len(self.rows), total if total is not None else 0)
        self.flashing = flashing
        self.border_title = self.heading()
        self.tick(now)

    def heading(self) -> str:
        return self.title

    def shown_rows(self, height: int) -> tuple[tuple[QueueRow, ...], int]:
        """The rows that fit `height` lines (a heading line included when there is room), and how
        many of the list's total are left out — said on the last line as "+N more"."""
        room = max(0, height - (1 if height >= 4 else 0))
        if self.total <= room:
            return self.rows[:room], self.total - min(room, len(self.rows))
        shown = self.rows[: max(0, room - 1)]
        return shown, self.total - len(shown)

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
        shown, more = self.shown_rows(height)
        for row in shown:
            lines.append(self._line(row, columns))
        if more > 0 and height > len(lines):
            lines.append(Text(fit(f"+{more:,} more", width), style=self.style_of("heading"), no_wrap=True))
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


class BreachedList(RowList):
    """Every breached incident, most severe and longest overdue first, for as long as it stays
    breached; one that just ran out flashes."""

    COLUMNS = (
        Col("key", 10, keep=99),
        Col("sev", 5, keep=99),
        Col("over", 9, right=True, keep=99),
        Col("clock", 4, keep=2),
        Col("title", 0),
        Col("owner", 18, keep=3),
        Col("state", 8, keep=1),
    )
    LABELS = {"key": "Key", "sev": "Sev", "over": "Over by", "clock": "For", "title": "Title",
              "owner": "Group/assignee", "state": "State"}
    EMPTY = "nothing is breached"

    def heading(self) -> str:
        return f"{self.title} · {self.total:,}"

    def highlighted(self, row: QueueRow) -> bool:
        return row.number in self.flashing or (self.now is not None and is_fresh_breach(row, self.now))

    def cells(self, row: QueueRow, now: datetime) -> dict[str, tuple[str, str | None]]:
        left = row.seconds_left(now)
        over = (wall_countdown(-left), "breached") if left is not None else ("—", "muted")
        if row.paused_since is not None:
            over = (f"{over[0]} ⏸", "breached")  # ran out, then put on hold: stays breached
        return {
            "key": (row.key, "major" if row.major else None),
            "sev": _sev(row),
            "over": over,
            "clock": ("ack" if row.clock == "response" else "fix", "muted"),
            "title": (row.title, None),
            "owner": (owner_text(row), None),
            "state": (state_text(row), None),
        }


class WarningList(RowList):
    """Running clocks in their warning stretch, the closest to running out first."""

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
    EMPTY = "no clock is close to running out"

    def heading(self) -> str:
        return f"{self.title} · {self.total:,}"

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

    def shown_rows(self, height: int) -> tuple[tuple[QueueRow, ...], int]:
        """A ticker of the latest: what fits, with no count of the older ones it leaves out."""
        return self.rows[: max(0, height - (1 if height >= 4 else 0))], 0

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
    """Per assignment group: open incidents by severity, breached and unassigned ones — a table
    (with bars when wide), or a wrapped summary when short."""

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

    def _columns(self, width: int) -> tuple[int, list[tuple[str, int]]]:
        """The name's width and the figure columns that fit: open, breached and unassigned always,
        then one per severity, most severe first."""
        name_width = min(20, max(8, max(len(g.group or UNASSIGNED) for g in self.groups)))
        columns = [("Open", 5), ("Breached", 8), ("Unassigned", 10)]
        if name_width + 26 + 5 * len(SEVERITIES) > width:  # short labels leave room for the severities
            columns = [("Open", 5), ("Late", 5), ("Unas", 5)]
        used = name_width + sum(w + 1 for _, w in columns)
        for level in SEVERITIES:
            if used + 5 > width:
                break
            columns.append((f"S{level}", 4))
            used += 5
        return name_width, columns

    def _table(self, width: int, height: int) -> Text:
        name_width, columns = self._columns(width)
        lines = [Text(no_wrap=True, style=self.style_of("heading"))]
        lines[0].append(fit("Group", name_width))
        for label, w in columns:
            lines[0].append(" " + fit(label, w, right=True))
        bar_room = width - name_width - sum(w + 1 for _, w in columns) - 1
        most = max(g.open for g in self.groups) or 1
        room = height - 1
        shown = self.groups if len(self.groups) <= room else self.groups[: max(0, room - 1)]
        for g in shown:
            line = Text(no_wrap=True)
            line.append(fit(g.group or UNASSIGNED, name_width))
            for label, w in columns:
                value, style = self._figure(g, label)
                line.append(" ")
                line.append(fit(f"{value:,}" if value else "·", w, right=True), self.style_of(style) if style else Style(bold=True))
            if bar_room >= 6:
                full = max(1, round(bar_room * g.open / most)) if g.open else 0
                late = min(full, round(full * g.breached / g.open)) if g.open else 0
                line.append(" ")
                line.append("█" * late, self.style_of("breached"))
                line.append("█" * (full - late), self.style_of("ok"))
            lines.append(line)
        if len(shown) < len(self.groups):
            lines.append(Text(f"+{len(self.groups) - len(shown)} more groups", style=self.style_of("heading")))
        return Text("\n", no_wrap=True).join(lines)

    def _figure(self, g: GroupLoad, label: str) -> tuple[int, str | None]:
        if label == "Open":
            return g.open, None
        if label in ("Late", "Breached"):
            return g.breached, "breached" if g.breached else "muted"
        if label in ("Unas", "Unassigned"):
            return g.unassigned, "warning" if g.unassigned else "muted"
        level = int(label[1:])
        value = g.open_at(level)
        return value, f"sev{level}" if value else "muted"

    def _summary(self, width: int, height: int) -> Text:
        """`network-ops 12 (3 late, 2 unassigned) · platform 8 · …` wrapped into the lines there are."""
        text = Text(overflow="ellipsis")
        for i, g in enumerate(self.groups):
            if i:
                text.append(" · ", self.style_of("muted"))
            text.append(g.group or UNASSIGNED)
            text.append(f" {g.open:,}", Style(bold=True))
            notes = []
            if g.breached:
                notes.append((f"{g.breached:,} late", "breached"))
            if g.unassigned:
                notes.append((f"{g.unassigned:,} unassigned", "warning"))
            if notes:
                text.append(" (")
                for j, (note, style) in enumerate(notes):
                    text.append(", " if j else "")
                    text.append(note, self.style_of(style))
                text.append(")")
        return text
