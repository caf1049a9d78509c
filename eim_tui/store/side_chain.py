"""Hash chains of their own beside the incidents' timeline: the changes' (`change_event`, head in
`chain_head` row 6) and the problems' (`problem_event`, row 11). Each is hashed like the incidents'
(`timeline.event_hash`) so a record cannot be rewritten unseen, and verified the same way.

A transaction that writes the incidents' chain and one of these locks the incidents' head first (the
order every writer keeps), so two writers never wait on each other in a circle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from eim_tui.store.tables import ChainHeadRow
from eim_tui.store.timeline import GENESIS, ChainReport, _jsonable, event_hash


@dataclass(frozen=True, slots=True)
class SideChain:
    """One chain: its head row, its event table and the column naming the record an event belongs to."""

    head_id: int
    table: type  # an ORM class with seq, <owner>, at, actor, kind, summary, data, prev_hash, hash
    owner: str  # the column holding the record's number: change_id, problem_number
    what: str  # "change", "problem": in messages
    key: Callable[[int], str]  # the record's number → its key, for messages


@dataclass(frozen=True, slots=True)
class SideEvent:
    seq: int
    number: int
    at: datetime
    actor: str
    kind: str
    summary: str
    data: dict[str, Any]


def lock_head(session: Session, chain: SideChain) -> ChainHeadRow:
    stmt = select(ChainHeadRow).where(ChainHeadRow.id == chain.head_id).with_for_update()
    head = session.execute(stmt).scalar_one_or_none()
    if head is None:  # the chain's first event: writers racing to make the head do not fail
        dialect = session.get_bind().dialect.name
        make = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(ChainHeadRow)
        session.execute(make.values(id=chain.head_id, seq=0, hash=GENESIS).on_conflict_do_nothing(index_elements=["id"]))
        head = session.execute(stmt).scalar_one()
    return head


def append(
    session: Session, chain: SideChain, number: int, events: Sequence[tuple[str, str, dict[str, Any]]],
    at: datetime, actor: str,
) -> list[SideEvent]:
    """Append (kind, summary, data) events of record `number` at the end of the chain."""
    if not events:
        return []
    head = lock_head(session, chain)
    seq, prev = head.seq, head.hash
    rows, out = [], []
    for kind, summary, data in events:
        seq += 1
        data = _jsonable(data)
        digest = event_hash(seq, number, at, actor, kind, summary, data, prev)
        rows.append({"seq": seq, chain.owner: number, "at": at, "actor": actor, "kind": kind, "summary": summary,
                     "data": data, "prev_hash": prev, "hash": digest})
        out.append(SideEvent(seq, number, at, actor, kind, summary, data))
        prev = digest
    session.execute(insert(chain.table), rows)
    session.execute(update(ChainHeadRow).where(ChainHeadRow.id == chain.head_id).values(seq=seq, hash=prev))
    return out


def events_of(session: Session, chain: SideChain, number: int) -> list[SideEvent]:
    owner = getattr(chain.table, chain.owner)
    rows = session.execute(select(chain.table).where(owner == number).order_by(chain.table.seq)).scalars()
    return [SideEvent(r.seq, getattr(r, chain.owner), r.at, r.actor, r.kind, r.summary, r.data or {}) for r in rows]


def verify(session: Session, chain: SideChain, batch: int = 5000) -> ChainReport:
    """Walk the chain in order and name the first event whose link or content does not hold."""
    prev, expected, count, last = GENESIS, 1, 0, 0
    table, what = chain.table, chain.what
    while True:
        rows = session.execute(select(table).where(table.seq > last).order_by(table.seq).limit(batch)).scalars().all()
        if not rows:
            break
        for row in rows:
            number = getattr(row, chain.owner)
            where = f"{what} event {row.seq} ({chain.key(number)}, {row.kind})"
            if row.seq != expected:
                return ChainReport(False, count, expected, f"{what} event {expected} is missing (next is {row.seq})")
            if row.prev_hash != prev:
                return ChainReport(False, count, row.seq, f"{where} does not link to the event before it")
            digest = event_hash(row.seq, number, row.at, row.actor, row.kind, row.summary, row.data, row.prev_hash)
            if digest != row.hash:
                return ChainReport(False, count, row.seq, f"{where} was altered after it was written")
            prev, expected, count, last = row.hash, row.seq + 1, count + 1, row.seq
        session.expunge_all()
    head = session.get(ChainHeadRow, chain.head_id)
    if head is not None and (head.seq != last or head.hash != prev):
        return ChainReport(False, count, last + 1,
                           f"the {what}s' chain head says {head.seq} events but {last} were found (events deleted at the end)")
    return ChainReport(True, count)
