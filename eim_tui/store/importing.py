"""Writing imported history: new incidents with their timelines, grown ones updated, and the names
an import met, each marked as imported. Runs in the caller's transaction (one per batch)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from eim_tui.domain import events, sla
from eim_tui.domain.model import Incident
from eim_tui.store import bulk_load, change_feed, repository, search, timeline, visits
from eim_tui.store.tables import (
    CategoryRow,
    GroupRow,
    ImportedNameRow,
    IncidentImportRow,
    IncidentRow,
    SubcategoryRow,
    TimelineRow,
    UserRow,
)


@dataclass(frozen=True, slots=True)
class Known:
    """An incident already imported: its number, and the digest and count of the rows it came from."""

    number: int
    digest: str
    rows: int


def known_imports(session: Session, source: str) -> dict[str, Known]:
    rows = session.execute(
        select(IncidentImportRow.external_ref, IncidentImportRow.incident_id, IncidentImportRow.digest,
               IncidentImportRow.source_rows).where(IncidentImportRow.source == source)
    )
    return {ref: Known(number, digest, count) for ref, number, digest, count in rows}


def insert_imported(session: Session, histories: Sequence[bulk_load.History], import_rows: Sequence[dict[str, Any]],
                    policies: Mapping[int, sla.SlaPolicy]) -> None:
    """New incidents, numbered after the store's last, with their timelines and import rows.

    Unlike `bulk_load.insert_histories` (which orders a demo's events by time), each incident's
    events are chained in the source's update order: a source row's clock may run backwards, and
    the timeline must still say what followed what."""
    timeline.lock_head(session)
    first = repository.allocate_numbers(session, len(histories))
    search.pause(session)  # the new incidents are indexed in one pass at the end
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        # As for the demo: with SQLite's default 2 MB page cache every index insert rereads pages.
        conn.exec_driver_sql(f"PRAGMA cache_size=-{bulk_load.CACHE_KIB}")
    incident_rows, items = [], []
    for offset, h in enumerate(histories):
        number = first + offset
        values = repository.incident_values(h.incident.replace(number=number), policies)
        values.update(id=number, version=1 + max(0, len(h.events) - 1), updated_at=h.events[-1][0])
        incident_rows.append(values)
        items.extend((number, at, actor, draft) for at, actor, draft in h.events)
    bulk_load._insert_many(conn, IncidentRow.__table__, incident_rows, True)
    append_at(session, items, fresh=True)
    rows = [dict(values, incident_id=first + offset) for offset, values in enumerate(import_rows)]
    bulk_load._insert_many(conn, IncidentImportRow.__table__, rows, True)
    search.resume(session, first, len(histories))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT setval(pg_get_serial_sequence('incident', 'id'), (SELECT max(id) FROM incident))"))


def update_imported(session: Session, known: Known, incident: Incident,
                    new_events: list[tuple[datetime, str, events.EventDraft]], import_row: dict[str, Any],
                    policies: Mapping[int, sla.SlaPolicy], now: datetime) -> None:
    """An incident whose export changed: its fields rewritten, the events of its new rows appended
    (or, when rows were edited rather than added, one event per field that differs)."""
    before = repository.get_incident(session, known.number, for_update=True)
    after = incident.replace(number=known.number, version=before.version)
    marker = {"imported": import_row["source"], "external_ref": import_row["external_ref"]}
    if not new_events and before != after:
        new_events = [(now, "import", (kind, summary, {**data, **marker}))
                      for kind, summary, data in events.change_events(before, after)]
    at = new_events[-1][0] if new_events else now
    if before != after:
        repository.save_incident(session, before, after, policies, at)
    append_at(session, [(known.number, when, actor, draft) for when, actor, draft in new_events])
    session.execute(update(IncidentImportRow).where(IncidentImportRow.incident_id == known.number)
                    .values(**import_row))


def append_at(session: Session, items: list[tuple[int, datetime, str, events.EventDraft]], fresh: bool = False) -> None:
    """Append events that happened at their own times (not now), chained from the current head
    (`fresh`: the incidents are new in this transaction, see `visits.record`)."""
    if not items:
        return
    head = timeline.lock_head(session)
    seq, prev = head.seq, head.hash
    rows = []
    for number, at, actor, (kind, summary, data) in items:
        seq += 1
        digest = timeline.event_hash(seq, number, at, actor, kind.value, summary, data, prev)
        rows.append({"seq": seq, "incident_id": number, "at": at, "actor": actor, "kind": kind.value, "summary": summary,
                         "data": data, "once_key": None, "prev_hash": prev, "hash": digest})
        prev = digest
    for start in range(0, len(rows), 5000):
        bulk_load._insert_many(session.connection(), TimelineRow.__table__, rows[start:start + 5000], True)
    change_feed.move_head(session, seq, prev)
    visits.record(session, [(r["incident_id"], r["seq"], r["at"], r["kind"], r["data"]) for r in rows], fresh=fresh)


def record_names(session: Session, names: Iterable[tuple[str, str]], source: str) -> None:
    """Each name the store did not know becomes a catalogue entry (categories, subcategories, groups,
    users; CIs and locations have no table of their own without a service), marked as imported."""
    names = sorted(set(names))
    if not names:
        return
    dialect = session.get_bind().dialect.name
    ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
    known = {(k, n) for k, n in session.execute(select(ImportedNameRow.kind, ImportedNameRow.name))}
    fresh = [(k, n) for k, n in names if (k, n) not in known]
    if not fresh:
        return
    by_kind: dict[str, list[str]] = {}
    for kind, name in fresh:
        by_kind.setdefault(kind, []).append(name)
    if by_kind.get("category"):
        session.execute(ins(CategoryRow).values([{"name": n} for n in by_kind["category"]]).on_conflict_do_nothing())
    if by_kind.get("subcategory"):
        pairs = [dict(zip(("category", "name"), n.split("/", 1))) for n in by_kind["subcategory"]]
        for pair in pairs:  # a subcategory's category may have come in an earlier import
            session.execute(ins(CategoryRow).values(name=pair["category"]).on_conflict_do_nothing())
        session.execute(ins(SubcategoryRow).values(pairs).on_conflict_do_nothing())
    if by_kind.get("group"):
        session.execute(ins(GroupRow).values([{"name": n} for n in by_kind["group"]]).on_conflict_do_nothing())
    if by_kind.get("user"):
        # Imported people may look, not act: nobody has logged in as them yet.
        session.execute(ins(UserRow).values([{"name": n, "role": "viewer"} for n in by_kind["user"]])
                        .on_conflict_do_nothing())
    session.execute(ins(ImportedNameRow).values([{"kind": k, "name": n, "source": source} for k, n in fresh])
                    .on_conflict_do_nothing())
