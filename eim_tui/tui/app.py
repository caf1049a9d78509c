"""The Textual application: wires the use cases, the configuration and the screens together.

It also watches the store for everyone: when work fails because the store cannot be reached, a
banner goes up on every screen ("store unreachable since 03:12 — retrying"), what is shown stays
(dimmed, and said to be stale), and a probe tries the store every second in a worker — the UI
never waits for it. When the store answers, the banner comes down and each screen reads again what
it shows. A store that can only be read (a read-only file) says so in the same place from the start.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from rich.markup import escape
from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.signal import Signal
from textual.worker import Worker, WorkerState

from eim_tui.config import Config
from eim_tui.domain.access import UserContext
from eim_tui.reference.paths import STYLES_DIR
from eim_tui.services.incidents import Services
from eim_tui.services.permissions import Permissions
from eim_tui.tui.widgets.service_status import ServiceStatus
from eim_tui.tui.widgets.store_banner import StoreBanner, outage_text, read_only_text
from eim_tui.tui.workers import (
    REPEATING,
    UNREACHABLE,
    ChangesPushed,
    RepeatedFailures,
    StoreMoved,
    StoreReturned,
    StoreTopic,
    explain,
    repeats,
    store_fault,
    work_name,
)

IDENTITY_REFRESH_SECONDS = 10.0
# While the store pushes its notices (PostgreSQL), role changes and service heartbeats are told as
# they happen ("access", "service:<host>"; store/change_feed.py): read them anyway this often.
PUSHED_REFRESH_SECONDS = 600.0
STORE_PROBE_SECONDS = 1.0  # how often an unreachable store is tried again
SLA_SCHEDULER_DELAY = 1.0
# The screens opened from the queue are imported when first opened (the queue's first frame does not
# wait for them); a moment after that frame they are imported off the UI thread, so the first `R`
# does not spend ~0.1–0.3 s loading plotext and the report code before its first chart.
WARM_UP_DELAY = 0.5
WARM_MODULES = ("eim_tui.tui.screens.reports", "eim_tui.tui.screens.problems", "eim_tui.tui.screens.changes",
                "eim_tui.tui.screens.catalogue")
# Under NO_COLOR (https://no-color.org) a cursor or a focus drawn as a background colour would
# vanish: they are drawn with attributes instead (reverse, underline), which NO_COLOR allows.
NO_COLOR_EMPHASIS = {
    "block-cursor-text-style": "bold reverse",
    "block-cursor-blurred-text-style": "underline",
    "input-cursor-text-style": "reverse",
    "button-focus-text-style": "bold reverse",
}


@dataclass
class StoreProbed(Message):
    """The reconnect probe's answer: the store answered (`error` empty), or why it did not."""

    error: str = ""


@dataclass
class IdentityRead(Message):
    """The user's role and groups as the store has them now (they may have changed)."""

    user_context: UserContext


