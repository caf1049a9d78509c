"""State visits: each stay of an incident in one state, kept beside the timeline it is derived from.

Every path that writes timeline events calls `record` in the same transaction with the events it
wrote (`timeline.append`, the demo's bulk load, the importer), so a visit exists exactly when its
event does. The event that enters a state opens a visit; the next one of the same incident closes
it, with the hours spent and the state that followed. `eim report --process` then aggregates these
rows in the database instead of reading every event and its JSON.

Which states an event enters is `step_label`, the one rule for the live path, the bulk paths and
the back-fill of stores made before the table existed (`backfill`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from eim_tui.domain.model import EventKind
from eim_tui.store.tables import StateVisitRow
from eim_tui.store.types import UTCDateTime

_CREATED = EventKind.CREATED.value
_STATE_CHANGED = EventKind.STATE_CHANGED.value
STEP_KINDS = (_CREATED, _STATE_CHANGED)

# (incident number, timeline seq, at, event kind, event data), in seq order.
Step = tuple[int, int, datetime, str, Mapping[str, Any]]


def state_label(state: str, reason: str | None, note: str) -> str:
    """A state as the process report names it: on hold carries its reason ("on hold: awaiting
    user"), or its note when the reason is "other"."""
    text = state.replace("_", " ")
    if state != "on_hold":
        return text
    if reason and reason != "other":
        return f"{text}: {reason.replace('_', ' ')}"
    return f"{text}: {note}" if note else f"{text}: other"


def step_label(kind: str, data: Mapping[str, Any]) -> str | None:
    """The state an event enters, or None when it enters none (a note, an assignment …)."""
    if kind == _CREATED:
        return state_label(data.get("state") or "new", data.get("hold_reason"), data.get("hold_note") or "")
    if kind != _STATE_CHANGED:
        return None
    folded = data.get("with") or {}
    reason = (folded.get("hold_reason") or {}).get("new")
    note = (folded.get("hold_note") or {}).get("new")
    return state_label(data.get("new") or "", reason, note or "")


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


Stay = tuple[str, datetime | None, float | None, str | None]  # state, left at, hours, next state


def stays(steps: Iterable[tuple[datetime, str, Mapping[str, Any]]]) -> list[Stay | None]:
    """For one new incident's events in timeline order ((at, kind, data) each), the visit each one
    opens — what `record(…, fresh=True)` writes for it — or None for an event that opens none.
    A bulk load that writes the timeline in pages works these out per incident beforehand."""
    found: list[Stay | None] = []
    still_open: tuple[int, datetime] | None = None  # the visit not closed yet: its index, when it began
    for at, kind, data in steps:
        label = step_label(kind, data) if kind in STEP_KINDS else None
        if label is None:
            found.append(None)
            continue
        if still_open is not None:
            index, entered = still_open
            found[index] = (found[index][0], at, _hours(entered, at), label)  # type: ignore[index]
        still_open = (len(found), at)
        found.append((label, None, None, None))
    return found


def record(session: Session, steps: Iterable[Step], fresh: bool = False) -> None:
    """Open and close the visits these timeline events make, in the caller's transaction.

    `fresh`: the incidents are new in this transaction (a bulk load), so none has an open visit
    yet and the store is not asked."""
    steps = [s for s in steps if s[3] in STEP_KINDS]
    if not steps:
        return
    conn = session.connection()
    open_visits: dict[int, tuple[int | None, datetime]] = {}  # incident → (visit id or None if new here, entered)
    if not fresh:
        numbers = sorted({s[0] for s in steps})
        for start in range(0, len(numbers), 500):
            rows = conn.execute(
                select(StateVisitRow.incident_id, StateVisitRow.id, StateVisitRow.entered_at)
                .where(StateVisitRow.incident_id.in_(numbers[start:start + 500]), StateVisitRow.left_at.is_(None))
            )
            for number, visit, entered in rows:
                open_visits[number] = (visit, entered)
    closes: list[dict[str, Any]] = []
    pending: dict[int, dict[str, Any]] = {}  # incident → its newest visit opened here (not inserted yet)
    inserts: list[dict[str, Any]] = []
    for number, seq, at, kind, data in steps:
        label = step_label(kind, data)
        if label is None:
            continue
        newest = pending.get(number)
        if newest is not None:
            newest.update(left_at=at, hours=_hours(newest["entered_at"], at), next_state=label)
        elif number in open_visits:
            visit, entered = open_visits.pop(number)
            closes.append({"visit": visit, "left": at, "spent": _hours(entered, at), "next": label})
        row = {"incident_id": number, "seq": seq, "state": label, "entered_at": at, "left_at": None, "hours": None,
               "next_state": None}
        inserts.append(row)
        pending[number] = row
    if closes:
        conn.execute(
            update(StateVisitRow).where(StateVisitRow.id == bindparam("visit"))
            .values(left_at=bindparam("left"), hours=bindparam("spent"), next_state=bindparam("next")),
            closes,
        )
    for start in range(0, len(inserts), 5000):
        conn.execute(insert(StateVisitRow), inserts[start:start + 5000])


# The columns the back-fill reads and writes, named here rather than taken from the ORM tables: a
# migration calls it, and must keep doing the same thing when those tables gain columns later.
_TIMELINE = sa.table("timeline_event", sa.column("seq", sa.Integer), sa.column("incident_id", sa.Integer),
                     sa.column("at", UTCDateTime()), sa.column("kind", sa.String), sa.column("data", sa.JSON))
_VISIT = sa.table("state_visit", *(sa.column(name, type_) for name, type_ in (
    ("incident_id", sa.Integer), ("seq", sa.Integer), ("state", sa.String), ("entered_at", UTCDateTime()),
    ("left_at", UTCDateTime()), ("hours", sa.Float), ("next_state", sa.String))))
_BACKFILL_BATCH = 5000  # incident numbers per read


def backfill(conn: Connection) -> int:
    """Build the visits of every incident from its timeline (a store made before the table existed);
    returns how many were written. Reads a range of incident numbers at a time so memory stays small."""
    highest = conn.execute(sa.select(sa.func.max(_TIMELINE.c.incident_id))).scalar() or 0
    written = 0
    for low in range(0, highest, _BACKFILL_BATCH):
        rows = conn.execute(
            sa.select(_TIMELINE.c.incident_id, _TIMELINE.c.seq, _TIMELINE.c.at, _TIMELINE.c.kind, _TIMELINE.c.data)
            .where(_TIMELINE.c.incident_id > low, _TIMELINE.c.incident_id <= low + _BACKFILL_BATCH,
                   _TIMELINE.c.kind.in_(STEP_KINDS))
            .order_by(_TIMELINE.c.incident_id, _TIMELINE.c.seq)
        )
        visits: list[dict[str, Any]] = []
        previous: dict[str, Any] | None = None
        for number, seq, at, kind, data in rows:
            if isinstance(data, str):
                data = json.loads(data)
            label = step_label(kind, data or {})
            if label is None:
                continue
            if previous is not None and previous["incident_id"] == number:
                previous.update(left_at=at, hours=_hours(previous["entered_at"], at), next_state=label)
            previous = {"incident_id": number, "seq": seq, "state": label, "entered_at": at, "left_at": None,
                        "hours": None, "next_state": None}
            visits.append(previous)
        if visits:
            conn.execute(sa.insert(_VISIT), visits)
        written += len(visits)
    return written
