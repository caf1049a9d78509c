"""Writing many finished histories at once (`eim demo`): incidents, their diagnosis notes and their
timeline events, chained from the current head, in one transaction and executemany calls of a few
thousand rows; the full-text index is filled once at the end (store/search.py). Histories are read
a chunk at a time and each event waits in a temporary table until the chain reaches it, so memory
does not grow with the count.

The caller built each history with the domain's own rules; this module only numbers the incidents
after the store's last one, orders every event by when it happened, and chains them.
"""

from __future__ import annotations

import itertools
import operator
import pickle
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from eim_tui.domain import events, sla
from eim_tui.domain.model import Incident
from eim_tui.store import change_feed, repository, search, timeline, visits
from eim_tui.store.tables import (
    DiagnosisNoteRow,
    IncidentRow,
    StateVisitRow,
    TimelineRow,
)

# SQLite's page cache while loading (KiB): a dozen indexes take random inserts.
CACHE_KIB = 128 * 1024
REBUILT_CACHE_KIB = 32 * 1024


@dataclass(frozen=True, slots=True)
class PastNote:
    """A diagnosis note as it was written (`kind` and `status` as stored: NoteKind / HypothesisStatus values)."""

    position: int
    kind: str
    text: str
    status: str | None
    author: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class History:
    """One incident as it is now, what happened to it (in order: when, who, what) and its notes."""

    incident: Incident
    events: list[tuple[datetime, str, events.EventDraft]]
    notes: list[PastNote] = field(default_factory=list)


# Histories built and written at a time, and timeline events chained per page: memory stays flat
# whatever the count (1,000,000 incidents held at once took gigabytes).
CHUNK = 5_000
EVENT_PAGE = 20_000
# From this many incidents on, SQLite's secondary indexes of the tables loaded are dropped first and
# made again at the end, from the very statements that made them: one sort each instead of a random
# B-tree insert per row and index (the incident table has fourteen).
REBUILD_AFTER = 50_000
_LOADED_TABLES = ("incident", "timeline_event", "state_visit", "diagnosis_note")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# Each event waits here, in a temporary table, between its incident being written and its place in
# the chain being known: the chain is ordered by when things happened across every incident.
_PENDING = sa.Table(
    "eim_bulk_pending", sa.MetaData(),
    sa.Column("at_us", sa.BigInteger, nullable=False),  # microseconds since 1970: the order
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("pos", sa.Integer, nullable=False),  # its place in the history: ties keep it
    sa.Column("event", sa.LargeBinary, nullable=False),  # pickled (at, actor, kind, summary, data, stay)
    prefixes=["TEMPORARY"],
)


