"""Where the SLA scheduler finds its work: indexed look-ups, never a scan of every incident.

Each kind of SLA moment comes from one indexed column through a monotone map: the current clock's
warning and breach are stored (`sla_warn_at`, `sla_due_at`); an unacknowledged incident's
resolution clock comes from `resolution_due_at`; an escalation counts from the report or a breach.
A `Source` says how to map the column to the moment's instant and back, so the same description
answers both questions the scheduler asks: which incidents have a moment in (lo, hi]; and when is
the earliest moment after an instant. The domain then computes each candidate's moments exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, true, union_all
from sqlalchemy.orm import Session

from eim_tui.domain import sla
from eim_tui.domain.escalation import EscalationRule, Trigger
from eim_tui.domain.model import EventKind, Incident
from eim_tui.domain.sla_alerts import AlertEvent
from eim_tui.store.repository import conflict, derived_columns, incident_from_row, incident_values
from eim_tui.store.tables import IncidentRow, TimelineRow, WatchRow

ALERT_KINDS = (EventKind.SLA_WARNING.value, EventKind.SLA_BREACH.value, EventKind.ESCALATION.value)


def _same(value: datetime) -> datetime:
    return value


@dataclass(frozen=True)
class Source:
    """Moments whose instant is `to_instant(column)`; `column > bound(t)` ⇔ `to_instant(column) > t`."""

    name: str
    column: Any
    where: ColumnElement[bool]
    to_instant: Callable[[datetime], datetime] = _same
    bound: Callable[[datetime], datetime] = _same


def build_sources(policies: Mapping[int, sla.SlaPolicy], rules: Sequence[EscalationRule]) -> tuple[Source, ...]:
    """Each look-up is meant for one index; `_only_filter` keeps the planner from picking another
    (SQLite has no statistics unless ANALYZE ran, and trusts any equality). A source may find more
    than the moments it stands for (a rule's severities are not all filtered): that only wakes the
    scheduler early, to find nothing due and plan again."""
    is_open = IncidentRow.is_open == true()
    found = [
        Source("warning", IncidentRow.sla_warn_at, is_open),  # ix_incident_open_warn
        Source("breach", IncidentRow.sla_due_at, is_open),  # ix_incident_open_due
    ]
    # An unacknowledged incident's resolution clock runs too (the stored columns follow the
    # response clock until the acknowledgement): ix_incident_open_resolution, one seek per severity.
    for severity, policy in sorted(policies.items()):
        lead = policy.resolution * (1 - policy.warning_fraction)
        calendar = policy.calendar
        unacked = and_(is_open, IncidentRow.priority == severity, IncidentRow.acknowledged_at.is_(None),
                       _only_filter(IncidentRow.paused_since).is_(None))
        found.append(Source(f"resolution breach Sev{severity} (unacknowledged)", IncidentRow.resolution_due_at,
                            unacked))
        found.append(Source(
            f"resolution warning Sev{severity} (unacknowledged)", IncidentRow.resolution_due_at, unacked,
            # warn(due) > t  ⇔  due > the latest instant with at most `lead` working time after t
            to_instant=lambda due, lead=lead, calendar=calendar: calendar.before(due, lead),
            bound=lambda t, lead=lead, calendar=calendar: calendar.skip_idle(calendar.add(t, lead)),
        ))
    for rule in rules:
        shift = _shift(rule.after)
        severities = _only_filter(IncidentRow.priority).in_(sorted(rule.severities))
        still_open = _only_filter(IncidentRow.is_open) == true()
        if rule.trigger is Trigger.UNACKNOWLEDGED:  # ix_incident_reported: the last minutes' reports
            where = and_(still_open, severities, _only_filter(IncidentRow.acknowledged_at).is_(None))
            found.append(Source(f"escalation {rule.name}", IncidentRow.reported_at, where, *shift))
        elif rule.trigger is Trigger.UNASSIGNED:
            where = and_(still_open, severities, _only_filter(IncidentRow.assignee) == "")
            found.append(Source(f"escalation {rule.name}", IncidentRow.reported_at, where, *shift))
        elif rule.after:
            # At the breach itself the breach sources find the incident already; later, shifted.
            found.append(Source(f"escalation {rule.name}", IncidentRow.sla_due_at, is_open, *shift))
            if rule.trigger is Trigger.RESOLUTION_BREACHED:
                found.extend(Source(f"escalation {rule.name} Sev{severity}", IncidentRow.resolution_due_at,
                                    and_(is_open, IncidentRow.priority == severity,
                                         IncidentRow.acknowledged_at.is_(None)), *shift)
                             for severity in sorted(rule.severities))
    return tuple(found)


def _only_filter(column):
    """The same value, in a form no index can serve: this condition filters, another one seeks."""
    return func.coalesce(column, column)


def _shift(after: timedelta) -> tuple[Callable[[datetime], datetime], Callable[[datetime], datetime]]:
    if not after:
        return _same, _same
    return (lambda v: v + after), (lambda t: t - after)


def candidates(session: Session, sources: Iterable[Source], lo: datetime, hi: datetime) -> set[int]:
    """Incidents that may have a moment in (lo, hi] (a superset: the domain decides exactly)."""
    parts = []
    for s in sources:
        low, high = s.bound(lo), s.bound(hi)
        if high <= low:
            continue
        parts.append(select(IncidentRow.id).where(s.where, s.column > low, s.column <= high))
    if not parts:
        return set()
    # One statement for every source (each part still seeks its own index): the scheduler asks
    # this every time anything changes, and a statement per source cost more than the seeking.
    return set(session.execute(parts[0] if len(parts) == 1 else union_all(*parts)).scalars())


def next_instant(session: Session, sources: Iterable[Source], after: datetime) -> datetime | None:
    """The earliest moment instant later than `after` over every source, or None."""
    best: datetime | None = None
    for s in sources:
        # ORDER BY … LIMIT 1 rather than MIN(): both engines then stop at the first index entry.
        value = session.execute(
            select(s.column).where(s.where, s.column > s.bound(after)).order_by(s.column).limit(1)
        ).scalar()
        if value is not None:
            instant = s.to_instant(value)
            if instant > after and (best is None or instant < best):
                best = instant
    return best


def read_incidents(session: Session, numbers: Sequence[int]) -> list[Incident]:
    if not numbers:
        return []
    # Plain rows, not ORM objects: the sweep reads thousands, and the identity map costs more
    # than the reading (a row's attributes are named as the mapped ones).
    table = IncidentRow.__table__
    rows = session.execute(select(table).where(table.c.id.in_(sorted(numbers))))
    return [incident_from_row(r) for r in rows]


def lock_incidents(session: Session, numbers: Sequence[int]) -> list[Incident]:
    """The incidents, read under a row lock in number order (so concurrent batches never deadlock)."""
    if not numbers:
        return []
    table = IncidentRow.__table__
    rows = session.execute(
        select(table).where(table.c.id.in_(sorted(numbers))).order_by(table.c.id).with_for_update()
    )
    return [incident_from_row(r) for r in rows]


def save_incidents(
    session: Session, changes: Sequence[tuple[Incident, Incident]], policies: Mapping[int, sla.SlaPolicy],
    at: datetime,
) -> None:
    """`repository.save_incident` for many incidents at once: one UPDATE per set of changed columns,
    run for every incident of that set together (escalations change a few columns of hundreds).

    Each is guarded by the version it was read at, like `save_incident`; the caller holds the rows
    locked, so a mismatch means something wrote without the lock and the whole batch is refused."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    befores = {before.number: before for before, _ in changes}
    for before, after in changes:
        values = incident_values(after.replace(updated_at=at), policies)
        unchanged = incident_values(before, policies)
        always = {"updated_at", *derived_columns(after, policies)}
        values = {k: v for k, v in values.items() if k in always or unchanged.get(k) != v}
        values["version"] = before.version + 1
        params = {f"new_{k}": v for k, v in values.items()}
        params.update(old_id=before.number, old_version=before.version)
        groups.setdefault(tuple(sorted(values)), []).append(params)
    table = IncidentRow.__table__
    connection = session.connection()
    for columns, rows in groups.items():
        stmt = (table.update()
                .where(table.c.id == bindparam("old_id"), table.c.version == bindparam("old_version"))
                .values({name: bindparam(f"new_{name}") for name in columns}))
        result = connection.execute(stmt, rows)
        if connection.dialect.supports_sane_multi_rowcount and result.rowcount != len(rows):
            written = dict(session.execute(select(IncidentRow.id, IncidentRow.version).where(
                IncidentRow.id.in_([r["old_id"] for r in rows]))).tuples().all())
            for number in (r["old_id"] for r in rows):
                if written.get(number) != befores[number].version + 1:
                    raise conflict(session, befores[number])


def recorded_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """Which of these once-keys the timeline holds already."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        found.update(session.execute(select(TimelineRow.once_key).where(TimelineRow.once_key.in_(chunk))).scalars())
    return found


def alert_events_since(
    session: Session, seq: int, user: str, upto: int | None = None, limit: int = 5000
) -> list[AlertEvent]:
    """SLA and escalation events in (seq, upto], oldest first, with their incident's people."""
    watched = select(WatchRow.incident_id).where(WatchRow.user_name == user).scalar_subquery()
    rows = session.execute(
        select(
            TimelineRow.seq, TimelineRow.incident_id, TimelineRow.at, TimelineRow.kind, TimelineRow.summary,
            TimelineRow.data, IncidentRow.priority, IncidentRow.title, IncidentRow.assignee,
            IncidentRow.assignment_group, IncidentRow.confidential,
            or_(IncidentRow.id.in_(watched)).label("watched"),
        )
        .join(IncidentRow, IncidentRow.id == TimelineRow.incident_id)
        .where(TimelineRow.seq > seq, TimelineRow.seq <= (upto if upto is not None else seq + 10**12),
               TimelineRow.kind.in_(ALERT_KINDS))
        .order_by(TimelineRow.seq)
        .limit(limit)
    ).all()
    return [
        AlertEvent(r.seq, r.incident_id, r.at, EventKind(r.kind), r.summary, r.data or {}, r.priority, r.title,
                   r.assignee, r.assignment_group, bool(r.confidential), bool(r.watched))
        for r in rows
    ]
