"""The store's tables (SQLAlchemy 2.x declarative). Nothing outside `store/` sees these classes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from eim_tui.store.types import UTCDateTime


class Base(DeclarativeBase):
    pass


class IncidentRow(Base):
    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the number in INC-000123
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20))
    detected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reporter_name: Mapped[str] = mapped_column(String(200), default="")
    reporter_contact: Mapped[str] = mapped_column(String(200), default="")
    reporter_department: Mapped[str] = mapped_column(String(200), default="")
    service: Mapped[str] = mapped_column(String(100), default="")
    configuration_item: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(100), default="")
    subcategory: Mapped[str] = mapped_column(String(100), default="")
    impact: Mapped[int] = mapped_column(Integer)
    urgency: Mapped[int] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer)
    priority_override_reason: Mapped[str] = mapped_column(Text, default="")
    initial_severity: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))
    hold_reason: Mapped[str | None] = mapped_column(String(30))
    hold_note: Mapped[str] = mapped_column(Text, default="")
    assignment_group: Mapped[str] = mapped_column(String(100), default="")
    assignee: Mapped[str] = mapped_column(String(100), default="")
    major: Mapped[bool] = mapped_column(Boolean, default=False)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"))
    problem_ref: Mapped[str] = mapped_column(String(100), default="")
    change_ref: Mapped[str] = mapped_column(String(100), default="")
    root_cause: Mapped[str] = mapped_column(Text, default="")
    resolution_code: Mapped[str] = mapped_column(String(50), default="")
    resolution_notes: Mapped[str] = mapped_column(Text, default="")
    resolution_tested: Mapped[str] = mapped_column(Text, default="")
    resolution_communication: Mapped[str] = mapped_column(Text, default="")
    closure_verified_by: Mapped[str] = mapped_column(String(100), default="")
    feedback_rating: Mapped[int | None] = mapped_column(Integer)
    feedback_comment: Mapped[str] = mapped_column(Text, default="")
    lessons_learned: Mapped[str] = mapped_column(Text, default="")
    post_incident_review: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_paused_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    # The last reopen and the pauses counted by then: a retarget restarts the resolution from it.
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_paused_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))
    alert_count: Mapped[int] = mapped_column(Integer, default=0)
    alerts_resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    last_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Derived on every write, so the queue can order and the scheduler can find the next instant
    # with an index instead of computing clocks for every incident.
    is_open: Mapped[bool] = mapped_column(Boolean)
    sla_clock: Mapped[str] = mapped_column(String(10), default="")
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        # The queue's order; the trailing columns make it covering for the filter's free words
        # (key, title, service; confidential for the placeholder rule), so `sev<=2 disk` reads the
        # index alone instead of 16,000 rows at 100,000 incidents.
        Index("ix_incident_queue", "is_open", "priority", "sla_due_at", "id", "confidential", "title", "service"),
        Index("ix_incident_open_due", "is_open", "sla_due_at"),
        Index("ix_incident_open_warn", "is_open", "sla_warn_at"),
        # The SLA scheduler's look-up of unacknowledged incidents' resolution clocks, per severity
        # (`acknowledged_at IS NULL` is an equality for the index, so the due instants are a range).
        Index("ix_incident_open_resolution", "is_open", "priority", "acknowledged_at", "resolution_due_at"),
        Index("ix_incident_assignee", "assignee", "is_open"),
        Index("ix_incident_group", "assignment_group", "is_open"),
        Index("ix_incident_state", "state", "resolved_at"),
        Index("ix_incident_reported", "reported_at"),
        # The wall board's aggregates (store/board.py), each answered from one index alone.
        Index("ix_incident_open_group", "is_open", "assignment_group", "priority", "sla_due_at"),
        Index("ix_incident_open_ack", "is_open", "acknowledged_at", "priority"),
        Index("ix_incident_open_major", "is_open", "major", "priority", "id"),
        Index("ix_incident_acknowledged", "acknowledged_at", "priority", "reported_at"),
        Index("ix_incident_resolved", "resolved_at", "priority", "reported_at", "sla_paused_seconds"),
    )


class TimelineRow(Base):
    """Append-only; `seq` orders the whole store and each row carries the previous row's hash."""

    __tablename__ = "timeline_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    # SLA warnings, breaches and escalations are recorded once per incident and clock instant,
    # whatever number of schedulers race for it: the uniqueness of this key enforces it.
    once_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class StateVisitRow(Base):
    """One stay of an incident in one state (with its hold reason), derived from the timeline in
    the same transaction as the event that entered it, and closed by the event that left it.

    The timeline stays the record; this is its index for "where incidents wait" (`eim report
    --process`): reading 300,000 timeline events and their JSON at 100,000 incidents took 1.5 s."""

    __tablename__ = "state_visit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # the timeline event that entered the state
    state: Mapped[str] = mapped_column(String(200))  # "on hold: awaiting user"
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hours: Mapped[float | None] = mapped_column(Float)
    next_state: Mapped[str | None] = mapped_column(String(200))

    # Each of the process report's three questions is read from an index alone (see store/reports.py).
    __table_args__ = (
        Index("ix_state_visit_state_hours", "state", "hours"),
        Index("ix_state_visit_state_incident", "state", "incident_id"),
        Index("ix_state_visit_state_next", "state", "next_state"),
    )


