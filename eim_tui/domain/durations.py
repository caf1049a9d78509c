"""Durations as people write them (`15m`, `4h`, `3d`, `1h30m`) and as the queue shows them."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)\s*([dhms])")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    compact = text.strip().lower().replace(" ", "")
    problem = f"{text!r} is not a duration; write it like 15m, 4h, 3d or 1h30m"
    if not compact or _PART.sub("", compact):
        raise ValueError(problem)
    try:
        return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in _PART.findall(compact)))
    except OverflowError:  # more days than timedelta holds
        raise ValueError(problem) from None


def format_duration(seconds: float) -> str:
    """Two most significant units, compact: 45s, 12m, 3h05m, 2d04h."""
    s = int(abs(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"


def format_countdown(seconds: float) -> str:
    """Time left on a clock, with seconds once under an hour so it visibly ticks."""
    s = int(abs(seconds))
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return format_duration(s)
