"""`eim wall`: the TUI's application opened on the wall board instead of the queue.

Everything else (theme, keys, help, identity, configuration) is `EimApp`'s, so the board looks and
behaves like the rest of eim.
"""

from __future__ import annotations

from textual.screen import Screen

from eim_tui.tui.app import EimApp
from eim_tui.domain.board import BoardScope
from eim_tui.reference.paths import STYLES_DIR
from eim_tui.services.incidents import Services
from eim_tui.config import Config


class WallApp(EimApp):
    TITLE = "eim wall"
    CSS_PATH = [*EimApp.CSS_PATH, STYLES_DIR / "wall.tcss"]

    def __init__(
        self,
        services: Services,
        user: str,
        scope: BoardScope | None = None,
        config: Config | None = None,
        poll_interval: float = 1.0,
        tick_interval: float = 1.0,
    ) -> None:
        # No SLA scheduler here: the board only reads (the TUIs and `eim` processes keep the clocks),
        # and its own highlight and bell say what the scheduler's alerts would say again.
        super().__init__(
            services, user, config, poll_interval=poll_interval, tick_interval=tick_interval, sla_scheduler=False
        )
        self.scope = scope or BoardScope()

    def first_screen(self) -> Screen:
        from eim_tui.tui.screens.wall import WallScreen

        return WallScreen(self.scope)
