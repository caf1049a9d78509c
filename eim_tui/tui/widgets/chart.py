"""A textual-plotext chart that builds its picture once per drawing and size, not once per repaint.

`PlotextPlot.render` asks plotext to build the whole figure every time Textual repaints the
widget — 30–150 ms on this machine for a bar chart — and a screen repaints it several times while
it settles. `Chart` keeps the built picture until the figure, the size or the theme changes:

- `draw(data, paint)`: `paint(plt)` draws the figure; when `data` (what the figure shows) equals
  what is already drawn, nothing is rebuilt.
- `say(text)`: a line of text instead of a figure (while its figures are being computed), which
  costs no plotext build at all.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot


class Chart(PlotextPlot):
    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._data: Hashable = None  # what the figure shows, as given to `draw`
        self._text: str | None = ""  # a line instead of the figure, or None: the figure
        self._version = 0  # moved by every new drawing
        self._built: tuple[Any, RenderResult] | None = None  # (version, size, theme) and its picture

    def draw(self, data: Hashable, paint: Callable[[Plot], None]) -> None:
        """Draw the figure `paint` makes of `data`, unless `data` is already on show."""
        if self._text is None and data == self._data:
            return
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        paint(plt)
        self._data, self._text = data, None
        self._changed()

    def say(self, text: str) -> None:
        """Show `text` in place of a figure."""
        if self._text != text:
            self._data, self._text = None, text
            self._changed()

    @property
    def shows(self) -> str:
        """What is on show, as text: the line, or the built figure (for tests)."""
        return self._text if self._text is not None else str(self.render())

    def _changed(self) -> None:
        self._version += 1
        self.refresh()

    def render(self) -> RenderResult:
        if self._text is not None:
            return Text(self._text)
        key = (self._version, self.size, self.app.theme, self.theme)
        if self._built is None or self._built[0] != key:
            self._built = (key, super().render())
        return self._built[1]
