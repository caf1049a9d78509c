"""The wall board: a read-only live board for the shift lead, read from across a room.

The screen owns the scope and the last `BoardSnapshot`. When the store's change feed tells of a
change (PostgreSQL: the app's `store_moved` signal) it reads the board's aggregates again; without a
live feed (SQLite, or the feed reconnecting) a worker reads the change marker every second and
reads the board when it moved. Time alone can change what the board should say (a clock ran out,
the figures got old): that is checked every second without asking the store. A second timer
ticks the countdowns and the flashing. No key is needed; `q` quits and `?` lists the keys.

The layout follows the terminal's size through breakpoint classes on the screen (`-narrow`,
`-wide`, `-huge` by width; `-short`, `-tall`, `-very-tall` by height): `styles/wall.tcss` turns
them into big digits or a compact table, lists side by side or stacked. The lists are the ones a
shift lead acts on: every breached incident the counters count (for as long as it stays breached),
the clocks about to run out, and the load per group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from eim_tui.domain.access import can_see
from eim_tui.domain.board import FRESH, BoardScope, BoardSnapshot, is_fresh_breach
from eim_tui.domain.model import QueueRow
from eim_tui.domain.priority import SEVERITIES
from eim_tui.services.collab import CollabCases, MajorSummary
from eim_tui.tui.dialogs.collab_forms import update_cadence
from eim_tui.tui.widgets.wall_banners import AlertBanner, BoardAlert, MajorBanner
from eim_tui.tui.widgets.wall_figures import CompactCounters, SeverityPanel, TodayPanel
from eim_tui.tui.widgets.wall_lists import (
    BreachedList,
    GroupLoadPanel,
    NewestList,
    WarningList,
)
from eim_tui.tui.workers import ReportsWorkers, explain


@dataclass
class BoardLoaded(Message):
    snapshot: BoardSnapshot
    new_sev1: list[QueueRow]  # Sev1 incidents open now that were not in the previous snapshot
    majors: dict[int, MajorSummary] = field(default_factory=dict)  # roles and next update, by number


@dataclass
class BoardUnchanged(Message):
    """The change marker did not move: nothing to read."""


@dataclass
class BoardFailed(Message):
    error: str


class WallScreen(ReportsWorkers, Screen[None]):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide"), (200, "-huge")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall"), (56, "-very-tall")]
    BINDINGS = [
        Binding("r", "refresh_board", "Refresh", id="wall.refresh", tooltip="Read the board again now"),
    ]

    def __init__(self, scope: BoardScope | None = None) -> None:
        super().__init__()
        self.scope = scope or BoardScope()
        self.snapshot: BoardSnapshot | None = None
        self._loading = False
        self._force_next = False
        self._announced: set[tuple[int, datetime]] = set()  # (incident, due instant) breaches already told
        self._failed = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="wall-header"):
            yield Static("", id="wall-title", markup=False)
            yield Static("", id="wall-totals", markup=False)
            yield Static("", id="wall-clock", markup=False)
        yield AlertBanner(id="wall-alert")
        yield MajorBanner(id="wall-majors")
        with Horizontal(id="wall-counters"):
            for level in SEVERITIES:
                yield SeverityPanel(level)
        yield CompactCounters(id="wall-counters-compact")
        yield TodayPanel(id="wall-today")
        with Container(id="wall-main"):
            with Container(id="wall-lists"):
                yield BreachedList("Breached", id="wall-breached")
                yield WarningList("About to breach", id="wall-warning")
            with Container(id="wall-side"):
                yield GroupLoadPanel(id="wall-groups")
                yield NewestList("Newest", id="wall-newest")

    def on_mount(self) -> None:
        self._show_header()
        self.poll()
        self.set_interval(self.app.tick_interval, self.tick)
        self.set_interval(self.app.poll_interval, self.poll)
        signal = getattr(self.app, "store_moved", None)
        if signal is not None:
            signal.subscribe(self, self._store_moved)

    def _store_moved(self, marker: int) -> None:
        if self.snapshot is None or marker < 0 or marker > self.snapshot.marker:
            self._force_next = True  # read at once, or as soon as the read under way ends
            self.poll()

    # --- reading the store ---------------------------------------------------------------------

    def poll(self) -> None:
        """Read the board if the store changed or time alone moved it; one read at a time."""
        if self._loading:
            return
        now = self.app.clock.now()
        previous = self.snapshot
        force = previous is None or self._force_next or now >= previous.next_look_at()
        pushed = getattr(self.app, "changes_pushed", False)
        if not force and pushed and not self._failed:
            return  # the feed tells of every change: nothing to ask the store
        self._force_next = False
        self._loading = True
        self._load(-1 if previous is None else previous.marker, force, previous)

    @work(thread=True, group="wall-load", exit_on_error=False, description="read the wall board")
    def _load(self, since: int, force: bool, previous: BoardSnapshot | None) -> None:
        svc = self.app.services
        try:
            if not force and svc.change_marker() == since:
                self.post_message(BoardUnchanged())
                return
            snapshot = svc.board(self.scope, viewer=self.app.user)
            new_sev1: list[QueueRow] = []
            if previous is not None and (fresh := snapshot.sev1_open - previous.sev1_open):
                new_sev1 = svc.rows(sorted(fresh, reverse=True)[:5], viewer=self.app.user)
            # Who leads each major incident and when stakeholders hear next — not for a confidential
            # one the viewer may not see (its placeholder names nobody).
            visible = [row.number for row in snapshot.majors if can_see(self.app.user_context, row)]
            majors = CollabCases(svc).major_summaries(visible, update_cadence(self.app)) if visible else {}
        except Exception as exc:  # shown in the header, and the next poll tries again
            self.post_message(BoardFailed(explain(exc)))
            return
        self.post_message(BoardLoaded(snapshot, new_sev1, majors))

    def on_board_unchanged(self, _: BoardUnchanged) -> None:
        self._loading = False
        self._again()

    def _again(self) -> None:
        if self._force_next:  # told of a change while reading: read again
            self.call_later(self.poll)

    def on_board_failed(self, message: BoardFailed) -> None:
        self._loading = False
        self._failed = message.error
        self._show_header()

    def on_board_loaded(self, message: BoardLoaded) -> None:
        self._loading = False
        self._failed = ""
        first = self.snapshot is None
        snapshot = self.snapshot = message.snapshot
        now = self.app.clock.now()
        alerts = self.query_one(AlertBanner)
        for row in message.new_sev1:
            alerts.add(BoardAlert("sev1", row, now + FRESH), now)
        self._announce_breaches(now, ring=not first)
        if message.new_sev1:
            self._ring()
        flashing = self._flashing()
        for panel in self.query(SeverityPanel):
            panel.show(snapshot.severity(panel.severity))
        self.query_one(CompactCounters).show(snapshot, now)
        self.query_one(TodayPanel).show(snapshot, now)
        self.query_one(MajorBanner).show(snapshot.majors, now, message.majors)
        self.query_one(BreachedList).show(snapshot.breached, now, flashing, total=snapshot.total.breached)
        self.query_one(WarningList).show(snapshot.warning, now, flashing, total=snapshot.warning_total)
        self.query_one(NewestList).show(snapshot.newest, now, flashing)
        self.query_one(GroupLoadPanel).show(snapshot.groups, now)
        self._show_header()
        self._again()

    # --- time passing --------------------------------------------------------------------------

    def tick(self) -> None:
        """Every second: countdowns, flashing, alerts that ran their time, a clock that just ran out."""
        now = self.app.clock.now()
        if self.snapshot is not None:
            self._announce_breaches(now, ring=True)
        # A breach is fresh for FRESH only: forget it after, so a board left on for weeks stays small.
        self._announced = {(n, due) for n, due in self._announced if due + FRESH > now}
        self.query_one(AlertBanner).tick(now)
        flashing = self._flashing()
        for rows in (self.query_one(BreachedList), self.query_one(WarningList), self.query_one(NewestList)):
            rows.flashing = flashing
            rows.tick(now)
        self.query_one(MajorBanner).tick(now)
        self._show_header()

    def _announce_breaches(self, now: datetime, ring: bool) -> None:
        """A clock on the board ran out within the last FRESH seconds: say so once, and ring."""
        assert self.snapshot is not None
        fresh = [r for r in self.snapshot.closest if is_fresh_breach(r, now) and (r.number, r.due_at) not in self._announced]
        alerts = self.query_one(AlertBanner)
        for row in fresh:
            self._announced.add((row.number, row.due_at))
            alerts.add(BoardAlert("breach", row, row.due_at + FRESH), now)
        if fresh:
            self._force_next = True  # the counters moved with it
            if ring:
                self._ring()

    def _flashing(self) -> set[int]:
        return {a.row.number for a in self.query_one(AlertBanner).alerts}

    def _ring(self) -> None:
        if self.app.config.wall_bell:
            self.app.bell()

    def action_refresh_board(self) -> None:
        self._force_next = True
        self.poll()

    # --- display -------------------------------------------------------------------------------

    def _show_header(self) -> None:
        now = self.app.clock.now()
        title = f"eim wall · {self.scope.label}"
        if self._failed:
            title += f" · cannot read the store: {self._failed}"
        elif self.snapshot is None:
            title += " · reading…"
        self.query_one("#wall-title", Static).update(title)
        self.query_one("#wall-title", Static).set_class(bool(self._failed), "-error")
        totals = ""
        if self.snapshot is not None:
            t = self.snapshot.total
            totals = f"{t.open:,} open · {t.unacknowledged:,} unack · {t.breached:,} breached"
        self.query_one("#wall-totals", Static).update(totals)
        self.query_one("#wall-clock", Static).update(now.astimezone().strftime("%H:%M:%S"))

    def shown_sections(self) -> Sequence[str]:
        """The ids of the board's sections on screen now (what tests and the help text rely on)."""
        ids = ("wall-alert", "wall-majors", "wall-counters", "wall-counters-compact", "wall-today", "wall-breached",
               "wall-warning", "wall-groups", "wall-newest")
        return [i for i in ids if self.query_one(f"#{i}").display and self.query_one(f"#{i}").size.height > 0]