class IncidentNumberRow(Base):
    """One row: the last incident number handed out. Taken under its row lock by the transaction
    that inserts the incident, so a rollback gives the number back: numbers are gapless."""

    __tablename__ = "incident_number"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class ChainHeadRow(Base):
    """One row: the last link of the timeline chain. Writers lock it, so appends are serial."""

    __tablename__ = "chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default="")


class DiagnosisNoteRow(Base):
    __tablename__ = "diagnosis_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(20))
    result: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)


class DraftRow(Base):
    """Text being typed, saved as it is typed, so a killed terminal loses nothing."""

    __tablename__ = "draft"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(100))  # e.g. "note:INC-000123", "new-incident"
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("owner", "scope"),)


class CategoryRow(Base):
    __tablename__ = "category"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)


class SubcategoryRow(Base):
    __tablename__ = "subcategory"

    category: Mapped[str] = mapped_column(ForeignKey("category.name"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)


class ServiceRow(Base):
    __tablename__ = "service"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    owner_group: Mapped[str] = mapped_column(String(100), default="")
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # migration 0005: kept for history


class ConfigurationItemRow(Base):
    __tablename__ = "configuration_item"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    service: Mapped[str] = mapped_column(ForeignKey("service.name"), index=True)
    kind: Mapped[str] = mapped_column(String(50), default="", server_default="")  # migration 0005 …
    owner_group: Mapped[str] = mapped_column(String(100), default="", server_default="")
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class GroupRow(Base):
    __tablename__ = "assignment_group"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    shift_lead: Mapped[str] = mapped_column(String(100), default="")


class UserRow(Base):
    __tablename__ = "app_user"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default="responder")
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set: may no longer use eim (0007)


class GroupMemberRow(Base):
    __tablename__ = "group_member"

    group_name: Mapped[str] = mapped_column(ForeignKey("assignment_group.name"), primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("app_user.name"), primary_key=True)


class SlaPolicyRow(Base):
    __tablename__ = "sla_policy"

    severity: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), default="")
    response_seconds: Mapped[int] = mapped_column(Integer)
    resolution_seconds: Mapped[int] = mapped_column(Integer)
    warning_fraction: Mapped[float] = mapped_column(Float, default=0.75)


class ProblemRow(Base):
    __tablename__ = "problem"

    ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    root_cause: Mapped[str] = mapped_column(Text, default="")
    known_error: Mapped[bool] = mapped_column(Boolean, default=False)
    workaround: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=text("CURRENT_TIMESTAMP"))


class InboundPayloadRow(Base):
    """A monitoring request's raw body, stored before it is processed so a crash loses nothing."""

    __tablename__ = "inbound_payload"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(30))  # alertmanager, pagerduty, generic
    content_type: Mapped[str] = mapped_column(String(100), default="")
    body: Mapped[str] = mapped_column(Text)
    remote: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending, processed, rejected, failed
    error: Mapped[str] = mapped_column(Text, default="")
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_inbound_payload_status", "status", "id"),)


class AlertRow(Base):
    """One alert as monitoring knows it (deduplicated by source and fingerprint / dedup key)."""

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(30))
    dedup_key: Mapped[str] = mapped_column(String(200))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # firing, resolved
    name: Mapped[str] = mapped_column(String(300), default="")
    labels: Mapped[dict[str, Any]] = mapped_column(JSON)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=1)
    payload_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_payload.id"))

    __table_args__ = (UniqueConstraint("source", "dedup_key", name="uq_alert_source_key"),)


