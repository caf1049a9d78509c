"""Rows ↔ domain objects, and the guarded write of one incident (optimistic locking).

Only domain objects leave this module. `save_incident` refuses to write over a version it did not
read, and keeps the derived queue columns (`is_open`, `sla_*`) in step with the incident.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from eim_tui.domain import sla
from eim_tui.domain.errors import ConflictError, NotFoundError
from eim_tui.domain.model import HoldReason, Incident, Source, State, format_key
from eim_tui.store import timeline
from eim_tui.store.tables import IncidentNumberRow, IncidentRow, TimelineRow

_DIRECT = [f.name for f in dataclasses.fields(Incident) if f.name not in {"number", "parent_number"}]


def incident_from_row(row: IncidentRow) -> Incident:
    values: dict[str, Any] = {name: getattr(row, name) for name in _DIRECT}
    values["source"] = Source(row.source)
    values["state"] = State(row.state)
    values["hold_reason"] = HoldReason(row.hold_reason) if row.hold_reason else None
    return Incident(number=row.id, parent_number=row.parent_id, **values)


def incident_values(incident: Incident, policies: Mapping[int, sla.SlaPolicy]) -> dict[str, Any]:
    """Column values for an incident, with the derived queue columns."""
    values = {name: getattr(incident, name) for name in _DIRECT}
    values["source"] = incident.source.value
    values["state"] = incident.state.value
    values["hold_reason"] = incident.hold_reason.value if incident.hold_reason else None
    values["parent_id"] = incident.parent_number
    values.update(derived_columns(incident, policies))
    return values


def derived_columns(incident: Incident, policies: Mapping[int, sla.SlaPolicy]) -> dict[str, Any]:
    due = sla.sort_due(incident)
    clock = ""
    warn = None
    if incident.is_open:
        clock = "response" if incident.acknowledged_at is None else "resolution"
        if due is not None:
            policy = policies[incident.priority]
            target = policy.response if clock == "response" else policy.resolution
            warn = sla.warning_at(due, target, policy.warning_fraction, policy.calendar)
    return {"is_open": incident.is_open, "sla_clock": clock, "sla_due_at": due, "sla_warn_at": warn}


def get_incident(session: Session, number: int, for_update: bool = False) -> Incident:
    stmt = select(IncidentRow).where(IncidentRow.id == number)
    if for_update:
        stmt = stmt.with_for_update()
    row = session.execute(stmt).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"no incident {format_key(number)}")
    return incident_from_row(row)


def get_incidents(session: Session, numbers) -> dict[int, Incident]:
    """The incidents among `numbers` that exist, by number (one query per 500)."""
    wanted = sorted(set(numbers))
    found: dict[int, Incident] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(select(IncidentRow).where(IncidentRow.id.in_(wanted[start:start + 500]))).scalars()
        found.update((row.id, incident_from_row(row)) for row in rows)
    return found


def allocate_numbers(session: Session, count: int = 1) -> int:
    """Take the next `count` incident numbers in the caller's transaction; returns the first.

    The counter row stays locked until the transaction ends (PostgreSQL row lock; SQLite's write
    lock is held from BEGIN IMMEDIATE), so a transaction that rolls back gives its numbers back and
    numbers are gapless — unlike a serial sequence, which never gives a number back. The chain head
    is locked first: every writer that inserts an incident appends to the timeline too, and taking
    the two locks in one order means two such writers never wait on each other in a circle.
    """
    timeline.lock_head(session)
    # Never behind the incidents already stored, even ones written without the counter (a tool
    # inserting rows directly): a duplicate number would fail the insert.
    highest = select(func.coalesce(func.max(IncidentRow.id), 0)).scalar_subquery()
    last = IncidentNumberRow.last_number
    take = (
        update(IncidentNumberRow)
        .where(IncidentNumberRow.id == 1)
        .values(last_number=case((highest > last, highest), else_=last) + count)
        .returning(IncidentNumberRow.last_number)
        .execution_options(synchronize_session=False)
    )
    taken = session.execute(take).scalar_one_or_none()
    if taken is None:
        # A store made new by this release: the first writer creates the counter (the chain head's
        # lock, held here, keeps a second from racing it; on conflict is for a store made otherwise).
        dialect = session.get_bind().dialect.name
        make = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(IncidentNumberRow)
        session.execute(make.values(id=1, last_number=0).on_conflict_do_nothing(index_elements=["id"]))
        taken = session.execute(take).scalar_one()
    return taken - count + 1


def insert_incident(
    session: Session, incident: Incident, policies: Mapping[int, sla.SlaPolicy]
) -> Incident:
    number = allocate_numbers(session)
    values = incident_values(incident.replace(number=number), policies)
    values.update(id=number, version=1)
    # Core, the values as parameters: one cached statement, not one built (and coerced) per incident.
    session.execute(insert(IncidentRow.__table__), values)
    return incident.replace(number=number, version=1)


def insert_numbered(session: Session, incidents: list[Incident], policies_for) -> None:
    """Incidents already numbered (from `allocate_numbers`) and versioned, in one statement: a batch
    of the ingest receiver. `policies_for(service)` gives each one's SLA policies."""
    if incidents:
        rows = []
        for incident in incidents:
            values = incident_values(incident, policies_for(incident.service))
            values.update(id=incident.number, version=incident.version)
            rows.append(values)
        session.execute(insert(IncidentRow.__table__), rows)


