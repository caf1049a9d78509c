"""Problem records in the store: rows ↔ `domain.problems.Problem`, their hash-chained timeline
(`problem_event`, head in `chain_head` row 11; see `store/side_chain.py`), the incidents linked to
each (those whose `problem_ref` names it), and the known errors an incident may match.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from eim_tui.domain.errors import ConflictError, NotFoundError
from eim_tui.domain.model import EventKind
from eim_tui.domain.problems import (
    LinkedIncident,
    Problem,
    ProblemState,
    format_problem_key,
)
from eim_tui.store import side_chain
from eim_tui.store.side_chain import SideChain, SideEvent
from eim_tui.store.tables import (
    ChainHeadRow,
    IncidentRow,
    ProblemEventRow,
    ProblemRow,
    TimelineRow,
)
from eim_tui.store.timeline import ChainReport

PROBLEM_CHAIN = 11  # the chain_head row of the problems' timeline (migration 0011)
CHAIN = SideChain(PROBLEM_CHAIN, ProblemEventRow, "problem_number", "problem", format_problem_key)
ProblemEvent = SideEvent  # `number` is the problem's
_SAVED = ("state", "title", "owner_group", "service", "configuration_item", "category", "subcategory",
          "description", "root_cause", "workaround", "updated_at", "resolved_at", "closed_at")


def to_problem(row: ProblemRow) -> Problem:
    return Problem(
        number=row.number, title=row.title, state=ProblemState(row.state), owner_group=row.owner_group,
        service=row.service, configuration_item=row.configuration_item, category=row.category,
        subcategory=row.subcategory, description=row.description, root_cause=row.root_cause,
        workaround=row.workaround, ref=row.ref, created_at=row.created_at, created_by=row.created_by,
        updated_at=row.updated_at, resolved_at=row.resolved_at, closed_at=row.closed_at, version=row.version,
    )


def insert_problem(session: Session, problem: Problem) -> Problem:
    """Number and insert a new problem. The problems' chain head is locked first (every problem
    write appends to it), so two writers never take the same number."""
    side_chain.lock_head(session, CHAIN)
    number = (session.execute(select(func.max(ProblemRow.number))).scalar() or 0) + 1
    key = format_problem_key(number)
    values = {name: getattr(problem, name) for name in _SAVED}
    values["state"] = problem.state.value
    session.add(ProblemRow(ref=key, number=number, known_error=problem.is_known_error, created_at=problem.created_at,
                           created_by=problem.created_by, version=1, **values))
    session.flush()
    return problem.replace(number=number, ref=key, version=1)


def get_problem(session: Session, number: int, for_update: bool = False) -> Problem:
    stmt = select(ProblemRow).where(ProblemRow.number == number)
    if for_update:
        stmt = stmt.with_for_update()
    row = session.execute(stmt).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"no problem {format_problem_key(number)}; see eim problem list")
    return to_problem(row)


def exists(session: Session, number: int) -> bool:
    return session.execute(select(ProblemRow.number).where(ProblemRow.number == number)).first() is not None


def save_problem(session: Session, before: Problem, after: Problem) -> Problem:
    """Write a problem's new fields, guarded by the version read: a race is a ConflictError."""
    values: dict[str, Any] = {name: getattr(after, name) for name in _SAVED}
    values["state"] = after.state.value
    if after.is_known_error:
        values["known_error"] = True  # a problem that became a known error stays marked so
    done = session.execute(
        update(ProblemRow).where(ProblemRow.number == before.number, ProblemRow.version == before.version)
        .values(version=before.version + 1, **values)
    )
    if done.rowcount != 1:
        current = session.execute(select(ProblemRow.version).where(ProblemRow.number == before.number)).scalar() or 0
        raise ConflictError(before.key, before.version, current)
    return after.replace(version=before.version + 1)


