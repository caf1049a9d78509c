"""Column layout and cell text for the incident queue table.

Pure functions, no Textual: given a width they say which columns show and where; given a row and
an instant they say what each cell reads. Widths are terminal cells (titles may hold wide
characters), and every cell says in words what its colour says, so the table reads with NO_COLOR.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style

from eim_tui.domain.durations import format_countdown, format_duration
from eim_tui.domain.model import QueueRow, SlaState, State, format_key

MIN_TITLE = 20
# The service column only appears when the title keeps at least this much room beside it.
TITLE_WITH_SERVICE = 28
ELLIPSIS = "…"
UNASSIGNED = "—"
NO_CLOCK = "—"
MARK = "●"
MAJOR = "★"
ALERTS_CLEAR = "✓"  # after the state: all the incident's monitoring alerts have resolved

# Component class names (`queue-table--<name>`) the widget styles lines and cells with.
STYLE_NAMES = (
    "header", "cursor", "marked", "placeholder", "major",
    "sev1", "sev2", "sev3", "sev4", "sev5",
    "ok", "warning", "breached", "paused", "stopped",
)  # fmt: skip

STATE_LABELS = {
    State.NEW: "new",
    State.IN_PROGRESS: "in prog",
    State.ON_HOLD: "on hold",
    State.RESOLVED: "resolved",
    State.CLOSED: "closed",
    State.CANCELLED: "cancelled",
}

# Control characters (newlines, tabs, escape sequences) in user text would break the line grid
# or reach the terminal raw; they are shown as spaces.
_CONTROLS = {code: " " for code in (*range(0x20), *range(0x7F, 0xA0))}


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # mark, key, sev, state, title, service, owner, sla, age
    label: str
    x: int
    width: int
    right: bool = False

    @property
    def end(self) -> int:
        return self.x + self.width


@dataclass(frozen=True, slots=True)
class Layout:
    width: int
    columns: tuple[Column, ...]

    def get(self, name: str) -> Column | None:
        return next((column for column in self.columns if column.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


_ORDER = ("mark", "key", "sev", "state", "title", "service", "owner", "sla", "age")
_LABELS = {
    "mark": "", "key": "Key", "sev": "Sev", "state": "State", "title": "Title",
    "service": "Service", "owner": "Group/Assignee", "sla": "SLA", "age": "Age",
}  # fmt: skip
_SHORT_LABELS = {"owner": "Owner"}  # where the full label would be cut


@lru_cache(maxsize=32)
def layout_for(width: int) -> Layout:
    """Where each column sits at `width` cells; the title takes whatever the others leave."""
    sla = 14 if width >= 100 else 12
    widths = {"mark": 1, "key": 10, "sev": 3, "state": 9, "sla": sla, "age": 4}

    def title_room() -> int:  # one separator per column besides the title
        return width - sum(widths.values()) - len(widths)

    room = title_room()
    service = min(20, max(12, room // 5))
    owner = min(24, max(17, room // 4))  # 17 fits "network-ops/alice"
    if room - service - owner - 2 >= TITLE_WITH_SERVICE:
        widths.update(service=service, owner=owner)
    elif (owner := min(owner, room - 1 - MIN_TITLE)) >= 6:
        widths["owner"] = owner
    for name in ("age", "state", "sla"):  # very narrow: keep what identifies the incident
        if title_room() >= 10:
            break
        del widths[name]
    widths["title"] = max(1, title_room())

    columns: list[Column] = []
    x = 0
    for name in _ORDER:
        if name in widths:
            label = _LABELS[name]
            if cell_len(label) > widths[name]:
                label = _SHORT_LABELS.get(name, label)
            columns.append(Column(name, label, x, widths[name], right=name == "age"))
            x += widths[name] + 1
    return Layout(width, tuple(columns))


def fit(text: str, width: int, *, right: bool = False) -> str:
    """`text` in exactly `width` cells: control characters blanked, cut with an ellipsis."""
    if width <= 0:
        return ""
    text = text.translate(_CONTROLS)
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + ELLIPSIS
    if right:
        return " " * (width - length) + text
    return text + " " * (width - length)


def severity_text(row: QueueRow) -> str:
    return f"S{row.priority}{MAJOR if row.major else ''}"


def state_text(row: QueueRow) -> str:
    label = STATE_LABELS.get(row.state, row.state.label)
    # Monitoring says every alert of this open incident has resolved: a person should verify it.
    return f"{label} {ALERTS_CLEAR}" if row.alerts_resolved and row.state.is_open else label


def owner_text(row: QueueRow) -> str:
    return f"{row.assignment_group or UNASSIGNED}/{row.assignee or UNASSIGNED}"


def owner_cell(row: QueueRow, width: int) -> str:
    """Group/assignee in `width` cells: when it does not fit, the group is cut, not the person
    (`network-…/dmitri`), since who holds an incident matters most on a narrow terminal."""
    text = owner_text(row)
    if cell_len(text) <= width:
        return text
    who = f"/{row.assignee or UNASSIGNED}"
    room = width - cell_len(who)
    if room >= 4:
        return fit(row.assignment_group or UNASSIGNED, room) + who
    return row.assignee or text


def sla_cell(row: QueueRow, now: datetime, width: int) -> tuple[str, str]:
    """What the SLA column reads at `now`, and the style that goes with it.

    The style is one of ok, warning, breached, paused, stopped (no clock runs).
    """
    state = row.sla_state(now)
    left = row.seconds_left(now)
    if not row.clock or state is None or left is None:
        return (NO_CLOCK if row.state.is_open else state_text(row)), "stopped"
    if state is SlaState.BREACHED:
        late = format_duration(left)
        if cell_len(f"BREACHED {late}") > width:
            late = _largest_unit(late)
        return f"BREACHED {late}", "breached"
    if state is SlaState.PAUSED:
        return "paused", "paused"
    if state is SlaState.WARNING:
        return f"⚠ {format_countdown(left)}", "warning"
    return format_countdown(left), "ok"


def _largest_unit(text: str) -> str:
    """`3h05m` → `3h`: the coarse reading when the fine one does not fit."""
    for i, char in enumerate(text):
        if char.isalpha():
            return text[: i + 1]
    return text


def age_text(row: QueueRow, now: datetime) -> str:
    """How long ago the incident was reported, in its largest unit: 5m, 3h, 2d, 1y."""
    seconds = (now - row.reported_at).total_seconds()
    if seconds < 60:
        return "<1m"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    if seconds < 365 * 86400:
        return f"{int(seconds // 86400)}d"
    return f"{int(seconds // (365 * 86400))}y"


Cells = dict[str, tuple[str, str | None]]
"""Column name → (text, style name or None) for one line; missing columns draw blank."""


def row_cells(row: QueueRow, now: datetime, sla_width: int, owner_width: int | None = None) -> Cells:
    emphasis = "major" if row.major else None
    return {
        "key": (row.key, emphasis),
        "sev": (severity_text(row), f"sev{row.priority}" if 1 <= row.priority <= 5 else None),
        "state": (state_text(row), None),
        "title": (row.title, emphasis),
        "service": (row.service, None),
        "owner": (owner_text(row) if owner_width is None else owner_cell(row, owner_width), None),
        **timed_cells(row, now, sla_width),
    }


TIMED = ("sla", "age")
"""The columns that change as time passes (the last ones): a countdown tick redraws only these."""


def timed_cells(row: QueueRow, now: datetime, sla_width: int) -> Cells:
    return {"sla": sla_cell(row, now, sla_width), "age": (age_text(row, now), None)}


@lru_cache(maxsize=32)
def split_layout(layout: Layout) -> tuple[Layout, Layout]:
    """The columns that stay as they are, and the timed ones after them."""
    static = tuple(c for c in layout.columns if c.name not in TIMED)
    timed = tuple(c for c in layout.columns if c.name in TIMED)
    return Layout(layout.width, static), Layout(layout.width, timed)


def placeholder_cells(number: int) -> Cells:
    """A row not loaded yet: its key is known, the rest is an ellipsis."""
    return {"key": (format_key(number), "placeholder"), "title": (ELLIPSIS, "placeholder")}


def header_segments(layout: Layout, style: Style) -> list[Segment]:
    segments = []
    for column in layout.columns:
        segments.append(Segment(fit(column.label, column.width, right=column.right), style))
        segments.append(Segment(" ", style))
    return segments


def line_segments(
    layout: Layout,
    cells: Cells,
    marked: bool,
    line_style: Style,
    cursor: Style | None,
    style_of: Callable[[str], Style],
) -> list[Segment]:
    """One queue line. Text becomes plain segments, never markup: titles may hold `[`."""
    segments = []
    for column in layout.columns:
        if column.name == "mark":
            text, style_name = (MARK if marked else " "), None
        else:
            text, style_name = cells.get(column.name, ("", None))
        style = line_style
        if style_name:
            style += style_of(style_name)
            if cursor:  # the cursor's colours win, so the line reads as one bar
                style += cursor
        segments.append(Segment(fit(text, column.width, right=column.right), style))
        segments.append(Segment(" ", line_style))
    return segments
