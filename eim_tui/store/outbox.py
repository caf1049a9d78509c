"""The outbox of outbound notifications, the cursor that fills it, and the services' heartbeats.

Deliveries are exactly-once in the store and at-least-once on the wire: a row is *claimed*
(status `sending`, claimant and time, attempt counted) in one transaction, sent outside any
transaction, then *marked* in another — only by its claimant. A claim whose claimant stopped
beating, or older than the lease, is claimed again: a service killed between sending and marking
sends that one message again on restart; one killed anywhere else sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from eim_tui.domain.model import EventKind
from eim_tui.store.tables import (
    IncidentRow,
    NotifyCursorRow,
    OutboxRow,
    ServiceHeartbeatRow,
    TimelineRow,
)

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


@dataclass(frozen=True, slots=True)
class NotifyEvent:
    """A timeline event that may reach people outside eim, with what choosing them needs."""

    seq: int
    number: int
    at: datetime
    actor: str
    kind: EventKind
    summary: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OutboxDraft:
    event_seq: int
    incident_id: int
    recipient: str
    channel_key: str
    channel_kind: str
    url: str
    severity: int
    title: str
    body: str
    not_before: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed outbox row: what to send, where, and which attempt this is."""

    id: int
    event_seq: int
    incident_id: int
    recipient: str
    channel_kind: str
    url: str
    severity: int
    title: str
    body: str
    attempt: int


@dataclass(frozen=True, slots=True)
class Heartbeat:
    instance: str
    host: str
    pid: int
    started_at: datetime
    last_seen: datetime


def _insert(session: Session, table):
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


# --- the cursor and the events ------------------------------------------------------------------


def cursor(session: Session, name: str) -> int | None:
    return session.execute(select(NotifyCursorRow.seq).where(NotifyCursorRow.name == name)).scalar()


def lock_cursor(session: Session, name: str, start: int) -> int:
    """The cursor, created at `start` if new, locked for this transaction (one enqueuer at a time)."""
    session.execute(_insert(session, NotifyCursorRow).values(name=name, seq=start)
                    .on_conflict_do_nothing(index_elements=["name"]))
    return session.execute(select(NotifyCursorRow.seq).where(NotifyCursorRow.name == name).with_for_update()).scalar_one()


def advance_cursor(session: Session, name: str, seq: int) -> None:
    session.execute(update(NotifyCursorRow).where(NotifyCursorRow.name == name, NotifyCursorRow.seq < seq)
                    .values(seq=seq))


def last_seq_before(session: Session, at: datetime) -> int:
    """The last event written before `at` (where a first service starts from)."""
    return session.execute(select(func.coalesce(func.max(TimelineRow.seq), 0)).where(TimelineRow.at < at)).scalar_one()


def events_since(session: Session, seq: int, kinds: Sequence[EventKind], limit: int) -> list[NotifyEvent]:
    rows = session.execute(
        select(TimelineRow.seq, TimelineRow.incident_id, TimelineRow.at, TimelineRow.actor, TimelineRow.kind,
               TimelineRow.summary, TimelineRow.data)
        .where(TimelineRow.seq > seq, TimelineRow.kind.in_([k.value for k in kinds]))
        .order_by(TimelineRow.seq)
        .limit(limit)
    ).all()
    return [NotifyEvent(r.seq, r.incident_id, r.at, r.actor, EventKind(r.kind), r.summary, r.data or {}) for r in rows]


def head_seq(session: Session) -> int:
    return session.execute(select(func.coalesce(func.max(TimelineRow.seq), 0))).scalar_one()


def confidential_numbers(session: Session, numbers: Sequence[int]) -> set[int]:
    if not numbers:
        return set()
    rows = session.execute(select(IncidentRow.id).where(IncidentRow.id.in_(list(numbers)), IncidentRow.confidential))
    return set(rows.scalars())


# --- the outbox ---------------------------------------------------------------------------------


def enqueue(session: Session, drafts: Sequence[OutboxDraft], now: datetime) -> int:
    """Insert the drafts not already there (by event, recipient and channel); returns how many were new."""
    added = 0
    for start in range(0, len(drafts), 500):
        rows = [{"event_seq": d.event_seq, "incident_id": d.incident_id, "recipient": d.recipient,
                 "channel_key": d.channel_key, "channel_kind": d.channel_kind, "url": d.url, "severity": d.severity,
                 "title": d.title, "body": d.body, "status": PENDING, "attempts": 0, "not_before": d.not_before,
                 "claimed_at": None, "claimed_by": "", "last_error": "", "created_at": now, "done_at": None}
                for d in drafts[start : start + 500]]
        statement = _insert(session, OutboxRow).values(rows).on_conflict_do_nothing(
            index_elements=["event_seq", "recipient", "channel_key"]).returning(OutboxRow.id)
        added += len(session.execute(statement).all())  # rowcount is -1 here on psycopg
    return added


