""""service: running on HOST" in the queue's title line while an `eim service` beats on this store.

The TUI keeps its own local alerts either way; this only tells the person that escalations and
notifications also go out while nobody is looking at a terminal. The heartbeat is read every few
seconds in a worker thread (never on the UI loop); nothing is shown while no service is running,
or while the store cannot be read (the store banner says that). While the store pushes its
notices (PostgreSQL), each heartbeat is told as it happens (the app's `service_beat` signal): it
is read once, then only rarely, and what is shown follows the beats heard.
"""

from __future__ import annotations

import time
from datetime import timedelta

from textual import work
from textual.screen import Screen
from textual.widgets import Static

from eim_tui.services.notifications import NotificationCases

READ_EVERY = 5.0  # seconds
READ_PUSHED_EVERY = 600.0  # seconds, while each beat is told
FRESH = timedelta(seconds=20)  # a heartbeat older than this is a service gone


def service_text(hosts: list[str]) -> str:
    if not hosts:
        return ""
    more = f" +{len(hosts) - 1}" if len(hosts) > 1 else ""
    return f"service: running on {hosts[0][:24]}{more}"


class ServiceStatus(Static):
    DEFAULT_CSS = """
    ServiceStatus {
        width: auto;
        padding: 0 1;
        color: $success;
        text-wrap: nowrap;
    }
    """

    def __init__(self) -> None:
        super().__init__("", id="service-status", markup=False)
        self.display = False
        self._beats: dict[str, float] = {}  # host → time.monotonic() of its last beat known
        self._read_at = 0.0

    @classmethod
    def show_on(cls, screen: Screen) -> None:
        """Put one into the queue's title line (the screens without one have no header to show it in)."""
        def mount() -> None:
            tops = screen.query("#queue-top")
            if tops and not screen.query(ServiceStatus):
                clock = screen.query("#queue-clock")
                tops.first().mount(cls(), before=clock.first() if clock else None)
        screen.call_after_refresh(mount)

    def on_mount(self) -> None:
        self._look()
        self.set_interval(READ_EVERY, self._tick)
        signal = getattr(self.app, "service_beat", None)
        if signal is not None:
            signal.subscribe(self, self._beat)

    def _tick(self) -> None:
        pushed = getattr(self.app, "changes_pushed", False)
        if pushed and time.monotonic() - self._read_at < READ_PUSHED_EVERY:
            self._show(self._beats)  # a service that stopped beating goes from the line
        else:
            self._look()

    def _look(self) -> None:
        self._read_at = time.monotonic()
        self._read()

    def _beat(self, host: str) -> None:
        self._show({**self._beats, host: time.monotonic()})

    @work(thread=True, exclusive=True, group="service-status", exit_on_error=False,
          description="read whether eim service runs")
    def _read(self) -> None:
        try:
            app = self.app
            services = NotificationCases(app.services).running_services(FRESH)
            now, mono = app.services.clock.now(), time.monotonic()
            beats: dict[str, float] = {}
            for s in services:  # newest first
                beats.setdefault(s.host, mono - max(0.0, (now - s.last_seen).total_seconds()))
        except Exception:  # noqa: BLE001 - an unreachable store has its own banner
            beats = {}
        self.app.call_from_thread(self._show, beats)

    def _show(self, beats: dict[str, float]) -> None:
        fresh = time.monotonic() - FRESH.total_seconds()
        self._beats = {host: at for host, at in beats.items() if at >= fresh}
        hosts = sorted(self._beats, key=lambda host: -self._beats[host])
        text = service_text(hosts)
        self.update(text)
        self.display = bool(text)
