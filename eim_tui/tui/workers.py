"""Work off the UI thread, done one way across the TUI, and the one way a failure is put into words.

Every store call runs in a worker: `@work(thread=True, exit_on_error=False, description="…")`, the
description a verb phrase ("load the notes") since a failure is toasted as "Could not <description>".
A worker gets the UI state it needs as arguments, gives its result back as a message
(`post_message`, handled on the UI thread) and never assigns an attribute of its screen. What it does
not catch reaches the app's one `Worker.StateChanged` handler (app.py), which toasts it in one line;
a worker catches only what it turns into something more specific (a form given back with the typed
text, a title that says why the screen is empty).

- `explain(exc)`: that one line — no traceback, no driver text.
- `ReportsWorkers`: mixin for every screen and dialog that runs workers: hands their outcomes to the app.
- `WatchesChanges`: mixin for a screen showing incidents others may change: looks for changes when
  the store's change feed tells of one (`StoreMoved`; PostgreSQL), or polls the store's change
  marker while no feed is live, and posts `ChangesFound`; a failing poll is said once, not every poll. When the store comes
  back after an outage (`StoreReturned`, from the app) it reads everything it shows again.
- `store_fault(exc)`: which store fault an error is ("unreachable", "locked", "read-only",
  "disk full"), or None — what the app's outage banner is raised by.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.dom import DOMNode
from textual.message import Message
from textual.worker import Worker, WorkerState

from eim_tui.domain.errors import DomainError

# Worker groups ending so are run again and again by a timer: their failure is said once, until one
# of them succeeds (the app's handler), rather than every poll.
REPEATING = "-poll"
UNREACHABLE = "unreachable"  # the fault that raises the outage banner (store/health.py StoreFault)
STORE_UNREACHABLE = "the store cannot be reached (check --db / EIM_DB)"
MAX_CHARS = 200

# Matched by name, not imported: the TUI does not import the database libraries.
_DRIVER_PACKAGES = ("sqlalchemy", "psycopg", "psycopg2", "sqlite3")
_CONNECTION_ERRORS = frozenset({"OperationalError", "InterfaceError", "DisconnectionError", "TimeoutError"})


def store_fault(exc: BaseException) -> str | None:
    """The store fault `exc` is, or None when it is not one.

    The services raise a `StoreUnavailable` (a `DomainError` with a `fault`) for every store
    fault; a driver's own connection error (from code that used an engine directly) counts as
    "unreachable". Read by attribute and name: the TUI does not import the store."""
    fault = getattr(exc, "fault", None)
    if isinstance(exc, DomainError) and fault:
        return str(fault)
    kind = type(exc)
    if kind.__module__.split(".")[0] in _DRIVER_PACKAGES and _CONNECTION_ERRORS & {k.__name__ for k in kind.__mro__}:
        return UNREACHABLE
    return None


def explain(exc: BaseException) -> str:
    """What went wrong, in one line for a toast, a title or a status line.

    A domain error says it in the user's words already. A database error's text is the driver's
    (SQL, parameters, a server's hint): it is named, never quoted.
    """
    kind = type(exc)
    if not isinstance(exc, DomainError) and kind.__module__.split(".")[0] in _DRIVER_PACKAGES:
        if _CONNECTION_ERRORS & {k.__name__ for k in kind.__mro__}:
            return STORE_UNREACHABLE
        return f"the store refused it ({kind.__name__})"
    lines = str(exc).strip().splitlines()
    text = lines[0].strip() if lines else ""
    if not text:
        return kind.__name__
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def work_name(worker: Worker) -> str:
    """The work a worker does, as its toast names it: "Could not <this>"."""
    return worker.description or worker.name or "finish a task in the background"


def repeats(worker: Worker) -> bool:
    return worker.group.endswith(REPEATING)


class RepeatedFailures:
    """Which repeating work is failing, and where: told once, not every poll.

    A failure is worth telling when its work (its group) was failing nowhere. Several screens may
    poll the same store (the queue under the incident): the failure is forgotten once each screen
    that had it succeeded again (or closed), so a poll that was already on its way when the store
    went away cannot make the failure be told twice.
    """

    def __init__(self) -> None:
        self._failing: dict[str, dict[int, DOMNode]] = {}  # group → the nodes whose last run failed

    def failed(self, worker: Worker) -> bool:
        """Note the failure; True when it is news (to be told)."""
        nodes = self._current(worker.group)
        news = not nodes
        nodes[id(worker.node)] = worker.node
        return news

    def succeeded(self, worker: Worker) -> None:
        self._current(worker.group).pop(id(worker.node), None)

    def _current(self, group: str) -> dict[int, DOMNode]:
        nodes = self._failing.setdefault(group, {})
        for key in [key for key, node in nodes.items() if not node.is_running]:
            del nodes[key]  # a screen closed while failing: it will not succeed again
        return nodes


class ReportsWorkers:
    """Mixin for a screen or dialog that runs workers.

    Textual tells only the node that started a worker of its state changes (`Worker.StateChanged`
    does not bubble): this hands the app each failure, and each success of repeating work (which
    ends a failure told once), so its one handler can say what failed.
    """

    def _on_worker_state_changed(self: DOMNode, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR or (event.state is WorkerState.SUCCESS and repeats(event.worker)):
            self.app.post_message(Worker.StateChanged(event.worker, event.state))


class StoreReturned(Message):
    """The store answers again after an outage: what is shown may be stale, read it again."""


@dataclass
class ChangesFound(Message):
    """The change poll's answer: these incidents changed since the marker it was given."""

    marker: int
    changed: frozenset[int]


@dataclass
class StoreMoved(Message):
    """The store's change feed told of a commit (PostgreSQL): `marker` is the change marker it
    moved to, -1 when not known (the feed just came back: what changed meanwhile was not told)."""

    marker: int


@dataclass
class StoreTopic(Message):
    """Another notice of the store's feed: "access" (someone's role or groups changed) or
    "service:<host>" (an `eim service` on that host beat)."""

    topic: str


@dataclass
class ChangesPushed(Message):
    """The store's change feed started (True) or stopped (False) telling of changes."""

    live: bool


UNKNOWN = float("inf")  # told of a change whose marker is not known: every marker is older


class WatchesChanges(ReportsWorkers):
    """Mixin for a screen that shows incidents other people may change.

    The screen sets `shown_marker` (on the UI thread) to the store's change marker read with what
    it shows, calls `start_watching()` from `on_mount`, and handles `ChangesFound`.

    It looks for changes when the app's change feed tells of one newer than what it shows (the
    app's `store_moved` signal; PostgreSQL), and every `poll_interval` only while the feed is not
    live (SQLite, or the listener's connection lost). A notice lost is the listener's to catch:
    it reads the change marker every two minutes and tells of a move no notice told.
    """

    _shown_marker: int = -1  # -1: nothing shown yet, nothing to compare with
    _heard: float = -1  # the newest marker the feed told of (UNKNOWN: look whatever is shown)
    _watching = False

    @property
    def shown_marker(self) -> int:
        return self._shown_marker

    @shown_marker.setter
    def shown_marker(self, marker: int) -> None:
        self._shown_marker = marker
        if self._watching and marker >= 0 and self._heard > marker:
            self._look()  # told of a change while what is shown was being read: it may be missing

    def start_watching(self) -> None:
        self._watching = True
        self.poll_timer = self.set_interval(self.app.poll_interval, self._poll)  # type: ignore[attr-defined]
        signal = getattr(self.app, "store_moved", None)  # type: ignore[attr-defined]
        if signal is not None:
            signal.subscribe(self, self._store_moved)

    def on_store_returned(self, _: StoreReturned) -> None:
        """Read again what the screen shows: a load that failed in the outage left it stale or
        empty, and what others changed meanwhile may not all show in the change marker's answer."""
        refresh = getattr(self, "reload", None) or getattr(self, "load", None)
        if callable(refresh):
            refresh()

    def _store_moved(self, marker: int) -> None:
        self._heard = max(self._heard, UNKNOWN if marker < 0 else marker)
        if self._shown_marker >= 0 and self._heard > self._shown_marker:
            self._look()

    def _poll(self) -> None:
        """What the poll timer does every `poll_interval`."""
        if self._shown_marker < 0:
            return
        if getattr(self.app, "changes_pushed", False):  # type: ignore[attr-defined]
            return  # the feed tells of every change
        self._look()

    def _look(self) -> None:
        if self._heard == UNKNOWN:
            self._heard = -1  # this look reads everything after what is shown
        self._changes_since(self._shown_marker)

    @work(thread=True, exclusive=True, group=f"change{REPEATING}", exit_on_error=False,
          description="watch for changes")
    def _changes_since(self, since: int) -> None:
        # Nothing caught: a failure reaches the app's handler, which says it once until a poll succeeds.
        marker, changed = self.app.services.changes_since(since)  # type: ignore[attr-defined]
        if changed:
            self.post_message(ChangesFound(marker, frozenset(changed)))  # type: ignore[attr-defined]
