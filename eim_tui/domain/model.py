"""The incident model: enums and frozen dataclasses, in the words of the incident process.

Everything here is plain data. Rules that change it live in `lifecycle`, `priority` and `sla`.
Every datetime is timezone-aware UTC.
"""

from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from eim_tui.domain.errors import ValidationError
from eim_tui.domain.roles import Role


class State(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATES

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


OPEN_STATES = frozenset({State.NEW, State.IN_PROGRESS, State.ON_HOLD})
FINAL_STATES = frozenset({State.CLOSED, State.CANCELLED})


class HoldReason(StrEnum):
    AWAITING_USER = "awaiting_user"
    AWAITING_VENDOR = "awaiting_vendor"
    AWAITING_CHANGE = "awaiting_change"
    OTHER = "other"

    @property
    def pauses_sla(self) -> bool:
        """Waiting on someone outside the team stops the SLA clocks; other holds do not."""
        return self is not HoldReason.OTHER

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Source(StrEnum):
    MONITORING = "monitoring"
    USER_REPORT = "user_report"
    PROACTIVE = "proactive"
    EMAIL = "email"
    PHONE = "phone"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class SlaState(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"  # the clock stopped in time


class NoteKind(StrEnum):
    OBSERVATION = "observation"
    HYPOTHESIS = "hypothesis"
    TEST = "test"
    FINDING = "finding"
    WHY = "why"
    ROOT_CAUSE = "root_cause"
    ACTION = "action"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class HypothesisStatus(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class EventKind(StrEnum):
    CREATED = "created"
    FIELD_CHANGED = "field_changed"
    STATE_CHANGED = "state_changed"
    ASSIGNED = "assigned"
    NOTE_ADDED = "note_added"
    NOTE_EDITED = "note_edited"
    ALERT_RECEIVED = "alert_received"
    ALERT_RESOLVED = "alert_resolved"
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    NOTIFICATION_SENT = "notification_sent"
    ESCALATION = "escalation"
    LINKED = "linked"
    # Working together (domain/collab.py): roles, tasks, subscribers and stakeholder updates.
    ROLES_CHANGED = "roles_changed"
    TASK_ADDED = "task_added"
    TASK_DONE = "task_done"
    SUBSCRIBERS_CHANGED = "subscribers_changed"
    STAKEHOLDER_UPDATE = "stakeholder_update"
    UPDATE_DUE = "update_due"
    UPDATE_MISSED = "update_missed"
    ACTION_OVERDUE = "action_overdue"


SEVERITY_NAMES = {1: "critical", 2: "high", 3: "moderate", 4: "low", 5: "very low"}


def format_key(number: int) -> str:
    return f"INC-{number:06d}"


# The largest whole number a store can hold (SQLite INTEGER and PostgreSQL bigint are 64-bit signed):
# a key or number beyond it is refused where it is read, not by the driver (OverflowError).
LARGEST_NUMBER = 2**63 - 1


def parse_key(key: str) -> int:
    """`INC-000123`, `inc-123` or `123` → 123; ValueError otherwise."""
    text = key.strip().upper()
    if text.startswith("INC-"):
        text = text[4:]
    if not text.isdigit():
        raise ValueError(f"{key!r} is not an incident key; use the form INC-000123")
    if len(text) > 19 or int(text) > LARGEST_NUMBER:
        raise ValueError(f"{key!r} is too large for an incident key (at most {LARGEST_NUMBER})")
    return int(text)


_E = TypeVar("_E", bound=StrEnum)


def parse_enum(kind: type[_E], value: _E | str, what: str) -> _E:
    """`value` as a member of `kind`, read leniently (`In Progress`, `in-progress` → IN_PROGRESS);
    a `ValidationError` naming `what` and the members otherwise."""
    if isinstance(value, kind):
        return value
    try:
        return kind(str(value).lower().replace("-", "_").replace(" ", "_"))
    except ValueError:
        raise ValidationError(f"unknown {what} {value!r}; use one of: {', '.join(k.value for k in kind)}") from None


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident as the process knows it. `number` is the human key's number (INC-000123)."""

    number: int
    title: str
    impact: int
    urgency: int
    priority: int
    reported_at: datetime
    description: str = ""
    source: Source = Source.USER_REPORT
    detected_at: datetime | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reporter_name: str = ""
    reporter_contact: str = ""
    reporter_department: str = ""
    service: str = ""
    configuration_item: str = ""
    category: str = ""
    subcategory: str = ""
    priority_override_reason: str = ""
    initial_severity: int | None = None
    state: State = State.NEW
    hold_reason: HoldReason | None = None
    hold_note: str = ""
    assignment_group: str = ""
    assignee: str = ""
    major: bool = False
    confidential: bool = False
    escalated: bool = False
    parent_number: int | None = None
    problem_ref: str = ""
    change_ref: str = ""
    root_cause: str = ""
    resolution_code: str = ""
    resolution_notes: str = ""
    resolution_tested: str = ""
    resolution_communication: str = ""
    closure_verified_by: str = ""
    feedback_rating: int | None = None
    feedback_comment: str = ""
    lessons_learned: str = ""
    post_incident_review: dict[str, Any] | None = None
    cancel_reason: str = ""
    # SLA: due instants not counting a pause still running; the running pause began at `paused_since`.
    response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    paused_since: datetime | None = None
    sla_paused_seconds: float = 0.0
    # The last reopen and the pauses counted by then: a retarget restarts the resolution from there.
    reopened_at: datetime | None = None
    reopen_paused_seconds: float = 0.0
    alert_count: int = 0
    alerts_resolved: bool = False
    last_alert_at: datetime | None = None
    created_by: str = ""
    updated_at: datetime | None = None
    version: int = 1

    @property
    def key(self) -> str:
        return format_key(self.number)

    @property
    def severity(self) -> int:
        """Severity 1 (critical) … 5 (very low) is the priority the matrix (or an override) gave."""
        return self.priority

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def replace(self, **changes: Any) -> Incident:
        # dataclasses.replace checks every field on each call; the demo builds 100,000 incidents
        # through several replaces each. Unknown names still fail in __init__ with a TypeError.
        values = dict(zip(_INCIDENT_FIELDS, _incident_values(self)))
        values.update(changes)
        return Incident(**values)


_INCIDENT_FIELDS = tuple(f.name for f in dataclasses.fields(Incident))
_incident_values = operator.attrgetter(*_INCIDENT_FIELDS)


# Fields a person may see change in the timeline (the SLA bookkeeping ones are left out).
TRACKED_FIELDS = tuple(
    f.name
    for f in dataclasses.fields(Incident)
    if f.name not in {"number", "version", "updated_at", "paused_since", "sla_paused_seconds", "reopened_at",
                      "reopen_paused_seconds"}
)
_tracked_values = operator.attrgetter(*TRACKED_FIELDS)


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: Any
    new: Any


def diff(before: Incident, after: Incident) -> list[FieldChange]:
    """The tracked fields that differ between two versions of one incident, in model order."""
    old, new = _tracked_values(before), _tracked_values(after)
    return [FieldChange(name, o, n) for name, o, n in zip(TRACKED_FIELDS, old, new) if o != n]


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One append-only entry of an incident's history; `seq` orders the whole store's chain."""

    seq: int
    incident_number: int
    at: datetime
    actor: str
    kind: EventKind
    summary: str
    data: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""


@dataclass(frozen=True, slots=True)
class DiagnosisNote:
    id: int
    incident_number: int
    position: int
    kind: NoteKind
    text: str
    author: str
    created_at: datetime
    status: HypothesisStatus | None = None
    result: str = ""  # for a test: what happened
    updated_at: datetime | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    subcategories: tuple[str, ...] = ()
    confidential: bool = False


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    description: str = ""
    owner_group: str = ""
    configuration_items: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    description: str = ""
    shift_lead: str = ""
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class User:
    name: str
    full_name: str = ""
    email: str = ""
    role: Role = Role.RESPONDER
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QueueRow:
    """The slice of an incident one queue row shows; the countdown is computed when drawn."""

    number: int
    priority: int
    state: State
    title: str
    service: str
    assignment_group: str
    assignee: str
    reported_at: datetime
    clock: str  # the clock that matters now: "response", "resolution", or "" when none runs
    due_at: datetime | None  # that clock's due instant, not counting a pause still running
    warn_at: datetime | None  # when that clock turns to warning
    paused_since: datetime | None = None
    major: bool = False
    confidential: bool = False
    category: str = ""
    resolved_at: datetime | None = None
    alerts_resolved: bool = False
    version: int = 1

    @property
    def key(self) -> str:
        return format_key(self.number)

    def sla_state(self, now: datetime) -> SlaState | None:
        if self.due_at is None:
            return None
        if self.paused_since is not None:
            return SlaState.BREACHED if self.paused_since >= self.due_at else SlaState.PAUSED
        if now >= self.due_at:
            return SlaState.BREACHED
        if self.warn_at is not None and now >= self.warn_at:
            return SlaState.WARNING
        return SlaState.OK

    def seconds_left(self, now: datetime) -> float | None:
        if self.due_at is None:
            return None
        if self.paused_since is not None:
            return (self.due_at - self.paused_since).total_seconds()
        return (self.due_at - now).total_seconds()
