"""Exports: one incident as a Markdown post-incident report or as JSON, and every incident as JSON
lines or CSV. Used by `eim export` and by the timeline screen; no Textual here.

Times in exports are UTC and say so, so a report reads the same wherever it is opened.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from eim_tui.domain.model import SEVERITY_NAMES, Incident, format_key
from eim_tui.output.json_shapes import details_dict, incident_dict

FORMATS_ONE = ("md", "json")
FORMATS_ALL = ("json", "csv")


def file_name(key: str, fmt: str) -> str:
    return f"{key}-report.md" if fmt == "md" else f"{key}.json"


def render(details, fmt: str, generated_at: datetime | None = None) -> str:
    if fmt == "md":
        return markdown_report(details, generated_at)
    if fmt == "json":
        return json.dumps(details_dict(details), indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown export format {fmt!r}; use md or json")


def write_export(details, fmt: str, directory: Path, generated_at: datetime | None = None) -> Path:
    """Write one incident's export into `directory` (the configured export directory); returns the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file_name(details.incident.key, fmt)
    path.write_text(render(details, fmt, generated_at), encoding="utf-8")
    return path.resolve()


# --- Markdown ------------------------------------------------------------------------------------


def _utc(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _cell(value: Any) -> str:
    """A value made safe for one Markdown table cell."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value.value if hasattr(value, "value") else value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def _block(text: str) -> str:
    return text.strip() if text and text.strip() else "—"


def _table(rows: Iterable[tuple[str, Any]]) -> list[str]:
    lines = ["| field | value |", "|---|---|"]
    lines += [f"| {name} | {_cell(value)} |" for name, value in rows]
    return lines + [""]


def markdown_report(details, generated_at: datetime | None = None) -> str:
    i: Incident = details.incident
    sev = f"Sev{i.priority} ({SEVERITY_NAMES.get(i.priority, '')})"
    out = [f"# Post-incident report: {i.key} — {i.title}", ""]
    out += [f"**{sev}** · {i.state.label}" + (" · **MAJOR**" if i.major else "")
            + (" · confidential" if i.confidential else ""), ""]
    out += ["## Summary", "", _block(i.description), ""]
    out += ["## Classification", ""] + _table([
        ("service", i.service), ("configuration item", i.configuration_item),
        ("category", f"{i.category or '—'} / {i.subcategory or '—'}"),
        ("impact × urgency", f"{i.impact} × {i.urgency} → {sev}"), ("override reason", i.priority_override_reason),
        ("initial severity guess", i.initial_severity), ("source", i.source.label),
    ])
    out += ["## People", ""] + _table([
        ("assignment group", i.assignment_group), ("assignee", i.assignee), ("reporter", i.reporter_name),
        ("contact", i.reporter_contact), ("department", i.reporter_department), ("logged by", i.created_by),
    ])
    out += ["## Times and SLA", ""] + _table([
        ("detected", _utc(i.detected_at)), ("reported", _utc(i.reported_at)),
        ("acknowledged", _utc(i.acknowledged_at)), ("resolved", _utc(i.resolved_at)), ("closed", _utc(i.closed_at)),
        *[(f"{c.name} SLA", f"{c.state.value}, due {_utc(c.due_at)}") for c in (details.response, details.resolution)],
    ])
    links = [("duplicate of", format_key(i.parent_number) if i.parent_number else ""), ("problem", i.problem_ref),
             ("change", i.change_ref)]
    if any(v for _, v in links):
        out += ["## Links", ""] + _table(links)
    if i.resolution_code or i.root_cause:
        out += ["## Resolution", ""] + _table([
            ("root cause", i.root_cause), ("resolution code", i.resolution_code), ("what was done", i.resolution_notes),
            ("how it was tested", i.resolution_tested), ("what users were told", i.resolution_communication),
        ])
    if i.closure_verified_by or i.cancel_reason:
        out += ["## Closure", ""] + _table([
            ("verified by", i.closure_verified_by), ("feedback rating", i.feedback_rating),
            ("feedback comment", i.feedback_comment), ("lessons learned", i.lessons_learned),
            ("cancel reason", i.cancel_reason),
        ])
    out += _collab(details)
    out += _review(i.post_incident_review)
    out += ["## Diagnosis", ""]
    if not details.notes:
        out.append("No diagnosis notes.")
    for n in details.notes:
        status = f" ({n.status.value})" if n.status else ""
        result = f" → {n.result}" if n.result else ""
        out.append(f"{n.position}. **{n.kind.label}{status}**: {n.text}{result} — {n.author}, {_utc(n.created_at)}")
    out += ["", "## Timeline", "", "| when | who | what |", "|---|---|---|"]
    out += [f"| {_utc(e.at)} | {_cell(e.actor)} | {_cell(e.summary)} |" for e in details.timeline]
    out.append("")
    if generated_at is not None:
        out += [f"_Generated by eim at {_utc(generated_at)}._", ""]
    return "\n".join(out)


def _collab(details) -> list[str]:
    """Who held which role, the tasks worked and the post-incident actions with owners and due dates."""
    collab = getattr(details, "collab", None)
    if collab is None:
        return []
    out: list[str] = []
    if collab.roles:
        roles = collab.role_map()
        out += ["## Roles", ""] + _table([
            ("commander", roles["commander"]), ("scribe", roles["scribe"]), ("communications lead", roles["comms"]),
            ("subject experts", ", ".join(roles["experts"])),
        ])
    for kind, title in (("task", "Tasks during the incident"), ("action", "Post-incident actions")):
        tasks = [t for t in collab.tasks if t.kind.value == kind]
        if tasks:
            out += [f"## {title}", "", "| # | what | owner | due | status |", "|---|---|---|---|---|"]
            out += [f"| {t.number} | {_cell(t.what)} | {_cell(t.owner)} | {_utc(t.due_at) if t.due_at else '—'} | "
                    f"{t.status.value}{' by ' + _cell(t.done_by) + ' ' + _utc(t.done_at) if t.done_at else ''} |"
                    for t in tasks]
            out.append("")
    if collab.updates:
        last = collab.last_update
        when = f"{_utc(last.at)} by {last.author}" if last else "—"
        out += ["## Stakeholder updates", "",
                (f"{collab.updates} update(s) to {len(collab.subscribers)} subscriber(s); the last at {when} "
                 "(each is in the timeline)."), ""]
    return out


def _review(review: dict[str, Any] | None) -> list[str]:
    if not review:
        return []
    out = ["## Post-incident review", ""]
    for key, title in (("summary", "Summary"), ("highlights", "Timeline highlights"),
                       ("went_well", "What went well"), ("went_badly", "What did not go well")):
        if key in review:
            out += [f"### {title}", "", _block(str(review.get(key) or "")), ""]
    actions = review.get("actions") or []
    if actions:
        out += ["### Actions", "", "| action | owner |", "|---|---|"]
        out += [f"| {_cell(a.get('action'))} | {_cell(a.get('owner'))} |" for a in actions if isinstance(a, dict)]
        out.append("")
    return out


# --- every incident ------------------------------------------------------------------------------


def incident_record(incident: Incident) -> dict[str, Any]:
    return incident_dict(incident)


def write_all(incidents: Iterator[Incident], fmt: str, out: TextIO) -> int:
    """Every incident as JSON lines (one object a line) or CSV (one row each); returns the count."""
    count = 0
    if fmt == "json":
        for incident in incidents:
            out.write(json.dumps(incident_record(incident), ensure_ascii=False, sort_keys=False) + "\n")
            count += 1
        return count
    if fmt != "csv":
        raise ValueError(f"unknown export format {fmt!r}; use json or csv")
    writer: csv.DictWriter | None = None
    for incident in incidents:
        record = {k: _csv_value(v) for k, v in incident_record(incident).items()}
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(record), lineterminator="\n")
            writer.writeheader()
        writer.writerow(record)
        count += 1
    return count


# A cell a spreadsheet would read as a formula (`=HYPERLINK(…)`, `+1`, `@SUM`, `-2+3`, a leading
# tab or carriage return): written with a leading apostrophe, which spreadsheets show as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
