"""The line across the top of every screen that says the store cannot be used: it went away
("store unreachable since 03:12 — retrying"), or it can only be read.

The app mounts one on whichever screen is in front (`StoreBanner.show_on`) and takes them all
down when the store answers again (`StoreBanner.remove_all`); the banner itself only draws the
words it is given. It is a warning people must not miss at 3 a.m., so it is drawn in reverse
video as well as in colour: under NO_COLOR it still stands out.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import App
from textual.screen import Screen
from textual.widgets import Static


def outage_text(since: datetime, last_read: datetime | None, error: str) -> str:
    """What the banner says while the store is away; times are the user's local ones."""
    parts = [f"store unreachable since {since.astimezone().strftime('%H:%M')} — retrying"]
    if last_read is not None:
        parts.append(f"what you see was read at {last_read.astimezone().strftime('%H:%M:%S')} and may be stale")
    else:
        parts.append("what you see may be stale")
    parts.append("nothing can be saved; typed text is kept as a draft on this computer")
    if error:
        parts.append(error)
    return " · ".join(parts)


def read_only_text(reason: str) -> str:
    return f"read-only store: {reason} — you can look, not change anything"


class StoreBanner(Static):
    DEFAULT_CSS = """
    StoreBanner {
        dock: top;
        width: 100%;
        height: auto;
        padding: 0 1;
        background: $error;
        color: $text;
        text-style: bold reverse;
    }
    StoreBanner.-read-only {
        background: $warning;
    }
    """

    def __init__(self, text: str, read_only: bool = False) -> None:
        super().__init__(Text(text), id="store-banner", markup=False)
        self.set_class(read_only, "-read-only")
        self.text = text

    def say(self, text: str, read_only: bool = False) -> None:
        if text != self.text:
            self.text = text
            self.update(Text(text))
        self.set_class(read_only, "-read-only")

    @classmethod
    def show_on(cls, screen: Screen, text: str, read_only: bool = False) -> None:
        """Put the banner on `screen` with `text`, or change the one already there."""
        found = screen.query(cls)
        if found:
            found.first().say(text, read_only)
        else:
            screen.mount(cls(text, read_only))

    @classmethod
    def remove_all(cls, app: App) -> None:
        for screen in app.screen_stack:
            screen.query(cls).remove()
