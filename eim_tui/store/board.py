"""The wall board's aggregate queries: counts, loads and short lists, fast at 100,000 incidents.

Each figure is one query that an index answers on its own (see the `ix_incident_open_*`,
`ix_incident_acknowledged` and `ix_incident_resolved` indexes in `tables.py`): counts per severity
come from `ix_incident_queue`, per group from `ix_incident_open_group`, unacknowledged ones from
`ix_incident_open_ack`. Only domain objects (`BoardSnapshot`, `QueueRow`) leave this module.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Float, and_, case, cast, false, func, or_, select, true
from sqlalchemy.orm import Session

from eim_tui.domain.board import (
    FRESH,
    BoardScope,
    BoardSnapshot,
    FlowSummary,
    breach_order,
    GroupLoad,
    SeverityLoad,
    complete_severities,
    summarize_flow,
)
from eim_tui.domain.sla import SlaPolicy
from eim_tui.domain.filters import Filter
from eim_tui.domain.priority import SEVERITIES
from eim_tui.store.queries import chain_seq, filter_condition, placeholder_condition, queue_rows
from eim_tui.store.tables import IncidentRow as Inc


@dataclass(frozen=True, slots=True)
class BoardLimits:
    """How many rows each list fetches: enough for the largest wall; the widgets show what fits."""

    closest: int = 60
    breached: int = 80
    warning: int = 60
    newest: int = 40
    majors: int = 12
    sev1: int = 2000  # open Sev1 numbers kept to spot a new one; more than this is not a shift


def scope_condition(scope: BoardScope, now: datetime, hide_confidential: bool = False) -> ColumnElement[bool]:
    """The scope's terms, without the open-ness each figure adds (or not) itself. For someone who
    may not see confidential incidents, the filter meets their placeholder only (as in the queue),
    so no filter word can count a confidential title."""
    condition = filter_condition(scope.filter, now)
    if hide_confidential and not scope.filter.is_empty:
        condition = or_(
            and_(Inc.confidential == false(), condition),
            and_(Inc.confidential == true(), placeholder_condition(scope.filter, now)),
        )
    terms = [condition]
    if scope.group:
        # An exact name (checked against the reference data by the CLI), so the group index serves it.
        terms.append(Inc.assignment_group == scope.group)
    if scope.major_only or scope.filter.major:
        terms.append(Inc.major == true())
    return and_(*terms)


def load_board(
    session: Session,
    scope: BoardScope,
    now: datetime,
    day_start: datetime,
    policies: Mapping[int, SlaPolicy],
    limits: BoardLimits = BoardLimits(),
    hide_confidential: bool = False,
    service_policies: Mapping[tuple[str, int], SlaPolicy] | None = None,
) -> BoardSnapshot:
    """Every figure of one board, read in one session (so they agree with one another). Today's
    "within target" counts each incident against its service's policy where one exists."""
    marker = chain_seq(session)
    where = scope_condition(scope, now, hide_confidential)
    is_open = Inc.is_open == true()
    breached = func.sum(case((Inc.sla_due_at <= now, 1), else_=0))
    # "Breached" as the queue's `breached` filter says it: a running clock past its due instant
    # (counted from the index above), or a clock paused only after it had run out (few; counted apart).
    paused_late = and_(is_open, Inc.sla_due_at.is_(None), filter_condition(Filter(breached=True), now), where)

    # One pass over the held-after-breach incidents gives both their counts and their place in the
    # breached list (ordering them in SQL cost another walk over every held incident).
    current_due = case((Inc.sla_clock == "response", Inc.response_due_at), else_=Inc.resolution_due_at)
    held = session.execute(select(Inc.priority, Inc.assignment_group, current_due, Inc.id).where(paused_late)).all()
    late_by_level: dict[int, int] = {}
    late: dict[tuple[int, str], int] = {}
    for level, group, _due, _number in held:
        late_by_level[level] = late_by_level.get(level, 0) + 1
        late[level, group] = late.get((level, group), 0) + 1
    counts = {
        r.priority: (r.open, int(r.breached or 0) + late_by_level.get(r.priority, 0))
        for r in session.execute(
            select(Inc.priority, func.count().label("open"), breached.label("breached"))
            .where(is_open, where)
            .group_by(Inc.priority)
        )
    }
    unacked = dict(
        session.execute(
            select(Inc.priority, func.count()).where(is_open, Inc.acknowledged_at.is_(None), where).group_by(Inc.priority)
        ).all()
    )
    severities = complete_severities(
        SeverityLoad(level, open_, unacked.get(level, 0), breached_) for level, (open_, breached_) in counts.items()
    )

    groups = _group_loads(session, where, is_open, breached, late)
    breached_numbers = _breached_numbers(session, where, is_open, held, now, limits.breached)
    # In the warning stretch: a running clock past its warning instant and not yet out. The due
    # index gives them closest first; the warning instant is checked on those rows only.
    warning_numbers = session.execute(
        select(Inc.id)
        .where(is_open, Inc.sla_due_at > now, Inc.sla_warn_at <= now, where)
        .order_by(Inc.sla_due_at, Inc.id)
        .limit(limits.warning)
    ).scalars().all()
    warning_total = len(warning_numbers)
    if warning_total == limits.warning:
        # Counted from `ix_incident_open_warn` alone: a running clock has both instants and warns
        # before it is due, so those past their warning instant are the warning ones plus the
        # running breached ones (already counted above, before the held ones were added).
        warned = session.execute(select(func.count()).where(is_open, Inc.sla_warn_at <= now, where)).scalar_one()
        running_breached = sum(late_total - late_by_level.get(level, 0) for level, (_open, late_total) in counts.items())
        warning_total = warned - running_breached

    # Running clocks by due instant; a clock that ran out within FRESH stays at the top, flashing.
    closest_numbers = session.execute(
        select(Inc.id)
        .where(is_open, Inc.sla_due_at > now - FRESH, where)
        .order_by(Inc.sla_due_at, Inc.id)
        .limit(limits.closest)
    ).scalars().all()
    major_numbers = session.execute(
        select(Inc.id).where(is_open, Inc.major == true(), where).order_by(Inc.priority, Inc.id).limit(limits.majors)
    ).scalars().all()
    newest_numbers = session.execute(
        select(Inc.id).where(where).order_by(Inc.id.desc()).limit(limits.newest)
    ).scalars().all()
    sev1 = frozenset(
        session.execute(
            select(Inc.id).where(is_open, Inc.priority == 1, where).order_by(Inc.id.desc()).limit(limits.sev1)
        ).scalars()
    )
    listed = {*closest_numbers, *major_numbers, *newest_numbers, *breached_numbers, *warning_numbers}
    rows = {r.number: r for r in queue_rows(session, listed)}

    return BoardSnapshot(
        taken_at=now,
        marker=marker,
        severities=severities,
        groups=groups,
        closest=tuple(rows[n] for n in closest_numbers if n in rows),
        majors=tuple(rows[n] for n in major_numbers if n in rows),
        newest=tuple(rows[n] for n in newest_numbers if n in rows),
        sev1_open=sev1,
        acknowledged=_acknowledged_today(session, where, day_start, now, policies, service_policies or {}),
        resolved=_resolved_today(session, where, day_start, now, policies, service_policies or {}),
        breached=tuple(sorted((rows[n] for n in breached_numbers if n in rows), key=breach_order)),
        warning=tuple(rows[n] for n in warning_numbers if n in rows),
        warning_total=warning_total,
    )


