"""The detail screen's "Working together" panel: roles, open tasks, subscribers and when the next
stakeholder update is due — plain text in, styled by the palette, readable with NO_COLOR (an
overdue update or task says OVERDUE in words)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from textual.content import Content

from eim_tui.domain.collab import (
    Collaboration,
    IncidentRole,
    TaskStatus,
    next_update_due,
)
from eim_tui.domain.durations import format_countdown
from eim_tui.domain.model import Incident
from eim_tui.tui.render.detail_view import LABEL_WIDTH, local
from eim_tui.tui.render.theme_styles import PLAIN, Palette


def collab_panel(incident: Incident, collab: Collaboration, cadence: Mapping[int, timedelta], now: datetime,
                 p: Palette = PLAIN) -> Content:
    def row(label: str, *value) -> Content:
        return Content.assemble((f"  {label:<{LABEL_WIDTH}}", p["label"]), *value)

    lines = [Content.styled("Working together  (w roles · k tasks · u update)", p["heading"])]
    due = next_update_due(incident, collab, cadence)
    if not (collab.roles or collab.tasks or collab.subscribers or collab.last_update or due):
        return Content("\n").join([*lines, Content.styled("  no roles, tasks or subscribers yet", p["label"])])
    lines.append(row("roles", " · ".join(f"{label} {collab.holder(role) or '—'}" for role, label in (
        (IncidentRole.COMMANDER, "commander"), (IncidentRole.SCRIBE, "scribe"), (IncidentRole.COMMS, "comms")))))
    lines.append(row("subject experts", ", ".join(collab.experts) or "—"))
    open_tasks = [t for t in collab.tasks if t.status is TaskStatus.OPEN]
    late = sum(1 for t in open_tasks if t.overdue(now))
    tasks = f"{len(open_tasks)} open of {len(collab.tasks)}" if collab.tasks else "none"
    lines.append(row("tasks", tasks, *([" · ", (f"{late} OVERDUE", p["sla-breached"])] if late else [])))
    count = len(collab.subscribers)
    last = collab.last_update
    lines.append(row("stakeholder updates", f"{count} subscriber{'s' if count != 1 else ''} · last "
                     + (f"{local(last.at, '%H:%M %Z')} by {last.author}" if last else "none yet")))
    if due is not None:
        left = (due - now).total_seconds()
        text = (f"{local(due, '%H:%M %Z')} (in {format_countdown(left)})" if left >= 0
                else f"{local(due, '%H:%M %Z')} (OVERDUE {format_countdown(-left)})")
        lines.append(row("next update due", (text, p["sla-breached"] if left < 0 else p["sla-ok"])))
    return Content("\n").join(lines)
