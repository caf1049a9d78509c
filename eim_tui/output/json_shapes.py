"""Stable JSON shapes for `--json` output and exports (documented in the README)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import Any

from eim_tui.domain import sla
from eim_tui.domain.model import DiagnosisNote, Incident, QueueRow, TimelineEvent, format_key


def plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def clock_dict(reading: sla.ClockReading) -> dict[str, Any]:
    return {
        "state": reading.state.value,
        "due_at": plain(reading.due_at),
        "seconds_left": round(reading.remaining),
        "target_seconds": int(reading.target.total_seconds()),
        "stopped_at": plain(reading.stopped_at),
    }


def queue_row_dict(row: QueueRow, now: datetime) -> dict[str, Any]:
    state = row.sla_state(now)
    left = row.seconds_left(now)
    return {
        "key": row.key,
        "severity": row.priority,
        "state": row.state.value,
        "title": row.title,
        "service": row.service,
        "group": row.assignment_group,
        "assignee": row.assignee,
        "major": row.major,
        "category": row.category,
        "confidential": row.confidential,
        "reported_at": plain(row.reported_at),
        "sla": {
            "clock": row.clock or None,
            "state": state.value if state else None,
            "due_at": plain(row.due_at),
            "seconds_left": round(left) if left is not None else None,
        },
    }


def incident_dict(incident: Incident) -> dict[str, Any]:
    data = {f.name: plain(getattr(incident, f.name)) for f in dataclasses.fields(Incident)}
    data.pop("number")
    parent = data.pop("parent_number")
    return {"key": incident.key, "severity": incident.priority, **data, "parent": format_key(parent) if parent else None}


def note_dict(note: DiagnosisNote) -> dict[str, Any]:
    return {
        "position": note.position,
        "kind": note.kind.value,
        "text": note.text,
        "status": plain(note.status),
        "result": note.result,
        "author": note.author,
        "created_at": plain(note.created_at),
        "updated_at": plain(note.updated_at),
    }


def event_dict(event: TimelineEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": plain(event.at),
        "actor": event.actor,
        "kind": event.kind.value,
        "summary": event.summary,
        "data": event.data,
        "hash": event.hash,
    }


def details_dict(details) -> dict[str, Any]:
    return {
        **incident_dict(details.incident),
        "sla": {"response": clock_dict(details.response), "resolution": clock_dict(details.resolution)},
        "diagnosis_notes": [note_dict(n) for n in details.notes],
        "timeline": [event_dict(e) for e in details.timeline],
        **collab_dict(details.collab),
    }


def collab_dict(collab) -> dict[str, Any]:
    """Roles, tasks, subscribers (URLs masked: they may hold secrets) and the last stakeholder update."""
    from eim_tui.notify.channels import mask

    last = collab.last_update
    return {
        "roles": collab.role_map(),
        "tasks": [{"number": t.number, "kind": t.kind.value, "what": t.what, "who": t.owner,
                   "due_at": t.due_at.isoformat() if t.due_at else None, "status": t.status.value,
                   "done_by": t.done_by, "done_at": t.done_at.isoformat() if t.done_at else None}
                  for t in collab.tasks],
        "subscribers": [{"kind": s.kind, "target": mask(s.target) if s.kind == "url" else s.target}
                        for s in collab.subscribers],
        "last_update": None if last is None else {
            "at": last.at.isoformat(), "by": last.author, "text": last.text, "final": last.final,
            "next_update_at": last.next_update_at.isoformat() if last.next_update_at else None},
    }


def resolved_dict(r) -> dict[str, Any]:
    """One of `eim similar --json`'s similar incidents (services.similar.ResolvedIncident)."""
    return {"key": r.key, "title": r.title, "state": r.state.value, "score": r.score,
            "resolution_code": r.resolution_code, "resolution_notes": r.resolution_notes,
            "resolved_at": plain(r.resolved_at)}