# The derived queue columns depend on reference data (SLA policies) too, so they are always rewritten.
_ALWAYS_WRITTEN = frozenset({"updated_at", "is_open", "sla_clock", "sla_due_at", "sla_warn_at"})


def save_incident(
    session: Session,
    before: Incident,
    after: Incident,
    policies: Mapping[int, sla.SlaPolicy],
    at: datetime,
    changes: int = 1,
) -> Incident:
    """Write `after` over `before`, only if the stored version is still `before.version`.
    `changes`: how many changes `after` sums up (a batch of the ingest receiver writes several
    changes of one incident at once); the version moves on by as many."""
    values = incident_values(after.replace(updated_at=at), policies)
    # Only what changed is written: an UPDATE of every column costs more to build than to run.
    unchanged = incident_values(before, policies)
    values = {k: v for k, v in values.items() if k in _ALWAYS_WRITTEN or unchanged.get(k) != v}
    values["version"] = before.version + changes
    result = session.execute(
        update(IncidentRow.__table__)  # Core, not the ORM bulk path, which costs more than the UPDATE
        .where(IncidentRow.id == before.number, IncidentRow.version == before.version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise conflict(session, before)
    return after.replace(version=before.version + changes, updated_at=at)


# What alerts change on an incident (`domain.alerts.record_firing` / `record_resolved`): a batch of
# the ingest receiver writes such changes of many incidents with one cached statement.
ALERT_FIELDS = frozenset({"alert_count", "last_alert_at", "alerts_resolved"})
_ALERT_UPDATE = (
    update(IncidentRow.__table__)
    .where(IncidentRow.id == bindparam("w_id"), IncidentRow.version == bindparam("w_version"))
    .values({name: bindparam(f"v_{name}") for name in (*sorted(ALERT_FIELDS), *sorted(_ALWAYS_WRITTEN), "version")})
)


def only_alerts_changed(before: Incident, after: Incident) -> bool:
    """Whether `after` differs from `before` in the alert fields alone (and the time and version)."""
    return before.replace(alert_count=after.alert_count, last_alert_at=after.last_alert_at,
                          alerts_resolved=after.alerts_resolved, updated_at=after.updated_at,
                          version=after.version) == after


def save_alert_changes(
    session: Session, changes: list[tuple[Incident, Incident, int]], policies_for, at: datetime
) -> None:
    """Write (before, after, how many changes) where only the alert fields changed, one statement for
    all, each guarded by the version read as `save_incident` is; ConflictError (nothing to keep:
    the caller's transaction is to be rolled back) if any incident changed since."""
    if not changes:
        return
    rows = []
    for before, after, count in changes:
        values = {name: getattr(after, name) for name in ALERT_FIELDS}
        values.update(derived_columns(after, policies_for(after.service)), updated_at=at, version=before.version + count)
        rows.append({"w_id": before.number, "w_version": before.version, **{f"v_{k}": v for k, v in values.items()}})
    if session.get_bind().dialect.supports_sane_multi_rowcount or len(rows) == 1:
        batches = [rows]
    else:
        batches = [[row] for row in rows]
    for batch in batches:
        result = session.execute(_ALERT_UPDATE.execution_options(synchronize_session=False), batch)
        if result.rowcount != len(batch):
            before = next(b for b, _, _ in changes if b.number == batch[0]["w_id"])
            raise conflict(session, before)


def conflict(session: Session, before: Incident) -> Exception:
    """Why a guarded write found nothing to update: gone, or changed — and by whom, and what."""
    current = session.execute(select(IncidentRow.version).where(IncidentRow.id == before.number)).scalar()
    if current is None:
        return NotFoundError(f"no incident {before.key}")
    last = session.execute(
        select(TimelineRow.actor, TimelineRow.summary)
        .where(TimelineRow.incident_id == before.number)
        .order_by(TimelineRow.seq.desc())
        .limit(1)
    ).first()
    by, what = (last.actor, last.summary) if last else ("", "")
    return ConflictError(before.key, before.version, current, by=by, what=what)


def check_version(incident: Incident, expected_version: int | None, session: Session) -> None:
    """Refuse early when the caller's copy is stale (it read version N; the store has M)."""
    if expected_version is not None and expected_version != incident.version:
        raise conflict(session, incident.replace(version=expected_version))


def iter_incidents(session: Session, batch: int = 1000, entity=IncidentRow):
    """Every incident in key order, read in batches so a big store is never held in memory at once.
    `entity`: `IncidentRow`, or the same class over the incidents and their placeholders (placeholders.py)."""
    last = 0
    while True:
        rows = session.execute(
            select(entity).where(entity.id > last).order_by(entity.id).limit(batch)
        ).scalars().all()
        if not rows:
            return
        for row in rows:
            yield incident_from_row(row)
        last = rows[-1].id
        session.expunge_all()
