"""What the timeline says about a change: one event per meaningful difference, in people's words."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eim_tui.domain.model import EventKind, FieldChange, Incident, diff

# (kind, summary, data) — the store adds who, when and the hash chain.
EventDraft = tuple[EventKind, str, dict[str, Any]]

_LABELS = {
    "assignment_group": "group",
    "configuration_item": "configuration item",
    "priority": "severity",
    "response_due_at": "response due",
    "resolution_due_at": "resolution due",
    "post_incident_review": "post-incident review",
    "parent_number": "duplicate of",
}

# Fields whose change is part of a state change and needs no line of its own.
_FOLDED_INTO_STATE = {
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "hold_reason",
    "hold_note",
    "resolution_code",
    "resolution_notes",
    "resolution_tested",
    "resolution_communication",
    "closure_verified_by",
    "feedback_rating",
    "feedback_comment",
    "lessons_learned",
    "cancel_reason",
}

# Kept in step by the ingest receiver, whose alert events (alert received / resolved) say it.
_SAID_BY_ALERT_EVENTS = {"alert_count", "last_alert_at", "alerts_resolved"}


def show(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    if hasattr(value, "value"):
        return str(value.value).replace("_", " ")
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return value


def change_events(before: Incident, after: Incident, note: str = "") -> list[EventDraft]:
    """Timeline events for the difference between two versions of an incident."""
    changes = diff(before, after)
    events: list[EventDraft] = []
    by_field = {c.field: c for c in changes}
    if "state" in by_field:
        c = by_field["state"]
        detail = _state_detail(after)
        summary = f"state {show(c.old)} → {show(c.new)}" + (f" ({detail})" if detail else "")
        # In model order, not the set's: the stored JSON must not vary with the hash seed.
        folded = {c.field: _change_data(c) for c in changes if c.field in _FOLDED_INTO_STATE}
        events.append(
            (EventKind.STATE_CHANGED, summary, {"field": "state", "old": _plain(c.old), "new": _plain(c.new), "with": folded})
        )
    if "assignment_group" in by_field or "assignee" in by_field:
        old = f"{before.assignment_group or '—'}/{before.assignee or '—'}"
        new = f"{after.assignment_group or '—'}/{after.assignee or '—'}"
        events.append((EventKind.ASSIGNED, f"assigned {old} → {new}", {"old": old, "new": new}))
    for c in changes:
        if c.field in ("state", "assignment_group", "assignee") or c.field in _SAID_BY_ALERT_EVENTS:
            continue
        if c.field in _FOLDED_INTO_STATE and "state" in by_field:
            continue
        kind = EventKind.LINKED if c.field in ("parent_number", "problem_ref", "change_ref") else EventKind.FIELD_CHANGED
        label = _LABELS.get(c.field, c.field.replace("_", " "))
        old, new = (f"INC-{c.old:06d}" if c.field == "parent_number" and c.old else show(c.old),
                    f"INC-{c.new:06d}" if c.field == "parent_number" and c.new else show(c.new))
        summary = f"{label} {old} → {new}"
        if c.field == "priority" and after.priority_override_reason:
            summary += f" (override: {after.priority_override_reason})"
        events.append((kind, summary, _change_data(c)))
    if note and events:
        kind, summary, data = events[0]
        events[0] = (kind, f"{summary} — {note}", {**data, "note": note})
    return events


def _change_data(c: FieldChange) -> dict[str, Any]:
    return {"field": c.field, "old": _plain(c.old), "new": _plain(c.new)}


def _state_detail(after: Incident) -> str:
    if after.hold_reason is not None:
        return after.hold_reason.label + (f": {after.hold_note}" if after.hold_note else "")
    if after.state.value == "resolved":
        return after.resolution_code
    if after.state.value == "cancelled":
        return after.cancel_reason
    return ""
