"""Writing many finished histories at once (`eim demo`): incidents, their diagnosis notes and their
timeline events, chained from the current head, in one transaction and a few executemany calls;
the full-text index is filled once at the end (store/search.py).

The caller built each history with the domain's own rules; this module only numbers the incidents
after the store's last one, orders every event by when it happened, and chains them.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from eim_tui.domain import events, sla
from eim_tui.domain.model import Incident
from eim_tui.store import change_feed, repository, search, timeline, visits
from eim_tui.store.tables import (
    DiagnosisNoteRow,
    IncidentRow,
    TimelineRow,
)

# SQLite's page cache while loading (KiB): a dozen indexes take random inserts.
CACHE_KIB = 128 * 1024


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


def insert_histories(
    session: Session, histories: Sequence[History], policies: Mapping[int, sla.SlaPolicy], fast: bool = True
) -> None:
    """Insert every history, numbered after the store's last incident; `fast` lets SQLite take the
    driver path of `_insert_many`. Each history needs at least its creation event."""
    head = timeline.lock_head(session)
    first = repository.allocate_numbers(session, len(histories)) if histories else 1
    search.pause(session)  # one pass over the new rows at the end instead of a trigger per row and note
    rows, note_rows = [], []
    numbered: list[tuple[int, History]] = []
    for offset, h in enumerate(histories):
        number = first + offset
        numbered.append((number, h))
        values = repository.incident_values(h.incident.replace(number=number), policies)
        values.update(id=number, version=1 + max(0, len(h.events) - 1), updated_at=h.events[-1][0])
        rows.append(values)
        note_rows.extend(dict(incident_id=number, position=n.position, kind=n.kind, text=n.text, status=n.status,
                              result="", author=n.author, created_at=n.created_at, version=1) for n in h.notes)
    conn = session.connection()
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        # With SQLite's default 2 MB page cache each index insert rereads pages from the file and
        # 100,000 incidents take twice as long.
        cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")
    for start in range(0, len(rows), 2000):
        _insert_many(conn, IncidentRow.__table__, rows[start:start + 2000], fast)
    _insert_many(conn, DiagnosisNoteRow.__table__, note_rows, fast)
    # The timeline in the order things happened, chained from the current head.
    ordered = sorted(
        ((at, number, actor, draft) for number, h in numbered for at, actor, draft in h.events),
        key=lambda e: (e[0], e[1]),
    )
    seq, prev = head.seq, head.hash
    batch = []
    steps: list[visits.Step] = []
    for at, number, actor, (kind, summary, data) in ordered:
        seq += 1
        # No JSON round trip (`timeline._jsonable`): the drafts hold only JSON types already
        # (events.change_events makes datetimes and enums plain); anything else fails loudly
        # when the JSON column serialises it.
        digest = timeline.event_hash(seq, number, at, actor, kind.value, summary, data, prev)
        batch.append(dict(seq=seq, incident_id=number, at=at, actor=actor, kind=kind.value, summary=summary,
                          data=data, once_key=None, prev_hash=prev, hash=digest))
        steps.append((number, seq, at, kind.value, data))
        prev = digest
        if len(batch) >= 5000:
            _insert_many(conn, TimelineRow.__table__, batch, fast)
            batch = []
    _insert_many(conn, TimelineRow.__table__, batch, fast)
    change_feed.move_head(session, seq, prev)
    visits.record(session, steps, fresh=True)
    search.resume(session, first, len(histories))
    if sqlite:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(cache)}")
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT setval(pg_get_serial_sequence('incident', 'id'), (SELECT max(id) FROM incident))"))


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
