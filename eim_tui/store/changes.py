"""Change records in the store: rows ↔ `domain.changes.Change`, their hash-chained timeline, the
incidents tied to them, and the look-ups the screens and the alert receiver need.

The changes' timeline is a chain of its own (`change_event`, head in `chain_head` row 6; see
`store/side_chain.py`), so a change record cannot be rewritten unseen either.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from eim_tui.domain.changes import (
    RECENT,
    Change,
    ChangeLink,
    ChangeState,
    Relation,
    Risk,
    ServiceFailureRate,
    format_change_key,
)
from eim_tui.domain.errors import ConflictError, NotFoundError
from eim_tui.store import side_chain
from eim_tui.store.side_chain import SideChain, SideEvent
from eim_tui.store.tables import (
    ChangeEventRow,
    ChangeIncidentRow,
    ChangeRow,
    ChangeTargetRow,
)
from eim_tui.store.timeline import ChainReport

CHANGE_CHAIN = 6  # the chain_head row of the changes' timeline (migration 0006)
SERVICE, CI = "service", "ci"
RUNNING = datetime(9999, 12, 31, tzinfo=UTC)  # `active_until` of a change in progress: it has not ended


def active_window(change: Change) -> tuple[datetime, datetime | None]:
    """The (from, until) a change's targets carry: see `ChangeTargetRow`."""
    start, end = change.window
    if change.state is ChangeState.CANCELLED:
        return start, None
    return start, RUNNING if change.state is ChangeState.IN_PROGRESS else end


ChangeEvent = SideEvent  # `number` is the change's


# --- rows ↔ changes ------------------------------------------------------------------------------


def _targets(session: Session, numbers: Sequence[int]) -> dict[int, tuple[list[str], list[str]]]:
    out: dict[int, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for start in range(0, len(numbers), 500):
        rows = session.execute(
            select(ChangeTargetRow.change_id, ChangeTargetRow.kind, ChangeTargetRow.name)
            .where(ChangeTargetRow.change_id.in_(numbers[start:start + 500]))
            .order_by(ChangeTargetRow.change_id, ChangeTargetRow.kind, ChangeTargetRow.name)
        )
        for number, kind, name in rows:
            out[number][0 if kind == SERVICE else 1].append(name)
    return out


def _to_changes(session: Session, rows: Sequence[ChangeRow]) -> list[Change]:
    targets = _targets(session, [r.id for r in rows])
    return [
        Change(
            number=r.id, title=r.title, planned_start=r.planned_start, planned_end=r.planned_end,
            risk=Risk(r.risk), state=ChangeState(r.state), description=r.description, owner=r.owner,
            services=tuple(targets[r.id][0]), cis=tuple(targets[r.id][1]), started_at=r.started_at,
            finished_at=r.finished_at, outcome=r.outcome, created_at=r.created_at, created_by=r.created_by,
            version=r.version,
        )
        for r in rows
    ]


def insert_change(session: Session, change: Change) -> Change:
    row = ChangeRow(
        title=change.title, description=change.description, owner=change.owner, risk=change.risk.value,
        state=change.state.value, planned_start=change.planned_start, planned_end=change.planned_end,
        outcome="", created_at=change.created_at, created_by=change.created_by, version=1,
    )
    session.add(row)
    session.flush()
    begins, ends = active_window(change)
    window = {"change_id": row.id, "active_from": begins, "active_until": ends}
    targets = [{**window, "kind": SERVICE, "name": s} for s in change.services]
    targets += [{**window, "kind": CI, "name": c} for c in change.cis]
    if targets:
        session.execute(insert(ChangeTargetRow), targets)
    return change.replace(number=row.id, version=1)


def get_change(session: Session, number: int, for_update: bool = False) -> Change:
    stmt = select(ChangeRow).where(ChangeRow.id == number)
    if for_update:
        stmt = stmt.with_for_update()
    row = session.execute(stmt).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"no change {format_change_key(number)}; see eim change list")
    return _to_changes(session, [row])[0]


def save_state(session: Session, before: Change, after: Change) -> Change:
    """Write a change's new state, guarded by the version read: a race is a ConflictError."""
    done = session.execute(
        update(ChangeRow)
        .where(ChangeRow.id == before.number, ChangeRow.version == before.version)
        .values(state=after.state.value, started_at=after.started_at, finished_at=after.finished_at,
                outcome=after.outcome, version=before.version + 1)
    )
    if done.rowcount != 1:
        current = session.execute(select(ChangeRow.version).where(ChangeRow.id == before.number)).scalar() or 0
        raise ConflictError(before.key, before.version, current)
    begins, ends = active_window(after)
    session.execute(update(ChangeTargetRow).where(ChangeTargetRow.change_id == before.number)
                    .values(active_from=begins, active_until=ends))
    return after.replace(version=before.version + 1)


