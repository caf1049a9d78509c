"""Recurring patterns → problem candidates: `Patterns(db, clock).candidates("30d", 5)`, read-only.

The clustering is domain/patterns.py; this reads the window's unlinked incidents and shapes the
stable `eim patterns --json` answer (README "Recurring patterns"):

    {"window": "30d", "days": 30, "since": ISO, "min": 5, "newest": ISO or null,
     "candidates": [{"rank", "score", "count", "anchor": {"kind": "service"|"ci"|"location", "name"},
                     "category", "subcategory", "symptom", "phrase", "phrase_titles",
                     "worst_severity", "first_reported", "last_reported", "reason", "incidents": [KEY…]}]}

`--window all` is every incident in the store ("days" and "since" are null); recency is then
measured from the newest incident, not from now, so imported history of years ago still ranks by
what came back most lately. "newest" is when the newest incident in the store was reported, so a
window that holds nothing can say where the history is.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from eim_tui.domain.errors import ValidationError
from eim_tui.domain.model import format_key
from eim_tui.domain.patterns import Candidate, find_patterns
from eim_tui.store.patterns import newest_reported, pattern_incidents

_WINDOW = re.compile(r"\s*(\d{1,4})\s*([dw]?)\s*")
MAX_WINDOW_DAYS = 3660


ALL = "all"


def parse_window(text: str) -> int | None:
    """`30d`, `2w` or `30` (days) → days; `all` → None (all history); anything else is a
    ValidationError saying how to write it."""
    if (text or "").strip().lower() == ALL:
        return None
    match = _WINDOW.fullmatch(text or "")
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1) if match else 0
    if not match or not 1 <= days <= MAX_WINDOW_DAYS:
        raise ValidationError(f"--window {text!r} is not a window; use days or weeks, e.g. 30d or 6w "
                              f"(1 day to {MAX_WINDOW_DAYS} days), or all")
    return days


def check_minimum(value: int) -> int:
    if value < 2:
        raise ValidationError(f"--min {value} is too small; a pattern needs at least 2 incidents, e.g. --min 5")
    return value


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


def candidate_shape(rank: int, c: Candidate) -> dict[str, Any]:
    return {
        "rank": rank, "score": c.score, "count": c.count,
        "anchor": {"kind": c.anchor_kind, "name": c.anchor},
        "category": c.category, "subcategory": c.subcategory, "symptom": c.symptom,
        "phrase": c.phrase, "phrase_titles": c.phrase_titles, "worst_severity": c.worst_severity,
        "first_reported": _iso(c.first_reported), "last_reported": _iso(c.last_reported),
        "reason": c.reason, "incidents": [format_key(n) for n in c.numbers],
    }


class Patterns:
    """The pattern search on one store. Confidential incidents take part only when the caller says
    the viewer may see them (their titles would show through the phrase)."""

    def __init__(self, db: Any, clock: Any) -> None:
        self.db = db
        self.clock = clock

    def find(self, days: int | None, minimum: int = 5, include_confidential: bool = False,
             now: datetime | None = None) -> list[Candidate]:
        """The candidates of the last `days` (None: all history) before `now`."""
        check_minimum(minimum)
        now = now or self.clock.now()
        with self.db.read() as session:
            rows = pattern_incidents(session, None if days is None else now - timedelta(days=days),
                                     include_confidential)
        at = now.timestamp()
        if days is None and rows:
            at = min(at, max(r.reported_at for r in rows))  # recency from the newest, not from today
        return find_patterns(rows, at, days, minimum)

    def newest(self) -> datetime | None:
        """When the newest incident in the store was reported (None: the store has none)."""
        with self.db.read() as session:
            return newest_reported(session)

    def candidates(self, window: str = "30d", minimum: int = 5, include_confidential: bool = False) -> dict[str, Any]:
        """The `--json` shape (module docstring) for a window written like `30d` or `all`."""
        days = parse_window(window)
        now = self.clock.now()
        found = self.find(days, minimum, include_confidential, now)
        newest = self.newest()
        return {
            "window": ALL if days is None else f"{days}d", "days": days,
            "since": None if days is None else (now - timedelta(days=days)).isoformat(), "min": minimum,
            "newest": newest.isoformat() if newest else None,
            "candidates": [candidate_shape(rank, c) for rank, c in enumerate(found, 1)],
        }