def list_problems(session: Session, states: Sequence[ProblemState] = (), limit: int | None = 200) -> list[Problem]:
    """Problems, the newest first; only those in `states` when given."""
    stmt = select(ProblemRow)
    if states:
        stmt = stmt.where(ProblemRow.state.in_([s.value for s in states]))
    stmt = stmt.order_by(ProblemRow.number.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return [to_problem(r) for r in session.execute(stmt).scalars()]


def known_errors_on(session: Session, service: str, ci: str) -> list[Problem]:
    """The known errors about `service` or `ci` (through the state/service and state/CI indexes)."""
    places = []
    if service:
        places.append(ProblemRow.service == service)
    if ci:
        places.append(ProblemRow.configuration_item == ci)
    if not places:
        return []
    rows = session.execute(
        select(ProblemRow).where(ProblemRow.state == ProblemState.KNOWN_ERROR.value, or_(*places))
        .order_by(ProblemRow.number)
    ).scalars()
    return [to_problem(r) for r in rows]


def linked_incidents(session: Session, problem: Problem) -> list[LinkedIncident]:
    """The incidents whose problem reference names this problem (its key, or its imported id)."""
    rows = session.execute(
        select(IncidentRow.id, IncidentRow.title, IncidentRow.state, IncidentRow.priority, IncidentRow.confidential)
        .where(IncidentRow.problem_ref.in_(problem.refs)).order_by(IncidentRow.id)
    ).all()
    return [LinkedIncident(n, title, state, priority, bool(confidential)) for n, title, state, priority, confidential in rows]


def linked_counts(session: Session, problems: Sequence[Problem]) -> dict[int, int]:
    """How many incidents each problem has, for the list."""
    by_ref = {ref: p.number for p in problems for ref in p.refs}
    if not by_ref:
        return {}
    counts: dict[int, int] = {p.number: 0 for p in problems}
    refs = list(by_ref)
    for start in range(0, len(refs), 500):
        rows = session.execute(
            select(IncidentRow.problem_ref, func.count()).where(IncidentRow.problem_ref.in_(refs[start:start + 500]))
            .group_by(IncidentRow.problem_ref)
        )
        for ref, count in rows:
            counts[by_ref[ref]] += count
    return counts


def append_events(
    session: Session, number: int, events: Sequence[tuple[str, str, dict[str, Any]]], at: datetime, actor: str
) -> list[ProblemEvent]:
    return side_chain.append(session, CHAIN, number, events, at, actor)


def events_of(session: Session, number: int) -> list[ProblemEvent]:
    return side_chain.events_of(session, CHAIN, number)


def verify(session: Session, batch: int = 5000) -> ChainReport:
    return side_chain.verify(session, CHAIN, batch)


INCIDENT_CHAIN = 1  # the chain_head row of the incidents' timeline
# Both heads in one read: what the problems screen polls every second.
HEADS = select(ChainHeadRow.id, ChainHeadRow.seq).where(ChainHeadRow.id.in_([INCIDENT_CHAIN, PROBLEM_CHAIN]))


def problem_marker(session: Session) -> tuple[int, int]:
    """The problems' change marker: (the problems' timeline's last seq, the incidents' timeline's
    last seq). Every change of a problem record appends to its timeline; a link made from the
    incident's side (`eim link --problem`) only appends to the incident's."""
    heads = {key: seq for key, seq in session.execute(HEADS)}
    return heads.get(PROBLEM_CHAIN, 0), heads.get(INCIDENT_CHAIN, 0)


def problems_changed(session: Session, since: tuple[int, int]) -> tuple[tuple[int, int], bool]:
    """The marker now, and whether what a problem list shows may have changed since `since`: a
    problem event, or an incident event that links (the counts of linked incidents). Only the
    incident events after `since` are read (the timeline's primary key), and only when there are."""
    now = problem_marker(session)
    if now[0] != since[0]:
        return now, True
    if now[1] == since[1]:
        return now, False
    linked = session.execute(
        select(TimelineRow.seq).where(TimelineRow.seq > since[1], TimelineRow.kind == EventKind.LINKED.value).limit(1)
    ).first()
    return now, linked is not None