def _group_loads(session: Session, where, is_open, breached, late: Mapping[tuple[int, str], int]) -> tuple[GroupLoad, ...]:
    """Open incidents per group and severity, breached and unassigned ones per group, most open
    first. The per-severity counts walk `ix_incident_open_group` alone; the unassigned ones start
    from `ix_incident_assignee` (only the open incidents nobody holds)."""
    late_by_group: dict[str, int] = {}
    for (_level, group), n in late.items():
        late_by_group[group] = late_by_group.get(group, 0) + n
    by_group: dict[str, list[int]] = {}  # group -> [open per severity…, breached]
    for r in session.execute(
        select(Inc.assignment_group, Inc.priority, func.count().label("open"), breached.label("breached"))
        .where(is_open, where)
        .group_by(Inc.assignment_group, Inc.priority)
    ):
        figures = by_group.setdefault(r.assignment_group, [0] * (len(SEVERITIES) + 1))
        if 1 <= r.priority <= len(SEVERITIES):
            figures[r.priority - 1] += r.open
        figures[-1] += int(r.breached or 0)
    # Counted here, not by GROUP BY: grouping makes SQLite walk the group index over every open
    # incident (100 ms at 100,000) instead of taking the few unassigned from `ix_incident_assignee`.
    unassigned = Counter(
        session.execute(select(Inc.assignment_group).where(Inc.assignee == "", is_open, where)).scalars()
    )
    loads = (
        GroupLoad(
            group or "",
            sum(figures[:-1]),
            figures[-1] + late_by_group.get(group, 0),
            tuple(figures[:-1]),
            unassigned.get(group, 0),
        )
        for group, figures in by_group.items()
    )
    return tuple(sorted(loads, key=lambda g: (-g.open, -g.breached, g.group)))


