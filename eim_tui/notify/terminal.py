"""Terminal notification escapes: a desktop notification that travels with the terminal's output,
so it reaches a responder's desktop through SSH (terminals that show them: OSC 777 — foot,
WezTerm, Ghostty, rxvt; OSC 9 — iTerm2, Windows Terminal, WezTerm; OSC 99 — kitty).

The text is stripped of control characters (a title must not end the sequence early or smuggle
in another one), and through tmux the sequence is wrapped for passthrough (`allow-passthrough on`).
Inside the TUI it is written through Textual's driver between frames, like Textual's own bell;
outside it (`eim alerts test`) to /dev/tty when there is one.
"""

from __future__ import annotations

import os
import re
from typing import Any

ESC, BEL, ST = "\x1b", "\x07", "\x1b\\"
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_TEXT = 240


def clean(text: str, extra: str = "") -> str:
    text = _CONTROLS.sub(" ", text)
    for char in extra:
        text = text.replace(char, ",")
    return text.strip()[:MAX_TEXT]


def notification_escape(kind: str, title: str, body: str) -> str:
    """The escape sequence of `kind` (osc777, osc9, osc99) showing `title` and `body`."""
    if kind == "osc777":
        # Fields are separated by ';': none may contain one.
        return f"{ESC}]777;notify;{clean(title, ';')};{clean(body, ';')}{BEL}"
    if kind == "osc9":
        # One text only; a leading digit and ';' would read as a ConEmu sub-command.
        text = clean(f"{title}: {body}")
        return f"{ESC}]9;{text}{BEL}"
    if kind == "osc99":
        # kitty: the title in a first, unfinished chunk (d=0), then the body (p=body) ends it.
        return f"{ESC}]99;i=eim:d=0:p=title;{clean(title)}{ST}{ESC}]99;i=eim:d=1:p=body;{clean(body)}{ST}"
    raise ValueError(f"unknown terminal notification {kind!r}; use osc777, osc9 or osc99")


def tmux_wrap(sequence: str) -> str:
    """Wrap for tmux passthrough: DCS tmux; with every ESC inside doubled, ended by ST."""
    return f"{ESC}Ptmux;{sequence.replace(ESC, ESC + ESC)}{ST}"


def for_terminal(kind: str, title: str, body: str, env: dict[str, str] | None = None, passthrough: bool = True) -> str:
    env = os.environ if env is None else env
    sequence = notification_escape(kind, title, body)
    return tmux_wrap(sequence) if passthrough and env.get("TMUX") else sequence


def write_in_app(app: Any, sequence: str) -> bool:
    """Write through the running app's driver, the path Textual's `bell()` and clipboard copy use
    (Textual has no public call for a raw sequence), so it lands between frames. False when there
    is no terminal to write to (headless tests, a browser)."""
    driver = getattr(app, "_driver", None)
    if driver is None or app.is_headless or app.is_web:
        return False
    driver.write(sequence)
    return True


def write_to_tty(sequence: str, path: str = "/dev/tty") -> bool:
    """Outside the TUI: write to the controlling terminal, never to a pipe or a log."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        os.write(fd, sequence.encode("utf-8"))
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
