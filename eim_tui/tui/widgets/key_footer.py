"""The footer every eim screen uses: the most important keys first, and help, back and quit always.

Textual's own `Footer` lays the keys out in binding order and lets the end fall off a narrow
terminal, and the end is where the app's `? Help` and `q Quit` sit: at 80 columns the queue lost
both. `KeyFooter` instead measures what fits. Keys are kept in their binding order (the focused
widget's first, then the screen's, as each screen declares them most important first); the ones
that must never go — help, quit and the screen's way back — are pinned at the end; when the row is
too narrow, the least important of the others are left out, and every one of them is still on the
help screen (`?`) and in the command palette. The row is measured again when the width changes.

Textual's footer builds its row again every time the screen's bindings are announced as changed
(each focus move, each screen shown) and each new key cell is styled twice (made compact, then
not). `KeyFooter` builds the row only when what it shows changes, with each cell made in the
footer's own style: opening a screen restyled ~110 cells before, and styling is most of what a new
screen costs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import (
    FooterKey,  # Textual's own key cell, so themes and clicks stay as they are
)

PINNED_ACTIONS = frozenset({"help", "quit", "clear_alerts"})
"""Actions whose key stays on every footer (clearing alerts shows only while a toast does), with
every `escape` binding (the way back out of a screen or dialog)."""

PALETTE_WIDTH = 13
"""Room the command-palette key takes at the right (`▏^p palette` and its padding)."""


@dataclass(frozen=True, slots=True)
class Shown:
    """One key as the footer would show it."""

    binding: Binding
    key_display: str
    enabled: bool
    tooltip: str

    @property
    def pinned(self) -> bool:
        return self.binding.action in PINNED_ACTIONS or "escape" in self.binding.key.split(",")

    @property
    def pin_rank(self) -> int:
        """Pinned keys read: back, clear alerts, help, quit."""
        order = ("clear_alerts", "help", "quit")
        return order.index(self.binding.action) + 1 if self.binding.action in order else 0

    def width(self, compact: bool) -> int:
        """Cells this key takes: `key`, a space, the description, and the gap or padding around it."""
        text = len(self.key_display) + 1 + len(self.binding.description)
        return text + 1 if compact else text + 2


def fit(keys: list[Shown], room: int, compact: bool) -> list[Shown]:
    """The keys to show in `room` cells: pinned ones always (at the end), then as many of the others
    as fit, in order, leaving out the least important (the last) first — and greyed-out keys (what
    the screen's state does not allow now) before any key that can be used: at 80 columns a
    problem's view kept a greyed `Close` and lost `Resolve`. The order of what is kept stays."""
    pinned = sorted((key for key in keys if key.pinned), key=lambda key: key.pin_rank)
    others = [key for key in keys if not key.pinned]
    used = sum(key.width(compact) for key in pinned)
    chosen: set[int] = set()
    for usable in (True, False):
        for index, key in enumerate(others):
            if key.enabled is not usable or index in chosen:
                continue
            if used + key.width(compact) > room:
                break
            chosen.add(index)
            used += key.width(compact)
    return [key for index, key in enumerate(others) if index in chosen] + pinned


class KeyFooter(Footer):
    """A `Footer` that keeps help, back and quit visible and leaves out what does not fit."""

    def __init__(self, *, compact: bool = False, show_command_palette: bool = True) -> None:
        super().__init__(compact=compact, show_command_palette=show_command_palette)
        self._laid_out_for = 0
        self._shown: tuple | None = None  # what the row was last built from (`_row`)

    def _keys(self) -> Iterator[Shown]:
        seen: set[str] = set()
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            # One key per action, as Textual's footer shows it (the first binding found wins).
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            yield Shown(binding, self.app.get_key_display(binding), enabled, tooltip)

    def _room(self) -> int:
        width = self.size.width or self.app.size.width
        if self._palette_shown():
            width -= PALETTE_WIDTH
        return width

    def _palette_shown(self) -> bool:
        return (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE
                and self.app.COMMAND_PALETTE_BINDING in self.screen.active_bindings)

    def _row(self) -> tuple[list[Shown], tuple]:
        """The keys the row shows now, and a value equal for equal rows."""
        keys = fit(list(self._keys()), self._room(), self.compact)
        palette = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING) if self._palette_shown() else None
        return keys, (tuple(keys), palette and (palette[1], palette[2]), self.compact, self._room())

    def bindings_changed(self, screen) -> None:  # noqa: ANN001 (Textual's signal callback)
        if self._bindings_ready and self.is_attached and screen is self.screen and self._row()[1] == self._shown:
            return  # nothing on the row would change: no new cells to mount and style
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        self._laid_out_for = self.size.width or self.app.size.width
        keys, self._shown = self._row()
        for key in keys:
            cell = FooterKey(
                key.binding.key,
                key.key_display,
                key.binding.description,
                key.binding.action,
                disabled=not key.enabled,
                tooltip=key.tooltip,
                classes="-compact" if self.compact else "",
            )
            # The footer's `compact` given as the cell is made, not bound: a binding runs each cell's
            # watcher once mounted, restyling it. Nothing changes `compact` once a footer is made.
            cell.set_reactive(FooterKey.compact, self.compact)
            yield cell
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            try:
                _node, binding, enabled, tooltip = self.screen.active_bindings[self.app.COMMAND_PALETTE_BINDING]
            except KeyError:
                return
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                classes="-command-palette -compact",  # Textual keeps this cell compact; styled once
                disabled=not enabled,
                tooltip=binding.tooltip or binding.description,
            )

    def on_resize(self, event: events.Resize) -> None:
        if self._bindings_ready and event.size.width != self._laid_out_for:
            self.call_after_refresh(self.recompose)
