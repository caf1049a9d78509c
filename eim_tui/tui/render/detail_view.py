"""What the detail screen draws: one `Content` per panel, built from an `IncidentDetails`.

Pure functions of the details, the palette and the instant, so the SLA panel can be redrawn every
second. Colours come from the palette (theme variables via widgets/palette.py); every colour also
has a text label, so the screen reads right with NO_COLOR. User text goes in as plain text, never
as markup.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual.content import Content

from eim_tui.domain import sla
from eim_tui.domain.durations import format_countdown, format_duration
from eim_tui.domain.model import SEVERITY_NAMES, Incident, SlaState, format_key
from eim_tui.tui.render.theme_styles import PLAIN, Palette

LABEL_WIDTH = 20

SLA_STYLE = {SlaState.OK: "sla-ok", SlaState.MET: "sla-ok", SlaState.WARNING: "sla-warning",
             SlaState.BREACHED: "sla-breached", SlaState.PAUSED: "sla-paused"}


def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S %Z") -> str:
    return value.astimezone().strftime(fmt) if value else ""


def shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value.value if hasattr(value, "value") else value)


def severity(priority: int, p: Palette = PLAIN) -> Content:
    return Content.styled(f"Sev{priority} {SEVERITY_NAMES.get(priority, '')}", p[f"sev-{priority}"])


def title(i: Incident, p: Palette = PLAIN) -> Content:
    parts: list[Any] = [(i.key, "bold"), " ", severity(i.priority, p), " · ", (i.state.label, "bold")]
    if i.major:
        parts += [" · ", ("MAJOR", p["major"])]
    if i.confidential:
        parts += [" · ", ("confidential", "italic")]
    parts += [" · ", i.title]
    return Content.assemble(*parts)


def _heading(text: str, p: Palette) -> Content:
    return Content.styled(text, p["heading"])


def _rows(name: str, rows: list[tuple[str, Any]], p: Palette) -> Content:
    lines = [_heading(name, p)]
    for label, value in rows:
        lines.append(Content.assemble((f"  {label:<{LABEL_WIDTH}}", p["label"]), shown(value)))
    return Content("\n").join(lines)


def summary(i: Incident, p: Palette = PLAIN) -> Content:
    return Content("\n").join([_heading("Summary", p), Content(i.description or "(no description)")])


def sla_panel(i: Incident, policy: sla.SlaPolicy, now: datetime, p: Palette = PLAIN) -> Content:
    lines = [_heading("SLA", p)]
    for reading in (sla.response_clock(i, policy, now), sla.resolution_clock(i, policy, now)):
        style = p[SLA_STYLE[reading.state]]
        if reading.stopped_at is not None:
            spare = reading.remaining
            left = f"stopped {local(reading.stopped_at, '%m-%d %H:%M')} " + (
                f"({format_duration(spare)} spare)" if spare >= 0 else f"({format_duration(-spare)} late)"
            )
        elif reading.state is SlaState.PAUSED:
            left = f"paused, {format_countdown(reading.remaining)} left when resumed"
        elif reading.remaining <= 0:
            left = f"{format_duration(-reading.remaining)} overdue"
        else:
            left = f"{format_countdown(reading.remaining)} left"
        lines.append(Content.assemble(
            (f"  {reading.name:<11}", p["label"]), (f"{reading.state.value.upper():<9}", style),
            f"due {local(reading.due_at, '%m-%d %H:%M')}  ", (left, style),
        ))
    return Content("\n").join(lines)


def field_groups(i: Incident, p: Palette = PLAIN) -> Content:
    groups: list[Content] = [
        _rows("People", [("group", i.assignment_group), ("assignee", i.assignee), ("reporter", i.reporter_name),
                         ("contact", i.reporter_contact), ("department", i.reporter_department),
                         ("logged by", i.created_by)], p),
        _rows("Classification", [
            ("service", i.service), ("configuration item", i.configuration_item),
            ("category", f"{shown(i.category)} / {shown(i.subcategory)}"),
            ("impact × urgency", f"{i.impact} × {i.urgency} → Sev{i.priority}"),
            ("override reason", i.priority_override_reason), ("initial guess", i.initial_severity),
            ("source", i.source.label), ("major", i.major), ("confidential", i.confidential)], p),
        _rows("Times", [("detected", local(i.detected_at)), ("reported", local(i.reported_at)),
                        ("acknowledged", local(i.acknowledged_at)), ("resolved", local(i.resolved_at)),
                        ("closed", local(i.closed_at))], p),
        _rows("Links", [("duplicate of", format_key(i.parent_number) if i.parent_number else ""),
                        ("problem", i.problem_ref), ("change", i.change_ref)], p),
    ]
    if i.hold_reason:
        paused = "SLA paused" if i.hold_reason.pauses_sla else "SLA keeps running"
        groups.append(_rows("On hold", [("reason", f"{i.hold_reason.label} ({paused})"), ("note", i.hold_note)], p))
    if i.resolution_code or i.root_cause:
        groups.append(_rows("Resolution", [
            ("root cause", i.root_cause), ("code", i.resolution_code), ("what was done", i.resolution_notes),
            ("how tested", i.resolution_tested), ("told users", i.resolution_communication)], p))
    if i.closure_verified_by or i.cancel_reason:
        groups.append(_rows("Closure", [
            ("verified by", i.closure_verified_by), ("rating", i.feedback_rating),
            ("comment", i.feedback_comment), ("lessons learned", i.lessons_learned),
            ("cancel reason", i.cancel_reason)], p))
    if i.post_incident_review:
        groups.append(review(i.post_incident_review, p))
    return Content("\n\n").join(groups)


def review(r: dict[str, Any], p: Palette = PLAIN) -> Content:
    rows = [("summary", r.get("summary")), ("highlights", r.get("highlights")),
            ("went well", r.get("went_well")), ("did not", r.get("went_badly"))]
    for action in r.get("actions") or []:
        if isinstance(action, dict):
            rows.append(("action", f"{action.get('action', '')} (owner: {action.get('owner', '')})"))
    return _rows("Post-incident review", rows, p)


def notes(details, p: Palette = PLAIN) -> Content:
    lines = [_heading(f"Diagnosis ({len(details.notes)}) — d opens the notes", p)]
    if not details.notes:
        lines.append(Content.styled("  (no notes yet)", p["label"]))
    for n in details.notes:
        status = f" [{n.status.value}]" if n.status else ""
        lines.append(Content.assemble(
            (f"  {n.position:>2}. {n.kind.label}{status} ", "bold"), n.text,
            (f"  — {n.author}, {local(n.created_at, '%H:%M')}", p["label"]),
        ))
    return Content("\n").join(lines)


def recent_events(details, p: Palette = PLAIN, count: int = 8) -> Content:
    events = details.timeline[-count:]
    lines = [_heading(f"Latest events ({len(events)} of {len(details.timeline)}) — t opens the timeline", p)]
    for e in events:
        lines.append(Content.assemble(
            (f"  {local(e.at, '%m-%d %H:%M')} ", p["label"]), (f"{e.actor:<10} ", "bold"), e.summary,
        ))
    return Content("\n").join(lines)
