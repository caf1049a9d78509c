"""The floor of the queue's figures: a bare Textual app that looks like the queue to the bench.

    python -m tests.bench.queue_floor_app

It holds a fixed list of made-up incident lines in memory (no store, no workers) and draws them in
one `Static` under a title written like the queue's ("All open (N) · sort: SLA · … · alice"), so
bench_queue.py measures it with the very same functions as the real `eim`:
- first paint: launch to the first line with data;
- down / page down: the highlighted line moves, or the next screenful shows;
- `/`, an expression, Enter: the lines are replaced by those holding the expression's known words
  (a list comprehension over the fixed list) and the title says the filter and its count.
Whatever the real queue costs beyond these is the queue's own work (store, workers, its table).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

WORDS = ("disk", "breached", "state:open", "latency", "login", "vpn", "backup", "printer")
LINES = [
    f"INC-{n:06d}  S{1 + n % 5}  new          {WORDS[n % len(WORDS)]} trouble on host{n % 97:02d}"
    f"{'':<12}payments       network-ops / —   due in {n % 60:2d}m"
    for n in range(1, 2001)
]


class QueueFloor(App[None]):
    AUTO_FOCUS = None  # the hidden filter bar must not take the keys (the queue's table has them)
    BINDINGS: ClassVar = [
        Binding("down", "down", "Down"),
        Binding("pagedown", "page_down", "Page down"),
        Binding("slash", "filter", "Filter"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("", id="title", markup=False)
        yield Input(id="filter")
        yield Static("", id="lines")

    def on_mount(self) -> None:
        self.shown = LINES
        self.top = 0
        self.cursor = 0
        self.expression = ""
        box = self.query_one(Input)
        box.display = False
        box.border_title = "Filter — enter applies · esc closes"
        self._draw()

    @property
    def page(self) -> int:
        return max(1, self.size.height - 4)

    def _draw(self) -> None:
        parts = [f"eim · All open ({len(self.shown):,})", "sort: SLA"]
        if self.expression:
            parts.append(f"filter: {self.expression}")
        parts.append("alice")
        self.query_one("#title", Static).update(" · ".join(parts))
        text = Text()
        for index in range(self.top, min(self.top + self.page, len(self.shown))):
            text.append(self.shown[index] + "\n", style="reverse" if index == self.cursor else "")
        self.query_one("#lines", Static).update(text)

    def action_down(self) -> None:
        # At the end it starts again at the top, so every press changes the screen (the bench
        # waits for a change).
        self.cursor = (self.cursor + 1) % len(self.shown)
        if self.cursor >= self.top + self.page:
            self.top += 1
        elif self.cursor < self.top:
            self.top = 0
        self._draw()

    def action_page_down(self) -> None:
        if self.top + self.page >= len(self.shown):
            self.top = self.cursor = 0
        else:
            self.top += self.page
            self.cursor = min(self.cursor + self.page, len(self.shown) - 1)
        self._draw()

    def action_filter(self) -> None:
        box = self.query_one(Input)
        box.value = self.expression
        box.display = True
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.expression = event.value.strip()
        words = [w for w in self.expression.split() if w in WORDS]  # `sev<=2 disk`: disk
        self.shown = [line for line in LINES if all(w in line for w in words)]
        self.top = self.cursor = 0
        event.input.display = False
        self.set_focus(None)
        self._draw()


if __name__ == "__main__":
    QueueFloor().run()