def list_changes(
    session: Session, states: Sequence[ChangeState] = (), service: str = "", limit: int | None = 200
) -> list[Change]:
    """Changes, newest window first; only those in `states` / on `service` when given."""
    stmt = select(ChangeRow)
    if states:
        stmt = stmt.where(ChangeRow.state.in_([s.value for s in states]))
    if service:
        stmt = stmt.where(ChangeRow.id.in_(
            select(ChangeTargetRow.change_id).where(ChangeTargetRow.kind == SERVICE, ChangeTargetRow.name == service)))
    stmt = stmt.order_by(ChangeRow.planned_start.desc(), ChangeRow.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return _to_changes(session, session.execute(stmt).scalars().all())


def _touching(service: str, ci: str):
    """The ids of changes on `service` or `ci` (an index range each)."""
    parts = []
    if service:
        parts.append(and_(ChangeTargetRow.kind == SERVICE, ChangeTargetRow.name == service))
    if ci:
        parts.append(and_(ChangeTargetRow.kind == CI, ChangeTargetRow.name == ci))
    return select(ChangeTargetRow.change_id).where(or_(*parts))


def in_progress_on(session: Session, service: str, ci: str) -> list[Change]:
    """The changes in progress on `service` or `ci` (the maintenance windows open now)."""
    if not service and not ci:
        return []
    rows = session.execute(
        select(ChangeRow)
        .where(ChangeRow.id.in_(_touching(service, ci)), ChangeRow.state == ChangeState.IN_PROGRESS.value)
        .order_by(ChangeRow.id)
    ).scalars().all()
    return _to_changes(session, rows)


def recent_on(session: Session, service: str, ci: str, now: datetime, span: timedelta = RECENT) -> list[Change]:
    """Changes on `service` or `ci` that ran in the `span` before `now` (`domain.changes.is_recent`),
    the latest first. Read through the target index, then only those changes' rows."""
    if not service and not ci:
        return []
    recent = _touching(service, ci).where(ChangeTargetRow.active_until >= now - span,
                                          ChangeTargetRow.active_from <= now)
    began = func.coalesce(ChangeRow.started_at, ChangeRow.planned_start)
    rows = session.execute(
        select(ChangeRow).where(ChangeRow.id.in_(recent)).order_by(began.desc(), ChangeRow.id.desc()).limit(50)
    ).scalars().all()
    return _to_changes(session, rows)


# --- incidents tied to changes ------------------------------------------------------------------


def link_incident(session: Session, change: int, incident: int, relation: Relation, at: datetime) -> bool:
    """Tie an incident to a change; False when it already was (a second link is no news)."""
    exists = session.execute(select(ChangeIncidentRow.change_id).where(
        ChangeIncidentRow.change_id == change, ChangeIncidentRow.incident_id == incident,
        ChangeIncidentRow.relation == relation.value)).first()
    if exists:
        return False
    session.add(ChangeIncidentRow(change_id=change, incident_id=incident, relation=relation.value, linked_at=at))
    session.flush()
    return True


def links_of_incident(session: Session, incident: int) -> list[ChangeLink]:
    rows = session.execute(
        select(ChangeIncidentRow.change_id, ChangeIncidentRow.relation)
        .where(ChangeIncidentRow.incident_id == incident)
        .order_by(ChangeIncidentRow.linked_at, ChangeIncidentRow.change_id)
    ).all()
    if not rows:
        return []
    changes = {c.number: c for c in _to_changes(session, session.execute(
        select(ChangeRow).where(ChangeRow.id.in_({r[0] for r in rows}))).scalars().all())}
    return [ChangeLink(changes[number], Relation(relation)) for number, relation in rows]


def incidents_of_change(session: Session, change: int) -> list[tuple[int, Relation]]:
    rows = session.execute(
        select(ChangeIncidentRow.incident_id, ChangeIncidentRow.relation)
        .where(ChangeIncidentRow.change_id == change)
        .order_by(ChangeIncidentRow.incident_id)
    ).all()
    return [(number, Relation(relation)) for number, relation in rows]


def failure_rates(session: Session) -> list[ServiceFailureRate]:
    """Per service: completed changes, those of them with a caused-by incident, and failed changes."""
    caused = select(ChangeIncidentRow.change_id).where(ChangeIncidentRow.relation == Relation.CAUSED_BY.value)
    rows = session.execute(
        select(ChangeTargetRow.name, ChangeRow.id, ChangeRow.state, ChangeRow.id.in_(caused))
        .join(ChangeRow, ChangeRow.id == ChangeTargetRow.change_id)
        .where(ChangeTargetRow.kind == SERVICE,
               ChangeRow.state.in_([ChangeState.COMPLETED.value, ChangeState.FAILED.value]))
        .order_by(ChangeTargetRow.name, ChangeRow.id)
    ).all()
    found: dict[str, dict[str, Any]] = {}
    for service, number, state, has_incident in rows:
        entry = found.setdefault(service, {"completed": 0, "caused": [], "failed": 0})
        if state == ChangeState.FAILED.value:
            entry["failed"] += 1
            continue
        entry["completed"] += 1
        if has_incident:
            entry["caused"].append(format_change_key(number))
    return [ServiceFailureRate(name, e["completed"], len(e["caused"]), e["failed"], e["caused"])
            for name, e in sorted(found.items())]


# --- the changes' timeline ----------------------------------------------------------------------

CHAIN = SideChain(CHANGE_CHAIN, ChangeEventRow, "change_id", "change", format_change_key)


def append_events(
    session: Session, number: int, events: Sequence[tuple[str, str, dict[str, Any]]], at: datetime, actor: str
) -> list[ChangeEvent]:
    """Append (kind, summary, data) events of change `number` at the end of the changes' chain."""
    return side_chain.append(session, CHAIN, number, events, at, actor)


def events_of(session: Session, number: int) -> list[ChangeEvent]:
    return side_chain.events_of(session, CHAIN, number)


def verify(session: Session, batch: int = 5000) -> ChainReport:
    """Walk the changes' chain in order and name the first event whose link or content does not hold."""
    return side_chain.verify(session, CHAIN, batch)