class WatchRow(Base):
    """Someone who wants alerts for an incident they do not hold."""

    __tablename__ = "watch"

    user_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), primary_key=True)


# --- eim service: outbound channels, the outbox, and who is running (migration 0003) -------------


class NotifyChannelRow(Base):
    """Where a person or a group is reached: an apprise URL (it may hold a secret: never printed)."""

    __tablename__ = "notify_channel"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(10))  # user | group
    owner_name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_notify_channel_owner", "owner_kind", "owner_name"),)


class OutboxRow(Base):
    """One message to deliver to one recipient on one channel: claimed, sent, then marked.

    The unique key (event, recipient, channel) lets any number of services enqueue the same
    event's deliveries and get each row once; a claim older than the lease is taken again."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_seq: Mapped[int] = mapped_column(Integer)
    incident_id: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(String(110))  # a user name, group:NAME, or default
    channel_key: Mapped[str] = mapped_column(String(64))  # sha256 of the URL
    channel_kind: Mapped[str] = mapped_column(String(40))  # the URL's scheme: mailto, json, slack…
    url: Mapped[str] = mapped_column(Text)
    severity: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str] = mapped_column(String(100), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("event_seq", "recipient", "channel_key", name="uq_outbox_delivery"),
        Index("ix_outbox_status", "status", "not_before"),
    )


class NotifyCursorRow(Base):
    """How far the services have turned timeline events into outbox rows (one row per stream)."""

    __tablename__ = "notify_cursor"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)


class ServiceHeartbeatRow(Base):
    """A running `eim service`: refreshed every few seconds; a stale row is a service gone."""

    __tablename__ = "service_heartbeat"

    instance: Mapped[str] = mapped_column(String(100), primary_key=True)  # host:pid:token
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)


# --- working together: incident roles, tasks, subscribers (migration 0004) ------------------------


class IncidentRoleRow(Base):
    """Who holds a role on an incident: one commander, scribe and comms lead; any number of experts."""

    __tablename__ = "incident_role"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)  # commander | scribe | comms | expert
    user_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # experts in the order they were named


class IncidentTaskRow(Base):
    """A task during the incident or a post-incident action; `number` is N in `eim task done KEY N`."""

    __tablename__ = "incident_task"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))  # task | action
    what: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(100), default="")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10))  # open | done
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_by: Mapped[str] = mapped_column(String(100), default="")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("incident_id", "number", name="uq_incident_task_number"),
        # `eim actions --open` and the service's overdue sweep read a range of this index alone.
        Index("ix_incident_task_due", "kind", "status", "due_at"),
    )


class IncidentSubscriberRow(Base):
    """Who hears the incident's stakeholder updates: a user, a group, or an apprise URL (a secret)."""

    __tablename__ = "incident_subscriber"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"))
    kind: Mapped[str] = mapped_column(String(10))  # user | group | url
    target: Mapped[str] = mapped_column(String(1000))

    __table_args__ = (UniqueConstraint("incident_id", "kind", "target", name="uq_incident_subscriber"),)


# --- imported history (migration 0008, issue 11) -------------------------------------------------


class IncidentImportRow(Base):
    """Where an imported incident came from: the source's own number (unique per source, so the
    same file twice is a no-op), a digest of the rows it was rebuilt from, and what the source
    recorded that eim has no field for (its SLA label is kept, never recomputed)."""

    __tablename__ = "incident_import"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(30))
    external_ref: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64))
    source_rows: Mapped[int] = mapped_column(Integer)
    made_sla: Mapped[bool | None] = mapped_column(Boolean)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    reassignment_count: Mapped[int] = mapped_column(Integer, default=0)
    on_hold_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    location: Mapped[str] = mapped_column(String(200), default="")
    symptom: Mapped[str] = mapped_column(String(200), default="")
    caused_by: Mapped[str] = mapped_column(String(100), default="")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("source", "external_ref", name="uq_incident_import_ref"),)


class ImportedNameRow(Base):
    """A name an import met that the store did not know (category, group, user, ci, location)."""

    __tablename__ = "imported_name"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    source: Mapped[str] = mapped_column(String(30))


# --- access: SSH keys that say who a person is (migration 0007) ----------------------------------


