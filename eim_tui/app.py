"""The Textual application: wires the use cases, the settings and the screens together."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from eim_tui.resources import STYLES_DIR
from eim_tui.services import Services
from eim_tui.settings import Settings


class EimApp(App[None]):
    """eim's TUI. One instance per terminal; every database call runs in a worker thread."""

    TITLE = "eim"
    CSS_PATH = [
        STYLES_DIR / "app.tcss",
        STYLES_DIR / "queue.tcss",
        STYLES_DIR / "detail.tcss",
        STYLES_DIR / "help.tcss",
    ]
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Every key on this screen"),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave eim"),
    ]

    def __init__(
        self,
        services: Services,
        user: str,
        settings: Settings | None = None,
        poll_interval: float = 1.0,
        tick_interval: float = 1.0,
    ) -> None:
        super().__init__()
        self.services = services
        self.user = user
        self.settings = settings or Settings()
        self.poll_interval = poll_interval
        self.tick_interval = tick_interval
        self.clock = services.clock

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {
            "sev-1": "$error",
            "sev-2": "$warning",
            "sev-3": "$accent",
            "sev-4": "$primary",
            "sev-5": "$foreground-muted",
            "sla-breached": "$error",
            "sla-warning": "$warning",
            "sla-ok": "$success",
            "sla-paused": "$foreground-muted",
        }

    def on_mount(self) -> None:
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
        from eim_tui.screens.queue import QueueScreen

        self.push_screen(QueueScreen())

    def action_help(self) -> None:
        from eim_tui.screens.help import HelpScreen

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
