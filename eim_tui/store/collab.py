"""Incident roles, tasks and subscribers in the store (tables `incident_role`, `incident_task`,
`incident_subscriber`), and the stakeholder updates, which are timeline events.

Writers lock the incident's row first (the callers do), so two people adding a task get numbers
1 and 2, not 1 twice, and the timeline's chain head is always taken after the incident.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, false, func, or_, select, true, update
from sqlalchemy.orm import Session

from eim_tui.domain.collab import (
    Collaboration,
    IncidentRole,
    StakeholderUpdate,
    Subscriber,
    Task,
    TaskKind,
    TaskStatus,
)
from eim_tui.domain.errors import NotFoundError
from eim_tui.domain.model import EventKind, format_key
from eim_tui.store.tables import (
    IncidentRoleRow,
    IncidentRow,
    IncidentSubscriberRow,
    IncidentTaskRow,
    TimelineRow,
    UserRow,
)

_ROLE_ORDER = {r: n for n, r in enumerate(IncidentRole)}


# --- reading --------------------------------------------------------------------------------------


def collaboration(session: Session, number: int) -> Collaboration:
    updates = last_updates(session, [number])
    count = session.execute(
        select(func.count()).select_from(TimelineRow)
        .where(TimelineRow.incident_id == number, TimelineRow.kind == EventKind.STAKEHOLDER_UPDATE.value)
    ).scalar_one()
    return Collaboration(tuple(roles_of(session, number)), tuple(tasks_of(session, number)),
                         tuple(subscribers_of(session, number)), updates.get(number), count)


def roles_of(session: Session, number: int) -> list[tuple[IncidentRole, str]]:
    rows = session.execute(select(IncidentRoleRow).where(IncidentRoleRow.incident_id == number)).scalars()
    found = [(IncidentRole(r.role), r.user_name, r.position) for r in rows]
    found.sort(key=lambda x: (_ROLE_ORDER[x[0]], x[2], x[1]))
    return [(role, user) for role, user, _ in found]


def roles_by_incident(session: Session, numbers: Sequence[int]) -> dict[int, list[tuple[IncidentRole, str]]]:
    if not numbers:
        return {}
    rows = session.execute(select(IncidentRoleRow).where(IncidentRoleRow.incident_id.in_(list(numbers)))).scalars()
    found: dict[int, list[tuple[IncidentRole, str, int]]] = {}
    for r in rows:
        found.setdefault(r.incident_id, []).append((IncidentRole(r.role), r.user_name, r.position))
    return {n: [(role, user) for role, user, _ in sorted(v, key=lambda x: (_ROLE_ORDER[x[0]], x[2], x[1]))]
            for n, v in found.items()}


def replace_roles(session: Session, number: int, roles: Sequence[tuple[IncidentRole, str]]) -> None:
    session.execute(delete(IncidentRoleRow).where(IncidentRoleRow.incident_id == number))
    session.add_all(IncidentRoleRow(incident_id=number, role=role.value, user_name=user, position=n)
                    for n, (role, user) in enumerate(roles))
    session.flush()


def unknown_users(session: Session, names: Iterable[str]) -> list[str]:
    wanted = sorted(set(names))
    if not wanted:
        return []
    known = set(session.execute(select(UserRow.name).where(UserRow.name.in_(wanted))).scalars())
    return [n for n in wanted if n not in known]


def user_names(session: Session) -> list[str]:
    return list(session.execute(select(UserRow.name).order_by(UserRow.name)).scalars())


# --- tasks ----------------------------------------------------------------------------------------


def _task(r: IncidentTaskRow) -> Task:
    return Task(r.id, r.incident_id, r.number, TaskKind(r.kind), r.what, r.owner, r.due_at, TaskStatus(r.status),
                r.created_by, r.created_at, r.done_by, r.done_at)


def tasks_of(session: Session, number: int) -> list[Task]:
    rows = session.execute(select(IncidentTaskRow).where(IncidentTaskRow.incident_id == number)
                           .order_by(IncidentTaskRow.number)).scalars()
    return [_task(r) for r in rows]


def add_task(session: Session, number: int, kind: TaskKind, what: str, owner: str, due_at: datetime | None,
             actor: str, now: datetime) -> Task:
    """A new task numbered after the incident's last (the caller holds the incident's row lock)."""
    last = session.execute(select(func.coalesce(func.max(IncidentTaskRow.number), 0))
                           .where(IncidentTaskRow.incident_id == number)).scalar_one()
    row = IncidentTaskRow(incident_id=number, number=last + 1, kind=kind.value, what=what, owner=owner, due_at=due_at,
                          status=TaskStatus.OPEN.value, created_by=actor, created_at=now, done_by="", done_at=None)
    session.add(row)
    session.flush()
    return _task(row)


def get_task(session: Session, number: int, task_number: int) -> Task:
    row = session.execute(select(IncidentTaskRow).where(IncidentTaskRow.incident_id == number,
                                                        IncidentTaskRow.number == task_number)).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"{format_key(number)} has no task #{task_number}; see `eim task list {format_key(number)}`")
    return _task(row)


def finish_task(session: Session, task: Task, actor: str, now: datetime) -> Task:
    session.execute(update(IncidentTaskRow).where(IncidentTaskRow.id == task.id)
                    .values(status=TaskStatus.DONE.value, done_by=actor, done_at=now))
    return Task(task.id, task.incident_number, task.number, task.kind, task.what, task.owner, task.due_at,
                TaskStatus.DONE, task.created_by, task.created_at, actor, now)


def actions(session: Session, open_only: bool, owner: str | None, hide_confidential: bool,
            also_owner: str = "") -> list[Task]:
    """Post-incident actions across incidents, soonest due first (no due date last).

    With `hide_confidential`, actions of confidential incidents are left out unless `also_owner` owns them."""
    query = select(IncidentTaskRow).where(IncidentTaskRow.kind == TaskKind.ACTION.value)
    if open_only:
        query = query.where(IncidentTaskRow.status == TaskStatus.OPEN.value)
    if owner is not None:
        query = query.where(IncidentTaskRow.owner == owner)
    if hide_confidential:
        query = query.join(IncidentRow, IncidentRow.id == IncidentTaskRow.incident_id).where(
            or_(IncidentRow.confidential == false(), IncidentTaskRow.owner == also_owner))
    query = query.order_by(IncidentTaskRow.due_at.is_(None), IncidentTaskRow.due_at, IncidentTaskRow.incident_id,
                           IncidentTaskRow.number)
    return [_task(r) for r in session.execute(query).scalars()]


def overdue_actions(session: Session, now: datetime, limit: int = 500) -> list[Task]:
    rows = session.execute(
        select(IncidentTaskRow).where(IncidentTaskRow.kind == TaskKind.ACTION.value,
                                      IncidentTaskRow.status == TaskStatus.OPEN.value,
                                      IncidentTaskRow.due_at < now)
        .order_by(IncidentTaskRow.due_at).limit(limit)
    ).scalars()
    return [_task(r) for r in rows]


# --- subscribers ----------------------------------------------------------------------------------


def subscribers_of(session: Session, number: int) -> list[Subscriber]:
    rows = session.execute(select(IncidentSubscriberRow.kind, IncidentSubscriberRow.target)
                           .where(IncidentSubscriberRow.incident_id == number).order_by(IncidentSubscriberRow.id))
    return [Subscriber(k, t) for k, t in rows]


def add_subscriber(session: Session, number: int, kind: str, target: str) -> bool:
    """False when already subscribed."""
    exists = session.execute(select(IncidentSubscriberRow.id).where(
        IncidentSubscriberRow.incident_id == number, IncidentSubscriberRow.kind == kind,
        IncidentSubscriberRow.target == target)).first()
    if exists:
        return False
    session.add(IncidentSubscriberRow(incident_id=number, kind=kind, target=target))
    session.flush()
    return True


def remove_subscriber(session: Session, number: int, kind: str, target: str) -> bool:
    done = session.execute(delete(IncidentSubscriberRow).where(
        IncidentSubscriberRow.incident_id == number, IncidentSubscriberRow.kind == kind,
        IncidentSubscriberRow.target == target))
    return bool(done.rowcount)


def subscribed(session: Session, numbers: Sequence[int]) -> set[int]:
    if not numbers:
        return set()
    rows = session.execute(select(IncidentSubscriberRow.incident_id).distinct()
                           .where(IncidentSubscriberRow.incident_id.in_(list(numbers))))
    return set(rows.scalars())


# --- stakeholder updates --------------------------------------------------------------------------


def last_updates(session: Session, numbers: Sequence[int]) -> dict[int, StakeholderUpdate]:
    """Each incident's latest stakeholder update (read by the timeline's incident index)."""
    if not numbers:
        return {}
    latest = (select(func.max(TimelineRow.seq))
              .where(TimelineRow.incident_id.in_(list(numbers)), TimelineRow.kind == EventKind.STAKEHOLDER_UPDATE.value)
              .group_by(TimelineRow.incident_id))
    rows = session.execute(select(TimelineRow).where(TimelineRow.seq.in_(latest))).scalars()
    found = {}
    for r in rows:
        data = r.data or {}
        nxt = data.get("next_update_at")
        found[r.incident_id] = StakeholderUpdate(r.seq, r.at, r.actor, str(data.get("text", "")),
                                                 datetime.fromisoformat(nxt) if nxt else None,
                                                 bool(data.get("final")))
    return found


def waited_on(session: Session, severities: Sequence[int], limit: int = 2000) -> list[int]:
    """Open incidents of these severities that are major, have subscribers or have a commander:
    the ones the update cadence applies to (each a small set, read by its own index)."""
    if not severities:
        return []
    open_sev = (IncidentRow.is_open == true(), IncidentRow.priority.in_(list(severities)))
    major = select(IncidentRow.id).where(*open_sev, IncidentRow.major == true())
    with_subscribers = (select(IncidentRow.id).join(IncidentSubscriberRow, IncidentSubscriberRow.incident_id == IncidentRow.id)
                        .where(*open_sev))
    with_commander = (select(IncidentRow.id).join(IncidentRoleRow, IncidentRoleRow.incident_id == IncidentRow.id)
                      .where(*open_sev, IncidentRoleRow.role == IncidentRole.COMMANDER.value))
    numbers: set[int] = set()
    for query in (major, with_subscribers, with_commander):
        numbers.update(session.execute(query.limit(limit)).scalars())
    return sorted(numbers)[:limit]


def once_recorded(session: Session, once_key: str | None) -> bool:
    """Whether an event with this once-key is in the timeline already (a read, so a sweep that
    finds nothing new opens no write transaction)."""
    return session.execute(select(TimelineRow.seq).where(TimelineRow.once_key == once_key)).first() is not None
