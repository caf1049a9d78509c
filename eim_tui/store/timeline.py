"""The append-only, hash-chained timeline: appending under the chain head's lock, and verifying.

Each event's hash covers its own content and the previous event's hash, so changing, deleting or
inserting any row breaks the chain from that row on, and `verify` names the first broken link.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from eim_tui.domain.model import EventKind, TimelineEvent, format_key
from eim_tui.store import change_feed, visits
from eim_tui.store.engine import BEFORE_COMMIT
from eim_tui.store.tables import ChainHeadRow, TimelineRow

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class NewEvent:
    incident_number: int
    kind: EventKind
    summary: str
    data: dict[str, Any]
    once_key: str | None = None


def event_hash(
    seq: int, incident_id: int, at: datetime, actor: str, kind: str, summary: str, data: Any, prev_hash: str
) -> str:
    body = json.dumps(
        [seq, incident_id, at.isoformat(), actor, kind, summary, data, prev_hash],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


HELD = "eim.chain_head"  # session.info: (seq, hash) of a head held for a batch (`hold_head`)


def hold_head(session: Session) -> None:
    """Lock the chain head once for the rest of this transaction and keep it in memory: every
    `append` until the commit reads and advances it there, and the head row is written once, just
    before the commit (`Database.joined` runs the session's "before commit" steps). A batch of
    N incident changes thus costs one head read and one head write, not N of each.

    Inner transactions (savepoints) of a joined session restore the held head with the rest of
    `session.info` when they roll back, so a unit undone leaves no gap in the chain."""
    if HELD in session.info:
        return
    head = lock_head(session)
    session.info[HELD] = (head.seq, head.hash)
    session.info.setdefault(BEFORE_COMMIT, []).append(release_head)


def release_head(session: Session) -> None:
    """Write the held head back (the last step before the commit); nothing if none is held."""
    held = session.info.pop(HELD, None)
    if held is not None:
        change_feed.move_head(session, held[0], held[1])


def lock_head(session: Session) -> ChainHeadRow:
    """The chain head, locked for this transaction (PostgreSQL row lock; SQLite's write lock
    is already held since the transaction began IMMEDIATE)."""
    if (held := session.info.get(HELD)) is not None:  # locked already by `hold_head`, which keeps the values
        return ChainHeadRow(id=1, seq=held[0], hash=held[1])  # not added to the session: nothing to write
    head = session.execute(select(ChainHeadRow).where(ChainHeadRow.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        # The first writers of a new store may race to create the head: the loser's insert waits
        # for the winner's commit and then does nothing, instead of failing on the primary key.
        dialect = session.get_bind().dialect.name
        insert_head = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(ChainHeadRow)
        session.execute(insert_head.values(id=1, seq=0, hash=GENESIS).on_conflict_do_nothing(index_elements=["id"]))
        head = session.execute(select(ChainHeadRow).where(ChainHeadRow.id == 1).with_for_update()).scalar_one()
    return head


def append(session: Session, events: list[NewEvent], at: datetime, actor: str) -> list[TimelineEvent]:
    """Append events in order at the end of the chain, in the caller's transaction."""
    if not events:
        return []
    held = session.info.get(HELD)
    if held is not None:
        seq, prev = held
    else:
        head = lock_head(session)
        seq, prev = head.seq, head.hash
    rows: list[dict[str, Any]] = []
    out: list[TimelineEvent] = []
    for ev in events:
        seq += 1
        data = _jsonable(ev.data)
        digest = event_hash(seq, ev.incident_number, at, actor, ev.kind.value, ev.summary, data, prev)
        rows.append(
            dict(
                seq=seq,
                incident_id=ev.incident_number,
                at=at,
                actor=actor,
                kind=ev.kind.value,
                summary=ev.summary,
                data=data,
                once_key=ev.once_key,
                prev_hash=prev,
                hash=digest,
            )
        )
        out.append(TimelineEvent(seq, ev.incident_number, at, actor, ev.kind, ev.summary, data, prev, digest))
        prev = digest
    session.execute(insert(TimelineRow.__table__), rows)  # Core: the ORM bulk path costs more than the insert
    if held is not None:
        session.info[HELD] = (seq, prev)
    else:
        change_feed.move_head(session, seq, prev)
    visits.record(session, [(r["incident_id"], r["seq"], at, r["kind"], r["data"]) for r in rows])
    return out


def append_once(session: Session, event: NewEvent, at: datetime, actor: str) -> TimelineEvent | None:
    """Append an event that must exist at most once (its `once_key`); None if it already does.

    The unique index decides, not a prior read: two schedulers racing both try, one wins."""
    assert event.once_key, "append_once needs a once_key"
    exists = session.execute(select(TimelineRow.seq).where(TimelineRow.once_key == event.once_key)).first()
    if exists:
        return None
    held = session.info.get(HELD)
    try:
        with session.begin_nested():
            return append(session, [event], at, actor)[0]
    except IntegrityError:
        if held is not None:
            session.info[HELD] = held  # the event was undone: so is its step of the held head
        return None


def _jsonable(value: Any) -> Any:
    try:
        return _plain_copy(value)  # most event data is plain already: a copy costs less than a round trip
    except _NotPlain:
        return json.loads(json.dumps(value, default=_encode, ensure_ascii=False))


class _NotPlain(Exception):
    pass


_SCALARS = (str, int, bool, type(None))


def _plain_copy(value: Any) -> Any:
    """A copy of JSON made of exactly dicts with text keys, lists, text, integers, booleans and
    None — what the JSON round trip would give back; `_NotPlain` for anything else (floats,
    enums, times, tuples…), which takes the round trip."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            out[key] = _plain_copy(item)
        return out
    if kind is list:
        return [_plain_copy(item) for item in value]
    raise _NotPlain


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    return str(value)


def to_event(row: TimelineRow) -> TimelineEvent:
    return TimelineEvent(
        row.seq, row.incident_id, row.at, row.actor, EventKind(row.kind), row.summary, row.data or {}, row.prev_hash, row.hash
    )


def events_of(session: Session, number: int) -> list[TimelineEvent]:
    """One incident's events, oldest first."""
    rows = session.execute(
        select(TimelineRow).where(TimelineRow.incident_id == number).order_by(TimelineRow.seq)
    ).scalars()
    return [to_event(r) for r in rows]


@dataclass(frozen=True, slots=True)
class ChainReport:
    intact: bool
    events: int
    broken_at: int | None = None
    reason: str = ""
    hidden: int = 0  # events this login cannot read (PostgreSQL RLS), verified by their links only

    def describe(self) -> str:
        if self.intact and self.hidden:
            return (f"timeline intact: {self.events} events, every link verified ({self.hidden} confidential "
                    "event(s) by their links only: the security group verifies their content)")
        if self.intact:
            return f"timeline intact: {self.events} events, every link verified"
        return f"timeline BROKEN at event {self.broken_at}: {self.reason}"


def verify(session: Session, batch: int = 5000) -> ChainReport:
    """Walk the chain in order and name the first event whose link or content does not hold."""
    prev, expected_seq, count = GENESIS, 1, 0
    last_seq = 0
    while True:
        rows = session.execute(
            select(TimelineRow).where(TimelineRow.seq > last_seq).order_by(TimelineRow.seq).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for row in rows:
            where = f"seq {row.seq} ({format_key(row.incident_id)}, {row.kind})"
            if row.seq != expected_seq:
                return ChainReport(False, count, expected_seq, f"event {expected_seq} is missing (next is {row.seq})")
            if row.prev_hash != prev:
                return ChainReport(False, count, row.seq, f"{where} does not link to the event before it")
            digest = event_hash(row.seq, row.incident_id, row.at, row.actor, row.kind, row.summary, row.data, row.prev_hash)
            if digest != row.hash:
                return ChainReport(False, count, row.seq, f"{where} was altered after it was written")
            prev, expected_seq, count, last_seq = row.hash, row.seq + 1, count + 1, row.seq
        session.expunge_all()
    head = session.get(ChainHeadRow, 1)
    if head is not None and (head.seq != last_seq or head.hash != prev):
        return ChainReport(False, count, last_seq + 1, f"the chain head says {head.seq} events but {last_seq} were found (events deleted at the end)")
    return ChainReport(True, count)


def verify_incident(session: Session, number: int) -> ChainReport:
    """Check one incident's links without walking the whole store: each of its events hashes to what
    it says, and its `prev_hash` is the hash of the event just before it in the global chain."""
    rows = session.execute(
        select(TimelineRow).where(TimelineRow.incident_id == number).order_by(TimelineRow.seq)
    ).scalars().all()
    wanted = sorted({row.seq - 1 for row in rows if row.seq > 1})
    before: dict[int, str] = {0: GENESIS}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found = session.execute(select(TimelineRow.seq, TimelineRow.hash).where(TimelineRow.seq.in_(chunk)))
        before.update({seq: digest for seq, digest in found})
    for count, row in enumerate(rows):
        where = f"seq {row.seq} ({format_key(row.incident_id)}, {row.kind})"
        previous = before.get(row.seq - 1)
        if previous is None:
            return ChainReport(False, count, row.seq - 1, f"event {row.seq - 1} before {where} is missing")
        if row.prev_hash != previous:
            return ChainReport(False, count, row.seq, f"{where} does not link to the event before it")
        digest = event_hash(row.seq, row.incident_id, row.at, row.actor, row.kind, row.summary, row.data, row.prev_hash)
        if digest != row.hash:
            return ChainReport(False, count, row.seq, f"{where} was altered after it was written")
    return ChainReport(True, len(rows))
