"""`eim status` as text: one line for a shell prompt, tmux's status line, or a script.

    plain   S1 2 · S2 5 · ⚠ 3 · mine 1
    tmux    the same with tmux colour markup (#[fg=…]) on what needs eyes; none under NO_COLOR
    json    every figure by name

`⚠` counts the open incidents whose SLA clock is in warning or already breached. Severities 1 and
2 are always shown (a zero is news too); the rest only in JSON.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Protocol

FORMATS = ("plain", "tmux", "json")


class Counts(Protocol):
    open_by_severity: dict[int, int]
    warning: int
    breached: int
    mine: int


def render(counts: Counts, fmt: str, at: datetime, colour: bool = True) -> str:
    if fmt == "json":
        return json.dumps({
            "open": sum(counts.open_by_severity.values()),
            "open_by_severity": {str(s): counts.open_by_severity.get(s, 0) for s in range(1, 6)},
            "sla_warning": counts.warning,
            "sla_breached": counts.breached,
            "mine": counts.mine,
            "at": at.isoformat(),
        })
    at_risk = counts.warning + counts.breached
    parts = [(f"S1 {counts.open_by_severity.get(1, 0)}", "fg=red,bold" if counts.open_by_severity.get(1) else ""),
             (f"S2 {counts.open_by_severity.get(2, 0)}", "fg=yellow" if counts.open_by_severity.get(2) else ""),
             (f"⚠ {at_risk}", ("fg=red,bold" if counts.breached else "fg=yellow") if at_risk else ""),
             (f"mine {counts.mine}", "bold" if counts.mine else "")]
    if fmt == "tmux" and colour:
        return " · ".join(f"#[{style}]{text}#[default]" if style else text for text, style in parts)
    return " · ".join(text for text, _ in parts)