def _breached_numbers(session: Session, where, is_open, held, now: datetime, limit: int) -> list[int]:
    """The first `limit` breached incidents in `breach_order`: running clocks past their due instant
    (the queue index, by severity and due instant) merged with the clocks held after running out."""
    running = session.execute(
        select(Inc.priority, Inc.sla_due_at, Inc.id)
        .where(is_open, Inc.sla_due_at <= now, where)
        .order_by(Inc.priority, Inc.sla_due_at, Inc.id)
        .limit(limit)
    ).all()
    merged = sorted(
        [(level, due, number) for level, due, number in running]
        + [(level, due, number) for level, _group, due, number in held],
        key=lambda r: (r[0], r[1], r[2]),
    )
    return [number for _level, _due, number in merged[:limit]]


def _seconds_between(session: Session, later, earlier):
    """`later - earlier` in seconds, computed by the database (fetching datetimes costs far more)."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    # extract() gives numeric, which the driver turns into Decimal objects one by one: ask for float.
    return cast(func.extract("epoch", later - earlier), Float)


def _acknowledged_today(
    session: Session, where, day_start: datetime, now: datetime, policies: Mapping[int, SlaPolicy],
    service_policies: Mapping[tuple[str, int], SlaPolicy],
) -> FlowSummary:
    """Time to acknowledge of everything acknowledged since local midnight (`ix_incident_acknowledged`)."""
    took = _seconds_between(session, Inc.acknowledged_at, Inc.reported_at)
    rows = session.execute(
        select(Inc.priority, took, Inc.service).where(Inc.acknowledged_at >= day_start, Inc.acknowledged_at <= now,
                                                      where)
    ).all()
    targets = {level: p.response.total_seconds() for level, p in policies.items()}
    own = {key: p.response.total_seconds() for key, p in service_policies.items()}
    return summarize_flow(((p, float(s or 0), own.get((service, p))) for p, s, service in rows), targets)


def _resolved_today(
    session: Session, where, day_start: datetime, now: datetime, policies: Mapping[int, SlaPolicy],
    service_policies: Mapping[tuple[str, int], SlaPolicy],
) -> FlowSummary:
    """Time to resolve (time on an SLA-pausing hold left out, as the SLA clock does) of everything
    resolved since local midnight (`ix_incident_resolved`; reopening clears `resolved_at`)."""
    took = _seconds_between(session, Inc.resolved_at, Inc.reported_at) - Inc.sla_paused_seconds
    rows = session.execute(
        select(Inc.priority, took, Inc.service).where(Inc.resolved_at >= day_start, Inc.resolved_at <= now, where)
    ).all()
    targets = {level: p.resolution.total_seconds() for level, p in policies.items()}
    own = {key: p.resolution.total_seconds() for key, p in service_policies.items()}
    return summarize_flow(((p, float(s or 0), own.get((service, p))) for p, s, service in rows), targets)