class UserSshKeyRow(Base):
    """A public key that identifies a person when they come in through the shared SSH account."""

    __tablename__ = "user_ssh_key"

    fingerprint: Mapped[str] = mapped_column(String(100), primary_key=True)  # SHA256:… as ssh-keygen -l
    user_name: Mapped[str] = mapped_column(ForeignKey("app_user.name"), index=True)
    key_type: Mapped[str] = mapped_column(String(40))
    key_data: Mapped[str] = mapped_column(Text)  # the base64 blob
    comment: Mapped[str] = mapped_column(String(200), default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- the catalogue: per-service SLA, routing rules, the catalogue's own chain (migration 0005) ---


class ServiceSlaRow(Base):
    """A service's own targets for one severity; severities without a row use `sla_policy`."""

    __tablename__ = "service_sla"

    service: Mapped[str] = mapped_column(ForeignKey("service.name"), primary_key=True)
    severity: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_seconds: Mapped[int] = mapped_column(Integer)
    resolution_seconds: Mapped[int] = mapped_column(Integer)


class RoutingRuleRow(Base):
    """A keyword / service rule proposing category, subcategory and group; tried by `position`."""

    __tablename__ = "routing_rule"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    keywords: Mapped[list[str]] = mapped_column(JSON)
    services: Mapped[list[str]] = mapped_column(JSON)
    category: Mapped[str] = mapped_column(String(100))
    subcategory: Mapped[str] = mapped_column(String(100))
    group_name: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")


class EscalationRuleRow(Base):
    """What happens when an incident is not handled in time (domain.escalation.EscalationRule),
    tried by `position`. Seeded from data/escalation.toml; then the store is the truth."""

    __tablename__ = "escalation_rule"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(30))
    severities: Mapped[list[int]] = mapped_column(JSON)
    after_seconds: Mapped[int] = mapped_column(Integer, default=0)
    notify: Mapped[list[str]] = mapped_column(JSON)
    reach: Mapped[list[str]] = mapped_column(JSON)
    mark_escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    raise_severity: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")


class CatalogueHeadRow(Base):
    """The catalogue chain's head (one row); its existence also says the store has been seeded."""

    __tablename__ = "catalogue_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default="")


class CatalogueEventRow(Base):
    """Append-only record of catalogue changes, hash-chained like `timeline_event` (its head is
    `catalogue_head`), so `eim audit verify` proves the catalogue's history too."""

    __tablename__ = "catalogue_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # added | changed | retired | removed | seeded
    entity: Mapped[str] = mapped_column(String(20))  # service | ci | group | category | sla | routing
    name: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_catalogue_event_entity", "entity", "name"),)


# --- change management: change records, their targets, incident links, their timeline (migration 0006)


class ChangeRow(Base):
    """A change record, `CHG-000123`; `version` guards against two people ending it at once."""

    __tablename__ = "change_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the number in CHG-000123
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(100), default="")
    risk: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20))
    planned_start: Mapped[datetime] = mapped_column(UTCDateTime)
    planned_end: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (Index("ix_change_state", "state", "planned_start"),)


class ChangeTargetRow(Base):
    """A service or configuration item a change affects, with the change's window copied in (kept
    in step by every state change): "recent changes on X" is then one index range on the window's
    end, however long X's history, instead of a look at every change X ever had."""

    __tablename__ = "change_target"

    change_id: Mapped[int] = mapped_column(ForeignKey("change_request.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # service | ci
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    # When the change ran or runs: actual times where known, else planned; `active_until` is far in
    # the future while it is in progress, and NULL once cancelled (it never ran).
    active_from: Mapped[datetime] = mapped_column(UTCDateTime)
    active_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_change_target_window", "kind", "name", "active_until", "change_id"),)


class ChangeIncidentRow(Base):
    """An incident tied to a change: caused by it, or opened during it."""

    __tablename__ = "change_incident"

    change_id: Mapped[int] = mapped_column(ForeignKey("change_request.id"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), primary_key=True)
    relation: Mapped[str] = mapped_column(String(20), primary_key=True)  # caused_by | during
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_change_incident_incident", "incident_id"),)


class ChangeEventRow(Base):
    """A change's timeline: append-only and hash-chained like the incidents' (its own chain, whose
    head is `chain_head` row 6), so `eim change verify` can prove nothing was altered."""

    __tablename__ = "change_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    change_id: Mapped[int] = mapped_column(ForeignKey("change_request.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