class EimApp(App[None]):
    """eim's TUI. One instance per terminal; every database call runs in a worker thread."""

    TITLE = "eim"
    CSS_PATH = [
        STYLES_DIR / "app.tcss",
        STYLES_DIR / "queue.tcss",
        STYLES_DIR / "detail.tcss",
        STYLES_DIR / "help.tcss",
        STYLES_DIR / "timeline.tcss",
        STYLES_DIR / "bulk.tcss",
        STYLES_DIR / "new_incident.tcss",
        STYLES_DIR / "notes.tcss",
        STYLES_DIR / "outage.tcss",
        STYLES_DIR / "changes.tcss",
        STYLES_DIR / "catalogue.tcss",
        STYLES_DIR / "reports.tcss",
        STYLES_DIR / "problems.tcss",
    ]
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Every key on this screen"),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave eim"),
        Binding("ctrl+l", "clear_alerts", "Clear alerts", id="app.clear_alerts",
                tooltip="Dismiss the alert toasts on screen (the incidents stay in the queue)"),
    ]

    def __init__(
        self,
        services: Services,
        user: str,
        config: Config | None = None,
        poll_interval: float = 1.0,
        tick_interval: float = 1.0,
        sla_scheduler: bool = True,
    ) -> None:
        # NO_COLOR means no colour at all: with native ANSI colours Textual's filter hands every
        # colour back to the terminal's default, where otherwise it would map them to 256-colour greys.
        super().__init__(ansi_color=True if "NO_COLOR" in os.environ else None)
        self.services = services
        self.user = user
        self.config = config or Config()
        self.poll_interval = poll_interval
        self.tick_interval = tick_interval
        self.clock = services.clock
        # The SLA scheduler and alert channels (sla_app.py); False for tests that want a still store.
        self.run_sla_scheduler = sla_scheduler
        self.sla_scheduler = None
        self.alert_center = None
        # Who is looking: read once before the UI runs; a worker re-reads it, since roles change.
        self.user_context = services.access.context(user)
        self._repeated_failures = RepeatedFailures()  # polls that fail are told once, not every poll
        # The store's health as this app sees it: unreachable since when (None: it answers), why,
        # and when a poll last read it (what is shown is that old); read-only from the start.
        self.store_lost_since: datetime | None = None
        self._store_error = ""
        self._last_read: datetime | None = None
        self._probing = False
        self._probe_timer = None
        self.read_only = str(getattr(services.db, "read_only", "") or "")
        # Changes pushed by the store (PostgreSQL LISTEN/NOTIFY, one listener per process): the
        # screens that watch changes subscribe to `store_moved` and poll only while the feed is not
        # live (`changes_pushed` False: SQLite, or the listener reconnecting).
        self.store_moved: Signal[int] = Signal(self, "store-moved")
        self.service_beat: Signal[str] = Signal(self, "service-beat")  # the host of an `eim service` that beat
        self.changes_pushed = False
        self._stop_change_feed = None
        self._identity_read = time.monotonic()  # read just above

    @property
    def permissions(self) -> Permissions:
        """What this user may do and see; screens ask it in `check_action` to grey out what a role forbids."""
        return Permissions(self.user_context)

    def _identity_tick(self) -> None:
        """Roles change (an admin's `eim users set`): read them every IDENTITY_REFRESH_SECONDS — or,
        while the store tells of each change, when told (`on_store_topic`) and rarely otherwise."""
        if self.changes_pushed and time.monotonic() - self._identity_read < PUSHED_REFRESH_SECONDS:
            return
        self._identity_read = time.monotonic()
        self._refresh_identity()

    @work(thread=True, exclusive=True, group=f"identity{REPEATING}", exit_on_error=False,
          description="re-read the user's role")
    def _refresh_identity(self, fresh: bool = False) -> None:
        if fresh:
            self.services.access.forget(self.user)  # what was cached is what changed
        self.post_message(IdentityRead(self.services.access.context(self.user)))

    def on_identity_read(self, message: IdentityRead) -> None:
        if message.user_context != self.user_context:
            self.user_context = message.user_context
            self.screen.refresh_bindings()

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a failed worker is told: a toast of one line naming the work that failed.

        The app's own workers report here; a screen's are handed on by `ReportsWorkers`. Work a
        timer repeats (a poll) is told once, until one of its runs succeeds again.
        """
        worker = event.worker
        if event.state is WorkerState.SUCCESS and repeats(worker):
            self._repeated_failures.succeeded(worker)
            if self.store_lost_since is None:
                self._last_read = self.clock.now()
        elif event.state is WorkerState.ERROR and worker.error is not None:
            if store_fault(worker.error) == UNREACHABLE:
                self.store_unreachable(explain(worker.error))
                return  # the banner says it, once, for everything that fails while the store is away
            if repeats(worker) and not self._repeated_failures.failed(worker):
                return  # told already
            self.notify(explain(worker.error), title=f"Could not {work_name(worker)}", severity="error",
                        timeout=8, markup=False)

    def get_css_variables(self) -> dict[str, str]:
        variables = super().get_css_variables()
        if self.no_color:
            variables = self.theme_variables = {**variables, **NO_COLOR_EMPHASIS}
        return variables

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # Concrete colours from the current theme: Textual substitutes variables only once, so a
        # value of "$error" would reach the CSS parser as the text "$error" and fail.
        colors = self.current_theme.to_color_system().generate()
        aliases = {
            "sev-1": "error",
            "sev-2": "warning",
            "sev-3": "accent",
            "sev-4": "primary",
            "sev-5": "foreground-muted",
            "sla-breached": "error",
            "sla-warning": "warning",
            "sla-ok": "success",
            "sla-paused": "foreground-muted",
        }
        return {name: colors[source] for name, source in aliases.items()}

    def on_mount(self) -> None:
        if self.config.keymap:
            self.set_keymap(dict(self.config.keymap))
        watch = getattr(self.services, "watch_changes", None)
        if watch is not None:  # called on the listener's thread: post_message hands over
            self._stop_change_feed = watch(lambda marker: self.post_message(StoreMoved(marker)),
                                           lambda live: self.post_message(ChangesPushed(live)),
                                           lambda topic: self.post_message(StoreTopic(topic)))
        self.set_interval(IDENTITY_REFRESH_SECONDS, self._identity_tick)
        self.screen_change_signal.subscribe(self, self._show_store_state)
        self.screen_change_signal.subscribe(self, ServiceStatus.show_on)  # "service: running on …"
        self.push_screen(self.first_screen())
        self.set_timer(WARM_UP_DELAY, self._warm_up)
        # The scheduler records SLA events: a store that can only be read has no place for them.
        if self.run_sla_scheduler and not self.read_only:
            # A moment later: its first sweep costs about a second of CPU on 100,000 incidents and
            # would otherwise hold back the first frame of the queue.
            self.set_timer(SLA_SCHEDULER_DELAY, self._start_sla_scheduler)

    @work(thread=True, group="warm-up", exit_on_error=False, description="load the screens")
    def _warm_up(self) -> None:
        import importlib

        for name in WARM_MODULES:
            importlib.import_module(name)

    def _start_sla_scheduler(self) -> None:
        from eim_tui.tui import sla as sla_app

        sla_app.start(self)

    def on_unmount(self) -> None:
        from eim_tui.tui import sla as sla_app

        sla_app.stop(self)
        if self._stop_change_feed is not None:
            self._stop_change_feed()
            self._stop_change_feed = None

    def on_store_moved(self, message: StoreMoved) -> None:
        self.store_moved.publish(message.marker)  # each watching screen looks if it shows older

    def on_store_topic(self, message: StoreTopic) -> None:
        if message.topic == "access":
            self._identity_read = time.monotonic()
            self._refresh_identity(fresh=True)
        elif message.topic.startswith("service:"):
            self.service_beat.publish(message.topic.removeprefix("service:"))

    def on_changes_pushed(self, message: ChangesPushed) -> None:
        self.changes_pushed = message.live
        if message.live:
            self.store_moved.publish(-1)  # what changed while nobody told: read it once

    async def action_quit(self) -> None:
        # Stop the SLA scheduler first: a start-up sweep then ends at its next batch instead of
        # competing with the exit for the CPU (and the interpreter need not wait for it).
        from eim_tui.tui import sla as sla_app

        sla_app.stop(self)
        await super().action_quit()

    def on_sla_alerts(self, message) -> None:
        """SLA warnings, breaches and escalations for this user, from the scheduler's thread."""
        if self.alert_center is not None:
            self.alert_center.receive(message.alerts)

    def on_scheduler_trouble(self, message) -> None:
        if self.store_lost_since is not None:
            return  # the banner says it already
        self.notify(escape(message.error), title="SLA scheduler cannot reach the store", severity="error")

    # --- the store going away and coming back -----------------------------------------------------

    def store_unreachable(self, error: str) -> None:
        """Work failed because the store cannot be reached: raise the banner, start the probe."""
        self._store_error = error
        if self.store_lost_since is None:
            self.store_lost_since = self.clock.now()
            self._probe_timer = self.set_interval(STORE_PROBE_SECONDS, self._probe)
        for screen in self.screen_stack:
            screen.add_class("-store-stale")
        self._show_store_state(self.screen)

    def _probe(self) -> None:
        if not self._probing:  # one at a time: a server that does not answer takes seconds to say so
            self._probing = True
            self._reach_store()

    @work(thread=True, group="store-probe", exit_on_error=False, description="reach the store")
    def _reach_store(self) -> None:
        try:
            self.services.change_marker()
        except Exception as exc:  # noqa: BLE001 - the answer is the message either way
            self.post_message(StoreProbed(explain(exc) or "no answer"))
            return
        self.post_message(StoreProbed())

    def on_store_probed(self, message: StoreProbed) -> None:
        self._probing = False
        if self.store_lost_since is None:
            return
        if message.error:
            self._store_error = message.error
            self._show_store_state(self.screen)
            return
        self.store_lost_since = None
        if self._probe_timer is not None:
            self._probe_timer.stop()
            self._probe_timer = None
        StoreBanner.remove_all(self)
        for screen in self.screen_stack:
            screen.remove_class("-store-stale")
            screen.post_message(StoreReturned())  # each reads again what it shows
        self._show_store_state(self.screen)
        self.notify("The store answers again: what is shown has been read again.", title="Store back",
                    markup=False)

    def _show_store_state(self, screen: Screen) -> None:
        """The banner on the screen in front, when there is something to say (on every screen change too)."""
        if self.store_lost_since is not None:
            screen.add_class("-store-stale")
            StoreBanner.show_on(screen, outage_text(self.store_lost_since, self._last_read,
                                                    _short(self._store_error)))
        elif self.read_only:
            StoreBanner.show_on(screen, read_only_text(self.read_only), read_only=True)

    def first_screen(self) -> Screen:
        """The screen eim opens on; `WallApp` (the wall board) opens on its board instead."""
        from eim_tui.tui.screens.queue import QueueScreen

        return QueueScreen()

    def action_clear_alerts(self) -> None:
        self.clear_notifications()

    def _refresh_notifications(self) -> None:
        # Textual's hook for every toast shown, expired or cleared: the footer's "Clear alerts"
        # follows whether one is on screen.
        super()._refresh_notifications()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_alerts":
            # Shown (and in the palette) only while a toast is on screen.
            return bool(len(self._notifications))  # False hides it
        return super().check_action(action, parameters)

    def open_incident(self, number: int) -> None:
        """Push the detail screen of an incident (for screens the detail screen itself opens)."""
        from eim_tui.tui.screens.detail import DetailScreen

        self.push_screen(DetailScreen(number))

    def action_help(self) -> None:
        from eim_tui.tui.dialogs.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette offers every action the current screen allows, by its footer words."""
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if not active.enabled or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            key = self.get_key_display(binding)
            yield SystemCommand(
                f"{binding.description} ({key})",
                binding.tooltip or binding.description,
                partial(active.node.run_action, binding.action),
            )
        extra = getattr(screen, "palette_commands", None)
        if extra is not None:
            yield from extra()
        yield from super().get_system_commands(screen)


def _short(error: str) -> str:
    """The banner names the store and the reason; "store unreachable" and the hint it says already."""
    return error.removeprefix("store unreachable: ").removesuffix(" (check --db / EIM_DB)")
