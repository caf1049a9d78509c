"""The `[alerts]` table of the user's config.toml: which channels, severities, quiet hours, escape.

    [alerts]
    channels = ["toast", "bell", "terminal", "desktop"]   # any of these; [] for none
    severities = [1, 2, 3]        # warnings and breaches of these severities (escalations always)
    quiet_hours = "22:00-07:00"   # local time: only the in-app toast, no bell or notifications
    escape = "osc777"             # the terminal notification: osc777, osc9, osc99
    tmux_passthrough = true       # wrap it for tmux (allow-passthrough on) when $TMUX is set

A wrong value raises `AlertSettingsError` naming the file, the line and what would be right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

CHANNELS = ("toast", "bell", "terminal", "desktop")
ESCAPES = ("osc777", "osc9", "osc99")


class AlertSettingsError(ValueError):
    pass


@dataclass(frozen=True)
class AlertSettings:
    channels: frozenset[str] = frozenset(CHANNELS)
    severities: frozenset[int] = frozenset({1, 2, 3})
    quiet_hours: tuple[time, time] | None = None
    escape: str = "osc777"
    tmux_passthrough: bool = True


def parse_alert_settings(data: dict[str, Any], path: Path | None = None, text: str = "") -> AlertSettings:
    table = data.get("alerts")
    if table is None:
        return AlertSettings()
    line = _line_of(text, "alerts")

    def fail(message: str) -> AlertSettingsError:
        where = f"{path}" if path else "config.toml"
        return AlertSettingsError(f"{where}{f': line {line}' if line else ''}: [alerts] {message}")

    if not isinstance(table, dict):
        raise fail("must be a table: write [alerts] on its own line, then key = value lines")
    unknown = sorted(set(table) - {"channels", "severities", "quiet_hours", "escape", "tmux_passthrough"})
    if unknown:
        raise fail(f"unknown setting {unknown[0]!r}; use channels, severities, quiet_hours, escape, tmux_passthrough")
    channels = table.get("channels", list(CHANNELS))
    if not isinstance(channels, list) or any(c not in CHANNELS for c in channels):
        raise fail(f"channels must be a list of {', '.join(CHANNELS)}, not {channels!r}")
    severities = table.get("severities", [1, 2, 3])
    if not isinstance(severities, list) or any(isinstance(s, bool) or s not in range(1, 6) for s in severities):
        raise fail(f"severities must be a list of 1 … 5, not {severities!r}")
    escape = table.get("escape", "osc777")
    if escape not in ESCAPES:
        raise fail(f"escape must be one of {', '.join(ESCAPES)}, not {escape!r}")
    passthrough = table.get("tmux_passthrough", True)
    if not isinstance(passthrough, bool):
        raise fail(f"tmux_passthrough must be true or false, not {passthrough!r}")
    quiet = table.get("quiet_hours")
    hours = None
    if quiet is not None:
        found = re.fullmatch(r"\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*", quiet) if isinstance(quiet, str) else None
        try:
            hours = (_time(found.group(1)), _time(found.group(2))) if found else None
        except ValueError:
            hours = None
        if hours is None:
            raise fail(f'quiet_hours must be like "22:00-07:00" (local time), not {quiet!r}')
    return AlertSettings(frozenset(channels), frozenset(severities), hours, escape, passthrough)


def _time(text: str) -> time:
    hour, minute = (int(p) for p in text.split(":"))
    return time(hour, minute)


def _line_of(text: str, table: str) -> int | None:
    found = re.search(rf"^[ \t]*\[[ \t]*{table}[ \t]*\]", text, re.MULTILINE)
    return text.count("\n", 0, found.start()) + 1 if found else None
