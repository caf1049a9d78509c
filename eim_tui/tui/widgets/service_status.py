""""service: running on HOST" in the queue's title line while an `eim service` beats on this store.

The TUI keeps its own local alerts either way; this only tells the person that escalations and
notifications also go out while nobody is looking at a terminal. The heartbeat is read every few
seconds in a worker thread (never on the UI loop); nothing is shown while no service is running,
or while the store cannot be read (the store banner says that).
"""

from __future__ import annotations

from datetime import timedelta

from textual import work
from textual.screen import Screen
from textual.widgets import Static

from eim_tui.services.notifications import NotificationCases

READ_EVERY = 5.0  # seconds
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
        self._read()
        self.set_interval(READ_EVERY, self._read)

    @work(thread=True, exclusive=True, group="service-status", exit_on_error=False,
          description="read whether eim service runs")
    def _read(self) -> None:
        try:
            services = NotificationCases(self.app.services).running_services(FRESH)
            text = service_text(list(dict.fromkeys(s.host for s in services)))
        except Exception:  # noqa: BLE001 - an unreachable store has its own banner
            text = ""
        self.app.call_from_thread(self._show, text)

    def _show(self, text: str) -> None:
        self.update(text)
        self.display = bool(text)
