"""The queue table: drawing, asking only for visible rows, cursor keys, marks and SLA text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from rich.style import Style
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.strip import Strip

from eim_tui.domain.model import QueueRow, State
from eim_tui.tui.render.queue_columns import layout_for
from eim_tui.tui.widgets import QueueTable

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def make_row(
    number: int,
    *,
    title: str | None = None,
    state: State = State.IN_PROGRESS,
    priority: int = 2,
    due_in: timedelta | None = timedelta(hours=2, minutes=5),
    warn_in: timedelta | None = timedelta(hours=1),
    paused_since: datetime | None = None,
    assignee: str = "alice",
    major: bool = False,
) -> QueueRow:
    return QueueRow(
        number=number,
        priority=priority,
        state=state,
        title=title if title is not None else f"Disk full on db-{number}",
        service="payments",
        assignment_group="network-ops",
        assignee=assignee,
        reported_at=NOW - timedelta(hours=3),
        clock="resolution" if due_in is not None else "",
        due_at=NOW + due_in if due_in is not None else None,
        warn_at=NOW + warn_in if due_in is not None and warn_in is not None else None,
        paused_since=paused_since,
        major=major,
    )


class QueueApp(App[None]):
    """Composes one QueueTable and answers its RowsWanted at once, as a screen's worker would."""

    def __init__(
        self,
        numbers: list[int],
        rows: dict[int, QueueRow] | None = None,
        *,
        answer: bool = True,
        load: Callable[[int], QueueRow] = make_row,
    ) -> None:
        super().__init__()
        self.numbers = numbers
        self.rows = rows or {}
        self.answer = answer
        self.load = load
        self.wanted: list[list[int]] = []
        self.highlighted: list[int] = []
        self.selected: list[int] = []
        self.mark_counts: list[int] = []

    def compose(self) -> ComposeResult:
        yield QueueTable(self.numbers, now=NOW, id="queue")

    def on_queue_table_rows_wanted(self, message: QueueTable.RowsWanted) -> None:
        self.wanted.append(message.numbers)
        if self.answer:
            message.queue_table.update_rows(
                self.rows.get(n) or self.load(n) for n in message.numbers
            )

    def on_queue_table_highlighted(self, message: QueueTable.Highlighted) -> None:
        self.highlighted.append(message.number)

    def on_queue_table_selected(self, message: QueueTable.Selected) -> None:
        self.selected.append(message.number)

    def on_queue_table_marks_changed(self, message: QueueTable.MarksChanged) -> None:
        self.mark_counts.append(message.count)


async def settle(pilot: Pilot) -> None:
    # draw → RowsWanted → update_rows → draw again
    for _ in range(3):
        await pilot.pause()


