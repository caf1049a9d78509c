"""An incident as plain text, for `eim show` in a shell."""

from __future__ import annotations

from eim_tui.domain.durations import format_duration
from eim_tui.domain.events import show


def incident_text(details) -> str:
    i = details.incident
    lines = [
        f"{i.key}  Sev{i.priority}  {i.state.label}{'  MAJOR' if i.major else ''}",
        f"  {i.title}",
        "",
        f"  service      {show(i.service)}  ci {show(i.configuration_item)}",
        f"  category     {show(i.category)} / {show(i.subcategory)}",
        f"  impact       {i.impact}  urgency {i.urgency}"
        + (f"  override: {i.priority_override_reason}" if i.priority_override_reason else ""),
        f"  group        {show(i.assignment_group)}  assignee {show(i.assignee)}",
        f"  reporter     {show(i.reporter_name)} {i.reporter_contact} {i.reporter_department}".rstrip(),
        f"  source       {i.source.label}  reported {show(i.reported_at)}",
    ]
    for clock in (details.response, details.resolution):
        left = clock.remaining
        when = f"{format_duration(left)} left" if left > 0 else f"{format_duration(-left)} late"
        lines.append(f"  {clock.name:<12} {clock.state.value:<8} due {show(clock.due_at)} ({when})")
    if i.hold_reason:
        lines.append(f"  on hold      {i.hold_reason.label} {i.hold_note}".rstrip())
    if i.resolution_code:
        lines.append(f"  resolution   {i.resolution_code}: {i.resolution_notes}")
    if i.description:
        lines += ["", "  " + i.description.replace("\n", "\n  ")]
    lines += _collab_lines(details.collab)
    if details.notes:
        lines += ["", "Diagnosis"]
        for n in details.notes:
            status = f" [{n.status.value}]" if n.status else ""
            lines.append(f"  {n.position:>2}. {n.kind.label}{status}: {n.text}  — {n.author}")
    lines += ["", "Timeline"]
    for e in details.timeline:
        lines.append(f"  {e.at:%Y-%m-%d %H:%M:%S}  {e.actor:<10} {e.summary}")
    return "\n".join(lines) + "\n"


def _collab_lines(collab) -> list[str]:
    """Roles, tasks and the last stakeholder update, when the incident has any."""
    from eim_tui.domain.collab import roles_line

    lines: list[str] = []
    if collab.roles:
        lines.append(f"  roles        {roles_line(collab)}")
    if collab.subscribers:
        lines.append(f"  subscribers  {len(collab.subscribers)}")
    if collab.last_update is not None:
        last = collab.last_update
        nxt = f", next by {show(last.next_update_at)}" if last.next_update_at else ""
        lines.append(f"  last update  {show(last.at)} by {last.author}{nxt}")
    if collab.tasks:
        lines += ["", "Tasks"]
        for t in collab.tasks:
            mark = "x" if t.status.value == "done" else " "
            kind = "action " if t.kind.value == "action" else ""
            due = f"  due {show(t.due_at)}" if t.due_at else ""
            lines.append(f"  {t.number:>2}. [{mark}] {kind}{t.what}  — {t.owner or 'nobody'}{due}")
    return lines