def insert_histories(
    session: Session, histories: Iterable[History], policies: Mapping[int, sla.SlaPolicy], fast: bool = True,
    count: int | None = None,
) -> None:
    """Insert every history, numbered after the store's last incident; `fast` lets SQLite take the
    driver path of `_insert_many`. Each history needs at least its creation event.

    `histories` may be a generator (then `count` says how many it yields): it is read CHUNK at a
    time, so a million incidents never sit in memory together."""
    if count is None:
        histories = list(histories)
        count = len(histories)
    if not count:
        return
    head = timeline.lock_head(session)
    first = repository.allocate_numbers(session, count)
    search.pause(session)  # one pass over the new rows at the end instead of a trigger per row and note
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        # With SQLite's default 2 MB page cache each index insert rereads pages from the file and
        # 100,000 incidents take twice as long.
        cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    rebuild = _drop_indexes(conn) if sqlite and count >= REBUILD_AFTER else []
    if sqlite:
        # Without those indexes every insert appends: a small cache will do, and it bounds the
        # memory of the sorts (the chain's order, each index made again) before they spill to disk.
        conn.exec_driver_sql(f"PRAGMA cache_size=-{REBUILT_CACHE_KIB if rebuild else CACHE_KIB}")
    _PENDING.create(conn)
    number = first
    for chunk in _chunks(histories, CHUNK):
        rows, note_rows, pending = [], [], []
        for h in chunk:
            values = repository.incident_values(h.incident.replace(number=number), policies)
            values.update(id=number, version=1 + max(0, len(h.events) - 1), updated_at=h.events[-1][0])
            rows.append(values)
            note_rows.extend(dict(incident_id=number, position=n.position, kind=n.kind, text=n.text,
                                  status=n.status, result="", author=n.author, created_at=n.created_at, version=1)
                             for n in h.notes)
            pending.extend(_pending(number, h))
            number += 1
        _insert_many(conn, IncidentRow.__table__, rows, fast)
        _insert_many(conn, DiagnosisNoteRow.__table__, note_rows, fast)
        conn.execute(insert(_PENDING), pending)
    if number - first != count:
        raise ValueError(f"{count} histories announced, {number - first} given")
    # The timeline in the order things happened, chained from the current head, with the visits
    # its events open (worked out per incident by `_pending`).
    seq, prev = head.seq, head.hash
    ordered = conn.execute(  # a server-side cursor on PostgreSQL (the statement's option, not the connection's)
        select(_PENDING.c.number, _PENDING.c.event).order_by(_PENDING.c.at_us, _PENDING.c.number, _PENDING.c.pos)
        .execution_options(yield_per=EVENT_PAGE))
    for page in ordered.partitions():
        batch, visit_rows = [], []
        for number, event in page:
            at, actor, kind, summary, data, stay = pickle.loads(event)
            seq += 1
            # No JSON round trip (`timeline._jsonable`): the drafts hold only JSON types already
            # (events.change_events makes datetimes and enums plain); anything else fails loudly
            # when the JSON column serialises it.
            digest = timeline.event_hash(seq, number, at, actor, kind, summary, data, prev)
            batch.append(dict(seq=seq, incident_id=number, at=at, actor=actor, kind=kind, summary=summary,
                              data=data, once_key=None, prev_hash=prev, hash=digest))
            if stay is not None:
                state, left_at, hours, next_state = stay
                visit_rows.append({"incident_id": number, "seq": seq, "state": state, "entered_at": at,
                                   "left_at": left_at, "hours": hours, "next_state": next_state})
            prev = digest
        _insert_many(conn, TimelineRow.__table__, batch, fast)
        _insert_many(conn, StateVisitRow.__table__, visit_rows, fast)
    ordered.close()
    _PENDING.drop(conn)
    change_feed.move_head(session, seq, prev)  # and, on PostgreSQL, tells the listeners
    for statement in rebuild:
        conn.exec_driver_sql(statement)
    search.resume(session, first, count)
    if sqlite:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(cache)}")
    if conn.dialect.name == "postgresql":
        session.execute(text("SELECT setval(pg_get_serial_sequence('incident', 'id'), (SELECT max(id) FROM incident))"))


def _chunks(items: Iterable[History], size: int) -> Iterator[list[History]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _pending(number: int, h: History) -> list[dict]:
    """The rows of `_PENDING` for one history: its events as the timeline will order them (by
    instant; the history's own order for ties), each with the visit it opens."""
    order = sorted(range(len(h.events)), key=lambda i: h.events[i][0])
    opened = visits.stays((h.events[i][0], h.events[i][2][0].value, h.events[i][2][2]) for i in order)
    rows = []
    for i, stay in zip(order, opened):
        at, actor, (kind, summary, data) = h.events[i]
        rows.append({"at_us": (at - _EPOCH) // _MICROSECOND, "number": number, "pos": i,
                     "event": pickle.dumps((at, actor, kind.value, summary, data, stay), pickle.HIGHEST_PROTOCOL)})
    return rows


def _drop_indexes(conn) -> list[str]:
    """Drop the secondary indexes of the tables a bulk load fills; the statements that make them again."""
    found = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN "
        f"({', '.join('?' * len(_LOADED_TABLES))}) ORDER BY name", _LOADED_TABLES).all()
    for name, _ in found:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return [statement for _, statement in found]


def _insert_many(conn, table, rows: list[dict], fast: bool) -> None:
    """Insert rows (all with the same keys) in one executemany.

    On SQLite, each value goes through its column type's own bind processor (so the stored text is
    what Core would store) and straight to the driver: Core's per-row parameter building costs more
    than SQLite's insert itself at 100,000 incidents. Other databases, or `fast` off, take the Core path.
    """
    if not rows:
        return
    dialect = conn.dialect
    if dialect.paramstyle != "qmark" or fast is False:
        conn.execute(insert(table), rows)
        return
    keys = list(rows[0])
    processors = [table.c[k].type.dialect_impl(dialect).bind_processor(dialect) for k in keys]
    columns = ", ".join(dialect.identifier_preparer.quote(k) for k in keys)
    sql = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({columns}) VALUES ({', '.join('?' * len(keys))})"
    converted = [(i, p) for i, p in enumerate(processors) if p is not None]
    take = operator.itemgetter(*keys)
    params = []
    for row in rows:
        values = list(take(row))
        for i, process in converted:
            values[i] = process(values[i])
        params.append(tuple(values))
    conn.exec_driver_sql(sql, params)
