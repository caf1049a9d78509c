"""`eim import`: ticket history from another system, rebuilt into eim incidents with their timelines.

Each ticket is rebuilt from its rows in update order (`rebuild`): its fields from the last row, its
timeline from the differences between consecutive rows, each event at the row's update time, by
the row's updater, marked as imported. Writing is one transaction per batch of tickets, so an
interrupted import leaves whole tickets and the next run carries on. A ticket already imported
with the same rows is left alone (its digest matches); one whose export grew gets the new events.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from eim_tui.domain import events, sla
from eim_tui.domain.errors import ValidationError
from eim_tui.domain.model import EventKind, HoldReason, Incident, State
from eim_tui.services.import_formats import (
    SERVICENOW,
    BadRow,
    ImportMap,
    SourceRow,
    load_map,
    read_rows,
    source_of,
)
from eim_tui.store import importing as stored
from eim_tui.store.bulk_load import History

BATCH = 1000  # tickets per transaction: an interrupted import loses at most this many, and redoes them
# eim's own SLA bookkeeping, not the source's history: never a line of an imported timeline.
_NOT_SOURCE_HISTORY = {"response_due_at", "resolution_due_at", "acknowledged_at"}
_DONE = (State.RESOLVED, State.CLOSED)

__all__ = ["SERVICENOW", "ImportSummary", "Rebuilt", "import_history", "load_map", "rebuild"]


@dataclass(slots=True)
class ImportSummary:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    rows: int = 0
    bad: list[BadRow] = field(default_factory=list)
    dry_run: bool = False

    def line(self) -> str:
        head = "would import" if self.dry_run else "imported"
        bad = f"; {len(self.bad):,} bad row{'s' if len(self.bad) != 1 else ''}" if self.bad else ""
        return (f"{head} {self.rows:,} rows: {self.new:,} new, {self.changed:,} changed, "
                f"{self.unchanged:,} unchanged{bad}")


@dataclass(slots=True)
class Rebuilt:
    """One ticket rebuilt: the incident as it is now, its timeline, and what only the import row keeps."""

    ref: str
    incident: Incident
    events: list[tuple[datetime, str, events.EventDraft]]
    extra: dict
    names: set[tuple[str, str]]
    digest: str
    rows: int
    row_starts: list[int]  # where each source row's events begin in `events`

    def events_after(self, rows: int) -> list[tuple[datetime, str, events.EventDraft]]:
        """The events of the rows beyond the first `rows` (what a grown export adds)."""
        return self.events[self.row_starts[rows]:] if rows < len(self.row_starts) else []


def digest_of(rows: list[SourceRow]) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update(row.digest)
    return h.hexdigest()


def rebuild(ref: str, rows: list[SourceRow], policies: Mapping[int, sla.SlaPolicy], source: str) -> Rebuilt:
    """The ticket `ref` from its rows (already in update order)."""
    marker = {"imported": source, "external_ref": ref}
    log: list[tuple[datetime, str, events.EventDraft]] = []
    prev: Incident | None = None
    hold_since: datetime | None = None
    on_hold = 0.0
    reassigned = reopened = 0
    starts: list[int] = []
    last_key: tuple | None = None
    for row in rows:
        starts.append(len(log))
        at = row.updated_at or row.opened_at
        key = _content(row)
        if key == last_key:
            # Only who touched it and when differ (a third of the log's rows): nothing to tell,
            # and the incident as before (its state, so its clocks, did not change either).
            continue
        last_key = key
        snap = _snapshot(row, prev, policies, at)
        if prev is None:
            t = row.text
            actor = t.get("opened_by") or t.get("updated_by") or "import"
            summary = f"logged in {source} as {ref}: Sev{snap.priority} (impact {snap.impact} × urgency {snap.urgency})"
            log.append((row.opened_at, actor, (EventKind.CREATED, summary, {
                "source": snap.source.value, "title": snap.title, "state": snap.state.value,
                "hold_reason": snap.hold_reason.value if snap.hold_reason else None, "hold_note": snap.hold_note,
                **marker})))
        else:
            actor = row.text.get("updated_by") or "import"
            log.extend((at, actor, draft) for draft in _drafts(prev, snap, marker))
            if prev.assignment_group and snap.assignment_group != prev.assignment_group:
                reassigned += 1
            if prev.state is State.RESOLVED and snap.state not in _DONE:
                reopened += 1
        if snap.state is State.ON_HOLD and hold_since is None:
            hold_since = at
        elif snap.state is not State.ON_HOLD and hold_since is not None:
            on_hold += max(0.0, (at - hold_since).total_seconds())
            hold_since = None
        prev = snap
    assert prev is not None
    last = rows[-1]
    # The recorded times of the last row are the ticket's, whatever state it ended in.
    final = prev.replace(resolved_at=last.resolved_at if last.resolved_at else prev.resolved_at)
    t = last.text
    extra = {
        "made_sla": last.made_sla,
        "reopen_count": last.reopen_count if last.reopen_count is not None else reopened,
        "reassignment_count": last.reassignment_count if last.reassignment_count is not None else reassigned,
        "on_hold_seconds": on_hold,
        "location": t.get("location", "")[:200],
        "symptom": t.get("symptom", "")[:200],
        "caused_by": t.get("caused_by", "")[:100],
    }
    names = {(kind, value) for kind, value in (
        ("category", final.category), ("group", final.assignment_group), ("user", final.assignee),
        ("ci", final.configuration_item), ("location", extra["location"])) if value}
    if final.category and final.subcategory:
        names.add(("subcategory", f"{final.category}/{final.subcategory}"))
    return Rebuilt(ref, final, log, extra, names, digest_of(rows), len(rows), starts)


def _content(row: SourceRow) -> tuple:
    """What a row says about the incident, leaving out who updated it and when."""
    t = row.text
    return (row.state, row.priority, row.impact, row.urgency, row.opened_at, row.resolved_at, row.closed_at,
            *(v for k, v in t.items() if k != "updated_by"))


def _snapshot(row: SourceRow, prev: Incident | None, policies: Mapping[int, sla.SlaPolicy], at: datetime) -> Incident:
    """The incident as this row shows it; SLA clocks carried on from the row before."""
    t = row.text
    meaning = row.state
    done = meaning.state in _DONE
    title = t.get("title") or " · ".join(v for v in (t.get("category"), t.get("subcategory"), t.get("symptom")) if v)
    fields = {
        "title": (title or row.number)[:300], "description": t.get("description", ""), "impact": row.impact,
        "urgency": row.urgency, "priority": row.priority, "reported_at": row.opened_at, "source": source_of(t.get("contact_type", "")),
        "reporter_name": t.get("caller", "")[:200], "configuration_item": t.get("ci", "")[:200],
        "category": t.get("category", "")[:100], "subcategory": t.get("subcategory", "")[:100], "state": meaning.state,
        "hold_reason": meaning.hold_reason, "hold_note": meaning.hold_note, "assignment_group": t.get("group", "")[:100],
        "assignee": t.get("assignee", "")[:100], "problem_ref": t.get("problem", "")[:100],
        "change_ref": t.get("change", "")[:100], "resolution_code": t.get("resolution_code", "")[:50] if done else "",
        "resolved_at": row.resolved_at if done else None,
        # A closed or cancelled ticket has ended even when the export has no closing time: then its row's.
        "closed_at": (row.closed_at or at) if meaning.state in (State.CLOSED, State.CANCELLED) else None,
        "created_by": (t.get("opened_by") or t.get("updated_by") or "import")[:100],
    }
    policy = policies[row.priority]
    if prev is None:
        response, resolution = sla.initial_due(policy, row.opened_at)
        snap = Incident(number=0, initial_severity=row.priority, response_due_at=response,
                        resolution_due_at=resolution, **fields)
    else:
        snap = prev.replace(**fields)
        if snap.priority != prev.priority:
            snap = sla.retarget(snap, policy)
    if snap.acknowledged_at is None and meaning.state is not State.NEW:
        snap = snap.replace(acknowledged_at=at)
    pausing = meaning.state is State.ON_HOLD and meaning.hold_reason is not None and meaning.hold_reason.pauses_sla
    if pausing and snap.paused_since is None:
        snap = sla.start_pause(snap, at)
    elif not pausing and snap.paused_since is not None:
        snap = sla.end_pause(snap, at, policy.calendar)
    return snap


def _drafts(before: Incident, after: Incident, marker: dict) -> list[events.EventDraft]:
    """The timeline lines for one row's change, marked as imported. A move between two holds
    (awaiting user → awaiting vendor) is a state change with its new reason, like any other."""
    out: list[events.EventDraft] = []
    hold_move = (before.state is after.state is State.ON_HOLD
                 and (before.hold_reason, before.hold_note) != (after.hold_reason, after.hold_note))
    for kind, summary, data in events.change_events(before, after):
        if data.get("field") in _NOT_SOURCE_HISTORY:
            continue
        if hold_move and data.get("field") in ("hold_reason", "hold_note"):
            continue
        out.append((kind, summary, {**data, **marker}))
    if hold_move:
        detail = _hold_label(after.hold_reason, after.hold_note)
        out.insert(0, (EventKind.STATE_CHANGED, f"state on hold → on hold ({detail})", {
            "field": "state", "old": "on_hold", "new": "on_hold",
            "with": {"hold_reason": {"field": "hold_reason", "old": before.hold_reason.value if before.hold_reason else None,
                                     "new": after.hold_reason.value if after.hold_reason else None},
                     "hold_note": {"field": "hold_note", "old": before.hold_note, "new": after.hold_note}},
            **marker}))
    return out


def _hold_label(reason: HoldReason | None, note: str) -> str:
    if reason is None:
        return note
    return f"{reason.label}: {note}" if note else reason.label


# --- the use case ---------------------------------------------------------------------------------


Progress = Callable[[int, int], None]  # (tickets done, tickets in all)


def import_history(svc, path: str | Path, imap: ImportMap = SERVICENOW, dry_run: bool = False,
                   progress: Progress | None = None) -> ImportSummary:
    """Read the export at `path`, then write what is new or changed, one transaction per batch."""
    path = Path(path).expanduser()
    if not path.is_file():  # a device or a pipe would be read for ever
        raise ValidationError(f"cannot read {path}: {'not a regular file' if path.exists() else 'no such file'}")
    summary = ImportSummary(dry_run=dry_run)
    tickets = _read(path, imap, summary)
    with svc.db.read() as session:
        known = stored.known_imports(session, imap.source)
    total = len(tickets)
    policies = svc.ref.policies
    missing = sorted({r.priority for rows in tickets.values() for r in rows} - set(policies))
    if missing:
        raise ValidationError(f"severity {missing[0]} has no SLA policy in this store; add it to sla_policies.toml")
    batch: list[tuple[Rebuilt, stored.Known | None]] = []
    for done, (ref, rows) in enumerate(tickets.items(), start=1):
        rows.sort(key=lambda r: (r.mod_count, r.line))
        found = known.get(ref)
        if found is not None and found.digest == digest_of(rows):
            summary.unchanged += 1
        else:
            rebuilt = rebuild(ref, rows, policies, imap.source)
            # A confidential category (security) keeps an imported incident from those who may not see it.
            if svc.ref.is_confidential(rebuilt.incident.category):
                rebuilt.incident = rebuilt.incident.replace(confidential=True)
            batch.append((rebuilt, found))
            if found is None:
                summary.new += 1
            else:
                summary.changed += 1
        if len(batch) >= BATCH:
            _write(svc, batch, imap.source, dry_run)
            batch = []
        if progress is not None and (done % 500 == 0 or done == total):
            progress(done, total)
    _write(svc, batch, imap.source, dry_run)
    return summary


def _read(path: Path, imap: ImportMap, summary: ImportSummary) -> dict[str, list[SourceRow]]:
    tickets: dict[str, list[SourceRow]] = {}
    try:
        for row in read_rows(path, imap):
            if isinstance(row, BadRow):
                summary.bad.append(row)
                continue
            summary.rows += 1
            tickets.setdefault(row.number, []).append(row)
    except UnicodeDecodeError:
        raise ValidationError(f"{path} is not text in {imap.encoding}; set encoding under [format] in the map") from None
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise ValidationError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    except Exception as exc:  # csv.Error: a broken quote or a NUL
        if type(exc).__module__ == "_csv":
            raise ValidationError(f"{path} is not readable as CSV: {exc}") from None
        raise
    if not tickets and not summary.bad:
        raise ValidationError(f"{path} has a header but no rows")
    return tickets


def _write(svc, batch: Iterable[tuple[Rebuilt, stored.Known | None]], source: str, dry_run: bool) -> None:
    batch = list(batch)
    if dry_run or not batch:
        return
    now = svc.clock.now()
    with svc.db.write() as session:
        fresh = [r for r, found in batch if found is None]
        if fresh:
            stored.insert_imported(session, [History(r.incident, r.events) for r in fresh],
                                   [_import_row(r, source, now) for r in fresh], svc.ref.policies)
        for rebuilt, found in batch:
            if found is not None:
                stored.update_imported(session, found, rebuilt.incident, rebuilt.events_after(found.rows),
                                       _import_row(rebuilt, source, now), svc.ref.policies, now)
        stored.record_names(session, {n for r, _ in batch for n in r.names}, source)


def _import_row(r: Rebuilt, source: str, now: datetime) -> dict:
    return dict(source=source, external_ref=r.ref[:100], digest=r.digest, source_rows=r.rows, imported_at=now,
                **r.extra)
