"""The queue: the first screen an on-call engineer sees. Views, a filter, live countdowns, live updates.

The screen owns the view, filter and sort; it asks the store for the ordered incident numbers in a
worker thread and hands rows to the `QueueTable` as it asks for them. A 1 s timer ticks the
countdowns (visible lines only); what anyone else changed is picked up when the store's change feed
tells of it (PostgreSQL), or by a poll of the change marker (SQLite; see `WatchesChanges`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from eim_tui.domain.errors import DomainError
from eim_tui.domain.filters import Filter, FilterError, parse
from eim_tui.domain.model import QueueRow
from eim_tui.domain.queue import Sort, View
from eim_tui.tui.widgets.key_footer import KeyFooter
from eim_tui.tui.widgets.queue_table import QueueTable
from eim_tui.tui.workers import ChangesFound, WatchesChanges, explain

VIEWS = list(View)
SORTS = list(Sort)


@dataclass
class QueueLoaded(Message):
    numbers: list[int]
    rows: list[QueueRow]
    marker: int
    changed: frozenset[int]
    generation: int
    complete: bool = True  # False: only the first page, the whole list follows
    groups: list[str] | None = None  # the user's groups, read once for the "my groups" view
    painted: threading.Event | None = None  # a first page: set once it is on screen (or dropped)


@dataclass
class RowsLoaded(Message):
    rows: list[QueueRow]


@dataclass
class Acknowledged(Message):
    number: int
    text: str


@dataclass
class AckRefused(Message):
    number: int
    error: str


@dataclass
class StoreFailed(Message):
    """A worker could not reach the store; the queue keeps what it shows and says so."""

    what: str
    error: str


class QueueScreen(WatchesChanges, Screen[None]):
    BINDINGS = [
        Binding("a", "acknowledge", "Ack+take", id="queue.acknowledge", tooltip="Acknowledge and take the incident"),
        Binding("n", "new_incident", "New", id="queue.new", tooltip="Log a new incident"),
        Binding("slash", "filter", "Filter", id="queue.filter", tooltip="Filter: words, sev<=2, state:new, breached…"),
        Binding("v", "next_view", "View", id="queue.view", tooltip="Next view: open, mine, my groups, unassigned…"),
        Binding("s", "next_sort", "Sort", id="queue.sort", tooltip="Next sort order"),
        Binding("asterisk", "mark_all", "Mark all", id="queue.mark_all",
                tooltip="Mark every incident matching the current view and filter"),
        Binding("b", "bulk", "Bulk…", id="queue.bulk",
                tooltip="Acknowledge, assign, resolve or merge the marked incidents (preview first)"),
        Binding("u", "clear_marks", "Unmark", id="queue.clear_marks", tooltip="Clear every mark"),
        Binding("C", "changes", "Changes", id="queue.changes", show=False,
                tooltip="Change records: what is planned, in progress and done, with windows"),
        Binding("K", "catalogue", "Catalogue", id="queue.catalogue", show=False,
                tooltip="The catalogue: services, their configuration items and open incidents"),
        Binding("R", "reports", "Reports", id="queue.reports", show=False,
                tooltip="Reports: MTTA, MTTR, SLA compliance, charts, where incidents wait"),
        Binding("P", "problems", "Problems", id="queue.problems", show=False,
                tooltip="Problem records and known errors, with their incidents"),
        Binding("escape", "clear_filter", "Clear filter", id="queue.clear_filter", show=False,
                tooltip="Drop the filter"),
    ]

    view: var[View] = var(View.OPEN)
    sort: var[Sort] = var(Sort.SLA)
    filter: var[Filter] = var(Filter)

    def __init__(self) -> None:
        super().__init__()
        self._generation = 0
        self._loading = False
        self._pending: set[int] = set()
        self._follow: int | None = None  # the cursor's incident before a head page (see on_queue_loaded)
        self._allowed: tuple[bool | None, ...] = ()
        self._groups: list[str] | None = None

    @property
    def services(self):
        return self.app.services

    def compose(self) -> ComposeResult:
        with Horizontal(id="queue-top"):
            yield Static("", id="queue-title", markup=False)
            yield Static("", id="queue-clock", markup=False)
        yield Input(placeholder="filter: words sev<=2 state:new service:… group:… assignee:me breached",
                    id="queue-filter")
        yield QueueTable(now=self.app.clock.now(), id="queue-table")
        yield Static("", id="queue-status", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        box = self.query_one("#queue-filter", Input)
        box.display = False
        box.border_title = "Filter — enter applies · esc closes"
        self.query_one(QueueTable).focus()
        self._update_title(None)
        self._tick()  # the clock shows from the first frame, not a tick later
        self.reload()
        self.set_interval(self.app.tick_interval, self._tick)
        self.start_watching()

    # --- loading -------------------------------------------------------------------------------

    def reload(self, changed: Iterable[int] = (), head_first: bool = False) -> None:
        """Load the queue again. `head_first`: paint the top page first (its own LIMIT query, which
        the queue index answers in a few milliseconds) and count and order the rest after — at the
        start, and when the view, sort or filter changed (the screen then shows other incidents
        anyway). A reload for other people's changes keeps what it shows until the whole list is in."""
        self._loading = True
        self._generation += 1
        head_first = head_first or self.shown_marker < 0  # nothing shown yet
        page = max(self.app.size.height * 2, 60)
        self._load(self.view, self.filter, self.sort, self._generation, frozenset(changed), self._groups, page,
                   head_first)

    @work(thread=True, exclusive=True, group="queue-load", exit_on_error=False, description="load the queue")
    def _load(self, view: View, f: Filter, sort: Sort, generation: int, changed: frozenset[int],
              groups: list[str] | None, page: int, head_first: bool = False) -> None:
        svc = self.services
        try:
            if groups is None:
                groups = svc.user_groups(self.app.user)
            marker = svc.change_marker()
            head: list[int] = []
            if head_first:
                # The top of the queue paints first: a page is a few milliseconds to read, the
                # ordered list of 40,000 open incidents tens of milliseconds more.
                head = svc.queue(view, f, self.app.user, groups, limit=page, sort=sort)
                rows = svc.rows(head, viewer=self.app.user)
                painted = threading.Event()
                self.post_message(QueueLoaded(head, rows, marker, changed, generation, False, groups, painted))
                # Reading the whole list competes with that frame for the interpreter: let it paint.
                painted.wait(timeout=1.0)
                if get_current_worker().is_cancelled:
                    return  # a newer view, sort or filter replaced this load: its list is not wanted
            numbers = svc.queue(view, f, self.app.user, groups, sort=sort)
            wanted = (set(numbers[:page]) - set(head)) | (set(changed) & set(numbers))
            rows = svc.rows(list(wanted), viewer=self.app.user)  # confidential rows as placeholders
        except Exception as exc:  # the status line says it, and the next poll may load again
            self.post_message(StoreFailed("load the queue", explain(exc)))
            return
        self.post_message(QueueLoaded(numbers, rows, marker, changed, generation, True, groups))

    def on_queue_loaded(self, message: QueueLoaded) -> None:
        if self._groups is None and message.groups is not None:
            self._groups = message.groups
        if message.generation != self._generation:
            if message.painted is not None:
                message.painted.set()  # its worker need not wait for a frame that will not come
            return  # a newer load is under way
        table = self.query_one(QueueTable)
        self.shown_marker = max(self.shown_marker, message.marker)
        if message.complete:
            self._loading = False
            if getattr(self, "_load_failed", False):
                self._load_failed = False
                self._status("")  # the failure it said is over
            if self._pending:
                # Changes that came in while this load ran: load once more, rather than restart the
                # load on every change and show nothing while changes keep coming.
                pending, self._pending = self._pending, set()
                self.call_later(self.reload, pending)
        if not message.complete:
            # The cursor's incident may lie past the head page: once the whole list is in, the
            # cursor goes back to it, as it would have without the head page.
            self._follow = self._follow if self._follow is not None else table.cursor_number
            table.set_numbers(message.numbers)
        else:
            table.set_numbers(message.numbers, follow=self._follow)
            self._follow = None
        table.update_rows(message.rows)
        self._update_title(len(message.numbers) if message.complete else None)
        if message.painted is not None:
            self.call_after_refresh(message.painted.set)

    @on(QueueTable.RowsWanted)
    def _rows_wanted(self, message: QueueTable.RowsWanted) -> None:
        self._load_rows(message.numbers)

    @work(thread=True, group="queue-rows", exit_on_error=False, description="load queue rows")
    def _load_rows(self, numbers: list[int]) -> None:
        try:
            rows = self.services.rows(numbers, viewer=self.app.user)
        except Exception as exc:  # the rows stay placeholders; the status line says why
            self.post_message(StoreFailed("load rows", explain(exc)))
            return
        self.post_message(RowsLoaded(rows))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        self.query_one(QueueTable).update_rows(message.rows)

    def on_store_failed(self, message: StoreFailed) -> None:
        if message.what == "load the queue":
            self._loading = False  # the next poll may try again
        self._status(f"could not {message.what}: {message.error}", error=True)
        self._load_failed = True  # said until a load succeeds (the store may come back)

    # --- live: countdowns and other people's changes --------------------------------------------

    def _tick(self) -> None:
        now = self.app.clock.now()
        self.query_one(QueueTable).tick(now)
        # layout=False: the clock keeps its width, and a layout of the screen every second costs more
        # than the whole tick.
        self.query_one("#queue-clock", Static).update(now.astimezone().strftime("%H:%M:%S"), layout=False)

    def on_changes_found(self, message: ChangesFound) -> None:
        self.shown_marker = max(self.shown_marker, message.marker)
        if self._loading:
            self._pending |= message.changed
            return
        self.reload(message.changed)

    # --- actions -------------------------------------------------------------------------------

    def action_next_view(self) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]

    def action_show_view(self, name: str) -> None:
        self.view = View(name)

    def action_next_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]

    def watch_view(self) -> None:
        self._after_change()

    def watch_sort(self) -> None:
        self._after_change()

    def watch_filter(self) -> None:
        self._after_change()

    def _after_change(self) -> None:
        if self.is_mounted:
            self._update_title(None)
            self.reload(head_first=True)

    def action_filter(self) -> None:
        box = self.query_one("#queue-filter", Input)
        box.value = self.filter.text
        box.display = True
        box.focus()

    @on(Input.Submitted, "#queue-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        try:
            self.filter = parse(event.value)
        except FilterError as exc:
            self._status(f"filter not applied: {exc}", error=True)
            return
        self._status("")
        event.input.display = False
        self.query_one(QueueTable).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#queue-filter", Input)
        if box.display:
            box.display = False
            self.query_one(QueueTable).focus()
            self._status("")
            return
        if not self.filter.is_empty:
            self.filter = Filter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "acknowledge":
            row = self.query_one(QueueTable).cursor_row if self.is_mounted else None
            if row is not None and self.app.permissions.forbids(action, row):
                return None  # the role forbids it: greyed
            return row is not None and row.state.value == "new"
        if self.app.permissions.forbids(action):
            return None
        if action == "clear_filter":
            return True
        if action in ("bulk", "clear_marks"):
            return bool(self.is_mounted and self.query_one(QueueTable).marked)
        return True

    def on_queue_table_highlighted(self, _: QueueTable.Highlighted) -> None:
        # Refreshing the bindings rebuilds the footer (tens of milliseconds): only when what the
        # keys may do changed with the incident under the cursor, not on every cursor move.
        allowed = tuple(self.check_action(b.action, ()) for b in Binding.make_bindings(self.BINDINGS))
        if allowed != self._allowed:
            self._allowed = allowed
            self.refresh_bindings()

    def action_acknowledge(self) -> None:
        row = self.query_one(QueueTable).cursor_row
        if row is None:
            return
        self._acknowledge(row.number, row.version)

    @work(thread=True, group="queue-act", exit_on_error=False, description="acknowledge")
    def _acknowledge(self, number: int, version: int) -> None:
        try:
            incident = self.services.acknowledge(number, self.app.user, expected_version=version)
        except DomainError as exc:  # refused (changed meanwhile, or the role): say why, show what is stored
            self.post_message(AckRefused(number, str(exc)))
            return
        self.post_message(Acknowledged(number, f"{incident.key} acknowledged and taken by {self.app.user}"))

    def on_acknowledged(self, message: Acknowledged) -> None:
        self.notify(message.text)
        self.reload({message.number})

    def on_ack_refused(self, message: AckRefused) -> None:
        self.notify(message.error, title="Not acknowledged", severity="error")
        self.reload({message.number})

    @on(QueueTable.Selected)
    def _open(self, message: QueueTable.Selected) -> None:
        from eim_tui.tui.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(message.number))

    # --- storm triage: marks and bulk actions (screens/bulk.py) -----------------------------------

    def action_mark_all(self) -> None:
        self.query_one(QueueTable).mark_all()

    def action_clear_marks(self) -> None:
        self.query_one(QueueTable).clear_marks()

    def on_queue_table_marks_changed(self, message: QueueTable.MarksChanged) -> None:
        self._status(f"{message.count:,} marked — b: bulk action, u: unmark" if message.count else "")
        self.refresh_bindings()

    def action_bulk(self, kind: str = "") -> None:
        from eim_tui.tui.dialogs.bulk import start_bulk

        table = self.query_one(QueueTable)
        numbers = [n for n in table.numbers if n in table.marked]
        if numbers:
            start_bulk(self, numbers, {n: table.row(n) for n in numbers}, self._bulk_finished, kind)

    def _bulk_finished(self, outcomes) -> None:
        done = sum(1 for o in outcomes if o.ok)
        refused = len(outcomes) - done
        self.notify(f"{done} done, {refused} refused" + (" — see the result list" if refused else ""),
                    title="Bulk action", severity="warning" if refused else "information", markup=False)
        self.query_one(QueueTable).clear_marks()
        self.reload({o.number for o in outcomes})

    def action_new_incident(self) -> None:
        try:
            from eim_tui.tui.dialogs.new_incident import NewIncidentScreen
        except ImportError:
            self.notify("The new-incident form is not available in this build; use `eim new` from a shell.")
            return
        self.app.push_screen(NewIncidentScreen())

    def action_changes(self) -> None:
        from eim_tui.tui.screens.changes import ChangesScreen

        self.app.push_screen(ChangesScreen())

    def action_catalogue(self) -> None:
        from eim_tui.tui.screens.catalogue import CatalogueScreen

        self.app.push_screen(CatalogueScreen())

    def action_reports(self) -> None:
        from eim_tui.tui.screens.reports import ReportsScreen

        self.app.push_screen(ReportsScreen())

    def action_problems(self) -> None:
        from eim_tui.tui.screens.problems import ProblemsScreen

        self.app.push_screen(ProblemsScreen())

    def palette_commands(self) -> Iterable[SystemCommand]:
        for view in VIEWS:
            yield SystemCommand(f"View: {view.label}", f"Show {view.label.lower()} incidents",
                                partial(self.action_show_view, view.value))
        for sort in SORTS:
            yield SystemCommand(f"Sort: {sort.label}", f"Order the queue by {sort.label.lower()}",
                                partial(setattr, self, "sort", sort))
        yield SystemCommand("Reports", "MTTA, MTTR, SLA compliance, charts, where incidents wait (R)",
                            self.action_reports)
        if self.query_one(QueueTable).marked:
            from eim_tui.services.bulk import BulkKind

            for kind in BulkKind:
                yield SystemCommand(f"Bulk: {kind.label} the marked incidents", "Preview first, then confirm",
                                    partial(self.action_bulk, kind.value))

    # --- display -------------------------------------------------------------------------------

    def _update_title(self, count: int | None) -> None:
        counted = "…" if count is None else f"{count:,}"
        parts = [f"eim · {self.view.label} ({counted})", f"sort: {self.sort.label}"]
        if not self.filter.is_empty:
            parts.append(f"filter: {self.filter.text}")
        parts.append(self.app.user)
        self.query_one("#queue-title", Static).update(" · ".join(parts))

    def _status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#queue-status", Static)
        status.update(text)
        status.set_class(error, "error")