def _claimable(now: datetime, lease: timedelta, live: Sequence[str]):
    stale = and_(OutboxRow.status == SENDING,
                 or_(OutboxRow.claimed_at < now - lease, OutboxRow.claimed_by.not_in(list(live) or [""])))
    due = and_(OutboxRow.status == PENDING, OutboxRow.not_before <= now)
    return or_(due, stale)


def claimable(session: Session, now: datetime, lease: timedelta, live: Sequence[str]) -> bool:
    return session.execute(select(OutboxRow.id).where(_claimable(now, lease, live)).limit(1)).first() is not None


def claim(session: Session, owner: str, now: datetime, lease: timedelta, live: Sequence[str], limit: int) -> list[Delivery]:
    """Claim up to `limit` deliveries that are due: pending ones whose time has come, and claims of
    services no longer beating (`live` are the instances still beating) or older than the lease."""
    query = (select(OutboxRow).where(_claimable(now, lease, live)).order_by(OutboxRow.severity, OutboxRow.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # two services take different rows
    rows = session.execute(query).scalars().all()
    out = []
    for row in rows:
        row.status, row.claimed_at, row.claimed_by, row.attempts = SENDING, now, owner, row.attempts + 1
        out.append(Delivery(row.id, row.event_seq, row.incident_id, row.recipient, row.channel_kind, row.url,
                            row.severity, row.title, row.body, row.attempts))
    session.flush()
    return out


def mark(session: Session, delivery_id: int, owner: str, status: str, error: str, now: datetime,
         retry_at: datetime | None) -> bool:
    """Record the outcome of a claimed delivery; False when the claim was lost (taken again by
    another service after the lease), so the caller records nothing."""
    values: dict[str, Any] = {"last_error": error[:1000], "claimed_by": "", "claimed_at": None}
    if retry_at is not None:
        values.update(status=PENDING, not_before=retry_at)
    else:
        values.update(status=status, done_at=now)
    done = session.execute(
        update(OutboxRow).where(OutboxRow.id == delivery_id, OutboxRow.status == SENDING, OutboxRow.claimed_by == owner)
        .values(**values)
    )
    return bool(done.rowcount)


def lock_incident(session: Session, number: int) -> None:
    """Take the incident's row lock before the timeline's chain head, in the order every other
    writer takes them (the scheduler locks its incidents, then the head): the timeline row's
    foreign key would otherwise wait for the incident while holding the head — a deadlock on
    PostgreSQL."""
    session.execute(select(IncidentRow.id).where(IncidentRow.id == number).with_for_update())


def next_due(session: Session) -> datetime | None:
    """When the earliest pending delivery may go (None: nothing pending)."""
    return session.execute(select(func.min(OutboxRow.not_before)).where(OutboxRow.status == PENDING)).scalar()


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
    return {status: n for status, n in rows}


# --- heartbeats ---------------------------------------------------------------------------------


def beat(session: Session, instance: str, host: str, pid: int, started_at: datetime, now: datetime) -> None:
    statement = _insert(session, ServiceHeartbeatRow).values(
        instance=instance, host=host, pid=pid, started_at=started_at, last_seen=now)
    session.execute(statement.on_conflict_do_update(index_elements=["instance"], set_={"last_seen": now}))


def forget(session: Session, instance: str) -> None:
    session.execute(delete(ServiceHeartbeatRow).where(ServiceHeartbeatRow.instance == instance))


def heartbeats(session: Session, since: datetime) -> list[Heartbeat]:
    rows = session.execute(select(ServiceHeartbeatRow).where(ServiceHeartbeatRow.last_seen >= since)
                           .order_by(ServiceHeartbeatRow.last_seen.desc())).scalars()
    return [Heartbeat(r.instance, r.host, r.pid, r.started_at, r.last_seen) for r in rows]


def prune_heartbeats(session: Session, before: datetime) -> None:
    session.execute(delete(ServiceHeartbeatRow).where(ServiceHeartbeatRow.last_seen < before))