def lines(table: QueueTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def line_of(table: QueueTable, number: int) -> str:
    return next(line for line in lines(table) if f"INC-{number:06d}" in line)


async def test_header_and_rows_render() -> None:
    app = QueueApp(list(range(1, 31)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(QueueTable)
        shown = lines(table)
        for label in ("Key", "Sev", "State", "Title", "SLA", "Age"):
            assert label in shown[0]
        assert "INC-000001" in shown[1] and "S2" in shown[1] and "in prog" in shown[1]
        assert "Disk full on db-1" in shown[1] and "networ…/alice" in shown[1]  # the group is cut
        assert "3h" in shown[1]  # age
        assert all(table.render_line(y).cell_length == 79 for y in range(24))


async def test_unloaded_rows_show_a_placeholder_and_are_asked_for_once() -> None:
    app = QueueApp(list(range(1, 31)), answer=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(QueueTable)
        assert "INC-000001" in lines(table)[1] and "…" in lines(table)[1]
        table.refresh()
        await settle(pilot)
        assert len(app.wanted) == 1
        assert app.wanted[0][:3] == [1, 2, 3]
        table.update_rows([make_row(1)])
        assert "Disk full on db-1" in lines(table)[1]
        table.invalidate([1])
        await settle(pilot)
        assert app.wanted[-1] == [1]


async def test_100k_incidents_ask_only_for_rows_near_the_viewport() -> None:
    app = QueueApp(list(range(1, 100_001)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(QueueTable)
        page = 23  # 24 lines less the header
        assert app.wanted and all(len(w) <= 3 * page for w in app.wanted)
        asked = [n for w in app.wanted for n in w]
        assert len(asked) == len(set(asked)) <= 3 * page
        assert "INC-000001" in lines(table)[1]

        await pilot.press("end")
        await settle(pilot)
        assert table.cursor_number == 100_000
        assert "INC-100000" in lines(table)[-1] and "Disk full on db-100" in lines(table)[-1]
        assert all(len(w) <= 3 * page for w in app.wanted)
        asked = [n for w in app.wanted for n in w]
        assert len(asked) == len(set(asked)) <= 6 * page


async def test_tick_repaints_no_more_than_the_visible_lines() -> None:
    app = QueueApp(list(range(1, 100_001)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(QueueTable)
        drawn: list[int] = []
        draw = table.render_line

        def counting(y: int) -> Strip:
            drawn.append(y)
            return draw(y)

        table.render_line = counting  # type: ignore[method-assign]
        table.tick(NOW + timedelta(seconds=1))
        await pilot.pause()
        assert 0 < len(drawn) <= 24


async def test_keys_move_the_cursor_and_post_highlighted() -> None:
    app = QueueApp(list(range(1, 201)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(QueueTable)
        assert app.highlighted == [1]
        await pilot.press("down")
        await pilot.pause()
        assert (table.cursor_index, app.highlighted[-1]) == (1, 2)
        await pilot.press("j", "j", "k")
        await pilot.pause()
        assert (table.cursor_number, app.highlighted[-1]) == (3, 3)
        await pilot.press("pagedown")
        await pilot.pause()
        assert table.cursor_number == 3 + 23 and app.highlighted[-1] == 26
        assert table.scroll_offset.y <= table.cursor_index < table.scroll_offset.y + 23
        await pilot.press("end")
        await pilot.pause()
        assert (table.cursor_number, app.highlighted[-1]) == (200, 200)
        assert table.scroll_offset.y == 200 + 1 - 24
        await pilot.press("down")  # already at the end: nothing moves, nothing is posted
        await pilot.pause()
        count = len(app.highlighted)
        await pilot.press("pageup", "home")
        await pilot.pause()
        assert (table.cursor_number, app.highlighted[-1]) == (1, 1)
        assert table.scroll_offset.y == 0 and len(app.highlighted) > count


async def test_enter_posts_selected() -> None:
    app = QueueApp(list(range(1, 11)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert app.selected == [3]


async def test_set_numbers_keeps_the_cursor_on_its_incident() -> None:
    app = QueueApp(list(range(1, 101)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(QueueTable)
        await pilot.press("down", "down", "down")
        await pilot.pause()
        assert table.cursor_number == 4
        table.set_numbers(list(range(100, 0, -1)))
        await settle(pilot)
        assert table.cursor_number == 4 and table.cursor_index == 96
        assert "INC-000004" in lines(table)[1 + table.cursor_index - table.scroll_offset.y]
        assert app.highlighted[-1] == 4
        table.set_numbers([n for n in range(100, 0, -1) if n != 4])  # it left the view
        await settle(pilot)
        assert table.cursor_index == 96 and table.cursor_number == 3
        assert app.highlighted[-1] == 3


async def test_sla_column_reads_each_state_and_ticks() -> None:
    rows = {
        1: make_row(1),
        2: make_row(2, due_in=timedelta(minutes=12, seconds=5), warn_in=-timedelta(minutes=1)),
        3: make_row(3, due_in=-timedelta(minutes=12)),
        4: make_row(4, state=State.ON_HOLD, paused_since=NOW - timedelta(minutes=5)),
        5: make_row(5, state=State.RESOLVED, due_in=None),
        6: make_row(6, priority=1, major=True),
    }
    app = QueueApp(list(rows), rows)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(QueueTable)
        sla = layout_for(79).get("sla")
        assert sla is not None

        def sla_text(number: int) -> str:
            return line_of(table, number)[sla.x : sla.end].strip()

        assert sla_text(1) == "2h05m"
        assert sla_text(2) == "⚠ 12m05s"
        assert sla_text(3) == "BREACHED 12m"
        assert sla_text(4) == "paused"
        assert sla_text(5) == "resolved"
        assert "S1★" in line_of(table, 6)

        table.tick(NOW + timedelta(minutes=1))
        assert sla_text(1) == "2h04m"
        assert sla_text(2) == "⚠ 11m05s"
        assert sla_text(3) == "BREACHED 13m"
        assert sla_text(4) == "paused"

        # colour says it too: breached and OK cells are styled differently
        def sla_style(y: int) -> Style:
            segments = table.render_line(y)
            return next(s.style for s in segments if s.text.strip().startswith(("BR", "2h")))

        assert sla_style(3) != sla_style(1)


async def test_titles_are_shown_literally_never_as_markup() -> None:
    rows = {
        1: make_row(1, title="[bold]x[/] and [red]y"),
        2: make_row(2, title="日本語のタイトル" * 4),
    }
    app = QueueApp(list(rows), rows)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(QueueTable)
        assert "[bold]x[/] and [red" in line_of(table, 1)
        assert "日本語" in line_of(table, 2) and "…" in line_of(table, 2)
        assert table.render_line(2).cell_length == 79


async def test_80_columns_drop_service_and_keep_title_room() -> None:
    app = QueueApp(list(range(1, 6)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(QueueTable)
        layout = layout_for(table.scrollable_content_region.width)
        assert "service" not in layout.names and "Service" not in lines(table)[0]
        title = layout.get("title")
        assert title is not None and title.width >= 20


async def test_110_columns_show_every_column() -> None:
    app = QueueApp(list(range(1, 6)))
    async with app.run_test(size=(110, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(QueueTable)
        header = lines(table)[0]
        for label in ("Key", "Sev", "State", "Title", "Service", "Group/Assignee", "SLA", "Age"):
            assert label in header
        assert "payments" in lines(table)[1] and "network-ops/alice" in lines(table)[1]


async def test_space_toggles_the_mark() -> None:
    app = QueueApp(list(range(1, 11)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(QueueTable)
        await pilot.press("space")
        await pilot.pause()
        assert table.marked == {1} and lines(table)[1].startswith("●")
        await pilot.press("down", "space")
        await pilot.pause()
        assert table.marked == {1, 2}
        await pilot.press("space")
        await pilot.pause()
        assert table.marked == {1} and not lines(table)[2].startswith("●")
        assert app.mark_counts == [1, 2, 1]
        table.mark_all()
        assert len(table.marked) == 10
        table.set_numbers(list(range(1, 6)))  # marks never outlive the view
        assert table.marked == {1, 2, 3, 4, 5}
        table.clear_marks()
        assert table.marked == set()


def test_owner_keeps_the_person_when_the_column_is_narrow() -> None:
    from eim_tui.tui.render.queue_columns import owner_cell

    row = make_row(1, assignee="dmitri")
    assert owner_cell(row, 30) == "network-ops/dmitri"
    assert owner_cell(row, 13) == "netwo…/dmitri"  # the group is cut, not the person
    assert owner_cell(make_row(2, assignee=""), 10) == "network…/—"
    assert owner_cell(make_row(3, assignee="maximilian-the-third"), 13) == "maximilian-the-third"  # fit() cuts it


async def test_a_line_is_drawn_again_when_its_row_or_its_look_changes() -> None:
    # Lines keep everything but the SLA and age cells between frames: a changed row, a changed
    # style (the cursor losing focus) must not show what was kept.
    app = QueueApp(list(range(1, 6)))
    async with app.run_test(size=(110, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(QueueTable)
        focused = table.render_line(1)
        table.update_rows([make_row(1, title="Disk replaced on db-1", assignee="farid")])
        await pilot.pause()
        assert "Disk replaced on db-1" in table.render_line(1).text and "farid" in table.render_line(1).text
        table.update_rows([make_row(1)])
        await pilot.pause()
        table.blur()
        await pilot.pause()
        blurred = table.render_line(1)
        assert blurred.text == focused.text

        def key_style(strip):  # the key cell lies in the part of the line that is kept
            return next(segment.style for segment in strip if "INC-000001" in segment.text)

        assert key_style(blurred) != key_style(focused)
