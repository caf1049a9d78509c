"""The incident queue: a virtualised table that paints at once whatever the queue's length.

The widget knows only the ordered incident numbers of the current view and a cache of the rows it
has been given. Drawing a line whose row is missing shows a placeholder and asks the screen for
the rows around the viewport (`RowsWanted`); the screen answers with `update_rows`. Each frame
costs the visible lines only, so 100,000 incidents draw as fast as 20. SLA countdowns are
computed when drawn from the time the screen gives (`tick`); the widget never reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from eim_tui.domain.model import QueueRow
from eim_tui.tui.render.queue_columns import STYLE_NAMES, Layout, layout_for
from eim_tui.tui.widgets.queue_lines import QueueLines

# Rows kept beyond this are dropped oldest-first (those near the viewport are kept).
CACHE_LIMIT = 20_000


class QueueTable(ScrollView, can_focus=True):
    """The queue of incidents, one line each, under a header that stays put while it scrolls."""

    COMPONENT_CLASSES = {f"queue-table--{name}" for name in STYLE_NAMES}

    DEFAULT_CSS = """
    QueueTable {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        background: $surface;
        color: $foreground;
        & > .queue-table--header { text-style: bold underline; color: $foreground; }
        & > .queue-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .queue-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .queue-table--marked { background: $accent 25%; }
        & > .queue-table--placeholder { color: $text-muted; }
        & > .queue-table--major { text-style: bold; }
        & > .queue-table--sev1 { color: $text-error; text-style: bold; }
        & > .queue-table--sev2 { color: $text-warning; text-style: bold; }
        & > .queue-table--sev3 { color: $foreground; }
        & > .queue-table--sev4 { color: $text-primary; }
        & > .queue-table--sev5 { color: $text-muted; }
        & > .queue-table--ok { color: $text-success; }
        & > .queue-table--warning { color: $text-warning; text-style: bold; }
        & > .queue-table--breached { color: $error; text-style: bold reverse; }
        & > .queue-table--paused { color: $text-muted; text-style: italic; }
        & > .queue-table--stopped { color: $text-muted; }
    }
    """

    BINDINGS: list[BindingType] = [
        Binding("up,k", "cursor_up", "Up", False, id="queue.up", tooltip="Previous incident"),
        Binding("down,j", "cursor_down", "Down", False, id="queue.down", tooltip="Next incident"),
        Binding("pageup", "cursor_page_up", "Page up", False, id="queue.page_up",
                tooltip="One screen up"),
        Binding("pagedown", "cursor_page_down", "Page down", False, id="queue.page_down",
                tooltip="One screen down"),
        Binding("home", "cursor_first", "First", False, id="queue.first", tooltip="First incident"),
        Binding("end", "cursor_last", "Last", False, id="queue.last", tooltip="Last incident"),
        Binding("enter", "select_cursor", "Open", id="queue.open", tooltip="Open this incident"),
        Binding("space", "toggle_mark", "Mark", id="queue.mark",
                tooltip="Mark or unmark this incident for a bulk action"),
    ]  # fmt: skip

    cursor_index: reactive[int] = reactive(0, repaint=False, init=False)
    """Position of the cursor in `numbers`."""

    class _Message(Message):
        def __init__(self, queue_table: QueueTable) -> None:
            super().__init__()
            self.queue_table = queue_table

        @property
        def control(self) -> QueueTable:
            return self.queue_table

    class Highlighted(_Message):
        """The cursor moved to another incident."""

        def __init__(self, queue_table: QueueTable, number: int) -> None:
            super().__init__(queue_table)
            self.number = number

        def can_replace(self, message: Message) -> bool:
            # Holding a key down posts many; only the last one matters.
            return isinstance(message, QueueTable.Highlighted) and (
                message.queue_table is self.queue_table
            )

    class Selected(_Message):
        """The user chose the incident under the cursor (enter, or a double click)."""

        def __init__(self, queue_table: QueueTable, number: int) -> None:
            super().__init__(queue_table)
            self.number = number

    class RowsWanted(_Message):
        """Rows the table needs to draw (visible ones first); answer with `update_rows`."""

        def __init__(self, queue_table: QueueTable, numbers: list[int]) -> None:
            super().__init__(queue_table)
            self.numbers = numbers

    class MarksChanged(_Message):
        """The set of marked incidents changed; `count` is how many are marked now."""

        def __init__(self, queue_table: QueueTable, count: int) -> None:
            super().__init__(queue_table)
            self.count = count

    def __init__(
        self,
        numbers: Sequence[int] = (),
        *,
        now: datetime,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._numbers: list[int] = list(numbers)
        self._rows: dict[int, QueueRow] = {}
        self._requested: set[int] = set()
        self._request_scheduled = False
        self._highlighted: int | None = None
        self._now = now
        self._draw = QueueLines()
        self.marked: set[int] = set()
        """Incidents marked for a bulk action; only numbers of the current view."""
        self.virtual_size = Size(0, len(self._numbers) + 1)

    # -- what the screen reads -------------------------------------------------------------------

    @property
    def numbers(self) -> list[int]:
        """The incident numbers of the view, in order. Do not mutate; use `set_numbers`."""
        return self._numbers

    @property
    def now(self) -> datetime:
        return self._now

    @property
    def cursor_number(self) -> int | None:
        if 0 <= self.cursor_index < len(self._numbers):
            return self._numbers[self.cursor_index]
        return None

    @property
    def cursor_row(self) -> QueueRow | None:
        number = self.cursor_number
        return None if number is None else self._rows.get(number)

    def row(self, number: int) -> QueueRow | None:
        """The cached row of incident `number`, if loaded."""
        return self._rows.get(number)

    # -- what the screen tells -------------------------------------------------------------------

    def set_numbers(self, numbers: Sequence[int], follow: int | None = None) -> None:
        """Show a new order; the cursor stays on its incident, at the same height on screen.
        `follow`: the incident to keep the cursor on instead (when it is in `numbers`) — the one it
        was on before a head page that did not hold it."""
        number, index = self.cursor_number, self.cursor_index
        if follow is not None and follow in numbers:
            number = follow
        screen_offset = index - self.scroll_offset.y
        self._numbers = list(numbers)
        self._requested.clear()  # a new view may have cancelled the loads still running
        if self.marked:
            before = len(self.marked)
            self.marked &= set(self._numbers)
            if len(self.marked) != before:
                self.post_message(self.MarksChanged(self, len(self.marked)))
        self.virtual_size = Size(0, len(self._numbers) + 1)
        if number is not None:
            try:
                index = self._numbers.index(number)
            except ValueError:
                pass  # gone from the view: stay at the same place in the list
        self.set_reactive(QueueTable.cursor_index, self.validate_cursor_index(index))
        if self.is_mounted:
            self.scroll_to(y=self.cursor_index - screen_offset, animate=False, force=True)
            self._scroll_to_cursor()
            self._announce_highlight()
            self.refresh()

    def update_rows(self, rows: Iterable[QueueRow]) -> None:
        """Cache loaded (or changed) rows and repaint the visible ones among them."""
        delivered: set[int] = set()
        for row in rows:
            self._rows.pop(row.number, None)  # re-insert: the dict's order is the LRU order
            self._rows[row.number] = row
            delivered.add(row.number)
        self._requested -= delivered
        if len(self._rows) > CACHE_LIMIT:
            self._trim_cache()
        self._refresh_visible(delivered)

    def invalidate(self, numbers: Iterable[int]) -> None:
        """Forget these rows; the visible ones are asked for again."""
        forgotten = set(numbers)
        for number in forgotten:
            self._rows.pop(number, None)
        self._requested -= forgotten
        self._refresh_visible(forgotten)

    def tick(self, now: datetime) -> None:
        """Move the table's time on, repainting the visible lines whose SLA or age text changed
        (most clocks read in minutes, so a second later most lines read the same)."""
        self._now = now
        layout = self._layout
        for index in self._visible_indexes():
            row = self._rows.get(self._numbers[index])
            if row is not None and self._draw.timed_changed(layout, row, now):
                self.refresh_line(index + 1)

    def toggle_mark(self) -> None:
        number = self.cursor_number
        if number is None:
            return
        self.marked.symmetric_difference_update({number})
        self.refresh_line(self.cursor_index + 1)
        self.post_message(self.MarksChanged(self, len(self.marked)))

    def mark_all(self) -> None:
        self.marked = set(self._numbers)
        self.refresh()
        self.post_message(self.MarksChanged(self, len(self.marked)))

    def clear_marks(self) -> None:
        if self.marked:
            self.marked = set()
            self.refresh()
            self.post_message(self.MarksChanged(self, 0))

    # -- keys and mouse --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Every column fits the width, so the sideways scrolling keys ScrollView brings do nothing:
        # keep them out of the footer, the help and the palette.
        if action in ("scroll_left", "scroll_right", "page_left", "page_right"):
            return False
        return True

    def action_cursor_up(self) -> None:
        self.cursor_index -= 1

    def action_cursor_down(self) -> None:
        self.cursor_index += 1

    def action_cursor_page_up(self) -> None:
        self.scroll_to(y=self.scroll_offset.y - self._page, animate=False, force=True)
        self.cursor_index -= self._page

    def action_cursor_page_down(self) -> None:
        self.scroll_to(y=self.scroll_offset.y + self._page, animate=False, force=True)
        self.cursor_index += self._page

    def action_cursor_first(self) -> None:
        self.cursor_index = 0

    def action_cursor_last(self) -> None:
        self.cursor_index = len(self._numbers) - 1

    def action_select_cursor(self) -> None:
        if (number := self.cursor_number) is not None:
            self.post_message(self.Selected(self, number))

    def action_toggle_mark(self) -> None:
        self.toggle_mark()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = self.scroll_offset.y + offset.y - 1
        if index < len(self._numbers):
            self.cursor_index = index
            if event.chain == 2:
                self.action_select_cursor()

    # -- cursor ----------------------------------------------------------------------------------

    def validate_cursor_index(self, index: int) -> int:
        return max(0, min(index, len(self._numbers) - 1))

    def watch_cursor_index(self, old: int, new: int) -> None:
        self.refresh_line(old + 1)
        self.refresh_line(new + 1)
        self._scroll_to_cursor()
        self._announce_highlight()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._schedule_request()  # fetch the page ahead before it shows

    def on_resize(self) -> None:
        self._scroll_to_cursor()

    def on_mount(self) -> None:
        self.call_later(self._announce_highlight)  # once mounted, so the message can go up

    def _scroll_to_cursor(self) -> None:
        top, page, index = self.scroll_offset.y, self._page, self.cursor_index
        if index < top:
            self.scroll_to(y=index, animate=False, force=True)
        elif index >= top + page:
            self.scroll_to(y=index - page + 1, animate=False, force=True)

    def _announce_highlight(self) -> None:
        number = self.cursor_number
        if number is not None and number != self._highlighted and self.is_mounted:
            self._highlighted = number
            self.post_message(self.Highlighted(self, number))

    # -- drawing ---------------------------------------------------------------------------------

    @property
    def _height(self) -> int:
        return self.scrollable_content_region.height

    @property
    def _page(self) -> int:
        """How many rows one screen shows below the header."""
        return max(1, self._height - 1)

    @property
    def _layout(self) -> Layout:
        return layout_for(self.scrollable_content_region.width)

    def _visible_indexes(self) -> range:
        top = self.scroll_offset.y
        return range(top, min(top + self._page, len(self._numbers)))

    def _refresh_visible(self, numbers: set[int]) -> None:
        for index in self._visible_indexes():
            if self._numbers[index] in numbers:
                self.refresh_line(index + 1)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._check_styles()  # theme, focus and pseudo-classes may have changed since the last frame
        return super().render_lines(crop)

    def _check_styles(self) -> None:
        # What the component styles depend on: the line's own style, the theme and focus (the
        # cursor's colours); a CSS change resets them through `notify_style_update`.
        sources = (self.rich_style, self.app.theme, self.has_focus)
        self._draw.check_styles(sources, self.rich_style, self.get_component_rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._draw.forget_styles()  # the CSS changed: derive the styles again on the next frame

    def render_line(self, y: int) -> Strip:
        if not self._draw.ready:  # drawn outside a frame (tests read lines directly)
            self._check_styles()
        layout = self._layout
        if y == 0:
            return self._draw.header(layout)
        index = self.scroll_offset.y + y - 1
        if index >= len(self._numbers):
            return self._draw.blank(layout)
        number = self._numbers[index]
        row = self._rows.get(number)
        if row is None and number not in self._requested:
            self._schedule_request()
        return self._draw.line(layout, number, row, self._now, marked=number in self.marked,
                               cursor=index == self.cursor_index, keep=4 * self._page + 16)

    # -- asking for rows -------------------------------------------------------------------------

    def _schedule_request(self) -> None:
        # Lines are drawn one by one; collect the whole frame's needs into one message.
        if not self._request_scheduled and self.is_mounted:
            self._request_scheduled = True
            self.call_later(self._request_missing)

    def _request_missing(self) -> None:
        self._request_scheduled = False
        top, page, count = self.scroll_offset.y, self._page, len(self._numbers)
        window = [*range(top, top + 2 * page), *range(top - 1, top - page - 1, -1)]
        missing = [
            number
            for index in window
            if 0 <= index < count
            and (number := self._numbers[index]) not in self._rows
            and number not in self._requested
        ]
        if missing:
            self._requested.update(missing)
            self.post_message(self.RowsWanted(self, missing))

    def _trim_cache(self) -> None:
        top, page = self.scroll_offset.y, self._page
        keep = set(self._numbers[max(0, top - page) : top + 2 * page])
        excess = len(self._rows) - CACHE_LIMIT * 3 // 4
        stale = [n for n in self._rows if n not in keep][:excess]
        for number in stale:
            del self._rows[number]
